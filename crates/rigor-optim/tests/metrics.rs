//! Metric claims: hand-built values, invariances (proptest), continual-learning matrices,
//! pruning, and the Newton inverse root against the eigen oracle.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData, Tolerance};
use proptest::prelude::*;
use rigor_optim::linalg::host::{inverse_pth_root_eigen, to_host};
use rigor_optim::linalg::newton::{NewtonSettings, inverse_pth_root};
use rigor_optim::metrics::dormant::dormant_units;
use rigor_optim::metrics::pruning::{PruneScope, prune_global_magnitude, pruning_curve};
use rigor_optim::metrics::rank::{Spectrum, participation_ratio};
use rigor_optim::metrics::similarity::class_mean_cosine;
use rigor_optim::metrics::sparsity::{
    Threshold, hoyer_sparsity, hoyer_sparsity_host, near_zero_fraction,
};
use rigor_optim::{AccuracyMatrix, OptimError};
use rigor_testkit::for_each_device;

fn t2(rows: &[&[f32]], device: &Device) -> Tensor<2> {
    let flat: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), rows[0].len()]), device)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

// ---------------------------------------------------------------- Newton vs eigen oracle

#[test]
fn newton_inverse_root_matches_eigen_oracle() {
    // A = BᵀB + 0.1 I (SPD, condition ≈ 10²). Tolerance 1e-3 relative to ‖A^{-1/p}‖_max: f32.
    for_each_device(|device| {
        let b = t2(
            &[
                &[0.5, -1.0, 0.3, 0.8, 0.1],
                &[1.2, 0.4, -0.6, 0.0, 0.9],
                &[-0.3, 0.7, 1.1, -0.5, 0.2],
                &[0.6, 0.1, 0.2, 1.3, -0.8],
            ],
            device,
        );
        let a = b.clone().transpose().matmul(b);
        let ah = to_host(a.clone());
        // check_every = 1 is the per-iteration check; 7 does not divide max_iters = 100.
        for (p, check_every) in [1u32, 2, 4, 8]
            .into_iter()
            .flat_map(|p| [(p, 1), (p, 4), (p, 7)])
        {
            for eps in [0.1, 1e-3] {
                let settings = NewtonSettings {
                    check_every,
                    ..NewtonSettings::default()
                };
                let (root, report) = inverse_pth_root(a.clone(), p, eps, settings);
                assert!(report.iters <= settings.max_iters, "{report:?}");
                let oracle = inverse_pth_root_eigen(&ah, 5, p, eps);
                let scale = oracle.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                let got = to_host(root);
                let err = got
                    .iter()
                    .zip(&oracle)
                    .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
                assert!(
                    err <= 2e-3 * scale,
                    "p={p} eps={eps} check_every={check_every}: max err {err} (scale {scale}), newton {report:?}"
                );
            }
        }
        // A budget smaller than one block is respected.
        let short = NewtonSettings {
            max_iters: 2,
            check_every: 4,
            ..NewtonSettings::default()
        };
        let (_, report) = inverse_pth_root(a.clone(), 4, 1e-3, short);
        assert!(report.iters <= 2 && report.error.is_finite(), "{report:?}");
        // check_every = 0 is read as 1, not a loop that never advances.
        let zero = NewtonSettings {
            check_every: 0,
            ..NewtonSettings::default()
        };
        let (_, report) = inverse_pth_root(a.clone(), 2, 0.1, zero);
        assert!(report.iters > 0 && report.error < 1e-3, "{report:?}");
    });
}

// ---------------------------------------------------------------- sparsity

#[test]
fn sparsity_metrics_on_hand_built_tensors() {
    for_each_device(|device| {
        let w = Tensor::<1>::from_floats([0.0, 0.001, 0.5, -1.0], device);
        assert_eq!(
            near_zero_fraction(w.clone(), Threshold::Absolute(0.01)).unwrap(),
            0.5
        );
        assert_eq!(
            near_zero_fraction(w.clone(), Threshold::Relative(0.6)).unwrap(),
            0.75
        );
        assert!(near_zero_fraction(w, Threshold::Relative(1.5)).is_err());
        let one_hot = Tensor::<1>::from_floats([0.0, 3.0, 0.0, 0.0], device);
        assert!(close(hoyer_sparsity(one_hot).unwrap(), 1.0, 1e-12));
        let flat = Tensor::<1>::from_floats([2.0, -2.0, 2.0, 2.0], device);
        assert!(close(hoyer_sparsity(flat).unwrap(), 0.0, 1e-12));
        assert!(matches!(
            hoyer_sparsity(Tensor::<1>::zeros([3], device)),
            Err(OptimError::Undefined { .. })
        ));
        let nan = Tensor::<1>::from_floats([f32::NAN, 1.0], device);
        assert!(matches!(
            hoyer_sparsity(nan),
            Err(OptimError::NonFinite { count: 1, .. })
        ));
    });
}

