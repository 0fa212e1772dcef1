//! Per-row diagnostics of a normalizer's output: how dispersed is each row?
//!
//! For weights $p$ of a row with logits $e$:
//! entropy $H = -\sum_k p_k \log p_k$ (nats, $0\log0 = 0$), max weight $\max_k p_k$,
//! effective support $e^{H}$ (the number of items a uniform row of the same entropy would
//! spread over), spread $\delta = \max e - \min e$ over unmasked items, number of unmasked items,
//! and the inverse temperature $\beta$ where the normalizer has one.

use burn::tensor::Tensor;
use serde::Serialize;

use crate::dispersion::bounds::spread_resolved;
use crate::error::{Result, SoftmaxError};
use crate::normalizer::Normalizer;
use crate::normalizer::softmax::entropy_from_logs;
use crate::validate::{resolve_dim, unmasked_count};

/// Per-row diagnostics; every tensor has the logits' shape with `dim` of size 1.
#[derive(Debug, Clone)]
pub struct RowDiagnostics<const D: usize> {
    /// The normalized weights themselves (full shape).
    pub weights: Tensor<D>,
    /// Entropy of the weights, nats.
    pub entropy: Tensor<D>,
    /// Largest weight.
    pub max_weight: Tensor<D>,
    /// $e^H$.
    pub effective_support: Tensor<D>,
    /// Spread of the unmasked logits.
    pub spread: Tensor<D>,
    /// Number of unmasked items.
    pub unmasked: Tensor<D>,
    /// β per row, for normalizers that scale the logits (softmax, adaptive, SSMax).
    pub beta: Option<Tensor<D>>,
}

/// Means over rows of [`RowDiagnostics`], read back to the host.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DiagnosticsSummary {
    /// Number of rows.
    pub rows: usize,
    /// Mean entropy (nats).
    pub mean_entropy: f64,
    /// Mean of the rows' largest weight.
    pub mean_max_weight: f64,
    /// Mean effective support $e^H$.
    pub mean_effective_support: f64,
    /// Mean spread of the logits.
    pub mean_spread: f64,
    /// Mean β, if the normalizer has one.
    pub mean_beta: Option<f64>,
}

/// Normalizes `logits` along `dim` with `normalizer` and measures each row.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn diagnose<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    normalizer: &Normalizer,
) -> Result<RowDiagnostics<D>> {
    let d = resolve_dim(dim, D)?;
    let (weights, beta) = normalizer.apply_with_beta(logits.clone(), dim)?;
    let log_w = weights.clone().log();
    let entropy = entropy_from_logs(weights.clone(), log_w, d);
    Ok(RowDiagnostics {
        max_weight: if weights.dims()[d] == 0 {
            // A row of no items: no weight (Burn's max_dim panics on a size-0 dim).
            entropy.clone()
        } else {
            weights.clone().max_dim(d)
        },
        effective_support: entropy.clone().exp(),
        entropy,
        spread: spread_resolved(logits.clone(), d),
        unmasked: unmasked_count(&logits, d),
        beta,
        weights,
    })
}

impl<const D: usize> RowDiagnostics<D> {
    /// Means over all rows, read back to the host (a device synchronisation).
    ///
    /// # Errors
    /// [`SoftmaxError::Readback`] if the device could not be read.
    pub fn summary(&self) -> Result<DiagnosticsSummary> {
        let mean = |t: &Tensor<D>| -> Result<f64> {
            t.clone()
                .mean()
                .try_into_scalar::<f32>()
                .map(f64::from)
                .map_err(SoftmaxError::from)
        };
        Ok(DiagnosticsSummary {
            rows: self.entropy.shape().num_elements(),
            mean_entropy: mean(&self.entropy)?,
            mean_max_weight: mean(&self.max_weight)?,
            mean_effective_support: mean(&self.effective_support)?,
            mean_spread: mean(&self.spread)?,
            mean_beta: self.beta.as_ref().map(mean).transpose()?,
        })
    }
}
