//! Helpers shared by this crate's integration tests.
#![allow(dead_code)]

use burn::tensor::{Device, Tensor, TensorData};
use rigor_softmax::Normalizer;

/// A `[rows, n]` tensor from row vectors.
pub fn tensor2(rows: &[Vec<f32>], device: &Device) -> Tensor<2> {
    let n = rows.first().map_or(0, Vec::len);
    let flat: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), n]), device)
}

/// Reads any tensor back as `f32`s.
pub fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.try_into_vec_as::<f32>().expect("readback")
}

/// Reads a `[rows, n]` tensor back as rows.
pub fn rows(t: Tensor<2>) -> Vec<Vec<f32>> {
    let [_, n] = t.dims();
    host(t).chunks(n.max(1)).map(<[f32]>::to_vec).collect()
}

/// Asserts `|a − b| <= tol` element-wise (`−∞` must match `−∞`), with a useful message.
pub fn assert_close(actual: &[f32], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        if e == f64::NEG_INFINITY {
            assert_eq!(a, f32::NEG_INFINITY, "{what}[{i}]: expected -inf, got {a}");
            continue;
        }
        let err = (f64::from(a) - e).abs();
        assert!(
            err <= tol,
            "{what}[{i}]: got {a}, expected {e} (|err| = {err:.3e} > tol {tol:.1e})"
        );
    }
}

/// Softmax in f64 on the host, masks (−∞) skipped: the independent oracle for small tests.
pub fn softmax_f64(row: &[f32], theta: f64) -> Vec<f64> {
    let m = row
        .iter()
        .fold(f64::NEG_INFINITY, |a, &z| a.max(f64::from(z) / theta));
    if m == f64::NEG_INFINITY {
        return vec![0.0; row.len()];
    }
    let e: Vec<f64> = row
        .iter()
        .map(|&z| (f64::from(z) / theta - m).exp())
        .collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Shannon entropy (nats) of weights, 0 log 0 = 0.
pub fn entropy_f64(p: &[f64]) -> f64 {
    p.iter().filter(|&&v| v > 0.0).map(|&v| -v * v.ln()).sum()
}

/// Rows of numbers from golden JSON; `null` is −∞ (the golden files' mask).
pub fn json_matrix(v: &serde_json::Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().unwrap_or(f64::NEG_INFINITY))
                .collect()
        })
        .collect()
}

/// The softmax family in f64: softmax(β (x − max)) with the rule's β.
pub fn oracle(n: &Normalizer, row: &[f32]) -> Vec<f64> {
    let x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
    oracle64(n, &x)
}

/// [`oracle`] on `f64` logits.
pub fn oracle64(n: &Normalizer, x: &[f64]) -> Vec<f64> {
    if x.iter().any(|v| v.is_nan() || *v == f64::INFINITY) {
        return vec![f64::NAN; x.len()];
    }
    let unmasked = x.iter().filter(|v| **v > f64::NEG_INFINITY).count();
    if unmasked == 0 {
        return vec![0.0; x.len()];
    }
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let soft = |beta: f64| scaled_softmax64(x, beta);
    match n {
        Normalizer::Softmax { temperature } => soft(temperature.beta()),
        Normalizer::Scalable { s } => soft(s.s() * (unmasked as f64).ln()),
        Normalizer::Softmax1 => {
            let m1 = m.max(0.0);
            let e: Vec<f64> = x.iter().map(|&v| (v - m1).exp()).collect();
            let s: f64 = e.iter().sum::<f64>() + (-m1).exp();
            e.iter().map(|v| v / s).collect()
        }
        Normalizer::Adaptive(rule) => {
            let q = soft(1.0);
            let h: f64 = q
                .iter()
                .filter(|&&v| v > 0.0)
                .map(|&v| -v * (v + rule.entropy_epsilon()).ln())
                .sum();
            soft(rule.beta_for_entropy(h))
        }
        Normalizer::Sparsemax => entmax_oracle(x, 2.0),
        Normalizer::Entmax(e) => entmax_oracle(x, e.alpha()),
        Normalizer::Softpick => softpick_oracle(x),
    }
}

/// α-entmax in f64 by 200 bisection steps on τ (sparsemax's τ from the sorted row).
pub fn entmax_oracle(x: &[f64], alpha: f64) -> Vec<f64> {
    if x.iter().all(|v| *v == f64::NEG_INFINITY) {
        return vec![0.0; x.len()];
    }
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let d: Vec<f64> = x.iter().map(|&v| (alpha - 1.0) * (v - m)).collect();
    let p = 1.0 / (alpha - 1.0);
    let mass = |tau: f64| -> f64 {
        d.iter()
            .map(|&v| if v > tau { (v - tau).powf(p) } else { 0.0 })
            .sum()
    };
    let (mut lo, mut hi) = (-1.0, 0.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mass(mid) >= 1.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let w: Vec<f64> = d
        .iter()
        .map(|&v| if v > lo { (v - lo).powf(p) } else { 0.0 })
        .collect();
    let s: f64 = w.iter().sum();
    w.iter().map(|v| v / s).collect()
}

/// Softpick in f64 as the authors' reference computes it (shift m = max(0, max x), ε = 1e-8).
pub fn softpick_oracle(x: &[f64]) -> Vec<f64> {
    if x.iter().any(|v| v.is_nan() || *v == f64::INFINITY) {
        return vec![f64::NAN; x.len()];
    }
    let m = x.iter().copied().fold(0.0f64, f64::max);
    let u: Vec<f64> = x
        .iter()
        .map(|&v| {
            if v == f64::NEG_INFINITY {
                0.0
            } else {
                (v - m).exp_m1() - (-m).exp_m1()
            }
        })
        .collect();
    let s: f64 = u.iter().map(|v| v.abs()).sum::<f64>() + 1e-8;
    u.iter().map(|&v| v.max(0.0) / s).collect()
}

/// softmax(β (x − max)) in f64 for β ≥ 0 (β = 0: uniform over the unmasked entries), with
/// rigor's conventions: `−∞` entries get 0, a fully masked row is zeros, a row holding `NaN`
/// or `+∞` is `NaN`.
pub fn scaled_softmax64(x: &[f64], beta: f64) -> Vec<f64> {
    if x.iter().any(|v| v.is_nan() || *v == f64::INFINITY) {
        return vec![f64::NAN; x.len()];
    }
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return vec![0.0; x.len()];
    }
    let e: Vec<f64> = x
        .iter()
        .map(|&v| {
            if v == f64::NEG_INFINITY {
                0.0
            } else {
                (beta * (v - m)).exp()
            }
        })
        .collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}
