//! Attention claims: the KV cache reproduces the full causal forward, the causal mask hides the
//! future, padded keys are ignored, fully masked rows stay finite, and swapping the normalizer
//! changes the weights but not the parameters, and softmax attention (with and without RoPE,
//! masks, the KV cache) equals an independent `f64` computation on the host from the module's
//! own weights — through Burn's attention op and through rigor's composed path
//! ([`AttentionKernel`]), which also agree with each other in values and gradients, for long
//! sequences (burn-flex's flash path), temperatures and fully masked rows. Every test runs on
//! every compiled device (flex, ndarray, wgpu).
//!
//! Tolerances: the cached and full paths compute the same rows with the same ops but
//! different tensor shapes (reduction lengths, concatenations), so they agree to f32
//! round-off, ~1e-6 on these O(1) activations; 1e-4 leaves room for wgpu's reduction order
//! and entmax's bisection.

mod common;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use common::{assert_close, host, input3, padding, tokens};
use rigor_nn::*;
use rigor_rope::{RopeConfig, Rotation};
use rigor_softmax::Normalizer;
use rigor_testkit::for_each_device;

const TOL: f32 = 1e-4;

const KERNELS: [AttentionKernel; 3] = [
    AttentionKernel::Auto,
    AttentionKernel::Burn,
    AttentionKernel::Composed,
];

fn normalizers() -> Vec<Normalizer> {
    vec![
        Normalizer::softmax(),
        Normalizer::adaptive(),
        Normalizer::entmax(1.5).unwrap(),
        Normalizer::softmax1(),
    ]
}

fn mha(rope: bool, normalizer: Normalizer, device: &Device) -> MultiHeadAttention {
    MultiHeadAttentionConfig::new(8, 2)
        .with_rope(rope.then(|| RopeConfig::new(4)))
        .with_normalizer(normalizer)
        .init(device)
        .unwrap()
}

#[test]
fn kv_cache_matches_full_causal_forward_for_every_normalizer() {
    for_each_device(|device| {
        for normalizer in normalizers() {
            for rope in [false, true] {
                let m = mha(rope, normalizer.clone(), device);
                let x = input3(2, 5, 8, 1, device);
                let full = host(m.forward(x.clone(), &AttentionMask::causal()).unwrap());
                let mut cache = KvCache::new();
                let mut parts = Vec::new();
                for (start, len) in [(0, 2), (2, 1), (3, 2)] {
                    let chunk = x.clone().narrow(1, start, len);
                    parts.push(
                        m.forward_cached(chunk, &mut cache, &AttentionMask::causal())
                            .unwrap(),
                    );
                }
                assert_eq!(cache.len(), 5);
                let inc = host(Tensor::cat(parts, 1));
                assert_close(&inc, &full, TOL, &format!("{normalizer}, rope={rope}"));
            }
        }
    });
}

#[test]
fn kv_cache_matches_full_causal_forward_for_learned_normalizers() {
    // ASEntmax's scale depends on the query's absolute position: cached rows must sit after
    // the cached keys exactly as in the full forward.
    for_each_device(|device| {
        for learned in [
            LearnedNormalizer::AsEntmax {
                alpha: 1.5,
                delta: 1.0,
                beta: 0.8,
                gamma: 0.5,
            },
            LearnedNormalizer::Sinks { sink: 0.4 },
            LearnedNormalizer::ScalableSoftmax { s: 1.3 },
        ] {
            let m = MultiHeadAttentionConfig::new(8, 2)
                .with_rope(Some(RopeConfig::new(4)))
                .with_learned(Some(learned.clone()))
                .init(device)
                .unwrap();
            let x = input3(2, 5, 8, 3, device);
            let full = host(m.forward(x.clone(), &AttentionMask::causal()).unwrap());
            let mut cache = KvCache::new();
            let mut parts = Vec::new();
            for (start, len) in [(0, 2), (2, 1), (3, 2)] {
                let chunk = x.clone().narrow(1, start, len);
                parts.push(
                    m.forward_cached(chunk, &mut cache, &AttentionMask::causal())
                        .unwrap(),
                );
            }
            let inc = host(Tensor::cat(parts, 1));
            assert_close(&inc, &full, TOL, &format!("{learned:?}"));
        }
    });
}

#[test]
fn decoder_kv_cache_matches_full_forward_token_by_token() {
    for_each_device(|device| {
        let positionals = [
            PositionalEncoding::None,
            PositionalEncoding::Learned,
            PositionalEncoding::Rope(RopeConfig::new(8)),
            PositionalEncoding::Rope(
                RopeConfig::new(8).with_rotation(Rotation::Proportional { p: 0.5 }),
            ),
        ];
        for positional in positionals {
            let model = DecoderLmConfig::new(13, 16, 2, 2)
                .with_positional(positional.clone())
                .with_max_seq_len(8)
                .init(device)
                .unwrap();
            let toks = tokens(&[vec![1, 5, 2, 9, 12, 0], vec![3, 3, 7, 1, 4, 11]], device);
            let full = host(model.forward(toks.clone(), None).unwrap());
            let mut cache = model.new_cache();
            let steps: Vec<Tensor<3>> = (0..6)
                .map(|t| {
                    model
                        .forward_cached(toks.clone().narrow(1, t, 1), None, &mut cache)
                        .unwrap()
                })
                .collect();
            assert_eq!(cache.len(), 6);
            let inc = host(Tensor::cat(steps, 1));
            assert_close(&inc, &full, TOL, &format!("{positional:?}"));
        }
    });
}

