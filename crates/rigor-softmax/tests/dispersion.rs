//! Lemma 2.1 / Prop. 3.1 helpers, σ_max by power iteration, diagnostics and the β(H) refit.

mod common;

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use common::{host, tensor2};
use proptest::prelude::*;
use rigor_softmax::refit::{BetaCriterion, collect_samples, fit_polynomial, optimal_beta};
use rigor_softmax::*;
use rigor_testkit::for_each_device;

#[test]
fn lemma_2_1_closed_forms() {
    let t = Temperature::ONE;
    let b = lemma_2_1(1, 0.0, t).unwrap();
    assert_eq!((b.lower, b.upper, b.tight_max), (1.0, 1.0, 1.0));
    let b = lemma_2_1(4, 2f64.ln(), t).unwrap();
    assert!((b.lower - 0.125).abs() < 1e-15 && (b.upper - 0.5).abs() < 1e-15);
    assert!((b.tight_max - 0.4).abs() < 1e-15, "2/(2+3)");
    // huge δ/θ: the tight bound is 1 without overflow, the plain upper bound is vacuous.
    let b = lemma_2_1(10, 1e4, t).unwrap();
    assert_eq!(b.tight_max, 1.0);
    assert!(b.upper.is_infinite());
    assert!(lemma_2_1(0, 1.0, t).is_err());
    assert!(lemma_2_1(3, -1.0, t).is_err());
    assert!(lemma_2_1(3, f64::NAN, t).is_err());
    assert!(spread_needed(10, 1.0, t).is_err());
    assert_eq!(spread_needed(10, 0.05, t).unwrap(), 0.0);
    // weight 0.5 among 1001 items needs δ = ln(1000) at θ = 1 and twice that at θ = 2.
    assert!((spread_needed(1001, 0.5, t).unwrap() - 1000f64.ln()).abs() < 1e-12);
    let two = Temperature::new(2.0).unwrap();
    assert!((spread_needed(1001, 0.5, two).unwrap() - 2.0 * 1000f64.ln()).abs() < 1e-12);
    assert_eq!(prop_3_1_spread_bound(2.0, 3.0, 0.5, 4.0).unwrap(), 24.0);
    assert!(prop_3_1_spread_bound(-1.0, 1.0, 1.0, 1.0).is_err());
    assert!(prop_3_1_spread_bound(f64::NAN, 1.0, 1.0, 1.0).is_err());
}

#[test]
fn spread_ignores_masks() {
    for_each_device(|device| {
        let x = tensor2(
            &[
                vec![1.0, -2.0, f32::NEG_INFINITY, 5.0],
                vec![f32::NEG_INFINITY; 4],
                vec![3.0, f32::NEG_INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY],
            ],
            device,
        );
        assert_eq!(host(spread(x, -1).unwrap()), vec![7.0, 0.0, 0.0]);
    });
}

#[test]
fn sigma_max_by_power_iteration_matches_known_singular_values() {
    for_each_device(|device| {
        let power = PowerIteration::default();
        // diag(3, −7, 2) padded to 4×3: σ_max = 7.
        let w = Tensor::<2>::from_data(
            TensorData::new(
                vec![
                    3.0f32, 0.0, 0.0, 0.0, -7.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0,
                ],
                [4, 3],
            ),
            device,
        );
        assert!((power.sigma_max(w).unwrap() - 7.0).abs() < 1e-4);
        // Rank one u vᵀ: σ = ‖u‖‖v‖.
        let u = Tensor::<2>::from_floats([[1.0], [2.0], [2.0]], device); // ‖u‖ = 3
        let v = Tensor::<2>::from_floats([[0.0, 3.0, 4.0]], device); // ‖v‖ = 5
        assert!((power.sigma_max(u.matmul(v)).unwrap() - 15.0).abs() < 1e-3);
        let zero = Tensor::<2>::zeros([3, 5], device);
        assert_eq!(power.sigma_max(zero).unwrap(), 0.0);
        let nan = Tensor::<2>::from_floats([[f32::NAN, 1.0]], device);
        assert!(power.sigma_max(nan).is_err());
        assert!(power.sigma_max(Tensor::<2>::zeros([0, 3], device)).is_err());
    });
    assert!(PowerIteration::new(0, 1e-6).is_err());
    assert!(PowerIteration::new(10, 0.0).is_err());
}

