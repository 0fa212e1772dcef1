//! Host-side (CPU, f64) Jacobi solvers.
//!
//! Burn 0.22 has no eigendecomposition or SVD, so the few places that need one copy the matrix
//! to the host. Matrices are dense, row-major `&[f64]`. The solvers are the classic cyclic
//! Jacobi methods (Golub & Van Loan, *Matrix Computations*, §8.5 and §8.6.3): slow for large
//! matrices (`O(n³)` per sweep, typically 6–12 sweeps) but accurate to working precision and
//! dependency-free, which is what a test oracle and a metric on a few hundred units need.

use burn::tensor::{Device, Tensor, TensorData};

/// Maximum number of Jacobi sweeps; convergence is quadratic, 12–15 sweeps is typical for
/// dense 512 × 512 matrices in f64.
const MAX_SWEEPS: usize = 60;

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

/// Eigendecomposition of the symmetric `n × n` row-major matrix `a` by cyclic Jacobi rotations.
///
/// Only the symmetric part `(A + Aᵀ)/2` is used. Eigenvalues come back in descending order with
/// their eigenvectors as columns.
///
/// # Panics
/// If `a.len() != n * n`.
pub fn symmetric_eigen(a: &[f64], n: usize) -> SymmetricEigen {
    assert_eq!(
        a.len(),
        n * n,
        "symmetric_eigen: expected an {n}×{n} matrix"
    );
    let mut m: Vec<f64> = (0..n * n)
        .map(|idx| {
            let (i, j) = (idx / n, idx % n);
            0.5 * (a[i * n + j] + a[j * n + i])
        })
        .collect();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let total: f64 = m.iter().map(|x| x * x).sum();
    for _ in 0..MAX_SWEEPS {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum();
        if off <= 1e-30 * total || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in (p + 1)..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let app = m[p * n + p];
                let aqq = m[q * n + q];
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A ← A J (columns p, q), then A ← Jᵀ A (rows p, q); V ← V J.
                for k in 0..n {
                    let akp = m[k * n + p];
                    let akq = m[k * n + q];
                    m[k * n + p] = c * akp - s * akq;
                    m[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = m[p * n + k];
                    let aqk = m[q * n + k];
                    m[p * n + k] = c * apk - s * aqk;
                    m[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[j * n + j].total_cmp(&m[i * n + i]));
    let values = order.iter().map(|&i| m[i * n + i]).collect();
    let mut vectors = vec![0.0; n * n];
    for (new, &old) in order.iter().enumerate() {
        for k in 0..n {
            vectors[k * n + new] = v[k * n + old];
        }
    }
    SymmetricEigen { values, vectors, n }
}

/// Singular values of the `m × n` row-major matrix `a`, in descending order
/// (`min(m, n)` of them), by one-sided Jacobi (Hestenes) orthogonalisation of the columns.
///
/// # Panics
/// If `a.len() != m * n`.
pub fn singular_values(a: &[f64], m: usize, n: usize) -> Vec<f64> {
    assert_eq!(
        a.len(),
        m * n,
        "singular_values: expected an {m}×{n} matrix"
    );
    // Work on the orientation with fewer columns; store the columns contiguously.
    let (rows, cols): (usize, usize) = if n <= m { (m, n) } else { (n, m) };
    let mut c: Vec<Vec<f64>> = (0..cols)
        .map(|j| {
            (0..rows)
                .map(|i| if n <= m { a[i * n + j] } else { a[j * n + i] })
                .collect()
        })
        .collect();
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..cols {
            for q in (p + 1)..cols {
                let (alpha, beta, gamma) = {
                    let (cp, cq) = (&c[p], &c[q]);
                    let mut al = 0.0;
                    let mut be = 0.0;
                    let mut ga = 0.0;
                    for k in 0..rows {
                        al += cp[k] * cp[k];
                        be += cq[k] * cq[k];
                        ga += cp[k] * cq[k];
                    }
                    (al, be, ga)
                };
                if gamma == 0.0 || gamma.abs() <= 1e-15 * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let t = if zeta == 0.0 { 1.0 } else { t };
                let cs = 1.0 / (1.0 + t * t).sqrt();
                let sn = cs * t;
                let (left, right) = c.split_at_mut(q);
                let (cp, cq) = (&mut left[p], &mut right[0]);
                for k in 0..rows {
                    let x = cp[k];
                    let y = cq[k];
                    cp[k] = cs * x - sn * y;
                    cq[k] = sn * x + cs * y;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let mut s: Vec<f64> = c
        .iter()
        .map(|col| col.iter().map(|x| x * x).sum::<f64>().sqrt())
        .collect();
    s.sort_by(|x, y| y.total_cmp(x));
    s
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
