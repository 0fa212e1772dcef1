//! Golden values from other people's reference code for the normalizers added beside the
//! paper's: softpick (the authors' `naive_softpick_attn.softpick`), gpt-oss attention sinks
//! (transformers 5.25's `eager_attention_forward`), ASEntmax (deep-spin/asentmax's
//! `SparseGemma2Attention`, `attn_scale_type="learn"`) — `golden/new_normalizers/`, with the
//! generator and the formulas as those codes compute them — and Llama 4's temperature tuning
//! (transformers 5.25's `Llama4TextAttention` itself, `golden/llama4/`). Weights on every
//! device, gradients on every autodiff device; f32 against f64 references.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::host;
use rigor_softmax::{AsEntmax, Llama4Temperature, Normalize, Normalizer, softmax_with_sink};
use rigor_testkit::{for_each_autodiff_device, for_each_device};
use serde_json::Value;

const NEW: &str = include_str!("golden/new_normalizers/new_normalizers_golden.json");
const LLAMA4: &str = include_str!("golden/llama4/llama4_golden.json");

fn json(s: &str) -> Value {
    serde_json::from_str(s).expect("golden JSON parses")
}

/// Rows of numbers; `null` is −∞.
fn matrix(v: &Value) -> Vec<Vec<f64>> {
    common::json_matrix(v)
}

fn tensor(rows: &[Vec<f64>], device: &Device) -> Tensor<2> {
    let flat: Vec<f32> = rows.iter().flatten().map(|&v| v as f32).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), rows[0].len()]), device)
}

fn close(got: &[f32], want: &[Vec<f64>], atol: f64, rtol: f64, what: &str) {
    let want: Vec<f64> = want.iter().flatten().copied().collect();
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
        let err = (f64::from(g) - w).abs();
        assert!(
            err <= atol + rtol * w.abs(),
            "{what}[{i}]: {g} vs {w} (err {err:e})"
        );
    }
}

struct Case {
    name: String,
    logits: Vec<Vec<f64>>,
    cotangent: Vec<Vec<f64>>,
}

fn inputs(g: &Value) -> Vec<Case> {
    g["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_string(),
            logits: matrix(&c["logits"]),
            cotangent: matrix(&c["cotangent"]),
        })
        .collect()
}

#[test]
fn softpick_equals_the_authors_reference() {
    let g = json(NEW);
    let cases = inputs(&g);
    for_each_device(|device| {
        for (case, want) in cases.iter().zip(g["softpick"]["cases"].as_array().unwrap()) {
            let w = Normalizer::softpick()
                .apply(tensor(&case.logits, device), -1)
                .unwrap();
            close(
                &host(w),
                &matrix(&want["weights"]),
                2e-6,
                1e-4,
                &format!("softpick {}", case.name),
            );
        }
        // The reference gives NaN for a fully masked row; rigor gives zeros (documented).
        let fm = matrix(&g["softpick"]["fully_masked"]["logits"]);
        assert!(
            g["softpick"]["fully_masked"]["weights_all_nan"]
                .as_bool()
                .unwrap()
        );
        let w = host(
            Normalizer::softpick()
                .apply(tensor(&fm, device), -1)
                .unwrap(),
        );
        assert!(w.iter().all(|&v| v == 0.0));
    });
    for_each_autodiff_device(|device| {
        for (case, want) in cases.iter().zip(g["softpick"]["cases"].as_array().unwrap()) {
            let x = tensor(&case.logits, device).require_grad();
            let c = tensor(&case.cotangent, device);
            let grads = (Normalizer::softpick().apply(x.clone(), -1).unwrap() * c)
                .sum()
                .backward();
            let gx = host(x.grad(&grads).unwrap());
            close(
                &gx,
                &matrix(&want["grad_logits"]),
                1e-5,
                1e-3,
                &format!("softpick grad {}", case.name),
            );
        }
    });
}