#[test]
fn prop_3_1_bound_holds_on_random_weights() {
    for_each_device(|device| {
        for seed in 0..5u64 {
            device.seed(seed);
            let w_q = Tensor::<2>::random([16, 8], Distribution::Normal(0.0, 1.0), device);
            let w_k = Tensor::<2>::random([16, 8], Distribution::Normal(0.0, 1.0), device);
            let y = Tensor::<1>::random([16], Distribution::Normal(0.0, 1.0), device);
            let x = Tensor::<2>::random([32, 16], Distribution::Normal(0.0, 1.0), device);
            let r = prop_3_1(w_q, w_k, y, x, &PowerIteration::default()).unwrap();
            assert!(
                r.spread > 0.0 && r.spread <= r.bound * (1.0 + 1e-4),
                "{r:?}"
            );
        }
        let bad = prop_3_1(
            Tensor::<2>::zeros([16, 8], device),
            Tensor::<2>::zeros([16, 4], device),
            Tensor::<1>::zeros([16], device),
            Tensor::<2>::zeros([3, 16], device),
            &PowerIteration::default(),
        );
        assert!(matches!(bad, Err(SoftmaxError::ShapeMismatch { .. })));
    });
}

#[test]
fn diagnostics_of_known_rows() {
    for_each_device(|device| {
        let x = tensor2(
            &[
                vec![0.0, 0.0, 0.0, 0.0],
                vec![0.0, f32::NEG_INFINITY, 0.0, f32::NEG_INFINITY],
            ],
            device,
        );
        let d = diagnose(x.clone(), -1, &Normalizer::softmax()).unwrap();
        let h = host(d.entropy.clone());
        assert!((h[0] - 4f32.ln()).abs() < 1e-6 && (h[1] - 2f32.ln()).abs() < 1e-6);
        let support = host(d.effective_support.clone());
        assert!((support[0] - 4.0).abs() < 1e-5 && (support[1] - 2.0).abs() < 1e-5);
        assert_eq!(host(d.max_weight.clone()), vec![0.25, 0.5]);
        assert_eq!(host(d.unmasked.clone()), vec![4.0, 2.0]);
        assert_eq!(host(d.beta.clone().unwrap()), vec![1.0, 1.0]);
        let s = d.summary().unwrap();
        assert_eq!(s.rows, 2);
        assert!((s.mean_max_weight - 0.375).abs() < 1e-7);
        assert_eq!(s.mean_beta, Some(1.0));
        let sparse = diagnose(x, -1, &Normalizer::sparsemax()).unwrap();
        assert!(sparse.beta.is_none());
        assert!(
            diagnose(
                Tensor::<2>::zeros([2, 2], device),
                2,
                &Normalizer::softmax()
            )
            .is_err()
        );
    });
}

#[test]
fn optimal_beta_hits_the_target_weight() {
    let c = BetaCriterion::new(0.9, 100.0).unwrap();
    let row = [2.0f32, 0.0, 0.0, 0.0, f32::NEG_INFINITY];
    let b = optimal_beta(&row, 0, &c).unwrap();
    // weight of item 0 = 1/(1 + 3 e^{−2β}) = 0.9 ⇔ β = ln(27)/2.
    assert!((b - 27f64.ln() / 2.0).abs() < 1e-9, "{b}");
    // already sharp enough: β = 1.
    assert_eq!(optimal_beta(&[10.0, 0.0], 0, &c).unwrap(), 1.0);
    // capped.
    let capped = BetaCriterion::new(0.999_999, 1.5).unwrap();
    assert_eq!(optimal_beta(&[0.1, 0.0, 0.0], 0, &capped).unwrap(), 1.5);
    // the target must be the strict maximum, unmasked, in range, and the row clean.
    assert!(matches!(
        optimal_beta(&[1.0, 2.0], 0, &c),
        Err(SoftmaxError::TargetNotArgmax { .. })
    ));
    assert!(matches!(
        optimal_beta(&[1.0, 1.0], 0, &c),
        Err(SoftmaxError::TargetNotArgmax { .. })
    ));
    assert!(optimal_beta(&[f32::NEG_INFINITY, 1.0], 0, &c).is_err());
    assert!(matches!(
        optimal_beta(&[1.0, 0.0], 2, &c),
        Err(SoftmaxError::IndexOutOfRange { .. })
    ));
    assert!(matches!(
        optimal_beta(&[1.0, f32::NAN], 0, &c),
        Err(SoftmaxError::NonFiniteLogits { nan: 1, pos_inf: 0 })
    ));
    assert!(BetaCriterion::new(1.0, 10.0).is_err());
    assert!(BetaCriterion::new(0.5, 0.5).is_err());
}