#[test]
fn causal_output_at_t_is_independent_of_later_tokens() {
    for_each_device(|device| {
        let model = DecoderLmConfig::new(13, 16, 2, 2)
            .with_positional(PositionalEncoding::Rope(RopeConfig::new(8)))
            .init(device)
            .unwrap();
        let a = tokens(&[vec![1, 5, 2, 9, 12, 0]], device);
        let b = tokens(&[vec![1, 5, 2, 3, 3, 8]], device);
        let la = host(model.forward(a, None).unwrap().narrow(1, 0, 3));
        let lb = host(model.forward(b, None).unwrap().narrow(1, 0, 3));
        assert_close(&la, &lb, 1e-5, "logits of the shared prefix");
        // and the last position does see the change
        let a = tokens(&[vec![1, 5, 2, 9]], device);
        let b = tokens(&[vec![1, 5, 2, 3]], device);
        let la = host(model.forward(a, None).unwrap().narrow(1, 3, 1));
        let lb = host(model.forward(b, None).unwrap().narrow(1, 3, 1));
        assert!(
            common::max_abs_diff(&la, &lb) > 1e-4,
            "last logits must depend on the last token"
        );
    });
}

#[test]
fn causal_weights_are_zero_above_the_diagonal() {
    for_each_device(|device| {
        let m = mha(true, Normalizer::softmax(), device);
        let out = m
            .forward_with_weights(input3(1, 4, 8, 2, device), &AttentionMask::causal())
            .unwrap();
        let w = host(out.weights.unwrap()); // [1, 2, 4, 4]
        for h in 0..2 {
            for i in 0..4 {
                for j in 0..4 {
                    let v = w[h * 16 + i * 4 + j];
                    if j > i {
                        assert_eq!(v, 0.0, "head {h}: w[{i}][{j}]");
                    }
                }
                let row: f32 = (0..4).map(|j| w[h * 16 + i * 4 + j]).sum();
                assert!((row - 1.0).abs() < 1e-5, "row sums to one");
            }
        }
    });
}

#[test]
fn padding_mask_ignores_padded_keys() {
    for_each_device(|device| {
        for normalizer in normalizers() {
            let m = mha(false, normalizer.clone(), device);
            let x = input3(1, 4, 8, 3, device);
            let y = input3(1, 4, 8, 4, device);
            // x and z share tokens 0..3; token 3 (padded) differs.
            let z = Tensor::cat(vec![x.clone().narrow(1, 0, 3), y.narrow(1, 3, 1)], 1);
            let mask = AttentionMask::none()
                .with_key_padding(padding(&[vec![false, false, false, true]], device));
            let ox = m.forward_with_weights(x.clone(), &mask).unwrap();
            let oz = m.forward(z, &mask).unwrap();
            let short = m
                .forward(x.narrow(1, 0, 3), &AttentionMask::none())
                .unwrap();
            let ox_out = host(ox.output.narrow(1, 0, 3));
            assert_close(
                &ox_out,
                &host(oz.narrow(1, 0, 3)),
                1e-5,
                &format!("{normalizer}"),
            );
            assert_close(
                &ox_out,
                &host(short),
                TOL,
                &format!("{normalizer}: = unpadded"),
            );
            let w = host(ox.weights.unwrap());
            for (i, v) in w.iter().enumerate() {
                if i % 4 == 3 {
                    assert_eq!(*v, 0.0, "{normalizer}: weight on the padded key");
                }
            }
        }
    });
}

#[test]
fn fully_masked_rows_are_finite_and_zero_weight() {
    for_each_device(|device| {
        for normalizer in normalizers() {
            let m = mha(true, normalizer.clone(), device);
            // batch row 1: every key padded; causal + first key padded in row 0 masks query 0.
            let pad = padding(&[vec![true, false, false], vec![true, true, true]], device);
            let out = m
                .forward_with_weights(
                    input3(2, 3, 8, 5, device),
                    &AttentionMask::causal().with_key_padding(pad),
                )
                .unwrap();
            let o = host(out.output);
            assert!(
                o.iter().all(|v| v.is_finite()),
                "{normalizer}: output finite"
            );
            let w = host(out.weights.unwrap()); // [2, 2, 3, 3]
            assert!(
                w.iter().all(|v| v.is_finite()),
                "{normalizer}: weights finite"
            );
            assert!(
                w[18..].iter().all(|&v| v == 0.0),
                "{normalizer}: all-padded row"
            );
            for h in 0..2 {
                assert!(
                    w[h * 9..h * 9 + 3].iter().all(|&v| v == 0.0),
                    "{normalizer}: query 0"
                );
            }
        }
        // The decoder too, with a fully padded sequence.
        let model = DecoderLmConfig::new(7, 8, 2, 1).init(device).unwrap();
        let logits = model
            .forward(
                tokens(&[vec![1, 2, 3]], device),
                Some(padding(&[vec![true, true, true]], device)),
            )
            .unwrap();
        assert!(host(logits).iter().all(|v| v.is_finite()));
    });
}

#[test]
fn swapping_the_normalizer_changes_weights_not_parameters() {
    for_each_device(|device| {
        let m = mha(true, Normalizer::softmax(), device);
        let x = input3(1, 5, 8, 6, device);
        let before_params = host(m.query.weight.val());
        let n_params = burn::module::Module::num_params(&m);
        let w_soft = host(
            m.forward_with_weights(x.clone(), &AttentionMask::causal())
                .unwrap()
                .weights
                .unwrap(),
        );
        let m = m.with_normalizer(Normalizer::sparsemax());
        assert_eq!(m.normalizer(), &Normalizer::sparsemax());
        let w_sparse = host(
            m.forward_with_weights(x, &AttentionMask::causal())
                .unwrap()
                .weights
                .unwrap(),
        );
        assert!(
            common::max_abs_diff(&w_soft, &w_sparse) > 1e-3,
            "weights must change"
        );
        assert_eq!(host(m.query.weight.val()), before_params);
        assert_eq!(burn::module::Module::num_params(&m), n_params);

        // Whole models: every block's normalizer is swapped, parameters are not.
        let mut lm = DecoderLmConfig::new(7, 8, 2, 2).init(device).unwrap();
        let n = burn::module::Module::num_params(&lm);
        let emb = host(lm.token_embedding.weight.val());
        lm.set_normalizer(Normalizer::adaptive());
        assert!(
            lm.blocks
                .iter()
                .all(|b| b.attention.normalizer() == &Normalizer::adaptive())
        );
        assert_eq!(burn::module::Module::num_params(&lm), n);
        assert_eq!(host(lm.token_embedding.weight.val()), emb);
    });
}

