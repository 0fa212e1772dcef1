//! Scalable-Softmax (SSMax), Nakanishi, arXiv 2501.19399 (2025), eq. (2):
//!
//! $$\operatorname{SSMax}(z)_k = \frac{n^{s z_k}}{\sum_j n^{s z_j}}
//!   = \operatorname{softmax}\bigl((s \ln n)\\, z\bigr)_k$$
//!
//! where `n` is the number of items the row attends over and `s` a (learnable, per-head) scale.
//! Here `n` counts the **unmasked** entries of each row, so padding and causal masks do not
//! inflate it. Multiplying by $s\ln n$ grows the logits' spread with $n$, which is exactly what
//! Lemma 2.1 of *Softmax is not Enough* says a fixed-temperature softmax lacks.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SoftmaxError};
use crate::normalizer::Normalizer;
use crate::normalizer::softmax::softmax_resolved;
use crate::validate::{resolve_dim, scale_keeping_masks, unmasked_count};

/// A validated SSMax scale `s` (finite, `> 0`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct ScalableSoftmax(f64);

impl ScalableSoftmax {
    /// SSMax with scale `s`.
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidScale`] unless `s` is finite and `> 0`.
    pub fn new(s: f64) -> Result<Self> {
        if s.is_finite() && s > 0.0 {
            Ok(Self(s))
        } else {
            Err(SoftmaxError::InvalidScale { value: s })
        }
    }

    /// The scale `s`.
    pub fn s(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for ScalableSoftmax {
    type Error = SoftmaxError;
    fn try_from(value: f64) -> Result<Self> {
        Self::new(value)
    }
}

impl From<ScalableSoftmax> for f64 {
    fn from(s: ScalableSoftmax) -> f64 {
        s.0
    }
}

/// $\ln n$ per row (size-1 `dim`), with `n` the unmasked count clamped to at least 1.
pub(crate) fn log_n<const D: usize>(logits: &Tensor<D>, dim: usize) -> Tensor<D> {
    unmasked_count(logits, dim).clamp_min(1.0).log()
}

/// SSMax with a fixed scale along `dim`: $\operatorname{softmax}((s \ln n) z)$, `n` = number
/// of unmasked entries of the row.
///
/// Masked entries get weight 0; fully masked rows are all zeros; `NaN`/`+∞` rows are `NaN`.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn scalable_softmax<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    scale: ScalableSoftmax,
) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(Normalizer::Scalable { s: scale }.apply_resolved(logits, dim))
}

/// [`scalable_softmax`] through the composed reference ops only.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn scalable_softmax_reference<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    scale: ScalableSoftmax,
) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(scalable_softmax_resolved(logits, dim, scale))
}

/// SSMax with a fixed scale along a resolved `dim`.
pub(crate) fn scalable_softmax_resolved<const D: usize>(
    logits: Tensor<D>,
    dim: usize,
    scale: ScalableSoftmax,
) -> Tensor<D> {
    let s = log_n(&logits, dim).mul_scalar(scale.0);
    softmax_resolved(scale_keeping_masks(logits, s, dim), dim)
}

/// SSMax with a learnable scale tensor `s` that broadcasts against the logits (e.g. shape
/// `[1, heads, 1, 1]` for per-head scales of `[batch, heads, query, key]` scores). Gradients
/// flow to both the logits and `s`.
///
/// `s` is not checked on the device (that would synchronise); keep it positive, e.g. by
/// storing `ln s` or passing it through `softplus`. A non-positive `s` flattens or inverts
/// the attention rather than failing.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist, [`SoftmaxError::ShapeMismatch`]
/// if `s` does not broadcast against `logits`.
pub fn scalable_softmax_learned<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    s: Tensor<D>,
) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    let ls = logits.dims();
    let ss = s.dims();
    if ls.iter().zip(ss.iter()).any(|(&l, &s)| s != 1 && s != l) {
        return Err(SoftmaxError::ShapeMismatch {
            op: "scalable_softmax_learned",
            detail: format!("scale {ss:?} does not broadcast against logits {ls:?}"),
        });
    }
    let scale = log_n(&logits, dim) * s;
    Ok(softmax_resolved(
        scale_keeping_masks(logits, scale, dim),
        dim,
    ))
}