#[test]
fn refit_recovers_a_planted_polynomial_and_reproduces_the_paper_shape() {
    // Planted: y = the paper's quartic on H ∈ [0.5, 6] — exact recovery.
    let paper = Polynomial::highest_first(vec![-0.037, 0.481, -2.3, 4.917, -1.791]).unwrap();
    let samples: Vec<(f64, f64)> = (0..60)
        .map(|i| {
            let h = 0.5 + 5.5 * i as f64 / 59.0;
            (h, paper.eval(h))
        })
        .collect();
    let fit = fit_polynomial(&samples, 4).unwrap();
    for (a, b) in fit.coefficients().iter().zip(paper.coefficients()) {
        assert!((a - b).abs() < 1e-9, "{:?}", fit.coefficients());
    }
    // A line through noisy points: least squares, not interpolation.
    let line = fit_polynomial(&[(0.0, 1.0), (1.0, 2.0), (2.0, 3.5), (3.0, 4.0)], 1).unwrap();
    let c = line.coefficients();
    // slope = Sxy/Sxx = 5.25/5, intercept = 2.625 − 1.05·1.5.
    assert!(
        (c[0] - 1.05).abs() < 1e-12 && (c[1] - 1.05).abs() < 1e-12,
        "{c:?}"
    );
    assert!(matches!(
        fit_polynomial(&[(1.0, 1.0), (1.0, 2.0), (2.0, 3.0)], 2),
        Err(SoftmaxError::UnderdeterminedFit {
            distinct: 2,
            needed: 3,
            ..
        })
    ));
    assert!(fit_polynomial(&[(f64::NAN, 1.0), (1.0, 2.0)], 0).is_err());
}

