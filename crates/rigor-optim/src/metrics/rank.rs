//! Rank measures from the singular spectrum (S4: "effective rank exp(−Σ p_i ln p_i),
//! p_i = σ_i/Σσ; stable rank Σσ²/σ_max²").
//!
//! Compute the spectrum once with [`Spectrum::of`] (faer SVD on the host, f64), then
//! read any of the measures. All are invariant to scaling the matrix by `c ≠ 0`.

use burn::tensor::Tensor;

use crate::error::{OptimError, Result, check_param};
use crate::linalg::host::singular_values;
use crate::metrics::host_finite;

/// The singular values of a matrix, descending, not all zero.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    values: Vec<f64>,
}

impl Spectrum {
    /// Singular values of `a` (`m × n`; `min(m, n)` of them).
    ///
    /// Errors: non-finite entries, an empty or all-zero matrix.
    pub fn of(a: Tensor<2>) -> Result<Self> {
        let [m, n] = a.dims();
        let v = host_finite(a, "matrix")?;
        Self::from_singular_values(singular_values(&v, m, n))
    }

    /// From given singular values (any order; must be finite, ≥ 0, not all zero).
    pub fn from_singular_values(mut values: Vec<f64>) -> Result<Self> {
        if values.iter().any(|s| !s.is_finite() || *s < 0.0) {
            return Err(OptimError::Undefined {
                what: "spectrum",
                reason: "singular values must be finite and >= 0",
            });
        }
        if values.iter().all(|&s| s == 0.0) {
            return Err(OptimError::Undefined {
                what: "rank measures",
                reason: "the matrix is empty or zero",
            });
        }
        values.sort_by(|a, b| b.total_cmp(a));
        Ok(Self { values })
    }

    /// The singular values, descending.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Numerical rank: the number of singular values above `relative_tolerance · σ_max`
    /// (e.g. `1e-5` for matrices computed in f32).
    pub fn numerical_rank(&self, relative_tolerance: f64) -> usize {
        let cut = relative_tolerance * self.values[0];
        self.values.iter().filter(|&&s| s > cut).count()
    }

    /// Effective rank (Roy & Vetterli, *The effective rank: a measure of effective
    /// dimensionality*, EUSIPCO 2007): $\exp\bigl(-\sum_i p_i\ln p_i\bigr)$,
    /// $p_i = \sigma_i/\sum_j\sigma_j$ (with $0\ln 0 = 0$). $1 \le \text{erank} \le \text{rank}$.
    pub fn effective_rank(&self) -> f64 {
        let total: f64 = self.values.iter().sum();
        let h: f64 = self
            .values
            .iter()
            .filter(|&&s| s > 0.0)
            .map(|&s| {
                let p = s / total;
                -p * p.ln()
            })
            .sum();
        h.exp()
    }

    /// Stable rank $\lVert A\rVert_F^2/\lVert A\rVert_2^2 = \sum_i\sigma_i^2/\sigma_1^2$
    /// (Rudelson & Vershynin 2007). $1 \le \text{srank} \le \text{rank}$.
    pub fn stable_rank(&self) -> f64 {
        let s1 = self.values[0];
        self.values.iter().map(|s| (s / s1) * (s / s1)).sum()
    }

    /// $\operatorname{srank}\_\delta = \min\\{k : \sum_{i\le k}\sigma_i \ge (1-\delta)\sum_i\sigma_i\\}$
    /// (Kumar, Agarwal, Ghosh & Levine, *Implicit Under-Parameterization*, ICLR 2021; δ = 0.01
    /// there). Errors if δ ∉ [0, 1).
    pub fn srank(&self, delta: f64) -> Result<usize> {
        check_param(
            "delta",
            delta,
            (0.0..1.0).contains(&delta),
            "must be in [0, 1)",
        )?;
        let total: f64 = self.values.iter().sum();
        let target = (1.0 - delta) * total;
        let mut acc = 0.0;
        for (k, s) in self.values.iter().enumerate() {
            acc += s;
            // Relative slack for round-off in the running sum.
            if acc >= target * (1.0 - 1e-12) {
                return Ok(k + 1);
            }
        }
        Ok(self.values.len())
    }

    /// Participation ratio of the eigenvalues $\lambda_i = \sigma_i^2$:
    /// $(\sum_i\lambda_i)^2/\sum_i\lambda_i^2$ (Gao et al. 2017; Recanatesi et al. 2019).
    /// Apply it to **centred** features (see [`participation_ratio`]) for the dimensionality
    /// of a representation.
    pub fn participation_ratio(&self) -> f64 {
        let s2: f64 = self.values.iter().map(|s| s * s).sum();
        let s4: f64 = self.values.iter().map(|s| s.powi(4)).sum();
        s2 * s2 / s4
    }
}

/// [`Spectrum::effective_rank`] of `a`.
pub fn effective_rank(a: Tensor<2>) -> Result<f64> {
    Ok(Spectrum::of(a)?.effective_rank())
}

/// [`Spectrum::stable_rank`] of `a`.
pub fn stable_rank(a: Tensor<2>) -> Result<f64> {
    Ok(Spectrum::of(a)?.stable_rank())
}

/// [`Spectrum::srank`] of `a`.
pub fn srank(a: Tensor<2>, delta: f64) -> Result<usize> {
    Spectrum::of(a)?.srank(delta)
}

/// Participation ratio of a representation `features` (`[samples, units]`): the columns are
/// centred, then $\mathrm{PR} = (\sum\lambda)^2/\sum\lambda^2$ over the eigenvalues of the
/// covariance. Errors on fewer than 2 samples or constant features.
pub fn participation_ratio(features: Tensor<2>) -> Result<f64> {
    let [n, d] = features.dims();
    if n < 2 {
        return Err(OptimError::Undefined {
            what: "participation ratio",
            reason: "needs at least 2 samples",
        });
    }
    let mut v = host_finite(features, "features")?;
    for j in 0..d {
        let mean = (0..n).map(|i| v[i * d + j]).sum::<f64>() / n as f64;
        for i in 0..n {
            v[i * d + j] -= mean;
        }
    }
    Ok(Spectrum::from_singular_values(singular_values(&v, n, d))?.participation_ratio())
}
