//! Every normalizer is differentiable: autodiff gradients against central finite differences
//! (computed in f64 from f32 forward passes). h = 1e-2 keeps f32 round-off (~1e-5) and the
//! O(h²) truncation (~1e-4) well under the tolerance of 2e-3 (absolute) + 1e-2 (relative).

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::host;
use rigor_softmax::*;
use rigor_testkit::for_each_autodiff_device;

const H: f32 = 1e-2;

fn t(row: &[f32], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(row.to_vec(), [1, row.len()]), device)
}

/// Σ g ⊙ f(x) evaluated without autodiff.
fn objective(norm: &Normalizer, row: &[f32], g: &[f32], device: &Device) -> f64 {
    let out = host(norm.apply(t(row, device), -1).unwrap());
    out.iter()
        .zip(g)
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum()
}

fn check_fd(norm: &Normalizer, row: &[f32], g: &[f32], device: &Device) {
    let x = t(row, device).require_grad();
    let loss = (norm.apply(x.clone(), -1).unwrap() * t(g, device)).sum();
    let grad = host(x.grad(&loss.backward()).unwrap());
    let plain = device.clone().without_autodiff();
    for i in 0..row.len() {
        if row[i] == f32::NEG_INFINITY {
            assert_eq!(grad[i], 0.0, "{norm}: masked entry gradient");
            continue;
        }
        let (mut up, mut down) = (row.to_vec(), row.to_vec());
        up[i] += H;
        down[i] -= H;
        let fd = (objective(norm, &up, g, &plain) - objective(norm, &down, g, &plain))
            / (2.0 * f64::from(H));
        let err = (f64::from(grad[i]) - fd).abs();
        assert!(
            err <= 2e-3 + 1e-2 * fd.abs(),
            "{norm}: d/dx[{i}] autodiff {} vs finite difference {fd}",
            grad[i]
        );
    }
}

const G: [f32; 7] = [0.7, -1.3, 0.25, 2.0, -0.5, 1.1, -0.9];

#[test]
fn softmax_family_gradients_match_finite_differences() {
    let rows: [[f32; 7]; 3] = [
        [0.3, -1.2, 2.5, 0.0, 1.1, -0.4, 0.9],
        [0.05, 0.0, -0.03, 0.02, 0.01, -0.04, 0.0], // near-uniform: β(H) > 1 and steep
        [
            1.0,
            f32::NEG_INFINITY,
            3.0,
            0.5,
            f32::NEG_INFINITY,
            -2.0,
            0.0,
        ],
    ];
    for_each_autodiff_device(|device| {
        for norm in [
            Normalizer::softmax(),
            Normalizer::softmax_with_temperature(0.7).unwrap(),
            Normalizer::adaptive(),
            Normalizer::adaptive_with(AdaptiveTemperatureConfig {
                detach_beta: true,
                ..Default::default()
            })
            .unwrap(),
            Normalizer::scalable(0.6).unwrap(),
            Normalizer::softmax1(),
        ] {
            for row in &rows {
                // A detached β is not the derivative of the function; it is checked below.
                if let Normalizer::Adaptive(rule) = &norm
                    && rule.detach_beta()
                {
                    continue;
                }
                check_fd(&norm, row, &G, device);
            }
        }
    });
}

#[test]
fn sparse_gradients_match_finite_differences_away_from_kinks() {
    // Logits chosen so that no entry is within 2h of the threshold τ for these α.
    let rows: [[f32; 7]; 2] = [
        [0.3, -1.2, 1.5, 0.0, 1.1, -0.4, 0.9],
        [
            1.0,
            f32::NEG_INFINITY,
            1.6,
            0.5,
            f32::NEG_INFINITY,
            -2.0,
            1.3,
        ],
    ];
    for_each_autodiff_device(|device| {
        for norm in [
            Normalizer::sparsemax(),
            Normalizer::entmax(1.5).unwrap(),
            Normalizer::entmax(2.5).unwrap(),
        ] {
            for row in &rows {
                check_fd(&norm, row, &G, device);
            }
        }
    });
}

#[test]
fn detached_beta_drops_only_the_path_through_the_entropy() {
    for_each_autodiff_device(|device| {
        // Not near-uniform: there ∇H ≈ 0 and the β path would vanish.
        let row = [1.0f32, 0.2, -0.5, 0.6, 0.0, -0.3, 0.4];
        let grad_of = |detach: bool| {
            let norm = Normalizer::adaptive_with(AdaptiveTemperatureConfig {
                detach_beta: detach,
                ..Default::default()
            })
            .unwrap();
            let x = t(&row, device).require_grad();
            let loss = (norm.apply(x.clone(), -1).unwrap() * t(&G, device)).sum();
            host(x.grad(&loss.backward()).unwrap())
        };
        let (full, detached) = (grad_of(false), grad_of(true));
        // With β held fixed the gradient is β · (softmax Jacobian at βx) g.
        let (_, beta) = adaptive_temperature_softmax_with_beta(
            t(&row, device),
            -1,
            &AdaptiveTemperature::default(),
        )
        .unwrap();
        let b = host(beta)[0];
        assert!(b > 1.5, "row sits in the β > 1 window: {b}");
        let x = t(&row, device).require_grad();
        let fixed = softmax(x.clone().mul_scalar(b), -1, Temperature::ONE).unwrap();
        let want = host(x.grad(&(fixed * t(&G, device)).sum().backward()).unwrap());
        for (a, w) in detached.iter().zip(&want) {
            assert!((a - w).abs() < 1e-5, "{detached:?} vs {want:?}");
        }
        assert!(
            full.iter()
                .zip(&detached)
                .any(|(a, b)| (a - b).abs() > 1e-3),
            "the β path must matter here"
        );
    });
}

#[test]
fn learned_ssmax_scale_gets_a_gradient() {
    for_each_autodiff_device(|device| {
        let row = [1.0f32, f32::NEG_INFINITY, 3.0, 0.5, -2.0];
        let g = [0.7f32, -1.3, 0.25, 2.0, -0.5];
        let s = Tensor::<2>::from_floats([[0.8]], device).require_grad();
        let out = scalable_softmax_learned(t(&row, device), -1, s.clone()).unwrap();
        let grad_s = host(s.grad(&(out * t(&g, device)).sum().backward()).unwrap())[0];
        let plain = device.clone().without_autodiff();
        let f = |sv: f64| {
            let norm = Normalizer::scalable(sv).unwrap();
            objective(&norm, &row, &g, &plain)
        };
        let fd = (f(0.8 + 1e-2) - f(0.8 - 1e-2)) / 2e-2;
        assert!(grad_s.is_finite(), "masked entries must not poison ∂/∂s");
        assert!(
            (f64::from(grad_s) - fd).abs() < 2e-3 + 1e-2 * fd.abs(),
            "{grad_s} vs {fd}"
        );
        let bad = scalable_softmax_learned(t(&row, device), -1, Tensor::<2>::ones([2, 1], device));
        assert!(matches!(bad, Err(SoftmaxError::ShapeMismatch { .. })));
    });
}