#[test]
fn cross_attention_weights_are_distributions_over_the_context() {
    for_each_device(|device| {
        let m = mha(false, Normalizer::softmax(), device);
        let q = input3(2, 3, 8, 7, device);
        let c = input3(2, 5, 8, 8, device);
        let out = m.forward_cross(q, c, &AttentionMask::none()).unwrap();
        assert_eq!(out.output.dims(), [2, 3, 8]);
        let w = out.weights.unwrap();
        assert_eq!(w.dims(), [2, 2, 3, 5]);
        for s in host(w.sum_dim(3)) {
            assert!((s - 1.0).abs() < 1e-5);
        }
    });
}

#[test]
fn set_readout_weights_ignore_padded_items_and_swap_normalizer() {
    for_each_device(|device| {
        let model = SetReadoutConfig::new(3, 8, 4).init(device).unwrap();
        let items = input3(2, 5, 3, 9, device);
        let pad = padding(
            &[vec![false, false, false, false, true], vec![false; 5]],
            device,
        );
        let out = model.forward(items.clone(), None, Some(pad)).unwrap();
        assert_eq!(out.logits.dims(), [2, 4]);
        let w = host(out.weights);
        assert_eq!(w[4], 0.0, "padded item");
        let s0: f32 = w[..5].iter().sum();
        let s1: f32 = w[5..].iter().sum();
        assert!((s0 - 1.0).abs() < 1e-5 && (s1 - 1.0).abs() < 1e-5);
        // Padding = dropping the item.
        let short = model
            .forward(items.clone().narrow(1, 0, 4), None, None)
            .unwrap();
        let padded = model
            .forward(
                items.clone(),
                None,
                Some(padding(
                    &[
                        vec![false, false, false, false, true],
                        vec![false, false, false, false, true],
                    ],
                    device,
                )),
            )
            .unwrap();
        assert_close(
            &host(short.logits),
            &host(padded.logits),
            TOL,
            "padded == dropped",
        );
        // Swap the normalizer: logits change, parameters do not.
        let q = host(model.query.as_ref().unwrap().val());
        let soft = host(model.forward(items.clone(), None, None).unwrap().weights);
        let model = model.with_normalizer(Normalizer::softmax_with_temperature(0.1).unwrap());
        let sharp = host(model.forward(items, None, None).unwrap().weights);
        assert!(common::max_abs_diff(&soft, &sharp) > 1e-4);
        assert_eq!(host(model.query.as_ref().unwrap().val()), q);
    });
}

#[test]
fn set_readout_encode_once_readout_with_any_normalizer_equals_forward() {
    for_each_device(|device| {
        let model = SetReadoutConfig::new(3, 8, 4).init(device).unwrap();
        let items = input3(2, 6, 3, 5, device);
        let encoding = model.encode(items.clone(), None, None).unwrap();
        for normalizer in [
            Normalizer::softmax(),
            Normalizer::adaptive(),
            Normalizer::entmax(1.5).unwrap(),
        ] {
            let split = model.readout(&encoding, &normalizer).unwrap();
            let whole = model
                .clone()
                .with_normalizer(normalizer.clone())
                .forward(items.clone(), None, None)
                .unwrap();
            assert_close(&host(split.logits), &host(whole.logits), TOL, "logits");
            assert_close(&host(split.weights), &host(whole.weights), TOL, "weights");
        }
        // A hand-built encoding of the wrong shape is an error, not a panic.
        let bad = rigor_nn::SetReadoutEncoding {
            scores: encoding.scores.clone().narrow(1, 0, 5),
            values: encoding.values.clone(),
        };
        assert!(matches!(
            model.readout(&bad, &Normalizer::softmax()),
            Err(NnError::ShapeMismatch { .. })
        ));
    });
}

/// Multi-head softmax attention computed on the host in `f64` from the module's weights:
/// $Q = xW_q + b_q$ (likewise K, V), per head $\operatorname{softmax}(QK^\top s + M)V$ with
/// $M$ the causal / padding mask (`−∞`), heads concatenated, then $W_o$. Half-split RoPE
/// ($\theta = 10^4$) on the per-head queries and keys when `rope`. A fully masked row is 0.
fn host_attention(
    m: &MultiHeadAttention,
    x: &[f32],
    [b, s, d]: [usize; 3],
    causal: bool,
    pad: Option<&[Vec<bool>]>,
    rope: bool,
) -> Vec<f64> {
    let lin = |l: &burn::nn::Linear| {
        let w: Vec<f64> = host(l.weight.val()).iter().map(|&v| f64::from(v)).collect();
        let bias: Vec<f64> = match &l.bias {
            Some(p) => host(p.val()).iter().map(|&v| f64::from(v)).collect(),
            None => vec![0.0; d],
        };
        (w, bias)
    };
    // burn's Linear weight is [d_in, d_out]: y_j = Σ_i x_i W[i, j] + b_j
    let project = |(w, bias): &(Vec<f64>, Vec<f64>), rows: &[f64]| -> Vec<f64> {
        let n = rows.len() / d;
        let mut out = vec![0.0; n * d];
        for r in 0..n {
            for j in 0..d {
                out[r * d + j] =
                    bias[j] + (0..d).map(|i| rows[r * d + i] * w[i * d + j]).sum::<f64>();
            }
        }
        out
    };
    let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let (q, k, v) = (
        project(&lin(&m.query), &x),
        project(&lin(&m.key), &x),
        project(&lin(&m.value), &x),
    );
    let h = m.n_heads();
    let hd = d / h;
    let scale = m.scale();
    let rotate = |vec: &mut [f64], t: usize| {
        let n = hd / 2;
        for kk in 0..n {
            let angle = t as f64 * 10_000f64.powf(-2.0 * kk as f64 / hd as f64);
            let (sn, cs) = angle.sin_cos();
            let (a, bb) = (vec[kk], vec[kk + n]);
            vec[kk] = a * cs - bb * sn;
            vec[kk + n] = bb * cs + a * sn;
        }
    };
    let mut heads_out = vec![0.0; b * s * d];
    for bi in 0..b {
        for hi in 0..h {
            let head = |m: &[f64], t: usize| -> Vec<f64> {
                m[(bi * s + t) * d + hi * hd..(bi * s + t) * d + (hi + 1) * hd].to_vec()
            };
            for tq in 0..s {
                let mut qv = head(&q, tq);
                if rope {
                    rotate(&mut qv, tq);
                }
                let mut logits = Vec::with_capacity(s);
                for tk in 0..s {
                    let masked = (causal && tk > tq) || pad.is_some_and(|p| p[bi][tk]);
                    if masked {
                        logits.push(f64::NEG_INFINITY);
                        continue;
                    }
                    let mut kv = head(&k, tk);
                    if rope {
                        rotate(&mut kv, tk);
                    }
                    logits.push(scale * qv.iter().zip(&kv).map(|(a, c)| a * c).sum::<f64>());
                }
                let mx = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                if mx == f64::NEG_INFINITY {
                    continue; // fully masked: zero weights, zero output
                }
                let e: Vec<f64> = logits.iter().map(|&l| (l - mx).exp()).collect();
                let z: f64 = e.iter().sum();
                for (tk, &w) in e.iter().enumerate() {
                    let vv = head(&v, tk);
                    for c in 0..hd {
                        heads_out[(bi * s + tq) * d + hi * hd + c] += w / z * vv[c];
                    }
                }
            }
        }
    }
    project(&lin(&m.output), &heads_out)
}

