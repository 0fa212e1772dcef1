//! The fused Flex GELU against Burn's own (the composed reference, `gelu_reference`) run in
//! `f64` as the oracle: values and gradients on Flex and Flex-autodiff, random inputs across
//! the whole useful range, strided views, a shared input (never overwritten), the parallel
//! path, hostile values (NaN, ±∞, ±3e38, subnormals), empty tensors and f64 (reference).
#![cfg(feature = "flex")]

use burn::tensor::{DType, Device, Tensor, TensorData};
use proptest::prelude::*;
use rigor_nn::kernel::{fused_available, gelu, gelu_reference};

fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec().unwrap()
}

fn host64<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec().unwrap()
}

fn tensor2(v: &[f32], shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), device)
}

/// GELU and its derivative in f64 through Burn's reference ops (f64 Flex: `erf` in f64).
fn oracle(v: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let device = Device::flex().autodiff();
    let x = Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), &device)
        .cast(DType::F64)
        .detach()
        .require_grad();
    assert_eq!(x.dtype(), DType::F64);
    let y = gelu_reference(x.clone());
    let grads = y.clone().sum().backward();
    (host64(y), host64(x.grad(&grads).unwrap()))
}

/// |got − want| ≤ 3e-6·|want| + `abs` (values).
fn assert_values_within(got: &[f32], want: &[f64], abs: f64, what: &str) {
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (f64::from(g) - w).abs();
        assert!(
            err <= 3e-6 * w.abs() + abs,
            "{what}[{i}]: got {g:e}, want {w:e}"
        );
    }
}

/// The fused kernel's accuracy (module docs) with room: relative 3e-6, absolute 1e-13.
fn assert_values(got: &[f32], want: &[f64], what: &str) {
    assert_values_within(got, want, 1e-13, what)
}

fn assert_grads(got: &[f32], want: &[f64], what: &str) {
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (f64::from(g) - w).abs() <= 2e-6,
            "{what}[{i}]: got {g:e}, want {w:e}"
        );
    }
}

/// Uniform in [−scale, scale) from a seeded ChaCha8 stream (24 random bits each).
fn spread(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| ((rng.random::<u32>() >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0) * scale)
        .collect()
}

fn check(v: &[f32], shape: [usize; 2]) {
    let (want, want_grad) = oracle(v);
    for device in [Device::flex(), Device::flex().autodiff()] {
        let x = tensor2(v, shape, &device);
        assert!(fused_available(&x));
        assert_values(&host(gelu(x.clone())), &want, "fused");
        // Burn's f32 GELU forms 1 + erf(x/√2), which loses the lower tail's digits: it is
        // only absolutely accurate (and it is what the f64 oracle runs in f64).
        let reference = host(gelu_reference(x));
        assert_values_within(&reference, &want, 2e-6, "reference");
    }
    let device = Device::flex().autodiff();
    let x = tensor2(v, shape, &device).require_grad();
    let grads = gelu(x.clone()).sum().backward();
    assert_grads(&host(x.grad(&grads).unwrap()), &want_grad, "fused gradient");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn fused_gelu_matches_the_f64_reference(
        rows in 1usize..9, cols in 1usize..70, seed in any::<u64>(), scale in 0.01f32..14.0,
    ) {
        check(&spread(rows * cols, seed, scale), [rows, cols]);
    }
}

#[test]
fn parallel_path_and_a_non_uniform_cotangent() {
    // 3·2^15 elements: several rayon tasks.
    let (rows, cols) = (96, 1024);
    let v = spread(rows * cols, 7, 9.0);
    check(&v, [rows, cols]);
    let device = Device::flex().autodiff();
    let x = tensor2(&v, [rows, cols], &device).require_grad();
    let c = tensor2(&spread(rows * cols, 8, 1.0), [rows, cols], &device);
    let fused = x
        .grad(&(gelu(x.clone()) * c.clone()).sum().backward())
        .unwrap();
    let x2 = tensor2(&v, [rows, cols], &device).require_grad();
    let reference = x2
        .grad(&(gelu_reference(x2.clone()) * c).sum().backward())
        .unwrap();
    let (f, r) = (host(fused), host(reference));
    for (a, b) in f.iter().zip(&r) {
        assert!((a - b).abs() <= 2e-6, "{a} vs {b}");
    }
}

#[test]
fn strided_views_and_shared_inputs() {
    let device = Device::flex();
    let v = spread(6 * 40, 3, 5.0);
    let x = tensor2(&v, [6, 40], &device);
    // A transposed view: values equal the reference of the same view.
    let t = x.clone().swap_dims(0, 1);
    let (want, _) = oracle(&host(t.clone()));
    assert_values(&host(gelu(t)), &want, "transposed view");
    // A narrowed view (start offset > 0).
    let n = x.clone().narrow(0, 2, 3);
    let (want, _) = oracle(&host(n.clone()));
    assert_values(&host(gelu(n)), &want, "narrowed view");
    // `x` is still held here: the kernel must not write into it.
    let before = host(x.clone());
    let _ = gelu(x.clone());
    assert_eq!(host(x), before, "shared input untouched");
}

#[test]
fn hostile_values_follow_the_documented_limits() {
    let v = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        3e38,
        -3e38,
        1e30,
        -1e30,
        1e-40,
        -1e-40,
        0.0,
        -0.0,
        -14.0,
        14.0,
    ];
    let device = Device::flex().autodiff();
    let x = tensor2(&v, [1, v.len()], &device).require_grad();
    let y = gelu(x.clone());
    let g = host(x.grad(&y.clone().sum().backward()).unwrap());
    let y = host(y);
    assert!(y[0].is_nan() && g[0].is_nan(), "NaN stays NaN");
    assert_eq!((y[1], g[1]), (f32::INFINITY, 1.0), "+∞");
    assert_eq!((y[2], g[2]), (0.0, 0.0), "−∞");
    assert_eq!((y[3], g[3]), (3e38, 1.0), "3e38");
    assert_eq!((y[4], g[4]), (0.0, 0.0), "−3e38");
    assert_eq!((y[5], y[6]), (1e30, 0.0), "±1e30");
    assert!(
        (y[7] - 5e-41).abs() <= 1e-45 && (y[8] + 5e-41).abs() <= 1e-45,
        "subnormals"
    );
    assert_eq!((y[9], g[9]), (0.0, 0.5), "0");
    // Finite, non-NaN everywhere except the NaN input.
    assert!(y[1..].iter().all(|v| !v.is_nan()) && g[1..].iter().all(|v| v.is_finite()));
    let (want, want_grad) = oracle(&v[11..]);
    assert_values(&y[11..], &want, "±14");
    assert_grads(&g[11..], &want_grad, "±14 gradient");
}

#[test]
fn empty_tensors_and_other_dtypes() {
    let device = Device::flex();
    let e = Tensor::<2>::zeros([0, 5], &device);
    assert_eq!(gelu(e).dims(), [0, 5]);
    let ad = Tensor::<2>::zeros([3, 0], &device.clone().autodiff()).require_grad();
    assert_eq!(gelu(ad).dims(), [3, 0]);
    // f64 runs the reference (Burn's own GELU), bit for bit.
    let v: Vec<f64> = spread(30, 5, 4.0).iter().map(|&a| f64::from(a)).collect();
    let x = Tensor::<1>::from_data(TensorData::new(v, [30]), &device).cast(DType::F64);
    assert_eq!(x.dtype(), DType::F64);
    assert!(!fused_available(&x));
    assert_eq!(host64(gelu(x.clone())), host64(gelu_reference(x)));
}
