//! The paper's claims as tests (*Round and Round We Go!*, ICLR 2025).

mod common;

use common::*;
use proptest::prelude::*;
use rigor_rope::theory::constructions::{HeadKind, PositionalHead};
use rigor_rope::theory::nope::{causal_row_ranges, first_layer_logits};
use rigor_rope::theory::usage::FrequencyUsage;
use rigor_rope::*;
use rigor_testkit::for_each_device;

/// Claim 1: E[qᵀ Rʳ k] = 0 for q, k i.i.d. N(0, I). Seeded: N = 4096 pairs, d = 64, through
/// the device `apply` path (q at position 0, k at position r). The sample mean has standard
/// error σ/√N with σ = √d = 8 (see `logit_std_gaussian`), i.e. 0.125; tolerance 5 standard
/// errors = 0.625 (a false alarm has probability < 1e-6 per r). For comparison, a head that
/// decayed like qᵀk·e^{-r} would have mean 0 too — so we also check that the *spread* does not
/// decay: the sample std stays within 10 % of √d at every r.
#[test]
fn claim_1_expected_rope_logit_is_zero_at_every_distance() {
    for_each_device(|device| {
        let (n, d) = (4096, 64);
        let rope = RopeConfig::new(d).init().unwrap();
        let mut rng = SeededRng::new(2024);
        let q = tensor4(rng.normals(n * d), [n, 1, 1, d], device);
        let k = tensor4(rng.normals(n * d), [n, 1, 1, d], device);
        let sigma = theory::drift::logit_std_gaussian(d, 1.0);
        let tol = 5.0 * sigma / (n as f64).sqrt();
        for r in [0usize, 1, 2, 5, 10, 100, 1000, 10_000] {
            let rq = rope
                .apply(
                    q.clone(),
                    TensorLayout::Bhsd,
                    Role::Query,
                    Positions::Offset(0),
                )
                .unwrap();
            let rk = rope
                .apply(
                    k.clone(),
                    TensorLayout::Bhsd,
                    Role::Key,
                    Positions::Offset(r),
                )
                .unwrap();
            let l = to_f64(&host((rq * rk).sum_dim(3).reshape([n])));
            let mean = l.iter().sum::<f64>() / n as f64;
            let std = (l.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
            assert!(mean.abs() < tol, "r = {r}: mean {mean:.4} beyond ±{tol:.4}");
            assert!(
                (std / sigma - 1.0).abs() < 0.1,
                "r = {r}: std {std:.3} vs {sigma:.3}"
            );
        }
    });
}

/// Claim 2: with identical tokens NoPE gives equal logits in every causal row, for any W_q,
/// W_k; RoPE on the same tokens does not.
#[test]
fn claim_2_nope_gives_equal_logits_for_identical_tokens() {
    for_each_device(|device| {
        let (s, m, d) = (12, 10, 16);
        let mut rng = SeededRng::new(3);
        let token = rng.normals(m);
        let tokens = tensor2(
            token.iter().copied().cycle().take(s * m).collect(),
            [s, m],
            device,
        );
        let wq = tensor2(rng.normals(m * d), [m, d], device);
        let wk = tensor2(rng.normals(m * d), [m, d], device);
        let nope = RopeConfig::new(d)
            .with_rotation(Rotation::NoPE)
            .init()
            .unwrap();
        let ranges = causal_row_ranges(
            first_layer_logits(tokens.clone(), wq.clone(), wk.clone(), &nope).unwrap(),
        )
        .unwrap();
        assert!(
            ranges.iter().all(|&r| r == 0.0),
            "NoPE rows differ: {ranges:?}"
        );
        let rope = RopeConfig::new(d).init().unwrap();
        let ranges = causal_row_ranges(first_layer_logits(tokens, wq, wk, &rope).unwrap()).unwrap();
        assert!(
            ranges[1..].iter().all(|&r| r > 1e-3),
            "RoPE rows should vary: {ranges:?}"
        );
    });
}

#[test]
fn claim_3_margin_is_c_times_one_minus_cos_one_over_the_neighbours() {
    for kind in [HeadKind::Diagonal, HeadKind::PreviousToken] {
        let h = PositionalHead::new(kind, 3.0).unwrap();
        let p = kind.peak() as i64;
        assert!((h.logit(p) - 3.0).abs() < 1e-12);
        for nb in [p - 1, p + 1].into_iter().filter(|&r| r >= 0) {
            assert!((h.logit(p) - h.logit(nb) - h.neighbour_margin()).abs() < 1e-12);
        }
        assert!(
            (h.neighbour_margin() / 3.0 - 0.4597).abs() < 1e-4,
            "≈ 0.46c"
        );
        // the paper's margin holds within 5 tokens; cos 6 ≈ 0.96 shrinks it beyond
        assert!((h.margin_within(5 + kind.peak()) - h.neighbour_margin()).abs() < 1e-12);
        assert!(h.margin_within(7 + kind.peak()) < 0.1 * h.neighbour_margin());
        assert!(h.margin_within(1000) > 0.0, "the peak stays unique");
    }
    assert!(PositionalHead::new(HeadKind::Diagonal, 0.0).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Claim 3: with c from `scale_for`, the constructed heads peak at r* (diagonal: the
    /// token itself; previous-token: the one before) for ANY content of bounded norm in the
    /// other chunks, through real RoPE on the device, in both layouts.
    #[test]
    fn claim_3_constructed_heads_peak_where_claimed_for_any_content(seed in 0u64..10_000, bound in 0.1f64..3.0, window in 2usize..24) {
        for_each_device(|device| {
            let (s, d) = (window + 4, 16);
            for layout in [Layout::HalfSplit, Layout::Interleaved] {
                for kind in [HeadKind::Diagonal, HeadKind::PreviousToken] {
                    let mut rng = SeededRng::new(seed);
                    // content with per-token norm exactly `bound` (chunk 0 is overwritten,
                    // so the content bound B_q·B_k <= bound²)
                    let mut content = |n: usize| -> Vec<f32> {
                        (0..n).flat_map(|_| {
                            let v: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
                            let nv = norm(&v);
                            v.into_iter().map(move |x| (x / nv * bound) as f32).collect::<Vec<_>>()
                        }).collect()
                    };
                    let qc = tensor2(content(s), [s, d], device);
                    let kc = tensor2(content(s), [s, d], device);
                    let c = PositionalHead::scale_for(kind, window, bound * bound).unwrap();
                    let head = PositionalHead::new(kind, c).unwrap();
                    let (q, k) = head.embed(qc, kc, layout).unwrap();
                    let rope = RopeConfig::new(d).with_layout(layout).init().unwrap();
                    let (q, k) = rope.apply_qk(q.reshape([1, 1, s, d]), k.reshape([1, 1, s, d]), TensorLayout::Bhsd, Positions::Offset(0)).unwrap();
                    let logits = to_f64(&host(q.matmul(k.swap_dims(2, 3))));
                    for i in kind.peak()..s {
                        let lo = i.saturating_sub(window);
                        let best = (lo..=i).max_by(|&a, &b| logits[i * s + a].total_cmp(&logits[i * s + b])).unwrap();
                        assert_eq!(best, i - kind.peak(), "{kind:?} {layout:?} query {i}: argmax key {best}");
                    }
                }
            }
        });
    }
}

#[test]
fn frequency_usage_from_activations_and_weights() {
    for_each_device(|device| {
        let (b, h, s, d) = (2, 3, 5, 8);
        for layout in [Layout::HalfSplit, Layout::Interleaved] {
            let rope = RopeConfig::new(d).with_layout(layout).init().unwrap();
            // chunk k of head hh holds (k + 1)·(hh + 1) on one coordinate, 0 on the other
            let mut v = vec![0f32; b * h * s * d];
            for bi in 0..b {
                for hi in 0..h {
                    for si in 0..s {
                        for k in 0..d / 2 {
                            let (a, _) = layout.chunk_coords(k, d);
                            v[((bi * h + hi) * s + si) * d + a] = ((k + 1) * (hi + 1)) as f32;
                        }
                    }
                }
            }
            let x = tensor4(v, [b, h, s, d], device);
            // rotation preserves chunk norms: usage is the same before and after RoPE
            let rx = rope
                .apply(
                    x.clone(),
                    TensorLayout::Bhsd,
                    Role::Query,
                    Positions::Offset(3),
                )
                .unwrap();
            // layers with different head counts are an error, not a ragged result
            let u = FrequencyUsage::from_activations(
                "query",
                &[x, rx.clone().swap_dims(1, 2)],
                TensorLayout::Bhsd,
                &rope,
            );
            assert!(matches!(u, Err(RopeError::ShapeMismatch { .. })), "{u:?}");
            let u = FrequencyUsage::from_activations(
                "query",
                std::slice::from_ref(&rx),
                TensorLayout::Bhsd,
                &rope,
            )
            .unwrap();
            for hi in 0..h {
                let want: Vec<f64> = (0..d / 2).map(|k| ((k + 1) * (hi + 1)) as f64).collect();
                assert_close(
                    &u.norms[0][hi].iter().map(|&x| x as f32).collect::<Vec<_>>(),
                    &want,
                    1e-4,
                    1e-5,
                    "usage",
                );
            }
            assert_eq!(u.inv_freq, rope.frequencies(s).inv_freq);
            // weights: a [m, h·d] matrix whose chunk-k columns have Frobenius norm k + 1
            let m = 4;
            let mut w = vec![0f32; m * h * d];
            for hi in 0..h {
                for k in 0..d / 2 {
                    let (a, bb) = layout.chunk_coords(k, d);
                    w[hi * d + a] = (k + 1) as f32 * 0.6; // row 0
                    w[h * d + hi * d + bb] = (k + 1) as f32 * 0.8; // row 1
                }
            }
            let wu = FrequencyUsage::from_projection_weights(
                "w_q",
                &[tensor2(w, [m, h * d], device)],
                h,
                &rope,
            )
            .unwrap();
            for hi in 0..h {
                assert_close(
                    &wu.norms[0][hi]
                        .iter()
                        .map(|&x| x as f32)
                        .collect::<Vec<_>>(),
                    &(1..=d / 2).map(|k| k as f64).collect::<Vec<_>>(),
                    1e-5,
                    1e-5,
                    "weight usage",
                );
            }
            // JSON round trip and SVG
            let json = u.to_json().unwrap();
            let back: FrequencyUsage = serde_json::from_str(&json).unwrap();
            assert_eq!(back, u);
            let dir = std::env::temp_dir().join(format!("rigor_rope_usage_{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let svg = dir.join(format!("{layout:?}.svg"));
            u.write_svg_heatmap(&svg, "usage").unwrap();
            let text = std::fs::read_to_string(&svg).unwrap();
            assert!(
                text.starts_with("<svg") && text.matches("<rect").count() >= d / 2,
                "heatmap has a cell per slot"
            );
        }
    });
}

#[test]
fn wavelengths_are_two_pi_over_g_and_infinite_for_nope_slots() {
    let rope = RopeConfig::new(8)
        .with_rotation(Rotation::Proportional { p: 0.5 })
        .init()
        .unwrap();
    let w = rope.frequencies(1).wavelengths();
    assert!((w[0] - 2.0 * std::f64::consts::PI).abs() < 1e-12);
    assert!(
        (w[1] - 2.0 * std::f64::consts::PI * 10.0).abs() < 1e-9,
        "g_1 = 1e4^(-2/8) = 0.1"
    );
    assert!(w[2].is_infinite() && w[3].is_infinite());
}
