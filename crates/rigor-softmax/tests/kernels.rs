//! The fused Flex kernels against the composed references (values and gradients, random
//! rows with masks, non-last dims, the parallel path) and against `f64` oracles on hostile
//! rows the references cannot handle (huge finite logits, large offsets).
#![cfg(feature = "flex")]

mod common;

use burn::tensor::{DType, Device, Tensor, TensorData};
use proptest::prelude::*;
use rigor_softmax::kernel::fused_available;
use rigor_softmax::{AdaptiveTemperatureConfig, Normalizer};

fn flex() -> Device {
    Device::flex()
}

fn all_normalizers() -> Vec<Normalizer> {
    vec![
        Normalizer::softmax(),
        Normalizer::softmax_with_temperature(0.5).unwrap(),
        Normalizer::softmax_with_temperature(3.0).unwrap(),
        Normalizer::adaptive(),
        Normalizer::adaptive_with(AdaptiveTemperatureConfig {
            detach_beta: true,
            ..Default::default()
        })
        .unwrap(),
        Normalizer::adaptive_with(AdaptiveTemperatureConfig {
            entropy_epsilon: 0.0,
            ..Default::default()
        })
        .unwrap(),
        Normalizer::scalable(0.4).unwrap(),
        Normalizer::scalable(2.0).unwrap(),
        Normalizer::softmax1(),
        Normalizer::sparsemax(),
        Normalizer::entmax(1.5).unwrap(),
        Normalizer::entmax(1.25).unwrap(),
        Normalizer::entmax(3.0).unwrap(),
    ]
}

/// Reference tolerance: the softmax family agrees to rounding; the references' entmax is a
/// 40-step `f32` bisection.
fn tolerance(n: &Normalizer) -> f32 {
    if n.is_sparse() { 2e-5 } else { 3e-6 }
}

fn matrix(rows: &[Vec<f32>]) -> Tensor<2> {
    common::tensor2(rows, &flex())
}

fn close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        if x.is_nan() || y.is_nan() {
            assert!(x.is_nan() && y.is_nan(), "{what}[{i}]: {x} vs {y}");
            continue;
        }
        let err = (x - y).abs();
        assert!(
            err <= tol * (1.0 + y.abs()),
            "{what}[{i}]: fused {x} vs {y} (|err| {err:e})"
        );
    }
}