#[test]
fn collect_samples_from_a_batch() {
    let device = Device::flex();
    let x = tensor2(
        &[
            vec![3.0, 0.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0, 0.0],
            vec![1.0, 1.0, 0.0, 0.0],
        ],
        &device,
    );
    let set = collect_samples(x.clone(), &[0, 1, 0], 1e-9, &BetaCriterion::default()).unwrap();
    assert_eq!(set.samples.len(), 2);
    assert_eq!(
        set.skipped,
        vec![2],
        "a tie is the model's mistake, not a sample"
    );
    assert!(set.samples.iter().all(|s| s.beta >= 1.0 && s.entropy > 0.0));
    assert!(collect_samples(x, &[0], 1e-9, &BetaCriterion::default()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// σ_max is scale-equivariant and bounds ‖Wv‖/‖v‖ for any v.
    #[test]
    fn sigma_max_bounds_every_gain(
        w in proptest::collection::vec(-3.0f32..3.0, 12),
        v in proptest::collection::vec(-1.0f32..1.0, 3),
        c in 0.1f32..10.0,
    ) {
        let device = Device::flex();
        let m = Tensor::<2>::from_data(TensorData::new(w.clone(), [4, 3]), &device);
        let s = PowerIteration::default().sigma_max(m.clone()).unwrap();
        let scaled = PowerIteration::default().sigma_max(m.clone().mul_scalar(c)).unwrap();
        prop_assert!((scaled - f64::from(c) * s).abs() <= 1e-3 * (1.0 + f64::from(c) * s));
        let vt = Tensor::<2>::from_data(TensorData::new(v.clone(), [3, 1]), &device);
        let gain = host(m.matmul(vt).square().sum().sqrt())[0] as f64;
        let vn = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        prop_assert!(gain <= s * vn * (1.0 + 1e-3) + 1e-5);
    }

    /// Proposition 3.1 through the theorem kit: the spread of (yW_Q)·(x_iW_K) never exceeds
    /// 2σ_Qσ_K‖y‖max‖x_i‖ (power-iteration σ: relative slack 1e-4).
    #[test]
    fn prop_3_1_holds_for_any_projections(case in rigor_softmax::theorems::prop_3_1_case(2..12, 1..8, 1..20)) {
        let (w_q, w_k, y, x) = case.tensors(&Device::flex());
        let v = rigor_softmax::theorems::check_prop_3_1(w_q, w_k, y, x, 1e-4).unwrap();
        prop_assert!(v.holds && v.cases == 1, "{v}");
    }
}

/// The kit's checkers and `Sinks` refuse bad input with errors (never a panic or a NaN
/// verdict); fully masked and empty inputs are verdicts with no cases.
#[test]
fn kit_checkers_and_sinks_refuse_bad_input() {
    use rigor_softmax::theorems::{check_lemma_2_1, check_prop_3_1};
    let d = Device::flex();
    let soft = Normalizer::softmax();
    let s = Tensor::<2>::from_floats([[0.0, 1.0, 2.0]], &d);
    assert!(
        check_lemma_2_1(&soft, s.clone(), 0.0, 1e-5).is_err(),
        "θ = 0"
    );
    assert!(
        check_lemma_2_1(&soft, s.clone(), f64::NAN, 1e-5).is_err(),
        "θ NaN"
    );
    assert!(
        check_lemma_2_1(&soft, s.clone(), 1.0, -1.0).is_err(),
        "negative tol"
    );
    assert!(
        check_lemma_2_1(&soft, s, 1.0, f64::INFINITY).is_err(),
        "infinite tol"
    );
    for bad in [f32::NAN, f32::INFINITY] {
        let x = Tensor::<2>::from_floats([[bad, 1.0, 2.0]], &d);
        assert!(matches!(
            check_lemma_2_1(&soft, x, 1.0, 1e-5),
            Err(SoftmaxError::NonFiniteLogits { .. })
        ));
    }
    let masked = Tensor::<2>::from_floats([[f32::NEG_INFINITY; 3]], &d);
    let v = check_lemma_2_1(&soft, masked, 1.0, 1e-5).unwrap();
    assert!(v.holds && v.cases == 0, "{v}");
    let empty = Tensor::<2>::zeros([0, 4], &d);
    let v = check_lemma_2_1(&soft, empty, 1.0, 1e-5).unwrap();
    assert!(v.holds && v.cases == 0, "{v}");
    // Prop. 3.1: projections that do not compose, no keys, bad tolerance.
    let z2 = |r, c| Tensor::<2>::zeros([r, c], &d);
    let z1 = |n| Tensor::<1>::zeros([n], &d);
    assert!(check_prop_3_1(z2(4, 2), z2(4, 3), z1(4), z2(2, 4), 1e-4).is_err());
    assert!(check_prop_3_1(z2(4, 2), z2(4, 2), z1(4), z2(0, 4), 1e-4).is_err());
    assert!(check_prop_3_1(z2(4, 2), z2(4, 2), z1(4), z2(2, 4), f64::NAN).is_err());
    // Sinks: empty, non-finite, wrong head count.
    assert!(Sinks::new(vec![]).is_err());
    assert!(Sinks::new(vec![f64::NAN]).is_err());
    assert!(Sinks::new(vec![f64::INFINITY]).is_err());
    let two = Sinks::new(vec![0.0, 1.0]).unwrap();
    assert!(two.normalize(Tensor::<4>::zeros([1, 3, 2, 2], &d)).is_err());
    assert!(two.normalize(Tensor::<4>::zeros([1, 2, 2, 2], &d)).is_ok());
}