#[test]
fn softmax_attention_equals_an_independent_host_computation() {
    for_each_device(|device| {
        for (b, s, d, h) in [(2, 5, 8, 2), (1, 7, 12, 3), (3, 4, 16, 1)] {
            for rope in [false, true] {
                let m = MultiHeadAttentionConfig::new(d, h)
                    .with_rope(rope.then(|| RopeConfig::new(d / h)))
                    .init(device)
                    .unwrap();
                let x = input3(b, s, d, 11, device);
                let xs = host(x.clone());
                let pad: Vec<Vec<bool>> = (0..b)
                    .map(|bi| (0..s).map(|t| bi == 1 && t >= s - 2).collect())
                    .collect();
                let cases = [
                    ("none", AttentionMask::none(), false, None),
                    ("causal", AttentionMask::causal(), true, None),
                    (
                        "causal + padding",
                        AttentionMask::causal().with_key_padding(padding(&pad, device)),
                        true,
                        Some(pad.as_slice()),
                    ),
                ];
                for (name, mask, causal, p) in cases {
                    let want = host_attention(&m, &xs, [b, s, d], causal, p, rope);
                    let want: Vec<f32> = want.iter().map(|&v| v as f32).collect();
                    for kernel in KERNELS {
                        let m = m.clone().with_kernel(kernel);
                        let got = host(m.forward(x.clone(), &mask).unwrap());
                        assert_close(
                            &got,
                            &want,
                            TOL,
                            &format!("[{b},{s},{d}] h={h} rope={rope} {name} {kernel:?}"),
                        );
                    }
                }
                // The KV cache, fed in two chunks, against the host's full causal result.
                let mut cache = KvCache::new();
                let first = s / 2;
                let mut parts = vec![
                    m.forward_cached(
                        x.clone().narrow(1, 0, first),
                        &mut cache,
                        &AttentionMask::causal(),
                    )
                    .unwrap(),
                ];
                parts.push(
                    m.forward_cached(
                        x.clone().narrow(1, first, s - first),
                        &mut cache,
                        &AttentionMask::causal(),
                    )
                    .unwrap(),
                );
                let got = host(Tensor::cat(parts, 1));
                let want: Vec<f32> = host_attention(&m, &xs, [b, s, d], true, None, rope)
                    .iter()
                    .map(|&v| v as f32)
                    .collect();
                assert_close(
                    &got,
                    &want,
                    TOL,
                    &format!("[{b},{s},{d}] h={h} rope={rope} KV cache"),
                );
            }
        }
    });
}

/// Values and gradients (input, W_Q, W_V) of one attention call under `kernel`.
fn run_kernel(
    m: &MultiHeadAttention,
    kernel: AttentionKernel,
    x: &Tensor<3>,
    mask: &AttentionMask,
) -> [Vec<f32>; 4] {
    let m = m.clone().with_kernel(kernel);
    let x = x.clone().require_grad();
    let out = m.forward(x.clone(), mask).unwrap();
    // A fixed, non-uniform cotangent so that every output entry matters.
    let weights = out.clone().detach().sin().add_scalar(1.5);
    let grads = (out.clone() * weights).sum().backward();
    [
        host(out),
        host(x.grad(&grads).expect("input gradient")),
        host(m.query.weight.val().grad(&grads).expect("W_Q gradient")),
        host(m.value.weight.val().grad(&grads).expect("W_V gradient")),
    ]
}

