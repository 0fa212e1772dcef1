//! The defining properties of pooled perplexity and of the iso-perplexity theory as
//! `proptest` properties.
//!
//! Tensor properties run on every compiled-in device inside each case (small tensors, 32
//! cases). Tolerances: pooled sums are compared to relative 1e-9 (only the order of f64
//! additions differs — the per-token f32 values are computed row by row and do not depend on
//! the batch split); bounds allow f32 round-off of the log-sum-exp (1e-5).

mod common;

use common::{ids, logits3, mask};
use proptest::prelude::*;
use rigor_perplexity::*;
use rigor_testkit::for_each_device;

/// `(b, s, v, logits, targets, mask)` with some ignored targets.
fn batch() -> impl Strategy<Value = (usize, usize, usize, Vec<f32>, Vec<i64>, Vec<bool>)> {
    (1usize..5, 1usize..7, 2usize..12, 0.1f32..12.0).prop_flat_map(|(b, s, v, scale)| {
        (
            Just(b),
            Just(s),
            Just(v),
            proptest::collection::vec((-1.0f32..1.0).prop_map(move |x| x * scale), b * s * v),
            proptest::collection::vec(prop_oneof![9 => 0..v as i64, 1 => Just(-100i64)], b * s),
            proptest::collection::vec(proptest::bool::weighted(0.8), b * s),
        )
    })
}

