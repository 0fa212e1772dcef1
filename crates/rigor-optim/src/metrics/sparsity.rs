//! Sparsity of a weight tensor (S4: "sparsity (|w| ≤ τ, Hoyer)").

use burn::tensor::Tensor;

use crate::error::{OptimError, Result, check_param};
use crate::metrics::host_finite;

/// The cut-off under which a weight counts as zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// $|w| \le \tau$.
    Absolute(f64),
    /// $|w| \le \tau \cdot \max_i |w_i|$, $\tau \in [0, 1]$.
    Relative(f64),
}

/// Fraction of entries with $|w| \le \tau$ (absolute) or $|w| \le \tau \max|w|$ (relative).
///
/// Errors: τ negative / not finite (relative: > 1), an empty tensor, or non-finite entries.
pub fn near_zero_fraction<const D: usize>(w: Tensor<D>, threshold: Threshold) -> Result<f64> {
    let v = host_finite(w, "weights")?;
    near_zero_fraction_host(&v, threshold)
}

/// [`near_zero_fraction`] on host values.
pub fn near_zero_fraction_host(v: &[f64], threshold: Threshold) -> Result<f64> {
    if v.is_empty() {
        return Err(OptimError::Undefined {
            what: "near-zero fraction",
            reason: "the tensor is empty",
        });
    }
    let tau = match threshold {
        Threshold::Absolute(t) => {
            check_param("tau", t, t >= 0.0, "must be >= 0")?;
            t
        }
        Threshold::Relative(t) => {
            check_param("tau", t, (0.0..=1.0).contains(&t), "must be in [0, 1]")?;
            t * v.iter().fold(0.0_f64, |m, x| m.max(x.abs()))
        }
    };
    Ok(v.iter().filter(|x| x.abs() <= tau).count() as f64 / v.len() as f64)
}

/// Hoyer sparsity (Hoyer, *Non-negative Matrix Factorization with Sparseness Constraints*,
/// JMLR 2004):
///
/// $$ \operatorname{H}(w) = \frac{\sqrt n - \lVert w\rVert_1/\lVert w\rVert_2}{\sqrt n - 1} \in [0, 1], $$
///
/// 0 for a vector with all entries of equal magnitude, 1 for a single non-zero.
///
/// Errors: fewer than 2 entries, an all-zero tensor, or non-finite entries.
pub fn hoyer_sparsity<const D: usize>(w: Tensor<D>) -> Result<f64> {
    hoyer_sparsity_host(&host_finite(w, "weights")?)
}

/// [`hoyer_sparsity`] on host values.
pub fn hoyer_sparsity_host(v: &[f64]) -> Result<f64> {
    if v.len() < 2 {
        return Err(OptimError::Undefined {
            what: "Hoyer sparsity",
            reason: "needs at least 2 entries",
        });
    }
    let l1: f64 = v.iter().map(|x| x.abs()).sum();
    let l2: f64 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if l2 == 0.0 {
        return Err(OptimError::Undefined {
            what: "Hoyer sparsity",
            reason: "all entries are zero",
        });
    }
    let sn = (v.len() as f64).sqrt();
    Ok(((sn - l1 / l2) / (sn - 1.0)).clamp(0.0, 1.0))
}