#[test]
fn sinks_equal_transformers_gpt_oss_attention() {
    let g = json(NEW);
    let cases = inputs(&g);
    for_each_autodiff_device(|device| {
        let all = cases.iter().zip(g["sinks"]["cases"].as_array().unwrap());
        for (case, want) in all {
            for r in want["results"].as_array().unwrap() {
                let sink = r["sink"].as_f64().unwrap();
                let rows = case.logits.len();
                let x = tensor(&case.logits, device).require_grad();
                let b = Tensor::<2>::full([rows, 1], sink, device).require_grad();
                let c = tensor(&case.cotangent, device);
                let w = softmax_with_sink(x.clone(), -1, b.clone()).unwrap();
                let what = format!("sinks {} b={sink}", case.name);
                close(&host(w.clone()), &matrix(&r["weights"]), 2e-6, 1e-4, &what);
                let grads = (w * c).sum().backward();
                close(
                    &host(x.grad(&grads).unwrap()),
                    &matrix(&r["grad_logits"]),
                    1e-5,
                    1e-3,
                    &what,
                );
                let gb: Vec<Vec<f64>> = r["grad_sink"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| vec![v.as_f64().unwrap()])
                    .collect();
                close(
                    &host(b.grad(&grads).unwrap()),
                    &gb,
                    1e-5,
                    1e-3,
                    &format!("{what} d/dsink"),
                );
            }
        }
    });
}

/// `rows` as `[1, 1, q, k_len]` scores: `k_len − n` masked columns first, so the query rows sit
/// at the reference's absolute positions `k_len − q + i`.
fn padded_scores(rows: &[Vec<f64>], k_len: usize, pad_with: f64, device: &Device) -> Tensor<4> {
    let n = rows[0].len();
    let mut flat = Vec::with_capacity(rows.len() * k_len);
    for r in rows {
        flat.extend(std::iter::repeat_n(pad_with as f32, k_len - n));
        flat.extend(r.iter().map(|&v| v as f32));
    }
    Tensor::from_data(TensorData::new(flat, [1, 1, rows.len(), k_len]), device)
}

fn last_columns(t: Tensor<4>, n: usize) -> Vec<f32> {
    let [b, h, q, k] = t.dims();
    host(t.slice([0..b, 0..h, 0..q, k - n..k]))
}

fn column_sum(v: &Value) -> Vec<Vec<f64>> {
    vec![vec![
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .sum(),
    ]]
}

#[test]
fn asentmax_equals_the_authors_module() {
    let g = json(NEW);
    let cases = inputs(&g);
    let a = &g["asentmax"];
    let delta = a["delta"].as_f64().unwrap();
    for_each_autodiff_device(|device| {
        for (case, want) in cases.iter().zip(a["cases"].as_array().unwrap()) {
            let n = case.logits[0].len();
            for length in want["lengths"].as_array().unwrap() {
                let k_len = length["k_len"].as_u64().unwrap() as usize;
                for r in length["results"].as_array().unwrap() {
                    let what = format!("asentmax {} k_len={k_len} {}", case.name, r["setting"]);
                    let alpha = r["alpha"].as_f64().unwrap();
                    let cfg = AsEntmax::new(alpha).unwrap().with_delta(delta).unwrap();
                    let beta =
                        Tensor::<1>::from_floats([r["beta"].as_f64().unwrap() as f32], device)
                            .require_grad();
                    let gamma =
                        Tensor::<1>::from_floats([r["gamma"].as_f64().unwrap() as f32], device)
                            .require_grad();
                    // The reference's own scales and log positions.
                    let q = case.logits.len();
                    let ell = AsEntmax::log_positions(q, k_len).unwrap();
                    let want_ell: Vec<f64> = r["log_position"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap())
                        .collect();
                    for (l, w) in ell.iter().zip(&want_ell) {
                        assert!((l - w).abs() < 1e-12, "{what}: ln(p + 2) {l} vs {w}");
                    }
                    let scales = cfg
                        .scales(beta.clone(), gamma.clone(), 1, q, k_len)
                        .unwrap();
                    close(
                        &host(scales),
                        &[r["scale"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|v| v.as_f64().unwrap())
                            .collect()],
                        1e-6,
                        1e-6,
                        &what,
                    );

                    let x = padded_scores(&case.logits, k_len, f64::NEG_INFINITY, device)
                        .require_grad();
                    let c = padded_scores(&case.cotangent, k_len, 0.0, device);
                    let w = cfg.apply(x.clone(), beta.clone(), gamma.clone()).unwrap();
                    close(
                        &last_columns(w.clone(), n),
                        &matrix(&r["weights"]),
                        2e-6,
                        1e-4,
                        &what,
                    );
                    let grads = (w * c).sum().backward();
                    let gx = x.grad(&grads).unwrap();
                    close(
                        &last_columns(gx, n),
                        &matrix(&r["grad_logits"]),
                        1e-5,
                        1e-3,
                        &format!("{what} d/dz"),
                    );
                    close(
                        &host(beta.grad(&grads).unwrap()),
                        &column_sum(&r["grad_beta"]),
                        2e-5,
                        1e-3,
                        &format!("{what} d/dβ"),
                    );
                    close(
                        &host(gamma.grad(&grads).unwrap()),
                        &column_sum(&r["grad_gamma"]),
                        2e-5,
                        1e-3,
                        &format!("{what} d/dγ"),
                    );
                }
            }
        }
        // The reference gives NaN for a fully masked row; rigor gives zeros and zero gradients.
        let fm = &a["fully_masked"];
        assert!(fm["weights_all_nan"].as_bool().unwrap());
        let k_len = fm["k_len"].as_u64().unwrap() as usize;
        let x =
            padded_scores(&matrix(&fm["logits"]), k_len, f64::NEG_INFINITY, device).require_grad();
        let beta = Tensor::<1>::from_floats([0.5], device).require_grad();
        let gamma = Tensor::<1>::from_floats([0.25], device).require_grad();
        let w = AsEntmax::new(1.5)
            .unwrap()
            .apply(x.clone(), beta.clone(), gamma.clone())
            .unwrap();
        assert!(host(w.clone()).iter().all(|&v| v == 0.0));
        let grads = (w * 1.0).sum().backward();
        assert!(host(x.grad(&grads).unwrap()).iter().all(|&v| v == 0.0));
        for p in [&beta, &gamma] {
            assert!(
                p.grad(&grads)
                    .is_none_or(|g| host(g).iter().all(|&v| v == 0.0))
            );
        }
    });
}