// ---------------------------------------------------------------- rank

#[test]
fn rank_measures_on_hand_built_spectra() {
    for_each_device(|device| {
        let id = Spectrum::of(Tensor::eye(3, device)).unwrap();
        assert!(close(id.effective_rank(), 3.0, 1e-9));
        assert!(close(id.stable_rank(), 3.0, 1e-9));
        assert!(close(id.participation_ratio(), 3.0, 1e-9));
        let d = Spectrum::of(t2(&[&[2.0, 0.0], &[0.0, 1.0], &[0.0, 0.0]], device)).unwrap();
        assert!(close(d.stable_rank(), 1.25, 1e-9));
        // p = (2/3, 1/3): erank = exp(H).
        let h: f64 = -(2.0f64 / 3.0) * (2.0f64 / 3.0).ln() - (1.0f64 / 3.0) * (1.0f64 / 3.0).ln();
        assert!(close(d.effective_rank(), h.exp(), 1e-9));
        let s = Spectrum::from_singular_values(vec![10.0, 1.0, 0.01]).unwrap();
        assert_eq!(s.srank(0.01).unwrap(), 2);
        assert_eq!(s.srank(0.0).unwrap(), 3);
        assert!(s.srank(1.0).is_err());
        assert!(Spectrum::of(Tensor::zeros([2, 2], device)).is_err());
    });
}

#[test]
fn participation_ratio_of_isotropic_and_collapsed_features() {
    for_each_device(|device| {
        // Two orthogonal directions with equal variance → PR = 2.
        let iso = t2(
            &[&[1.0, 0.0], &[-1.0, 0.0], &[0.0, 1.0], &[0.0, -1.0]],
            device,
        );
        assert!(close(participation_ratio(iso).unwrap(), 2.0, 1e-9));
        // All samples on a line → PR = 1.
        let line = t2(&[&[1.0, 2.0], &[2.0, 4.0], &[-1.0, -2.0]], device);
        assert!(close(participation_ratio(line).unwrap(), 1.0, 1e-6));
    });
}

