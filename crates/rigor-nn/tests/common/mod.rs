//! Helpers shared by this crate's integration tests.
#![allow(dead_code)]

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

/// Reads any float tensor back as `f32`s.
pub fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.try_into_vec_as::<f32>().expect("readback")
}

/// Max |a − b| over two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Asserts |a − b| ≤ tol element-wise.
pub fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    let d = max_abs_diff(a, b);
    assert!(d <= tol, "{what}: max |diff| = {d:.3e} > tol {tol:.1e}");
}

/// `[batch, seq]` token ids.
pub fn tokens(rows: &[Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let s = rows[0].len();
    let flat: Vec<i64> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), s]), device)
}

/// `[batch, seq]` padding mask (`true` = padded).
pub fn padding(rows: &[Vec<bool>], device: &Device) -> Tensor<2, Bool> {
    let s = rows[0].len();
    let flat: Vec<bool> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), s]), device)
}

/// A deterministic pseudo-random `[b, s, d]` tensor (no RNG state shared between devices).
pub fn input3(b: usize, s: usize, d: usize, seed: u64, device: &Device) -> Tensor<3> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let data: Vec<f32> = (0..b * s * d)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
        })
        .collect();
    Tensor::from_data(TensorData::new(data, [b, s, d]), device)
}
