//! Helpers shared by this crate's integration tests.
#![allow(dead_code)]

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

/// `[b, s, v]` logits from a flat row-major vector.
pub fn logits3(flat: &[f32], shape: [usize; 3], device: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(flat.to_vec(), shape), device)
}

/// `[n, v]` logits from rows.
pub fn logits2(rows: &[Vec<f32>], device: &Device) -> Tensor<2> {
    let v = rows.first().map_or(0, Vec::len);
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), v]), device)
}

/// Int tensor of any rank from a flat vector.
pub fn ids<const D: usize>(flat: &[i64], shape: [usize; D], device: &Device) -> Tensor<D, Int> {
    Tensor::from_data(TensorData::new(flat.to_vec(), shape), device)
}

/// Bool tensor of any rank from a flat vector.
pub fn mask<const D: usize>(flat: &[bool], shape: [usize; D], device: &Device) -> Tensor<D, Bool> {
    Tensor::from_data(TensorData::new(flat.to_vec(), shape), device)
}

/// The f64 oracle: −log softmax(row)[t], computed on the host.
pub fn nll_f64(row: &[f32], t: usize) -> f64 {
    let m = row
        .iter()
        .fold(f64::NEG_INFINITY, |a, &x| a.max(f64::from(x)));
    let s: f64 = row.iter().map(|&x| (f64::from(x) - m).exp()).sum();
    m + s.ln() - f64::from(row[t])
}

/// `|a − b| <= atol + rtol·|b|`, with a message.
pub fn assert_close(a: f64, b: f64, atol: f64, rtol: f64, what: &str) {
    assert!(
        (a - b).abs() <= atol + rtol * b.abs(),
        "{what}: got {a}, want {b} (|err| = {:.3e})",
        (a - b).abs()
    );
}
