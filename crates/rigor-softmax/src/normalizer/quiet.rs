//! Softmax1 ("quiet softmax", "off-by-one" attention; E. Miller, 2023):
//!
//! $$\operatorname{softmax}_1(z)_k = \frac{e^{z_k}}{1 + \sum_j e^{z_j}}$$
//!
//! An implicit extra logit fixed at 0 lets a head attend to "nothing": the weights sum to
//! $1 - 1/(1 + \sum_j e^{z_j}) < 1$. Computed stably with the shift $m = \max(0, \max_j z_j)$:
//! $e^{z_k - m} / (e^{-m} + \sum_j e^{z_j - m})$.

use burn::tensor::Tensor;

use crate::error::Result;
use crate::normalizer::Normalizer;
use crate::normalizer::softmax::safe_row_max;
use crate::validate::resolve_dim;

/// Softmax1 along a resolved `dim`.
pub(crate) fn softmax1_resolved<const D: usize>(logits: Tensor<D>, dim: usize) -> Tensor<D> {
    // max(0, row max); a fully masked row has safe max 0, so its weights are exp(−∞)/1 = 0.
    let m = safe_row_max(&logits, dim).clamp_min(0.0);
    let e = (logits - m.clone()).exp();
    let denominator = e.clone().sum_dim(dim) + m.neg().exp();
    e / denominator
}

/// Softmax1 along `dim`: $e^{z_k} / (1 + \sum_j e^{z_j})$. Rows may sum to less than one.
///
/// Masked entries get weight 0; a fully masked row is all zeros; `NaN`/`+∞` rows are `NaN`.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`](crate::SoftmaxError::DimOutOfRange) if `dim` does not exist.
pub fn softmax1<const D: usize>(logits: Tensor<D>, dim: isize) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(Normalizer::Softmax1.apply_resolved(logits, dim))
}

/// [`softmax1`] through the composed reference ops only.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`](crate::SoftmaxError::DimOutOfRange) if `dim` does not exist.
pub fn softmax1_reference<const D: usize>(logits: Tensor<D>, dim: isize) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(softmax1_resolved(logits, dim))
}
