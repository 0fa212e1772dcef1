//! Helpers shared by this crate's integration tests.
#![allow(dead_code)]

use burn::tensor::{Device, Tensor, TensorData};

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
