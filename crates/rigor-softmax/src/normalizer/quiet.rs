//! Softmax1 ("quiet softmax", "off-by-one" attention; E. Miller, 2023):
//!
//! $$\operatorname{softmax}_1(z)_k = \frac{e^{z_k}}{1 + \sum_j e^{z_j}}$$
//!
//! An implicit extra logit fixed at 0 lets a head attend to "nothing": the weights sum to
//! $1 - 1/(1 + \sum_j e^{z_j}) < 1$. The reference is Burn's `quiet_softmax`, computed stably
//! with the shift $m = \max_j z_j$: $e^{z_k - m} / (e^{-m} + \sum_j e^{z_j - m})$; the fused Flex
//! kernel shifts by $\max(0, m)$.

use burn::tensor::Tensor;
use burn::tensor::activation::quiet_softmax;

use crate::error::Result;
use crate::normalizer::Normalizer;
use crate::validate::resolve_dim;

/// Softmax1 along a resolved `dim`: Burn's own [`quiet_softmax`] (the same op: shift by the
/// detached row maximum, a fully masked row's maximum replaced by 0 so its weights are
/// $e^{-\infty}/1 = 0$), with rigor's guard for rows of no items (Burn's `max_dim` panics on a
/// size-0 dim). Compared with a shift by $\max(0, \max_j z_j)$, a row whose maximum is below
/// about −88 gets weights 0 instead of values below `f32`'s smallest normal.
pub(crate) fn softmax1_resolved<const D: usize>(logits: Tensor<D>, dim: usize) -> Tensor<D> {
    if logits.dims()[dim] == 0 {
        return logits;
    }
    quiet_softmax(logits, dim)
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
