//! Helpers shared by this crate's integration tests.
#![allow(dead_code)]

use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rigor_rope::Layout;

/// A seeded generator (rand's ChaCha8, the one the rest of rigor draws from) with Box–Muller
/// normals, so statistical tests are seeded and reproducible on every machine.
pub struct SeededRng(ChaCha8Rng);

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.random::<u64>()
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    pub fn normals(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.normal() as f32).collect()
    }
}

pub fn tensor4(v: Vec<f32>, shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(v, shape), device)
}

pub fn tensor2(v: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v, shape), device)
}

pub fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.try_into_vec_as::<f32>().expect("readback")
}

/// `|a − b| <= atol + rtol·|b|` element-wise, with a useful message.
pub fn assert_close(got: &[f32], want: &[f64], atol: f64, rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (f64::from(g) - w).abs();
        assert!(
            err <= atol + rtol * w.abs(),
            "{what}[{i}]: got {g}, want {w} (|err| = {err:.3e})"
        );
    }
}

pub fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// Independent f64 oracle: one head vector `x` (len `head_dim`) at position `t`, rotated
/// chunk by chunk with `inv_freq` (one per slot of the rotated width `inv_freq.len() * 2`),
/// scaled by `scale[slot]` (attention factor, xPos), tail untouched.
pub fn rotate_host(x: &[f64], t: f64, inv_freq: &[f64], scale: &[f64], layout: Layout) -> Vec<f64> {
    let r = inv_freq.len() * 2;
    let mut y = x.to_vec();
    for (k, &g) in inv_freq.iter().enumerate() {
        let (a, b) = layout.chunk_coords(k, r);
        let (s, c) = (t * g).sin_cos();
        y[a] = scale[k] * (c * x[a] - s * x[b]);
        y[b] = scale[k] * (s * x[a] + c * x[b]);
    }
    y
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}
