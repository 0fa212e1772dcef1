//! `softmax_with_sink` (gpt-oss's learnable attention sink): its limits (b → −∞ is softmax,
//! b = 0 is softmax1), an `f64` oracle on ordinary and hostile rows (masks, fully masked rows,
//! ±1e30, offset 1e6, per-row sinks), analytic gradients for the logits and the sink, NaN /
//! +∞ handling, and shape errors — on every device (gradients on every autodiff device).

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::host;
use rigor_softmax::{Normalizer, SoftmaxError, softmax_with_sink};
use rigor_testkit::{for_each_autodiff_device, for_each_device};

fn t2(rows: &[Vec<f32>], device: &Device) -> Tensor<2> {
    common::tensor2(rows, device)
}

fn col(v: &[f32], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len(), 1]), device)
}

/// `e^{z_k} / (e^b + Σ e^{z_j})` in f64, shifted by `max(b, max z)`.
fn oracle(row: &[f32], b: f64) -> Vec<f64> {
    let m = row.iter().map(|&v| f64::from(v)).fold(b, f64::max);
    let e: Vec<f64> = row.iter().map(|&v| (f64::from(v) - m).exp()).collect();
    let d: f64 = e.iter().sum::<f64>() + (b - m).exp();
    e.iter().map(|v| v / d).collect()
}

fn rows() -> Vec<Vec<f32>> {
    vec![
        vec![0.5, 2.0, -1.0, 0.0, 1.5],
        vec![1e30, 0.0, -1e30, 1e30, 3.0],
        vec![1e6 + 1.0, 1e6, 1e6 - 1.0, 1e6 - 0.5, 1e6 + 0.25],
        vec![f32::NEG_INFINITY, 2.0, f32::NEG_INFINITY, -3.0, 0.0],
        vec![f32::NEG_INFINITY; 5],
        vec![-3e38, -3e38, 1.0, 3e38, 0.0],
    ]
}

#[test]
fn limits_are_softmax_and_softmax1() {
    for_each_device(|device| {
        let x = t2(&rows()[..4], device);
        let minus = Tensor::<2>::full([1, 1], -1e30, device);
        let got = host(softmax_with_sink(x.clone(), -1, minus).unwrap());
        let want = host(Normalizer::softmax().apply(x.clone(), -1).unwrap());
        assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6));
        let zero = Tensor::<2>::zeros([1, 1], device);
        let got = host(softmax_with_sink(x.clone(), -1, zero).unwrap());
        let want = host(Normalizer::softmax1().apply(x, -1).unwrap());
        assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6));
    });
}

#[test]
fn hostile_rows_and_per_row_sinks_match_the_f64_oracle() {
    for_each_device(|device| {
        let rows = rows();
        let sinks = [0.0f32, 2.0, 1e6, -5.0, 1.5, 3e38];
        let got = host(softmax_with_sink(t2(&rows, device), 1, col(&sinks, device)).unwrap());
        for (i, (row, &b)) in rows.iter().zip(&sinks).enumerate() {
            let want = oracle(row, f64::from(b));
            for (k, w) in want.iter().enumerate() {
                let g = f64::from(got[i * 5 + k]);
                assert!((g - w).abs() <= 1e-6, "row {i}[{k}]: {g} vs {w}");
            }
        }
        // The fully masked row is all zeros (all mass on the sink), not NaN.
        assert!(got[20..25].iter().all(|&v| v == 0.0));
        // Along dim 0, with the sink broadcast over columns.
        let x = t2(&rows[..2], device);
        let a =
            host(softmax_with_sink(x.clone(), 0, Tensor::<2>::full([1, 5], 0.5, device)).unwrap());
        let b = host(
            softmax_with_sink(x.transpose(), 1, Tensor::<2>::full([5, 1], 0.5, device))
                .unwrap()
                .transpose(),
        );
        assert_eq!(a, b);
    });
}

#[test]
fn nan_and_infinite_inputs_make_their_row_nan() {
    let device = Device::flex();
    let x = t2(
        &[
            vec![f32::NAN, 1.0, 2.0],
            vec![f32::INFINITY, 1.0, 0.0],
            vec![1.0, 2.0, 3.0],
            vec![1.0, 2.0, 3.0],
        ],
        &device,
    );
    let sinks = col(&[0.0, 0.0, f32::NAN, f32::INFINITY], &device);
    let got = host(softmax_with_sink(x, -1, sinks).unwrap());
    assert!(got.iter().all(|v| v.is_nan()), "{got:?}");
}

#[test]
fn gradients_for_logits_and_sink_match_the_analytic_f64_ones() {
    for_each_autodiff_device(|device| {
        let rows = [
            vec![0.5f32, 2.0, -1.0, f32::NEG_INFINITY],
            vec![1e6 + 1.0, 1e6, 1e6 - 1.0, 1e6 - 0.5],
            vec![f32::NEG_INFINITY; 4],
        ];
        let sinks = [0.7f32, 1e6 + 0.5, -2.0];
        let c = [0.3f32, -1.0, 0.7, 0.2];
        let x = t2(&rows, device).require_grad();
        let b = col(&sinks, device).require_grad();
        let cot = Tensor::<2>::from_data(TensorData::new(c.repeat(3), [3, 4]), device);
        let grads = (softmax_with_sink(x.clone(), -1, b.clone()).unwrap() * cot)
            .sum()
            .backward();
        let gx = host(x.grad(&grads).unwrap());
        let gb = host(b.grad(&grads).unwrap());
        for (i, row) in rows.iter().enumerate() {
            let w = oracle(row, f64::from(sinks[i]));
            let cw: f64 = w.iter().zip(&c).map(|(a, b)| a * f64::from(*b)).sum();
            let p_sink = 1.0 - w.iter().sum::<f64>();
            for k in 0..4 {
                let want = w[k] * (f64::from(c[k]) - cw);
                assert!(
                    (f64::from(gx[i * 4 + k]) - want).abs() < 1e-5,
                    "dx row {i}[{k}]"
                );
            }
            let want_b = -p_sink * cw;
            assert!(
                (f64::from(gb[i]) - want_b).abs() < 1e-5,
                "db row {i}: {} vs {want_b}",
                gb[i]
            );
        }
    });
}

#[test]
fn bad_shapes_are_errors() {
    let device = Device::flex();
    let x = t2(&[vec![1.0, 2.0, 3.0]], &device);
    assert!(matches!(
        softmax_with_sink(x.clone(), -1, Tensor::<2>::zeros([1, 3], &device)),
        Err(SoftmaxError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        softmax_with_sink(x.clone(), -1, Tensor::<2>::zeros([2, 1], &device)),
        Err(SoftmaxError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        softmax_with_sink(x.clone(), 2, Tensor::<2>::zeros([1, 1], &device)),
        Err(SoftmaxError::DimOutOfRange { .. })
    ));
    let empty = Tensor::<2>::zeros([0, 3], &device);
    assert_eq!(
        softmax_with_sink(empty, -1, Tensor::<2>::zeros([1, 1], &device))
            .unwrap()
            .dims(),
        [0, 3]
    );
}