#[test]
fn burn_and_composed_kernels_agree_in_values_and_gradients() {
    rigor_testkit::for_each_autodiff_device(|device| {
        for (theta, rope) in [(1.0, true), (2.0, false), (0.5, true)] {
            let normalizer = Normalizer::softmax_with_temperature(theta).unwrap();
            let m = mha(rope, normalizer, device);
            let x = input3(3, 6, 8, 21, device);
            // batch row 2 fully padded; row 1's last two keys padded.
            let pad = padding(
                &[
                    vec![false; 6],
                    vec![false, false, false, false, true, true],
                    vec![true; 6],
                ],
                device,
            );
            let masks = [
                ("none", AttentionMask::none()),
                ("causal", AttentionMask::causal()),
                (
                    "padding",
                    AttentionMask::none().with_key_padding(pad.clone()),
                ),
                (
                    "causal + padding",
                    AttentionMask::causal().with_key_padding(pad),
                ),
            ];
            for (name, mask) in masks {
                let burn = run_kernel(&m, AttentionKernel::Burn, &x, &mask);
                let composed = run_kernel(&m, AttentionKernel::Composed, &x, &mask);
                for (what, (a, c)) in ["output", "dx", "dW_Q", "dW_V"]
                    .iter()
                    .zip(burn.iter().zip(&composed))
                {
                    assert!(a.iter().all(|v| v.is_finite()), "θ={theta} {name} {what}");
                    assert_close(a, c, TOL, &format!("θ={theta} rope={rope} {name} {what}"));
                }
            }
        }
    });
}

#[test]
fn long_sequences_through_burns_flash_path_equal_the_composed_path() {
    // 520² keys·queries > burn-flex's 256 Ki-entry budget for its naive kernel, so Flex runs
    // its tiled (flash) kernel; a KV cache makes s_q ≠ s_k.
    for_each_device(|device| {
        let m = MultiHeadAttentionConfig::new(8, 1)
            .with_rope(Some(RopeConfig::new(8)))
            .init(device)
            .unwrap();
        let s = 520;
        let x = input3(1, s, 8, 3, device);
        let pad: Vec<bool> = (0..s).map(|t| t % 97 == 5).collect();
        let mask = AttentionMask::causal().with_key_padding(padding(&[pad], device));
        let burn = m.clone().with_kernel(AttentionKernel::Burn);
        let composed = m.clone().with_kernel(AttentionKernel::Composed);
        let a = host(burn.forward(x.clone(), &mask).unwrap());
        let c = host(composed.forward(x.clone(), &mask).unwrap());
        assert_close(&a, &c, TOL, "self-attention, s = 520");
        let (mut ca, mut cc) = (KvCache::new(), KvCache::new());
        for (start, len) in [(0, 300), (300, s - 300)] {
            let chunk = x.clone().narrow(1, start, len);
            let a = host(
                burn.forward_cached(chunk.clone(), &mut ca, &AttentionMask::causal())
                    .unwrap(),
            );
            let c = host(
                composed
                    .forward_cached(chunk, &mut cc, &AttentionMask::causal())
                    .unwrap(),
            );
            assert_close(&a, &c, TOL, &format!("KV cache chunk at {start}"));
        }
    });
}