/// Rows of logits in [−8, 8] with about one entry in six masked, sometimes a fully masked row.
fn rows_strategy() -> impl Strategy<Value = Vec<Vec<f32>>> {
    (1usize..5, 1usize..70).prop_flat_map(|(r, n)| {
        proptest::collection::vec(
            (
                proptest::collection::vec(
                    prop_oneof![5 => -8.0f32..8.0, 1 => Just(f32::NEG_INFINITY)],
                    n,
                ),
                0u8..12,
            )
                .prop_map(|(mut row, k)| {
                    if k == 0 {
                        row.fill(f32::NEG_INFINITY);
                    }
                    row
                }),
            r,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn fused_weights_equal_the_reference(rows in rows_strategy()) {
        let x = matrix(&rows);
        prop_assert!(fused_available(&x));
        for n in all_normalizers() {
            let fused = common::host(n.apply(x.clone(), -1).unwrap());
            let reference = common::host(n.apply_reference(x.clone(), -1).unwrap());
            if n.is_sparse() {
                // The reference's 40-step f32 bisection on unshifted logits is off by up to
                // 1e-2 near the support's edge at α = 3 (a weight (x − τ)^{1/2} amplifies the
                // error in τ); the kernel is compared with the f64 oracle instead, and both
                // must agree on which entries are exactly 0 up to the reference's resolution.
                let want: Vec<f32> = rows.iter().flat_map(|r| common::oracle(&n, r)).map(|v| v as f32).collect();
                close(&fused, &want, 2e-5, &n.name());
                // An entry the reference's τ (f32 bisection, resolution ≈ 4e-6 · (1 + (α−1) max x))
                // leaves out can carry a weight of up to that resolution to the power 1/(α−1).
                let alpha = match &n { Normalizer::Entmax(e) => e.alpha(), _ => 2.0 };
                for (row, (fr, rr)) in rows.iter().zip(fused.chunks(rows[0].len()).zip(reference.chunks(rows[0].len()))) {
                    let top = row.iter().copied().filter(|v| v.is_finite()).fold(0.0f32, |a, v| a.max(v.abs()));
                    let edge = (4e-6 * (1.0 + (alpha - 1.0) * f64::from(top))).powf(1.0 / (alpha - 1.0)).max(1e-4);
                    for (f, r) in fr.iter().zip(rr) {
                        if *r == 0.0 { prop_assert!(f64::from(*f) <= edge, "{}: {f} where the reference has 0 (edge {edge:e})", n.name()); }
                    }
                }
            } else {
                close(&fused, &reference, tolerance(&n), &n.name());
            }
        }
    }

    #[test]
    fn fused_gradients_equal_the_reference(rows in rows_strategy(), seed in 0u32..1000) {
        let device = flex().autodiff();
        let shape = [rows.len(), rows[0].len()];
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        // A fixed cotangent that varies across entries.
        let cot: Vec<f32> = (0..flat.len())
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32) / 500.0 - 1.0)
            .collect();
        let c = Tensor::<2>::from_data(TensorData::new(cot, shape), &device);
        for n in all_normalizers() {
            let grad = |fused: bool| {
                let x = Tensor::<2>::from_data(TensorData::new(flat.clone(), shape), &device).require_grad();
                let w = if fused { n.apply(x.clone(), -1) } else { n.apply_reference(x.clone(), -1) }.unwrap();
                let grads = (w * c.clone()).sum().backward();
                common::host(x.grad(&grads).expect("gradient"))
            };
            let (mut gf, mut gr) = (grad(true), grad(false));
            // For α > 2 the Jacobian holds p^(2−α), unbounded at the edge of the support: a
            // weight near 0 turns the reference's bisection error into an O(1) gradient
            // difference (the regression file keeps such a row, a weight of 7e-4). Rows with a
            // weight in (0, 0.05) on either path are compared on their weights only.
            if matches!(&n, Normalizer::Entmax(e) if e.alpha() > 2.0) {
                let weights = |fused: bool| {
                    let x = Tensor::<2>::from_data(TensorData::new(flat.clone(), shape), &device);
                    common::host(if fused { n.apply(x, -1) } else { n.apply_reference(x, -1) }.unwrap())
                };
                let (wf, wr) = (weights(true), weights(false));
                let edge = |w: &[f32]| w.iter().any(|&p| p > 0.0 && p < 0.05);
                for r in 0..shape[0] {
                    let span = r * shape[1]..(r + 1) * shape[1];
                    if edge(&wf[span.clone()]) || edge(&wr[span.clone()]) {
                        gf[span.clone()].fill(0.0);
                        gr[span].fill(0.0);
                    }
                }
            }
            // A masked entry's gradient is 0 on both paths.
            close(&gf, &gr, 20.0 * tolerance(&n), &format!("grad {}", n.name()));
        }
    }
}

#[test]
fn non_last_dims_and_the_parallel_path_match_the_reference() {
    let device = flex();
    device.seed(7);
    // [130, 300] rows: above the kernels' parallel threshold, several rayon tasks.
    let x = Tensor::<3>::random(
        [130, 5, 60],
        burn::tensor::Distribution::Normal(0.0, 3.0),
        &device,
    );
    for n in all_normalizers() {
        for dim in [0isize, 1, -1] {
            let fused = common::host(n.apply(x.clone(), dim).unwrap());
            let reference = common::host(n.apply_reference(x.clone(), dim).unwrap());
            if n.is_sparse() {
                // The references' entmax is a 40-step f32 bisection (see
                // `fused_weights_equal_the_reference`): compare each row with the oracle.
                let d = dim.rem_euclid(3) as usize;
                let rows_last = |t: Tensor<3>| common::host(t.swap_dims(d, 2));
                let len = x.dims()[d];
                let xs = rows_last(x.clone());
                let got = rows_last(n.apply(x.clone(), dim).unwrap());
                let want: Vec<f32> = xs
                    .chunks(len)
                    .flat_map(|r| common::oracle(&n, r))
                    .map(|v| v as f32)
                    .collect();
                close(&got, &want, 2e-5, &format!("{} dim {dim}", n.name()));
            } else {
                close(
                    &fused,
                    &reference,
                    tolerance(&n),
                    &format!("{} dim {dim}", n.name()),
                );
            }
        }
    }
}

#[test]
fn betas_are_the_references() {
    let rows = vec![
        vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
        vec![5.0, 0.0, 0.0, 0.0, 0.0, f32::NEG_INFINITY, 0.0, 0.0],
        vec![f32::NEG_INFINITY; 8],
        vec![1.0, 2.0, 3.0, 4.0, -1.0, -2.0, 0.0, 0.5],
    ];
    let x = matrix(&rows);
    for n in [
        Normalizer::adaptive(),
        Normalizer::scalable(0.7).unwrap(),
        Normalizer::softmax_with_temperature(0.25).unwrap(),
    ] {
        let (_, fused) = n.apply_with_beta(x.clone(), -1).unwrap();
        let fused = common::host(fused.unwrap());
        let d = resolve_reference_beta(&n, x.clone());
        close(&fused, &d, 1e-5, &format!("beta {}", n.name()));
    }
}

/// β from the reference path (adaptive through its public function on a reference call).
fn resolve_reference_beta(n: &Normalizer, x: Tensor<2>) -> Vec<f32> {
    match n {
        Normalizer::Adaptive(rule) => {
            // The reference's β: entropy of the reference softmax, through the host rule.
            let p =
                rigor_softmax::softmax_reference(x, -1, rigor_softmax::Temperature::ONE).unwrap();
            common::rows(p)
                .iter()
                .map(|row| {
                    let h: f64 = row
                        .iter()
                        .filter(|&&q| q > 0.0)
                        .map(|&q| -f64::from(q) * (f64::from(q) + 1e-9).ln())
                        .sum();
                    rule.beta_for_entropy(h) as f32
                })
                .collect()
        }
        Normalizer::Scalable { s } => common::rows(x)
            .iter()
            .map(|row| {
                let count = row
                    .iter()
                    .filter(|v| **v > f32::NEG_INFINITY)
                    .count()
                    .max(1);
                (s.s() * (count as f64).ln()) as f32
            })
            .collect(),
        Normalizer::Softmax { temperature } => vec![temperature.beta() as f32; 4],
        _ => unreachable!(),
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile rows against f64 oracles.

fn hostile_rows() -> Vec<Vec<f32>> {
    vec![
        vec![1e30, 0.0, -1e30, 1e30],
        vec![3e38, 3e38, -3e38, 1.0],
        vec![-3e38, -3e38, -3e38, -3e38],
        vec![1e6 + 1.0, 1e6, 1e6 - 1.0, 1e6 - 0.5],
        vec![f32::NEG_INFINITY, 2.0, f32::NEG_INFINITY, f32::NEG_INFINITY],
        vec![f32::NEG_INFINITY; 4],
        vec![f32::NAN, 1.0, 2.0, 3.0],
        // No entry above −∞, yet not a fully masked row: NaN, never zeros.
        vec![f32::NAN; 4],
        vec![
            f32::NAN,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
        ],
        vec![f32::INFINITY, 1.0, 2.0, f32::NEG_INFINITY],
        vec![0.0; 4],
        vec![-1e-30, 1e-30, 0.0, 5e-39],
    ]
}

#[test]
fn hostile_rows_match_the_f64_oracle() {
    let rows = hostile_rows();
    let x = matrix(&rows);
    // The fused kernels, and the softmax family's references (which shift by the row max
    // before scaling too); the references' entmax bisects unshifted logits and is not exact
    // at ±1e30.
    let paths = all_normalizers()
        .into_iter()
        .flat_map(|n| [(n.clone(), true), (n, false)])
        .filter(|(n, fused)| *fused || !n.is_sparse());
    for (n, fused) in paths {
        let out = if fused {
            n.apply(x.clone(), -1)
        } else {
            n.apply_reference(x.clone(), -1)
        };
        let got = common::rows(out.unwrap());
        for (i, (g, row)) in got.iter().zip(&rows).enumerate() {
            let want = common::oracle(&n, row);
            for (k, (&a, &b)) in g.iter().zip(&want).enumerate() {
                if b.is_nan() {
                    assert!(
                        a.is_nan(),
                        "{} (fused {fused}) row {i}[{k}]: {a}, expected NaN",
                        n.name()
                    );
                } else {
                    assert!(
                        (f64::from(a) - b).abs() <= 1e-6,
                        "{} (fused {fused}) row {i} {row:?}[{k}]: {a} vs {b}",
                        n.name()
                    );
                }
            }
        }
    }
}

#[test]
fn single_items_empty_rows_and_very_long_rows() {
    for n in all_normalizers() {
        let one = common::host(n.apply(matrix(&[vec![-4.0], vec![1e30]]), -1).unwrap());
        let want = if matches!(n, Normalizer::Softmax1) {
            vec![(1.0 / (1.0 + (4.0f64).exp())) as f32, 1.0]
        } else {
            vec![1.0, 1.0]
        };
        close(&one, &want, 1e-6, &format!("{} n = 1", n.name()));

        let empty = Tensor::<2>::zeros([3, 0], &flex());
        let out = n.apply(empty, -1).unwrap();
        assert_eq!(out.dims(), [3, 0], "{}", n.name());
    }
    // n = 65 536 in one row, against the oracle.
    let row: Vec<f32> = (0..65_536)
        .map(|i| ((i * 7919) % 1000) as f32 / 100.0 - 5.0)
        .collect();
    let x = matrix(std::slice::from_ref(&row));
    for n in all_normalizers() {
        let got = common::host(n.apply(x.clone(), -1).unwrap());
        let want = common::oracle(&n, &row);
        // Relative error, measured against at least 1e-3 of the largest weight (a sparse
        // weight at the support's edge is a small difference of large numbers).
        let top = want.iter().copied().fold(0.0f64, f64::max);
        let worst = got
            .iter()
            .zip(&want)
            .map(|(&a, &b)| (f64::from(a) - b).abs() / b.max(1e-3 * top))
            .fold(0.0f64, f64::max);
        // Relative error of each weight; zeros of the sparse ones compare as 0.
        let zeros_match = got
            .iter()
            .zip(&want)
            .all(|(&a, &b)| (b == 0.0) == (a == 0.0) || b < 1e-9);
        assert!(worst < 1e-4 && zeros_match, "{}: worst {worst:e}", n.name());
        let total: f64 = got.iter().map(|&v| f64::from(v)).sum();
        if n.sums_to_one() {
            assert!((total - 1.0).abs() < 1e-4, "{}: sum {total}", n.name());
        }
    }
}

#[test]
fn f64_rows_run_fused_and_exactly() {
    let device = flex();
    // Values an f32 holds exactly (the tensor is made in f32, then cast).
    let vals: Vec<f64> = (0..40)
        .map(|i| f64::from(((i as f64 * 0.37).sin() * 4.0) as f32))
        .collect();
    let x =
        Tensor::<2>::from_data(TensorData::new(vals.clone(), [4, 10]), &device).cast(DType::F64);
    assert_eq!(x.dtype(), DType::F64);
    assert!(fused_available(&x));
    for n in all_normalizers() {
        let got = n.apply(x.clone(), -1).unwrap();
        assert_eq!(got.dtype(), DType::F64);
        let got = got.try_into_vec_as::<f64>().unwrap();
        for (r, row) in vals.chunks(10).enumerate() {
            let want = common::oracle64(&n, row);
            for (k, (&a, &b)) in got[r * 10..r * 10 + 10].iter().zip(&want).enumerate() {
                let tol = if n.is_sparse() { 1e-9 } else { 1e-12 };
                assert!(
                    (a - b).abs() <= tol,
                    "{} row {r}[{k}]: {a} vs {b}",
                    n.name()
                );
            }
        }
    }
}

#[test]
fn sparse_outputs_are_distributions_with_exact_zeros() {
    let device = flex();
    device.seed(3);
    let x = Tensor::<2>::random(
        [64, 257],
        burn::tensor::Distribution::Normal(0.0, 2.0),
        &device,
    );
    for n in [
        Normalizer::sparsemax(),
        Normalizer::entmax(1.5).unwrap(),
        Normalizer::entmax(1.1).unwrap(),
        Normalizer::entmax(4.0).unwrap(),
    ] {
        for row in common::rows(n.apply(x.clone(), -1).unwrap()) {
            let total: f64 = row.iter().map(|&v| f64::from(v)).sum();
            assert!((total - 1.0).abs() < 1e-5, "{}: sum {total}", n.name());
            assert!(row.iter().all(|&v| v >= 0.0));
            assert!(
                row.contains(&0.0),
                "{}: a Normal(0, 2) row of 257 is sparse",
                n.name()
            );
        }
    }
}

#[test]
fn other_backends_and_dtypes_take_the_reference() {
    let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 2.0], [1, 2]), &flex());
    assert!(fused_available(&x));
    assert!(fused_available(
        &Tensor::<2>::ones([1, 2], &flex().autodiff()).require_grad()
    ));
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)]
    {
        let y = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 2.0], [1, 2]),
            &Device::ndarray(),
        );
        assert!(!fused_available(&y));
    }
}

