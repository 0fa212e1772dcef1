//! Host-side (CPU, f64) dense linear algebra through [faer](https://docs.rs/faer).
//!
//! Burn 0.22 has no eigendecomposition or SVD, so the few places that need one copy the matrix
//! to the host: SOAP's eigenbasis refresh, the rank metrics, and the test oracle for the
//! on-device Newton inverse roots. Matrices are dense, row-major `&[f64]`. faer's solvers are
//! LAPACK-grade (a 512 × 512 symmetric eigendecomposition takes ~30 ms on 2 cores, where the
//! cyclic Jacobi this module used before needed seconds).

use burn::tensor::{Device, Tensor, TensorData};

/// The eigendecomposition `A = V diag(λ) Vᵀ` of a symmetric matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct SymmetricEigen {
    /// Eigenvalues, sorted in **descending** order.
    pub values: Vec<f64>,
    /// Eigenvectors as the **columns** of a row-major `n × n` matrix, in the order of
    /// [`values`](Self::values).
    pub vectors: Vec<f64>,
    /// The matrix size `n`.
    pub n: usize,
}

impl SymmetricEigen {
    /// `V diag(f(λ)) Vᵀ`: applies a scalar function to the spectrum (e.g. `λ ↦ (λ+ε)^{-1/p}`).
    pub fn map_spectrum(&self, f: impl Fn(f64) -> f64) -> Vec<f64> {
        let n = self.n;
        let fl: Vec<f64> = self.values.iter().map(|&l| f(l)).collect();
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                out[i * n + j] = fl
                    .iter()
                    .enumerate()
                    .map(|(k, f)| self.vectors[i * n + k] * f * self.vectors[j * n + k])
                    .sum();
            }
        }
        out
    }
}

/// Eigendecomposition of the symmetric `n × n` row-major matrix `a`, by faer's self-adjoint
/// eigensolver (Householder tridiagonalisation + divide and conquer, f64).
///
/// Only the symmetric part `(A + Aᵀ)/2` is used. Eigenvalues come back in descending order with
/// their eigenvectors as columns.
///
/// NaN / ±∞ in `a` (or a solver failure, which faer reports only for such input) gives NaN for
/// every value and vector entry — never a plausible-looking wrong basis. Callers that must
/// refuse such input check it first (the metrics do, through `host_finite`).
///
/// # Panics
/// If `a.len() != n * n`.
pub fn symmetric_eigen(a: &[f64], n: usize) -> SymmetricEigen {
    assert_eq!(
        a.len(),
        n * n,
        "symmetric_eigen: expected an {n}×{n} matrix"
    );
    let nan = || SymmetricEigen {
        values: vec![f64::NAN; n],
        vectors: vec![f64::NAN; n * n],
        n,
    };
    if a.iter().any(|x| !x.is_finite()) {
        return nan();
    }
    let m = faer::Mat::<f64>::from_fn(n, n, |i, j| 0.5 * (a[i * n + j] + a[j * n + i]));
    let Ok(eig) = m.self_adjoint_eigen(faer::Side::Lower) else {
        return nan();
    };
    // faer sorts ascending; reverse to descending.
    let (s, u) = (eig.S().column_vector(), eig.U());
    let values = (0..n).rev().map(|k| s[k]).collect();
    let mut vectors = vec![0.0; n * n];
    for (new, old) in (0..n).rev().enumerate() {
        for k in 0..n {
            vectors[k * n + new] = u[(k, old)];
        }
    }
    SymmetricEigen { values, vectors, n }
}

/// Singular values of the `m × n` row-major matrix `a`, in descending order
/// (`min(m, n)` of them), by faer's SVD (f64).
///
/// NaN / ±∞ in `a` (or a solver failure) gives `min(m, n)` NaNs, which
/// [`Spectrum::from_singular_values`](crate::metrics::rank::Spectrum::from_singular_values)
/// rejects.
///
/// # Panics
/// If `a.len() != m * n`.
pub fn singular_values(a: &[f64], m: usize, n: usize) -> Vec<f64> {
    assert_eq!(
        a.len(),
        m * n,
        "singular_values: expected an {m}×{n} matrix"
    );
    let k = m.min(n);
    if a.iter().any(|x| !x.is_finite()) {
        return vec![f64::NAN; k];
    }
    let mat = faer::Mat::<f64>::from_fn(m, n, |i, j| a[i * n + j]);
    match mat.singular_values() {
        Ok(mut s) => {
            s.sort_by(|x, y| y.total_cmp(x));
            s
        }
        Err(_) => vec![f64::NAN; k],
    }
}

/// `(A + εI)^{-1/p}` of a symmetric PSD matrix through [`symmetric_eigen`]: the oracle for
/// [`newton::inverse_pth_root`](super::newton::inverse_pth_root). Negative eigenvalues
/// (round-off) are clamped to 0 before adding `ε`.
pub fn inverse_pth_root_eigen(a: &[f64], n: usize, p: u32, epsilon: f64) -> Vec<f64> {
    let eig = symmetric_eigen(a, n);
    eig.map_spectrum(|l| (l.max(0.0) + epsilon).powf(-1.0 / p as f64))
}

/// Copies a tensor to the host as f64, row-major.
///
/// # Panics
/// If the device cannot read the tensor back (a backend failure, not a user error).
pub fn to_host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.try_into_vec_as::<f32>()
        .expect("reading a tensor back to the host failed")
        .into_iter()
        .map(f64::from)
        .collect()
}

/// Builds an `m × n` f32 tensor on `device` from row-major f64 values.
pub fn from_host(values: &[f64], m: usize, n: usize, device: &Device) -> Tensor<2> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(v, [m, n]), device)
}

/// The eigenvectors (columns, eigenvalues descending) of the symmetric matrix `a`, computed on
/// the host and returned on `a`'s device. SOAP's eigenbasis refresh.
pub fn eigenvectors_via_host(a: Tensor<2>) -> Tensor<2> {
    let device = a.device();
    let [n, n2] = a.dims();
    assert_eq!(n, n2, "eigenvectors_via_host: matrix must be square");
    let eig = symmetric_eigen(&to_host(a), n);
    from_host(&eig.vectors, n, n, &device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                out[i * n + j] = (0..n).map(|k| a[i * n + k] * b[k * n + j]).sum();
            }
        }
        out
    }

    #[test]
    fn jacobi_eigen_reconstructs_matrix() {
        let a = [4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0];
        let eig = symmetric_eigen(&a, 3);
        let back = eig.map_spectrum(|l| l);
        for (x, y) in a.iter().zip(&back) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
        assert!(eig.values.windows(2).all(|w| w[0] >= w[1]));
        // Vᵀ V = I
        let n = 3;
        let vt: Vec<f64> = (0..9).map(|i| eig.vectors[(i % n) * n + i / n]).collect();
        let id = matmul(&vt, &eig.vectors, n);
        for i in 0..n {
            for j in 0..n {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((id[i * n + j] - want).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn one_sided_jacobi_matches_known_singular_values() {
        // diag(3, 2) padded with a zero row, then rotated columns: σ = {3, 2}.
        let a = [3.0, 0.0, 0.0, 2.0, 0.0, 0.0];
        let s = singular_values(&a, 3, 2);
        assert!((s[0] - 3.0).abs() < 1e-12 && (s[1] - 2.0).abs() < 1e-12);
        // Wide matrix: [[1, 1]] has σ = √2.
        let s = singular_values(&[1.0, 1.0], 1, 2);
        assert_eq!(s.len(), 1);
        assert!((s[0] - 2f64.sqrt()).abs() < 1e-12);
    }
}