fn matrix_strategy() -> impl Strategy<Value = (usize, usize, Vec<f32>)> {
    (1usize..5, 1usize..5).prop_flat_map(|(m, n)| {
        (
            Just(m),
            Just(n),
            proptest::collection::vec(-10.0f32..10.0, m * n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn rank_measures_are_scale_invariant_and_bounded(
        (m, n, v) in matrix_strategy(),
        c in prop_oneof![0.01f32..100.0, -100.0f32..-0.01],
    ) {
        prop_assume!(v.iter().map(|x| x.abs()).sum::<f32>() > 1e-2);
        let device = Device::flex();
        let a = Tensor::<2>::from_data(TensorData::new(v.clone(), [m, n]), &device);
        let s = Spectrum::of(a.clone()).unwrap();
        let sc = Spectrum::of(a.mul_scalar(c)).unwrap();
        let rank = s.values().iter().filter(|&&x| x > 0.0).count() as f64;
        let (er, sr) = (s.effective_rank(), s.stable_rank());
        // Scale invariance (f32 inputs: relative 1e-4).
        prop_assert!((er - sc.effective_rank()).abs() <= 1e-4 * er);
        prop_assert!((sr - sc.stable_rank()).abs() <= 1e-4 * sr);
        // 1 ≤ erank ≤ rank, 1 ≤ stable rank ≤ rank.
        prop_assert!(er >= 1.0 - 1e-12 && er <= rank + 1e-9, "erank {} rank {}", er, rank);
        prop_assert!(sr >= 1.0 - 1e-12 && sr <= rank + 1e-9, "srank {} rank {}", sr, rank);
        prop_assert!(s.srank(0.01).unwrap() as f64 <= rank);
    }

    #[test]
    fn hoyer_sparsity_lies_in_unit_interval(v in proptest::collection::vec(-1e3f64..1e3, 2..40)) {
        prop_assume!(v.iter().any(|x| *x != 0.0));
        let h = hoyer_sparsity_host(&v).unwrap();
        prop_assert!((0.0..=1.0).contains(&h));
    }
}

// ---------------------------------------------------------------- units and classes

#[test]
fn dormant_units_follow_sokar_definition() {
    for_each_device(|device| {
        // E|h| = (0, 2, 1) → layer mean 1 → scores (0, 2, 1).
        let h = t2(&[&[0.0, 1.0, -1.0], &[0.0, 3.0, 1.0]], device);
        let r = dormant_units(h.clone(), 0.1).unwrap();
        assert_eq!(r.dormant, vec![true, false, false]);
        assert!(close(r.fraction, 1.0 / 3.0, 1e-12));
        assert!(close(r.scores[1], 2.0, 1e-12));
        assert_eq!(
            dormant_units(h, 1.0).unwrap().dormant,
            vec![true, false, true]
        );
    });
}

#[test]
fn cross_class_similarity_of_class_means() {
    for_each_device(|device| {
        let f = t2(
            &[&[1.0, 0.0], &[3.0, 0.0], &[0.0, 2.0], &[1.0, 1.0]],
            device,
        );
        let s = class_mean_cosine(f.clone(), &[0, 0, 1, 2]).unwrap();
        assert_eq!(s.classes, vec![0, 1, 2]);
        assert!(close(s.matrix[0][1], 0.0, 1e-12));
        assert!(close(s.matrix[0][2], 1.0 / 2f64.sqrt(), 1e-7));
        assert!(close(s.matrix[1][1], 1.0, 1e-12));
        let mean = (2.0 * (0.0 + 2.0 / 2f64.sqrt())) / 6.0;
        assert!(close(s.mean_off_diagonal, mean, 1e-7));
        assert!(matches!(
            class_mean_cosine(f, &[0, 1]),
            Err(OptimError::ShapeMismatch { .. })
        ));
    });
}

// ---------------------------------------------------------------- pruning

#[test]
fn global_magnitude_pruning_keeps_the_largest_weights() {
    for_each_device(|device| {
        let mut lin: Linear = LinearConfig::new(2, 2).init(device);
        lin.weight = Param::from_tensor(t2(&[&[1.0, -0.1], &[0.5, 0.01]], device));
        lin.bias = Some(Param::from_tensor(Tensor::from_floats(
            [0.001, 0.002],
            device,
        )));
        let (pruned, report) =
            prune_global_magnitude(lin.clone(), 0.5, PruneScope::Weights).unwrap();
        assert_eq!((report.total, report.kept), (4, 2));
        pruned.weight.val().to_data().assert_approx_eq::<f32>(
            &TensorData::new(vec![1.0f32, 0.0, 0.5, 0.0], [2, 2]),
            Tolerance::absolute(0.0),
        );
        // Biases are outside the `Weights` scope.
        assert_eq!(
            to_host(pruned.bias.unwrap().val()),
            vec![0.001f32 as f64, 0.002f32 as f64]
        );
        let (all, r) = prune_global_magnitude(lin.clone(), 0.5, PruneScope::All).unwrap();
        assert_eq!((r.total, r.kept), (6, 3));
        assert_eq!(to_host(all.bias.unwrap().val()), vec![0.0, 0.0]);
        let curve = pruning_curve(&lin, &[1.0, 0.25, 0.0], PruneScope::Weights, |m| {
            to_host(m.weight.val())
                .iter()
                .filter(|x| **x != 0.0)
                .count() as f64
        })
        .unwrap();
        let nonzeros: Vec<f64> = curve.iter().map(|p| p.score).collect();
        assert_eq!(nonzeros, vec![4.0, 1.0, 0.0]);
        assert!(prune_global_magnitude(lin, 1.5, PruneScope::All).is_err());
    });
}

// ---------------------------------------------------------------- continual learning

#[test]
fn continual_metrics_on_a_hand_built_matrix() {
    let r = AccuracyMatrix::new(vec![
        vec![0.9, 0.1, 0.2],
        vec![0.7, 0.8, 0.3],
        vec![0.6, 0.5, 0.95],
    ])
    .unwrap();
    assert!(close(r.acc(), (0.6 + 0.5 + 0.95) / 3.0, 1e-12));
    assert_eq!(r.get(1, 0), Some(0.7));
    assert_eq!(r.get(3, 0), None);
    assert_eq!(r.get(0, 3), None);
    assert!(close(r.bwt().unwrap(), -0.3, 1e-12));
    assert!(close(r.fwt(&[0.1, 0.1, 0.2]).unwrap(), 0.05, 1e-12));
    let f = r.forgetting_per_task().unwrap();
    assert!(close(f[0], 0.3, 1e-12) && close(f[1], 0.3, 1e-12));
    assert!(close(r.forgetting().unwrap(), 0.3, 1e-12));
    // No forgetting: a lower-triangular-constant matrix.
    let perfect = AccuracyMatrix::new(vec![vec![1.0, 0.0], vec![1.0, 1.0]]).unwrap();
    assert_eq!(perfect.bwt().unwrap(), 0.0);
    assert_eq!(perfect.forgetting().unwrap(), 0.0);
    // Bad input.
    assert!(AccuracyMatrix::new(vec![]).is_err());
    assert!(matches!(
        AccuracyMatrix::new(vec![vec![1.0, 0.0], vec![1.0]]),
        Err(OptimError::ShapeMismatch { .. })
    ));
    assert!(AccuracyMatrix::new(vec![vec![f64::NAN]]).is_err());
    assert!(AccuracyMatrix::new(vec![vec![1.0]]).unwrap().bwt().is_err());
    assert!(r.fwt(&[0.1]).is_err());
}