#[test]
fn gradients_on_hostile_finite_rows_are_finite_and_zero_on_masks() {
    let device = flex().autodiff();
    let rows = [
        vec![3e38f32, -3e38, 1.0, f32::NEG_INFINITY],
        vec![1e6 + 1.0, 1e6, 1e6 - 1.0, f32::NEG_INFINITY],
        vec![1e30, 0.0, -1e30, f32::NEG_INFINITY],
        vec![f32::NEG_INFINITY; 4],
    ];
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    let cot = Tensor::<2>::from_data(
        TensorData::new([0.3f32, -1.0, 0.7, 0.2].repeat(4), [4, 4]),
        &device,
    );
    for n in all_normalizers() {
        let x =
            Tensor::<2>::from_data(TensorData::new(flat.clone(), [4, 4]), &device).require_grad();
        let grads = (n.apply(x.clone(), -1).unwrap() * cot.clone())
            .sum()
            .backward();
        let g = common::host(x.grad(&grads).expect("gradient"));
        for (k, (&gk, &xk)) in g.iter().zip(&flat).enumerate() {
            assert!(gk.is_finite(), "{}: gradient[{k}] = {gk}", n.name());
            if xk == f32::NEG_INFINITY {
                assert_eq!(gk, 0.0, "{}: a masked entry's gradient", n.name());
            }
        }
    }
}