fn close(a: f64, b: f64, rtol: f64) -> bool {
    (a - b).abs() <= rtol * a.abs().max(b.abs()).max(1e-300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Pooled over any split of the batch rows == one update of the whole batch, and
    /// merging per-split accumulators gives the same.
    #[test]
    fn pooled_equals_concatenated_batch_for_any_split(
        (b, s, v, l, t, m) in batch(),
        cuts in proptest::collection::vec(any::<bool>(), 4),
        shift in any::<bool>(),
    ) {
        let shift = if shift { LabelShift::Causal } else { LabelShift::None };
        for_each_device(|device| {
            let config = EvalConfig::new().with_label_shift(shift);
            let mut whole = config.clone().init().unwrap();
            whole.update(logits3(&l, [b, s, v], device), ids(&t, [b, s], device), Some(mask(&m, [b, s], device))).unwrap();
            let mut streamed = config.clone().init().unwrap();
            let mut merged = config.clone().init().unwrap();
            let mut start = 0;
            for row in 0..b {
                let end = row + 1;
                if end < b && cuts[row % cuts.len()] { continue; } // extend this part
                let n = end - start;
                let part_l = l[start * s * v..end * s * v].to_vec();
                let part_t = t[start * s..end * s].to_vec();
                let part_m = m[start * s..end * s].to_vec();
                streamed.update(logits3(&part_l, [n, s, v], device), ids(&part_t, [n, s], device), Some(mask(&part_m, [n, s], device))).unwrap();
                let mut part = config.clone().init().unwrap();
                part.update(logits3(&part_l, [n, s, v], device), ids(&part_t, [n, s], device), Some(mask(&part_m, [n, s], device))).unwrap();
                merged.merge(&part).unwrap();
                start = end;
            }
            // Per-token values are f32 from the device; a GPU picks its reduction order from
            // the tensor's shape, so a row's NLL may differ by f32 rounding (~1e-7 relative)
            // between splits. The pooling itself is f64 and exact: Flex/NdArray agree to 1e-12.
            let tol = 1e-6;
            for other in [&streamed, &merged] {
                assert_eq!(other.tokens(), whole.tokens());
                assert!(close(other.nll_sum(), whole.nll_sum(), tol));
                assert_eq!(other.sequences().len(), whole.sequences().len());
                if whole.tokens() > 0 {
                    let (x, y) = (other.report().unwrap(), whole.report().unwrap());
                    assert!(close(x.calibration.brier, y.calibration.brier, tol));
                    assert!(close(x.calibration.ece_equal_width, y.calibration.ece_equal_width, tol) || (x.calibration.ece_equal_width - y.calibration.ece_equal_width).abs() < tol);
                    assert!((x.calibration.ece_equal_mass.unwrap() - y.calibration.ece_equal_mass.unwrap()).abs() < tol);
                    assert_eq!(x.calibration.accuracy, y.calibration.accuracy);
                }
            }
        });
    }

    /// Masked (or ignored) tokens never change the result, whatever their logits and ids.
    #[test]
    fn masked_tokens_never_change_the_result((b, s, v, l, t, m) in batch(), junk in -1e6f32..1e6) {
        for_each_device(|device| {
            let mut a = EvalConfig::new().init().unwrap();
            a.update(logits3(&l, [b, s, v], device), ids(&t, [b, s], device), Some(mask(&m, [b, s], device))).unwrap();
            // scramble every unscored token: new logits, out-of-range ids
            let mut l2 = l.clone();
            let mut t2 = t.clone();
            for i in 0..b * s {
                if !m[i] || t[i] == -100 {
                    for x in &mut l2[i * v..(i + 1) * v] { *x = junk; }
                    l2[i * v] = f32::NAN;
                    t2[i] = if m[i] { -100 } else { 10_000 };
                }
            }
            let mut c = EvalConfig::new().init().unwrap();
            c.update(logits3(&l2, [b, s, v], device), ids(&t2, [b, s], device), Some(mask(&m, [b, s], device))).unwrap();
            assert_eq!(a, c);
        });
    }

    /// Perplexity ≥ 1 (NLL ≥ 0) and ≤ e^{max spread} for any scored input.
    #[test]
    fn perplexity_is_at_least_one((b, s, v, l, t, m) in batch()) {
        for_each_device(|device| {
            let mut a = EvalConfig::new().init().unwrap();
            a.update(logits3(&l, [b, s, v], device), ids(&t, [b, s], device), Some(mask(&m, [b, s], device))).unwrap();
            if a.tokens() > 0 {
                let r = a.report().unwrap();
                assert!(r.perplexity >= 1.0 - 1e-6, "ppl {}", r.perplexity);
                assert!(r.log_perplexity >= -1e-6);
                assert!(r.calibration.ece_equal_width >= 0.0 && r.calibration.ece_equal_width <= 1.0);
                assert!(r.calibration.brier >= -1e-6 && r.calibration.brier <= 2.0 + 1e-6);
            }
        });
    }

    /// One-hot logits (a large margin on the target) give perplexity 1.
    #[test]
    fn perfect_one_hot_logits_give_one(b in 1usize..4, s in 1usize..6, v in 2usize..50, seed in any::<u64>()) {
        for_each_device(|device| {
            let t: Vec<i64> = (0..b * s).map(|i| ((seed as usize + i * 31) % v) as i64).collect();
            let mut l = vec![0f32; b * s * v];
            for (i, &ti) in t.iter().enumerate() { l[i * v + ti as usize] = 200.0; }
            let mut a = EvalConfig::new().init().unwrap();
            a.update(logits3(&l, [b, s, v], device), ids(&t, [b, s], device), None).unwrap();
            let r = a.report().unwrap();
            // NLL = ln(1 + (v−1)e^{−200}) < 1e-80: exactly 0 in f32
            assert_eq!(r.perplexity, 1.0);
            assert_eq!(r.calibration.accuracy, 1.0);
            assert!(r.calibration.ece_equal_width.abs() < 1e-6);
        });
    }

    /// Uniform logits give perplexity = vocabulary size.
    #[test]
    fn uniform_logits_give_vocab_size(b in 1usize..4, s in 1usize..6, v in 1usize..3000, c in -50f32..50.0) {
        for_each_device(|device| {
            let t: Vec<i64> = (0..b * s).map(|i| (i * 7 % v) as i64).collect();
            let l = vec![c; b * s * v];
            let mut a = EvalConfig::new().init().unwrap();
            a.update(logits3(&l, [b, s, v], device), ids(&t, [b, s], device), None).unwrap();
            let p = a.perplexity().unwrap();
            assert!((p - v as f64).abs() <= 1e-5 * v as f64, "ppl {p} vs V = {v}");
        });
    }

    /// a′ → 1 as Δγ → γ (S3, Sec. 4). Along γ′ = γ − Δγ = γ·10^{−k},
    /// 1 − a′ = (P + ln(1−γ′)) / (ln(1−γ′) − ln γ′) ≤ P / ln(1/γ′) once ln(1/γ′) ≥ P
    /// (P = pplx(a, γ)), a slow, logarithmic limit; at Δγ = γ it is exactly 1. (a′ need not
    /// be monotone in Δγ: for high a a little more confidence first *lowers* the accuracy
    /// needed to tie.)
    #[test]
    fn critical_accuracy_tends_to_one_as_delta_tends_to_gamma(a in 0.0f64..=1.0, gamma in 0.01f64..0.49) {
        let level = pplx(a, gamma).unwrap();
        let mut last = f64::NAN;
        for k in 1..=12 {
            let g2 = gamma * 10f64.powi(-k);
            let ap = critical_accuracy(a, gamma, gamma - g2).unwrap();
            prop_assert!(ap <= 1.0 + 1e-12);
            if -g2.ln() >= level {
                prop_assert!(1.0 - ap <= 1.001 * level / (-g2.ln()) + 1e-9, "1 − a′ = {} at γ′ = {g2}", 1.0 - ap);
            }
            last = ap;
        }
        prop_assert!(1.0 - last < 0.2);
        prop_assert_eq!(critical_accuracy(a, gamma, gamma).unwrap(), 1.0);
    }

    /// a′ = a when Δγ = 0, and a model at (a′, γ − Δγ) has exactly the reference perplexity.
    #[test]
    fn critical_accuracy_is_a_at_zero_delta_and_ties(a in 0.0f64..=1.0, gamma in 0.01f64..0.49, frac in 0.0f64..0.99) {
        prop_assert!((critical_accuracy(a, gamma, 0.0).unwrap() - a).abs() < 1e-12);
        let d = frac * gamma;
        let ap = critical_accuracy(a, gamma, d).unwrap();
        if (0.0..=1.0).contains(&ap) {
            let tie = pplx(ap, gamma - d).unwrap();
            prop_assert!((tie - pplx(a, gamma).unwrap()).abs() < 1e-9);
        }
    }

    /// The theorem kit's iso-perplexity checker on its own strategy: the critical accuracy
    /// ties (1e-9 nats) and one point more accuracy wins, for every (a, γ, Δγ).
    #[test]
    fn kit_iso_perplexity_holds((a, gamma, dg) in rigor_perplexity::theorems::accuracy_confidence(0.01..0.49)) {
        let v = rigor_perplexity::theorems::check_iso_perplexity(a, gamma, dg, 1e-9).unwrap();
        prop_assert!(v.holds, "{v}");
        prop_assert!(rigor_perplexity::theorems::check_iso_perplexity(a, gamma, gamma + 0.01, 1e-9).is_err());
    }

    /// Remark 3.4 composes: folding θ1 then θ2 is folding θ1·θ2; θ = 1 is the identity.
    #[test]
    fn temperature_folds_compose(gamma in 0.001f64..0.999, t1 in 0.1f64..10.0, t2 in 0.1f64..10.0) {
        let once = temperature_fold(gamma, t1 * t2).unwrap();
        let twice = temperature_fold(temperature_fold(gamma, t1).unwrap(), t2).unwrap();
        // 1e-9, not 1e-12: with θ1 = 0.1 the intermediate γ can sit within ~1e-12 of 1, where
        // 1 − γ keeps only a few digits (seen: γ = 0.93465, θ1 = 0.1, θ2 = 6.61 missed 1e-12);
        // a wrong composition is off by orders of magnitude more.
        prop_assert!((once - twice).abs() < 1e-9, "once {once} twice {twice}");
        prop_assert!((temperature_fold(gamma, 1.0).unwrap() - gamma).abs() < 1e-15);
    }

    /// The Boole chain 1 − n·pplx ≤ 1 − Σγ ≤ Π(1 − γ) = e^{−n pplx}.
    #[test]
    fn boole_chain_holds(gammas in proptest::collection::vec(0.0f64..0.999, 1..64)) {
        let b = boole_bounds(&gammas).unwrap();
        let n = b.n as f64;
        prop_assert!(1.0 - n * b.log_perplexity <= 1.0 - b.error_sum + 1e-12);
        prop_assert!(1.0 - b.error_sum <= b.correct_exact + 1e-12);
        prop_assert!((b.correct_exact - (-n * b.log_perplexity).exp()).abs() < 1e-12);
        prop_assert!(b.correct_lower <= b.correct_exact + 1e-12);
        prop_assert!(b.wrong_upper >= 1.0 - b.correct_exact - 1e-12);
        prop_assert!(b.wrong_upper_from_pplx >= b.wrong_upper - 1e-12);
    }

    /// Sliding windows score every token exactly once, within the context limit.
    #[test]
    fn sliding_windows_score_every_token_exactly_once(n in 0usize..200, max_len in 2usize..40, s in 1usize..40, bos in any::<bool>()) {
        let stride = 1 + (s - 1) % (max_len - 1);
        let mut cfg = SlidingWindowConfig::new(max_len, stride);
        if bos { cfg = cfg.with_bos(99); }
        let sw = cfg.init().unwrap();
        let mut count = vec![0u32; n];
        for w in sw.plan(n) {
            prop_assert!(w.end - w.begin + usize::from(bos) <= max_len, "window fits the context");
            prop_assert!(w.begin <= w.score_from && w.score_from <= w.end);
            if !bos { prop_assert!(w.score_from > w.begin, "first scored token has context"); }
            for c in &mut count[w.score_from..w.end] { *c += 1; }
        }
        let first = usize::from(!bos);
        for (i, &c) in count.iter().enumerate() {
            prop_assert_eq!(c, u32::from(i >= first), "token {} scored {} times", i, c);
        }
    }
}