#[test]
fn asentmax_heads_with_their_own_beta_and_gamma_equal_the_two_head_module() {
    // The two α = 1.5 settings ran as two heads of one module in the reference.
    let g = json(NEW);
    let cases = inputs(&g);
    let a = &g["asentmax"];
    for_each_device(|device| {
        for (case, want) in cases.iter().zip(a["cases"].as_array().unwrap()) {
            let n = case.logits[0].len();
            for length in want["lengths"].as_array().unwrap() {
                let k_len = length["k_len"].as_u64().unwrap() as usize;
                let results = length["results"].as_array().unwrap();
                let heads: Vec<&Value> = results
                    .iter()
                    .filter(|r| r["alpha"].as_f64() == Some(1.5))
                    .collect();
                assert_eq!(heads.len(), 2);
                let norm = AsEntmax::new(1.5)
                    .unwrap()
                    .with_heads(
                        heads.iter().map(|r| r["beta"].as_f64().unwrap()).collect(),
                        heads.iter().map(|r| r["gamma"].as_f64().unwrap()).collect(),
                    )
                    .unwrap();
                let x = padded_scores(&case.logits, k_len, f64::NEG_INFINITY, device);
                let x = Tensor::cat(vec![x.clone(), x], 1);
                let w = norm.normalize(x).unwrap();
                let [_, _, q, k] = w.dims();
                for (h, r) in heads.iter().enumerate() {
                    let wh = w.clone().slice([0..1, h..h + 1, 0..q, 0..k]);
                    close(
                        &last_columns(wh, n),
                        &matrix(&r["weights"]),
                        2e-6,
                        1e-4,
                        &format!("asentmax head {h} {} k_len={k_len}", case.name),
                    );
                }
            }
        }
    });
}

