//! The theorems and defining properties as `proptest` properties.
//!
//! Most properties run on Flex (fast, many cases); `properties_hold_on_every_device` replays a
//! handful of them on every compiled-in device. Tolerances are stated per property and are
//! f32 round-off allowances, far below the effect each property is about.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{entropy_f64, host, rows, softmax_f64};
use proptest::prelude::*;
use rigor_softmax::*;

fn flex() -> Device {
    Device::flex()
}

fn t2(rows: &[Vec<f32>], device: &Device) -> Tensor<2> {
    let n = rows[0].len();
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), n]), device)
}

/// A row of `n ∈ 2..max_n` logits in [-scale, scale], a few masked (never all): the theorem
/// kit's strategy, so the kit is tested by use.
fn masked_row(max_n: usize) -> impl Strategy<Value = Vec<f32>> {
    theorems::masked_row(2..max_n, 0.1..20.0)
}

fn normalizers() -> Vec<Normalizer> {
    vec![
        Normalizer::softmax(),
        Normalizer::softmax_with_temperature(0.3).unwrap(),
        Normalizer::adaptive(),
        Normalizer::scalable(0.7).unwrap(),
        Normalizer::sparsemax(),
        Normalizer::entmax(1.5).unwrap(),
        Normalizer::entmax(2.5).unwrap(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Every sum-to-one normalizer gives a distribution over the unmasked items.
    #[test]
    fn rows_sum_to_one_and_masks_get_zero(row in masked_row(40)) {
        for norm in normalizers() {
            let p = host(norm.apply(t2(std::slice::from_ref(&row), &flex()), -1).unwrap());
            let s: f32 = p.iter().sum();
            prop_assert!((s - 1.0).abs() < 1e-5, "{norm}: sum {s}");
            for (z, w) in row.iter().zip(&p) {
                prop_assert!(*w >= 0.0);
                if *z == f32::NEG_INFINITY {
                    prop_assert_eq!(*w, 0.0);
                }
            }
        }
        let q = host(softmax1(t2(std::slice::from_ref(&row), &flex()), -1).unwrap());
        let s: f32 = q.iter().sum();
        prop_assert!(s > 0.0 && s < 1.0 + 1e-6, "softmax1 sums to {s}");
    }

    /// Lemma 2.1: e^{-δ/θ}/n <= softmax_θ(e)_k <= e^{δ/θ}/n, and max_k <= the tight bound,
    /// through the theorem kit's checker on its own strategies (relative slack 1e-5 for f32
    /// round-off), with masked rows too.
    #[test]
    fn lemma_2_1_bounds_hold(
        row in theorems::row_with_spread(2..200, 10.0),
        masked in masked_row(120),
        theta in theorems::temperature(),
    ) {
        let t = Temperature::new(theta).unwrap();
        let rows = [row, masked];
        for r in &rows {
            let v = theorems::check_lemma_2_1(&Normalizer::Softmax { temperature: t }, t2(std::slice::from_ref(r), &flex()), theta, 1e-5).unwrap();
            prop_assert!(v.holds && v.cases == 1, "{v}");
        }
        // The bound is a statement about softmax: sparsemax escapes it on rows it makes sparse.
        let sharp = vec![5.0f32, 0.0, 0.0, 0.0, 0.0, 0.0];
        let v = theorems::check_lemma_2_1(&Normalizer::sparsemax(), t2(&[sharp], &flex()), 1.0, 1e-5).unwrap();
        prop_assert!(!v.holds && v.worst_margin < -0.5, "{v}");
    }

    /// The tight bound is attained by one logit at M and n−1 at m (to f32 precision).
    #[test]
    fn tight_bound_is_attained_by_the_extremal_row(
        n in 2usize..5000, delta in 0.0f32..12.0, theta in 0.25f64..4.0,
    ) {
        let mut row = vec![0.0f32; n];
        row[n / 2] = delta;
        let t = Temperature::new(theta).unwrap();
        let p = host(softmax(t2(&[row], &flex()), -1, t).unwrap());
        let b = lemma_2_1(n, f64::from(delta), t).unwrap();
        prop_assert!((f64::from(p[n / 2]) - b.tight_max).abs() <= 2e-6 + 1e-5 * b.tight_max,
            "attained {} vs bound {}", p[n / 2], b.tight_max);
        // and the spread needed to reach that weight is δ itself.
        if b.tight_max > 1.0 / n as f64 + 1e-6 && b.tight_max < 1.0 - 1e-6 {
            let d = spread_needed(n, b.tight_max, t).unwrap();
            prop_assert!((d - f64::from(delta)).abs() < 1e-6 * (1.0 + f64::from(delta)));
        }
    }

    /// Adaptive temperature never increases the entropy (β ≥ 1). Slack 1e-4 nats (f32).
    #[test]
    fn adaptive_never_increases_entropy(row in masked_row(64)) {
        let x = t2(&[row], &flex());
        let h_soft = host(entropy(x.clone(), -1, Temperature::ONE).unwrap())[0];
        let p = Normalizer::adaptive().apply(x, -1).unwrap();
        let h_adapt = host(weights_entropy(p, -1).unwrap())[0];
        prop_assert!(h_adapt <= h_soft + 1e-4, "{h_adapt} > {h_soft}");
    }

    /// Rows whose entropy is at most the threshold are left exactly as softmax leaves them.
    #[test]
    fn adaptive_equals_softmax_below_the_threshold(row in masked_row(32), sharpen in 1.0f32..50.0) {
        let row: Vec<f32> = row.iter().map(|z| z * sharpen).collect();
        let x = t2(std::slice::from_ref(&row), &flex());
        let p = softmax_f64(&row, 1.0);
        let h_paper: f64 = p.iter().map(|&v| -v * (v + 1e-9).ln()).sum();
        prop_assume!(h_paper < 0.5 - 1e-3);
        let a = host(Normalizer::adaptive().apply(x.clone(), -1).unwrap());
        let s = host(softmax(x, -1, Temperature::ONE).unwrap());
        prop_assert_eq!(a, s);
    }

    /// 1 <= β <= max of the polynomial over the reachable entropies [threshold, ln n].
    #[test]
    fn beta_is_between_one_and_the_polynomial_max(row in masked_row(300)) {
        let n = row.iter().filter(|z| **z != f32::NEG_INFINITY).count();
        let rule = AdaptiveTemperature::default();
        let (_, beta) = adaptive_temperature_softmax_with_beta(t2(&[row], &flex()), -1, &rule).unwrap();
        let b = f64::from(host(beta)[0]);
        prop_assert!(b >= 1.0);
        prop_assert!(b <= rule.max_beta(n).unwrap() * (1.0 + 1e-6) , "beta {b}");
        prop_assert!(b <= 2.4215, "beta {b} above the paper polynomial's peak");
    }

    /// θ → 0 tends to the one-hot argmax: with a gap g to the runner-up, at θ = g/30 the top
    /// weight is >= 1 − (n−1)e^{−30}.
    #[test]
    fn low_temperature_tends_to_one_hot(
        row in proptest::collection::vec(-10.0f32..10.0, 2..64),
    ) {
        let mut sorted = row.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let gap = f64::from(sorted[0] - sorted[1]);
        prop_assume!(gap > 1e-2);
        let theta = gap / 30.0;
        let p = host(softmax(t2(std::slice::from_ref(&row), &flex()), -1, Temperature::new(theta).unwrap()).unwrap());
        let arg = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        prop_assert!(p[arg] >= 1.0 - 1e-5, "top weight {}", p[arg]);
    }

    /// Adding a constant to every logit changes nothing (SSMax is invariant too: n is fixed).
    #[test]
    fn translation_invariance(row in masked_row(40), c in -50.0f32..50.0) {
        let shifted: Vec<f32> = row.iter().map(|z| z + c).collect();
        for norm in normalizers() {
            let a = host(norm.apply(t2(std::slice::from_ref(&row), &flex()), -1).unwrap());
            let b = host(norm.apply(t2(std::slice::from_ref(&shifted), &flex()), -1).unwrap());
            for (x, y) in a.iter().zip(&b) {
                prop_assert!((x - y).abs() < 5e-4, "{norm}: {x} vs {y}");
            }
        }
    }

    /// Sparsemax is the projection onto the simplex: p = [z − τ]_+ with one τ for all items,
    /// and items with z <= max(z) − 1 are exactly zero (τ >= max − 1).
    #[test]
    fn sparsemax_has_exact_zeros_where_theory_says(row in masked_row(50)) {
        let p = host(sparsemax(t2(std::slice::from_ref(&row), &flex()), -1).unwrap());
        let zmax = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut tau: Option<f32> = None;
        for (z, w) in row.iter().zip(&p) {
            if *z <= zmax - 1.0 {
                prop_assert_eq!(*w, 0.0, "z {} <= max - 1 must be zero", z);
            }
            if *w > 0.0 {
                let t = z - w;
                if let Some(t0) = tau {
                    prop_assert!((t - t0).abs() < 1e-4, "inconsistent tau");
                } else {
                    tau = Some(t);
                }
            }
        }
        let tau = tau.expect("non-empty support");
        for (z, w) in row.iter().zip(&p) {
            if *w == 0.0 {
                prop_assert!(*z <= tau + 1e-4, "zero weight above tau");
            }
        }
    }

    /// α-entmax: non-negative, sums to one, and items with (α−1)z <= (α−1)max(z) − 1 are
    /// exactly zero.
    #[test]
    fn entmax_has_exact_zeros_where_theory_says(row in masked_row(50), alpha in 1.2f64..4.0) {
        let e = Entmax::new(alpha).unwrap();
        let p = host(entmax(t2(std::slice::from_ref(&row), &flex()), -1, e).unwrap());
        let s: f32 = p.iter().sum();
        prop_assert!((s - 1.0).abs() < 1e-5);
        let zmax = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        for (z, w) in row.iter().zip(&p) {
            prop_assert!(*w >= 0.0);
            if (alpha - 1.0) * f64::from(*z) <= (alpha - 1.0) * zmax - 1.0 - 1e-4 {
                prop_assert_eq!(*w, 0.0);
            }
        }
    }
}

/// α-entmax → softmax as α → 1: the error shrinks with α − 1 (0.05, 0.01, 0.002).
#[test]
fn entmax_tends_to_softmax_as_alpha_tends_to_one() {
    let row: Vec<f32> = vec![0.3, -1.2, 2.5, 0.0, 1.1, -0.4, 0.9, 1.7];
    let want = softmax_f64(&row, 1.0);
    let mut errors = Vec::new();
    for alpha in [1.05, 1.01, 1.002] {
        let p = host(
            entmax(
                t2(std::slice::from_ref(&row), &flex()),
                -1,
                Entmax::new(alpha).unwrap(),
            )
            .unwrap(),
        );
        let err = p
            .iter()
            .zip(&want)
            .map(|(a, b)| (f64::from(*a) - b).abs())
            .fold(0.0, f64::max);
        errors.push(err);
    }
    assert!(errors[0] > errors[1] && errors[1] > errors[2], "{errors:?}");
    assert!(errors[2] < 2e-3, "{errors:?}");
}

/// Dispersion itself (Lemma 2.1's consequence): with bounded spread, softmax's max weight
/// and adaptive-θ's both decay as n grows, while sparsemax keeps the top item's weight.
#[test]
fn softmax_disperses_and_sparsemax_does_not() {
    let max_weight = |norm: &Normalizer, n: usize| {
        let mut row = vec![0.0f32; n];
        row[0] = 2.0;
        let p = host(norm.apply(t2(&[row], &flex()), -1).unwrap());
        p[0]
    };
    for norm in [Normalizer::softmax(), Normalizer::adaptive()] {
        let ws: Vec<f32> = [16, 256, 4096]
            .iter()
            .map(|&n| max_weight(&norm, n))
            .collect();
        assert!(ws[0] > ws[1] && ws[1] > ws[2], "{norm}: {ws:?}");
        assert!(ws[2] < 0.01, "{norm}: {ws:?}");
    }
    for n in [16, 256, 4096] {
        assert_eq!(max_weight(&Normalizer::sparsemax(), n), 1.0);
    }
    let h: Vec<f64> = [16usize, 4096]
        .iter()
        .map(|&n| {
            let mut row = vec![0.0f32; n];
            row[0] = 2.0;
            entropy_f64(&softmax_f64(&row, 1.0))
        })
        .collect();
    assert!(h[1] > h[0]);
}

/// A few properties replayed on every compiled-in device (wgpu included).
#[test]
fn properties_hold_on_every_device() {
    let rows_in = vec![
        vec![0.3f32, -1.2, 2.5, 0.0, f32::NEG_INFINITY, 1.1],
        vec![5.0, 5.0, -3.0, 0.5, 0.25, 0.125],
    ];
    rigor_testkit::for_each_device(|device| {
        for norm in normalizers() {
            let a = rows(norm.apply(t2(&rows_in, device), -1).unwrap());
            let shifted: Vec<Vec<f32>> = rows_in
                .iter()
                .map(|r| r.iter().map(|z| z + 7.0).collect())
                .collect();
            let b = rows(norm.apply(t2(&shifted, device), -1).unwrap());
            for (ra, rb) in a.iter().zip(&b) {
                let s: f32 = ra.iter().sum();
                assert!((s - 1.0).abs() < 1e-5, "{norm}: {s}");
                for (x, y) in ra.iter().zip(rb) {
                    assert!((x - y).abs() < 1e-5, "{norm}: translation {x} vs {y}");
                }
            }
        }
    });
}