#[test]
fn references_and_fused_paths_reject_a_missing_dim() {
    let x = matrix(&[vec![1.0, 2.0]]);
    for n in all_normalizers() {
        assert!(n.apply(x.clone(), 2).is_err(), "{}", n.name());
        assert!(n.apply_reference(x.clone(), -3).is_err(), "{}", n.name());
    }
    let t = rigor_softmax::Temperature::ONE;
    assert!(rigor_softmax::softmax_reference(x.clone(), 2, t).is_err());
    assert!(rigor_softmax::sparsemax_reference(x.clone(), 2).is_err());
    assert!(rigor_softmax::softmax1_reference(x.clone(), 2).is_err());
    assert!(
        rigor_softmax::adaptive_temperature_softmax_reference(x.clone(), 2, &Default::default())
            .is_err()
    );
    let s = rigor_softmax::ScalableSoftmax::new(1.0).unwrap();
    assert!(rigor_softmax::scalable_softmax_reference(x.clone(), 2, s).is_err());
    let e = rigor_softmax::Entmax::new(1.5).unwrap();
    assert!(rigor_softmax::entmax_reference(x, 2, e).is_err());
}

/// The vector–Jacobian product `∂⟨c, y(x)⟩/∂x` in `f64`, computed from the oracle's weights
/// with each normaliser's own derivative, written out independently of the kernels:
/// - softmax family, `y = softmax(β (x − max))` with β fixed (θ, SSMax's `s ln n`):
///   `β y ⊙ (c − ⟨c, y⟩)`; softmax1 is the same with `β = 1` and the `+1` in the sum;
/// - adaptive temperature adds the path through `β(H(q))`, `q = softmax(x − max)`:
///   `∂L/∂β = Σ cᵢ yᵢ (zᵢ − ⟨y, z⟩)`, `z = x − max`; `β'(H)` from the rule's polynomial
///   (0 below the threshold or where β clamps to 1); `∂H/∂x = q ⊙ (a − ⟨q, a⟩)` with
///   `aᵢ = −ln(qᵢ + ε) − qᵢ/(qᵢ + ε)` (unless `detach_beta`);
/// - α-entmax / sparsemax: `s ⊙ (c − ⟨s, c⟩ / Σs)` with `sᵢ = yᵢ^(2−α)` on the support.
fn oracle_vjp(n: &Normalizer, row: &[f32], c: &[f64]) -> Vec<f64> {
    let x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
    let y = common::oracle64(n, &x);
    let dot = |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(u, v)| u * v).sum() };
    let family = |beta: f64, y: &[f64]| -> Vec<f64> {
        let cy = dot(c, y);
        y.iter()
            .zip(c)
            .map(|(&yi, &ci)| beta * yi * (ci - cy))
            .collect()
    };
    let unmasked = x.iter().filter(|v| **v > f64::NEG_INFINITY).count();
    match n {
        Normalizer::Softmax { temperature } => family(temperature.beta(), &y),
        Normalizer::Scalable { s } => family(s.s() * (unmasked.max(1) as f64).ln(), &y),
        Normalizer::Softmax1 => family(1.0, &y),
        Normalizer::Adaptive(rule) => {
            let q = common::oracle64(&Normalizer::softmax(), &x);
            let eps = rule.entropy_epsilon();
            let h: f64 = q
                .iter()
                .filter(|&&v| v > 0.0)
                .map(|&v| -v * (v + eps).ln())
                .sum();
            let beta = rule.beta_for_entropy(h);
            let mut g = family(beta, &y);
            let slope =
                if rule.detach_beta() || h <= rule.threshold() || rule.polynomial().eval(h) < 1.0 {
                    0.0
                } else {
                    rule.polynomial().derivative().eval(h)
                };
            if slope != 0.0 {
                let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                // y z with 0 · (−∞) = 0 on masked entries.
                let yz: Vec<f64> = x
                    .iter()
                    .zip(&y)
                    .map(|(&v, &yi)| if yi == 0.0 { 0.0 } else { yi * (v - m) })
                    .collect();
                let y_dot_z: f64 = yz.iter().sum();
                let dl_dbeta: f64 = c
                    .iter()
                    .zip(&yz)
                    .zip(&y)
                    .map(|((&ci, &yzi), &yi)| ci * (yzi - yi * y_dot_z))
                    .sum();
                let a: Vec<f64> = q
                    .iter()
                    .map(|&v| {
                        if v == 0.0 {
                            0.0
                        } else {
                            -(v + eps).ln() - v / (v + eps)
                        }
                    })
                    .collect();
                let qa = dot(&q, &a);
                for ((gi, &qi), &ai) in g.iter_mut().zip(&q).zip(&a) {
                    *gi += dl_dbeta * slope * qi * (ai - qa);
                }
            }
            g
        }
        Normalizer::Sparsemax | Normalizer::Entmax(_) => {
            let alpha = match n {
                Normalizer::Entmax(e) => e.alpha(),
                _ => 2.0,
            };
            let s: Vec<f64> = y
                .iter()
                .map(|&v| if v > 0.0 { v.powf(2.0 - alpha) } else { 0.0 })
                .collect();
            let total: f64 = s.iter().sum();
            if total == 0.0 {
                return vec![0.0; y.len()];
            }
            let sc = dot(&s, c) / total;
            s.iter().zip(c).map(|(&si, &ci)| si * (ci - sc)).collect()
        }
        Normalizer::Softpick => unreachable!("softpick has no fused kernel (tests/softpick.rs)"),
    }
}