#[test]
fn burn_kernel_keeps_fully_masked_rows_finite_and_a_nan_reaches_the_block_output() {
    for_each_device(|device| {
        let m = mha(true, Normalizer::softmax(), device).with_kernel(AttentionKernel::Burn);
        let pad = padding(&[vec![true, false, false], vec![true, true, true]], device);
        let mask = AttentionMask::causal().with_key_padding(pad);
        let out = host(m.forward(input3(2, 3, 8, 5, device), &mask).unwrap());
        assert!(
            out.iter().all(|v| v.is_finite()),
            "fully masked rows finite"
        );
        // Row 1 sees no key: its output is the output projection's bias.
        let bias = host(m.output.bias.as_ref().unwrap().val());
        for t in 0..3 {
            assert_close(
                &out[(3 + t) * 8..(4 + t) * 8],
                &bias,
                1e-6,
                "all-padded row",
            );
        }
        // A NaN token: whatever the attention kernel does with it, the block's residual
        // stream carries it to that token's output.
        for kernel in KERNELS {
            let block = TransformerBlockConfig::new(8, 2).init(device).unwrap();
            let mut block = block;
            block.attention.set_kernel(kernel);
            let mut data = host(input3(1, 3, 8, 6, device));
            data[8] = f32::NAN; // token 1, feature 0
            let x = Tensor::<3>::from_data(burn::tensor::TensorData::new(data, [1, 3, 8]), device);
            let y = host(block.forward(x, &AttentionMask::causal()).unwrap());
            assert!(
                y[8..16].iter().any(|v| v.is_nan()),
                "{kernel:?}: NaN reaches token 1"
            );
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Grouped-query and multi-query attention.

/// `[d, n_kv·hd]` key/value weights → `[d, n_heads·hd]`, head `h` a copy of kv head
/// `h / group` (and the same for the bias).
fn repeat_heads(linear: &burn::nn::Linear, group: usize, hd: usize) -> burn::nn::Linear {
    use burn::module::Param;
    let w = linear.weight.val();
    let [d, width] = w.dims();
    let kv = width / hd;
    let w = w
        .reshape([d, kv, 1, hd])
        .expand([d, kv, group, hd])
        .reshape([d, kv * group * hd]);
    let b = linear.bias.as_ref().map(|b| {
        Param::from_tensor(
            b.val()
                .reshape([kv, 1, hd])
                .expand([kv, group, hd])
                .reshape([kv * group * hd]),
        )
    });
    burn::nn::Linear {
        weight: Param::from_tensor(w),
        bias: b,
    }
}

/// GQA / MQA equals plain multi-head attention whose key and value heads are copies of the
/// shared ones (HF's `repeat_kv` order), with RoPE, causal and padding masks, through every
/// kernel; the KV cache holds only the kv heads and reproduces the full forward.
#[test]
fn grouped_query_attention_equals_multi_head_with_repeated_kv_heads() {
    for_each_device(|device| {
        for n_kv in [1usize, 2] {
            for normalizer in [Normalizer::softmax(), Normalizer::adaptive()] {
                let config = MultiHeadAttentionConfig::new(16, 4)
                    .with_n_kv_heads(Some(n_kv))
                    .with_rope(Some(RopeConfig::new(4)))
                    .with_normalizer(normalizer.clone());
                let gqa = config.init(device).unwrap();
                assert_eq!((gqa.n_heads(), gqa.n_kv_heads()), (4, n_kv));
                assert_eq!(gqa.key.weight.dims(), [16, n_kv * 4]);
                let mut full = config.clone().with_n_kv_heads(None).init(device).unwrap();
                assert_eq!(full.n_kv_heads(), 4);
                full.query = gqa.query.clone();
                full.output = gqa.output.clone();
                full.key = repeat_heads(&gqa.key, 4 / n_kv, 4);
                full.value = repeat_heads(&gqa.value, 4 / n_kv, 4);
                assert!(gqa.num_params() < full.num_params());

                let x = input3(2, 6, 16, 7, device);
                let pad = padding(
                    &[vec![false; 6], vec![false, false, false, false, true, true]],
                    device,
                );
                for mask in [
                    AttentionMask::causal(),
                    AttentionMask::causal().with_key_padding(pad.clone()),
                ] {
                    let want = host(full.forward(x.clone(), &mask).unwrap());
                    for kernel in KERNELS {
                        let got = host(
                            gqa.clone()
                                .with_kernel(kernel)
                                .forward(x.clone(), &mask)
                                .unwrap(),
                        );
                        assert_close(
                            &got,
                            &want,
                            TOL,
                            &format!("n_kv {n_kv} {normalizer} {kernel:?}"),
                        );
                    }
                }
                // The cache holds n_kv heads, fed in two chunks.
                let mut cache = KvCache::new();
                let a = gqa
                    .forward_cached(
                        x.clone().narrow(1, 0, 4),
                        &mut cache,
                        &AttentionMask::causal(),
                    )
                    .unwrap();
                let b = gqa
                    .forward_cached(
                        x.clone().narrow(1, 4, 2),
                        &mut cache,
                        &AttentionMask::causal(),
                    )
                    .unwrap();
                assert_eq!(cache.keys().unwrap().dims(), [2, n_kv, 6, 4]);
                let want = host(full.forward(x.clone(), &AttentionMask::causal()).unwrap());
                assert_close(&host(Tensor::cat(vec![a, b], 1)), &want, TOL, "GQA cache");
                // Frequency usage reads the kv heads.
                let (q, k) = gqa.queries_keys(x).unwrap();
                assert_eq!((q.dims(), k.dims()), ([2, 4, 6, 4], [2, n_kv, 6, 4]));
            }
        }
    });
}

#[test]
fn kv_head_counts_that_do_not_divide_are_refused() {
    let device = Device::flex();
    for n_kv in [0usize, 3, 5] {
        let err = MultiHeadAttentionConfig::new(16, 4)
            .with_n_kv_heads(Some(n_kv))
            .init(&device)
            .unwrap_err();
        assert!(err.to_string().contains("n_kv_heads"), "n_kv {n_kv}: {err}");
    }
    // Through the block and decoder configs too.
    assert!(
        TransformerBlockConfig::new(16, 4)
            .with_n_kv_heads(Some(3))
            .init(&device)
            .is_err()
    );
    let lm = DecoderLmConfig::new(11, 16, 4, 1)
        .with_n_kv_heads(Some(2))
        .init(&device)
        .unwrap();
    let logits = lm.forward(tokens(&[vec![1, 2, 3]], &device), None).unwrap();
    assert_eq!(logits.dims(), [1, 3, 11]);
}

// ---------------------------------------------------------------------------------------------
// A user's own normalizer through the open `Normalize` trait.

/// Softmax of the scores times a per-head factor (a normalizer rigor does not ship).
#[derive(Debug)]
struct PerHeadSharpness(Vec<f32>);

impl rigor_softmax::Normalize for PerHeadSharpness {
    fn name(&self) -> String {
        "per-head sharpness".into()
    }
    fn normalize(&self, scores: Tensor<4>) -> rigor_softmax::Result<Tensor<4>> {
        let h = self.0.len();
        let f = Tensor::<1>::from_floats(self.0.as_slice(), &scores.device()).reshape([1, h, 1, 1]);
        Normalizer::softmax().apply(scores * f, -1)
    }
}

/// Always refuses (to show errors come back as errors).
#[derive(Debug)]
struct Refuses;

impl rigor_softmax::Normalize for Refuses {
    fn name(&self) -> String {
        "refuses".into()
    }
    fn normalize(&self, scores: Tensor<4>) -> rigor_softmax::Result<Tensor<4>> {
        Normalizer::softmax().apply(scores, 7)
    }
}

#[test]
fn a_custom_normalizer_drives_attention_and_its_gradients() {
    use std::sync::Arc;
    for_each_device(|device| {
        let x = input3(2, 5, 8, 3, device);
        let mask = AttentionMask::causal();
        // A built-in's own type behind the trait equals the built-in.
        let builtin = mha(true, Normalizer::adaptive(), device);
        let custom = builtin
            .clone()
            .with_custom_normalizer(Arc::new(rigor_softmax::AdaptiveTemperature::default()));
        assert_eq!(
            host(custom.forward(x.clone(), &mask).unwrap()),
            host(builtin.forward(x.clone(), &mask).unwrap())
        );
        // A user's normalizer: the weights are exactly its map of the scores.
        let sharp = PerHeadSharpness(vec![1.0, 3.0]);
        let m = mha(true, Normalizer::softmax(), device)
            .with_custom_normalizer(Arc::new(PerHeadSharpness(vec![1.0, 3.0])));
        assert_eq!(m.custom_normalizer().unwrap().name(), "per-head sharpness");
        let out = m.forward_with_weights(x.clone(), &mask).unwrap();
        let want =
            rigor_softmax::Normalize::normalize(&sharp, out.scores.clone().unwrap()).unwrap();
        assert_eq!(host(out.weights.clone().unwrap()), host(want));
        // It is not softmax: head 1 is sharper.
        let plain = mha(true, Normalizer::softmax(), device);
        let mut plain = plain;
        plain.query = m.query.clone();
        plain.key = m.key.clone();
        plain.value = m.value.clone();
        plain.output = m.output.clone();
        let soft = plain.forward_with_weights(x.clone(), &mask).unwrap();
        assert!(
            host(soft.weights.unwrap())
                .iter()
                .zip(host(out.weights.unwrap()))
                .any(|(a, b)| (a - b).abs() > 1e-3)
        );
        // set_normalizer goes back to a built-in.
        let mut back = m.clone();
        back.set_normalizer(Normalizer::softmax());
        assert!(back.custom_normalizer().is_none());
        assert_close(
            &host(back.forward(x.clone(), &mask).unwrap()),
            &host(plain.forward(x.clone(), &mask).unwrap()),
            TOL,
            "back to softmax",
        );
        // Its errors come back as errors.
        let bad =
            mha(false, Normalizer::softmax(), device).with_custom_normalizer(Arc::new(Refuses));
        assert!(matches!(bad.forward(x, &mask), Err(NnError::Softmax(_))));
    });
    // Gradients reach the projections through it.
    rigor_testkit::for_each_autodiff_device(|device| {
        let m = mha(true, Normalizer::softmax(), device)
            .with_custom_normalizer(Arc::new(PerHeadSharpness(vec![0.5, 2.0])));
        let x = input3(1, 4, 8, 5, device);
        let grads = m
            .forward(x, &AttentionMask::causal())
            .unwrap()
            .powi_scalar(2)
            .sum()
            .backward();
        let g = host(m.query.weight.grad(&grads).expect("query gradient"));
        assert!(g.iter().all(|v| v.is_finite()) && g.iter().any(|v| *v != 0.0));
    });
}

#[test]
fn the_decoder_takes_a_custom_normalizer_in_every_block() {
    use std::sync::Arc;
    let device = Device::flex();
    let lm = DecoderLmConfig::new(11, 8, 2, 2)
        .with_normalizer(Normalizer::entmax(1.5).unwrap())
        .init(&device)
        .unwrap();
    let tokens = tokens(&[vec![1, 2, 3, 4]], &device);
    let want = host(lm.forward(tokens.clone(), None).unwrap());
    let mut custom = lm.clone();
    custom.set_normalizer(Normalizer::softmax());
    custom.set_custom_normalizer(Arc::new(rigor_softmax::Entmax::new(1.5).unwrap()));
    assert_eq!(host(custom.forward(tokens, None).unwrap()), want);
}

// ---------------------------------------------------------------------------------------------
// Learned per-head normalizer parameters: SSMax scales and attention sinks.

fn with_weights_of(
    mut target: MultiHeadAttention,
    source: &MultiHeadAttention,
) -> MultiHeadAttention {
    target.query = source.query.clone();
    target.key = source.key.clone();
    target.value = source.value.clone();
    target.output = source.output.clone();
    target
}

#[test]
fn learned_normalizers_start_as_their_fixed_forms_and_are_parameters() {
    use burn::module::Param;
    for_each_device(|device| {
        let x = input3(2, 5, 8, 11, device);
        let mask = AttentionMask::causal();
        for (learned, fixed) in [
            (
                LearnedNormalizer::Sinks { sink: 0.0 },
                Normalizer::softmax1(),
            ),
            (
                LearnedNormalizer::ScalableSoftmax { s: 0.7 },
                Normalizer::scalable(0.7).unwrap(),
            ),
            // β = 0: s = δ = 1 at every position, plain 1.5-entmax.
            (
                LearnedNormalizer::AsEntmax {
                    alpha: 1.5,
                    delta: 1.0,
                    beta: 0.0,
                    gamma: 0.3,
                },
                Normalizer::entmax(1.5).unwrap(),
            ),
        ] {
            let config = MultiHeadAttentionConfig::new(8, 2)
                .with_rope(Some(RopeConfig::new(4)))
                .with_learned(Some(learned.clone()));
            let m = config.init(device).unwrap();
            assert!(m.learned_normalizer_active());
            let per_head_params = if matches!(learned, LearnedNormalizer::AsEntmax { .. }) {
                4 // β and γ
            } else {
                2
            };
            assert_eq!(
                m.num_params(),
                4 * (8 * 8 + 8) + per_head_params,
                "{learned:?}: per-head values"
            );
            let f = with_weights_of(mha(true, fixed.clone(), device), &m);
            assert_close(
                &host(m.forward(x.clone(), &mask).unwrap()),
                &host(f.forward(x.clone(), &mask).unwrap()),
                TOL,
                &format!("{learned:?} vs {fixed}"),
            );
            // Per-head values act per head: raise head 1's only.
            let mut moved = m.clone();
            let bump = |p: &Param<Tensor<1>>| {
                Param::from_tensor(p.val() + Tensor::<1>::from_floats([0.0, 2.0], device))
            };
            moved.sinks = m.sinks.as_ref().map(bump);
            moved.ssmax_scale = m.ssmax_scale.as_ref().map(bump);
            moved.asentmax_beta = m.asentmax_beta.as_ref().map(bump);
            let a = host(
                m.forward_with_weights(x.clone(), &mask)
                    .unwrap()
                    .weights
                    .unwrap(),
            );
            let b = host(
                moved
                    .forward_with_weights(x.clone(), &mask)
                    .unwrap()
                    .weights
                    .unwrap(),
            );
            let per_head = 5 * 5;
            let (h0, h1): (Vec<_>, Vec<_>) = (0..a.len()).partition(|i| (i / per_head) % 2 == 0);
            assert!(
                h0.iter().all(|&i| a[i] == b[i]),
                "{learned:?}: head 0 untouched"
            );
            assert!(
                h1.iter().any(|&i| (a[i] - b[i]).abs() > 1e-3),
                "{learned:?}: head 1 moved"
            );
            // set_normalizer switches to a built-in; use_learned_normalizer switches back.
            let mut s = moved.clone();
            s.set_normalizer(Normalizer::softmax());
            assert!(!s.learned_normalizer_active());
            assert!(s.use_learned_normalizer());
            assert_eq!(
                host(s.forward(x.clone(), &mask).unwrap()),
                host(moved.forward(x.clone(), &mask).unwrap())
            );
        }
        assert!(
            !mha(false, Normalizer::softmax(), device)
                .clone()
                .use_learned_normalizer()
        );
    });
}

#[test]
fn learned_parameters_get_gradients_and_survive_save_and_load() {
    use burn::module::Param;
    rigor_testkit::for_each_autodiff_device(|device| {
        let x = input3(1, 4, 8, 2, device);
        let mask = AttentionMask::causal();
        for learned in [
            LearnedNormalizer::Sinks { sink: 0.3 },
            LearnedNormalizer::ScalableSoftmax { s: 1.2 },
            LearnedNormalizer::AsEntmax {
                alpha: 1.5,
                delta: 1.0,
                beta: 0.5,
                gamma: 0.25,
            },
        ] {
            let m = MultiHeadAttentionConfig::new(8, 2)
                .with_learned(Some(learned.clone()))
                .init(device)
                .unwrap();
            let loss =
                |m: &MultiHeadAttention| m.forward(x.clone(), &mask).unwrap().powi_scalar(2).sum();
            let grads = loss(&m).backward();
            let p = m
                .sinks
                .as_ref()
                .or(m.ssmax_scale.as_ref())
                .or(m.asentmax_beta.as_ref())
                .unwrap();
            if let Some(gamma) = &m.asentmax_gamma {
                let g = host(gamma.grad(&grads).expect("γ gradient"));
                assert!(
                    g.iter().all(|v| v.is_finite()) && g.iter().any(|v| *v != 0.0),
                    "γ: {g:?}"
                );
            }
            let g = host(p.grad(&grads).expect("per-head gradient"));
            assert!(
                g.iter().all(|v| v.is_finite()) && g.iter().any(|v| *v != 0.0),
                "{learned:?}: {g:?}"
            );
            // Central differences on head 0.
            let h = 1e-2f32;
            let shifted = |d: f32| {
                let mut m2 = m.clone();
                let moved = Param::from_tensor(
                    (p.val() + Tensor::<1>::from_floats([d, 0.0], device)).detach(),
                );
                match learned {
                    LearnedNormalizer::Sinks { .. } => m2.sinks = Some(moved),
                    LearnedNormalizer::ScalableSoftmax { .. } => m2.ssmax_scale = Some(moved),
                    LearnedNormalizer::AsEntmax { .. } => m2.asentmax_beta = Some(moved),
                }
                host(loss(&m2))[0]
            };
            let fd = (shifted(h) - shifted(-h)) / (2.0 * h);
            assert!(
                (fd - g[0]).abs() <= 2e-2 * (1.0 + g[0].abs()),
                "{learned:?}: fd {fd} vs {}",
                g[0]
            );
        }
    });
    // Trained values are saved and loaded with the record.
    let device = Device::flex();
    let dir = std::env::temp_dir().join(format!("rigor-nn-sinks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = MultiHeadAttentionConfig::new(8, 2)
        .with_learned(Some(LearnedNormalizer::Sinks { sink: 0.0 }));
    let mut m = config.init(&device).unwrap();
    m.sinks = Some(Param::from_tensor(Tensor::<1>::from_floats(
        [1.5, -0.5],
        &device,
    )));
    let x = input3(1, 4, 8, 2, &device);
    let before = host(m.forward(x.clone(), &AttentionMask::causal()).unwrap());
    rigor_nn::checkpoint::save(m, dir.join("m.bpk")).unwrap();
    let loaded =
        rigor_nn::checkpoint::load(config.init(&device).unwrap(), dir.join("m.bpk")).unwrap();
    assert_eq!(host(loaded.sinks.as_ref().unwrap().val()), vec![1.5, -0.5]);
    assert_eq!(
        host(loaded.forward(x, &AttentionMask::causal()).unwrap()),
        before
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn invalid_learned_normalizers_are_refused() {
    let device = Device::flex();
    for (learned, normalizer) in [
        (
            LearnedNormalizer::ScalableSoftmax { s: 0.0 },
            Normalizer::softmax(),
        ),
        (
            LearnedNormalizer::ScalableSoftmax { s: f64::NAN },
            Normalizer::softmax(),
        ),
        (
            LearnedNormalizer::Sinks {
                sink: f64::INFINITY,
            },
            Normalizer::softmax(),
        ),
        (
            LearnedNormalizer::Sinks { sink: 0.0 },
            Normalizer::adaptive(),
        ),
        (
            LearnedNormalizer::AsEntmax {
                alpha: 1.0,
                delta: 1.0,
                beta: 0.5,
                gamma: 0.0,
            },
            Normalizer::softmax(),
        ),
        (
            LearnedNormalizer::AsEntmax {
                alpha: 1.5,
                delta: f64::NAN,
                beta: 0.5,
                gamma: 0.0,
            },
            Normalizer::softmax(),
        ),
        (
            LearnedNormalizer::AsEntmax {
                alpha: 1.5,
                delta: 1.0,
                beta: f64::INFINITY,
                gamma: 0.0,
            },
            Normalizer::softmax(),
        ),
        (
            LearnedNormalizer::AsEntmax {
                alpha: 1.5,
                delta: 1.0,
                beta: 0.5,
                gamma: f64::NEG_INFINITY,
            },
            Normalizer::softmax(),
        ),
    ] {
        let r = MultiHeadAttentionConfig::new(8, 2)
            .with_learned(Some(learned.clone()))
            .with_normalizer(normalizer)
            .init(&device);
        assert!(r.is_err(), "{learned:?}");
    }
    // Through the decoder config, and a decoder with sinks trains a step's worth of forward.
    let lm = DecoderLmConfig::new(11, 8, 2, 1)
        .with_learned(Some(LearnedNormalizer::Sinks { sink: 0.0 }))
        .init(&device)
        .unwrap();
    assert_eq!(
        lm.forward(tokens(&[vec![1, 2, 3]], &device), None)
            .unwrap()
            .dims(),
        [1, 3, 11]
    );
}