#[test]
fn asentmax_refuses_bad_parameters_and_shapes() {
    let device = Device::flex();
    assert!(AsEntmax::new(1.0).is_err());
    assert!(AsEntmax::new(f64::NAN).is_err());
    assert!(
        AsEntmax::new(1.5)
            .unwrap()
            .with_delta(f64::INFINITY)
            .is_err()
    );
    let cfg = AsEntmax::new(1.5).unwrap();
    assert!(cfg.with_heads(vec![0.5], vec![]).is_err());
    assert!(cfg.with_heads(vec![f64::NAN], vec![0.0]).is_err());
    let scores = Tensor::<4>::zeros([1, 3, 2, 4], &device);
    let two = Tensor::<1>::from_floats([0.5, 0.5], &device);
    let one = Tensor::<1>::from_floats([0.5], &device);
    // 2 β values for 3 heads.
    assert!(cfg.apply(scores.clone(), two, one.clone()).is_err());
    // More query rows than keys: positions would be negative.
    let tall = Tensor::<4>::zeros([1, 1, 5, 4], &device);
    assert!(cfg.apply(tall, one.clone(), one.clone()).is_err());
    // Empty key dimension with no query rows is fine and empty.
    let empty = Tensor::<4>::zeros([1, 3, 0, 0], &device);
    assert_eq!(
        cfg.apply(empty, one.clone(), one.clone()).unwrap().dims(),
        [1, 3, 0, 0]
    );
    // Huge finite scores with a large scale stay a distribution (shift before scaling).
    let huge = Tensor::<4>::from_floats([[[[3e38, -3e38, 1e30, 3e38]]]], &device);
    let big = Tensor::<1>::from_floats([1e6], &device);
    let w = host(cfg.apply(huge, big, one.clone()).unwrap());
    assert!(w.iter().all(|v| v.is_finite()), "{w:?}");
    assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{w:?}");
    // NaN in γ makes the rows NaN (documented), not a silent number.
    let nan = Tensor::<1>::from_floats([f32::NAN], &device);
    let w = host(cfg.apply(scores, one, nan).unwrap());
    assert!(w.iter().all(|v| v.is_nan()), "{w:?}");
}

#[test]
fn llama4_temperature_equals_transformers_llama4_attention() {
    let g = json(LLAMA4);
    let f = g["floor_scale"].as_f64().unwrap();
    let a = g["attn_scale"].as_f64().unwrap();
    let t = Llama4Temperature::new(f, a).unwrap();
    for (p, s) in g["scales"].as_array().unwrap().iter().enumerate() {
        assert!((t.scale(p) - s.as_f64().unwrap()).abs() < 1e-6, "τ({p})");
    }
    // Unscaled scores q kᵀ · scaling from the module's own weights, on the host in f64.
    let x = matrix(&g["x"]);
    let (wq, wk) = (matrix(&g["q_proj"]), matrix(&g["k_proj"]));
    let (heads, hd) = (2usize, 8usize);
    let scaling = g["scaling"].as_f64().unwrap();
    let proj = |w: &[Vec<f64>]| -> Vec<Vec<f64>> {
        x.iter()
            .map(|xi| {
                w.iter()
                    .map(|wr| wr.iter().zip(xi).map(|(a, b)| a * b).sum())
                    .collect()
            })
            .collect()
    };
    let (q, k) = (proj(&wq), proj(&wk));
    let s = x.len();
    #[allow(clippy::needless_range_loop)] // rows and columns index q and k alike
    let scores = |offset: usize| -> Vec<f32> {
        let mut out = Vec::new();
        for h in 0..heads {
            for i in offset..s {
                for j in 0..s {
                    let dot: f64 = (0..hd).map(|d| q[i][h * hd + d] * k[j][h * hd + d]).sum();
                    out.push(if j <= i {
                        (dot * scaling) as f32
                    } else {
                        f32::NEG_INFINITY
                    });
                }
            }
        }
        out
    };
    for_each_device(|device| {
        for (offset, key) in [
            (0usize, "weights"),
            (g["prefix"].as_u64().unwrap() as usize, "weights_cached"),
        ] {
            let rows = s - offset;
            let e = Tensor::<4>::from_data(
                TensorData::new(scores(offset), [1, heads, rows, s]),
                device,
            );
            let want: Vec<Vec<f64>> = g[key].as_array().unwrap().iter().flat_map(matrix).collect();
            let got = host(t.with_offset(offset).normalize(e.clone()).unwrap());
            close(&got, &want, 2e-6, 1e-4, &format!("llama4 offset {offset}"));
            // Without the temperature the weights are off (the check has teeth).
            let plain = host(Normalizer::softmax().apply(e, -1).unwrap());
            let flat: Vec<f64> = want.iter().flatten().copied().collect();
            assert!(
                plain
                    .iter()
                    .zip(&flat)
                    .any(|(p, w)| (f64::from(*p) - w).abs() > 1e-3)
            );
        }
    });
    assert!(Llama4Temperature::new(0.0, 0.1).is_err());
    assert!(Llama4Temperature::new(8192.0, -0.1).is_err());
    assert!(Llama4Temperature::new(f64::NAN, 0.1).is_err());
}