/// Hostile finite rows (huge spans, a large common offset, masks, a fully masked row) and an
/// ordinary one: the fused backward of every normaliser — and the softmax family's composed
/// references — equal the `f64` VJP above, not only "finite".
#[test]
fn gradients_on_hostile_rows_match_the_f64_oracle() {
    let device = flex().autodiff();
    let rows = [
        vec![3e38f32, -3e38, 1.0, f32::NEG_INFINITY],
        vec![1e6 + 1.0, 1e6, 1e6 - 1.0, f32::NEG_INFINITY],
        vec![1e6 + 0.5, 1e6 + 0.25, 1e6, 1e6 - 0.25],
        vec![1e30, 0.0, -1e30, 1e30],
        vec![-3e38, -3e38, -3e38, -3e38],
        vec![f32::NEG_INFINITY; 4],
        vec![0.0, 0.0, 0.0, f32::NEG_INFINITY],
        vec![1.5, -2.0, 0.25, 0.75],
    ];
    let (r, k) = (rows.len(), rows[0].len());
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    // A cotangent that differs across entries and rows (a constant one has zero VJP).
    let cot: Vec<f32> = (0..r * k)
        .map(|i| ((i * 37 % 11) as f32 - 5.0) / 4.0)
        .collect();
    let paths = all_normalizers()
        .into_iter()
        .flat_map(|n| [(n.clone(), true), (n, false)])
        .filter(|(n, fused)| *fused || !n.is_sparse());
    for (n, fused) in paths {
        let x =
            Tensor::<2>::from_data(TensorData::new(flat.clone(), [r, k]), &device).require_grad();
        let c = Tensor::<2>::from_data(TensorData::new(cot.clone(), [r, k]), &device);
        let y = if fused {
            n.apply(x.clone(), -1)
        } else {
            n.apply_reference(x.clone(), -1)
        };
        let grads = (y.unwrap() * c).sum().backward();
        let g = common::host(x.grad(&grads).expect("gradient"));
        for (i, row) in rows.iter().enumerate() {
            let c64: Vec<f64> = cot[i * k..(i + 1) * k]
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            let want = oracle_vjp(&n, row, &c64);
            let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (j, (&a, &b)) in g[i * k..(i + 1) * k].iter().zip(&want).enumerate() {
                assert!(
                    (f64::from(a) - b).abs() <= 2e-5 * scale,
                    "{} (fused {fused}) row {i} {row:?}[{j}]: gradient {a} vs f64 {b}",
                    n.name()
                );
                if row[j] == f32::NEG_INFINITY {
                    assert_eq!(a, 0.0, "{}: a masked entry's gradient", n.name());
                }
            }
        }
    }
}
