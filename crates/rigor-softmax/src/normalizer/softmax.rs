//! Softmax with temperature, its logarithm and its entropy, with first-class masks.
//!
//! $$\operatorname{softmax}_\theta(e)_k = \frac{\exp(e_k/\theta)}{\sum_j \exp(e_j/\theta)}$$
//!
//! *Softmax is not Enough* (Veličković et al., ICML 2025), §2, eq. (1).
//!
//! **Masks.** A `−∞` logit is a masked item: its weight is exactly `0`, its log-weight `−∞`, and
//! it contributes `0` to the entropy ($0 \log 0 = 0$). A row whose every entry is `−∞` (fully
//! masked) gives all-zero weights, all-`−∞` log-weights and zero entropy, never `NaN`.
//!
//! **NaN / +∞.** A row that contains `NaN` or `+∞` comes out as all `NaN` (it is never silently
//! repaired). Use [`check_logits`](crate::check_logits) to turn that into an error.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SoftmaxError};
use crate::normalizer::Normalizer;
use crate::validate::resolve_dim;

/// A softmax temperature θ: finite and strictly positive. The inverse temperature is β = 1/θ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Temperature(f64);

impl Temperature {
    /// θ = 1, the plain softmax.
    pub const ONE: Temperature = Temperature(1.0);

    /// A validated temperature.
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidTemperature`] unless `theta` is finite and `> 0`.
    pub fn new(theta: f64) -> Result<Self> {
        if theta.is_finite() && theta > 0.0 {
            Ok(Self(theta))
        } else {
            Err(SoftmaxError::InvalidTemperature { value: theta })
        }
    }

    /// The temperature θ.
    pub fn theta(self) -> f64 {
        self.0
    }

    /// The inverse temperature β = 1/θ.
    pub fn beta(self) -> f64 {
        1.0 / self.0
    }

    /// `(logits − max) / θ` along `dim`, skipping both when θ = 1 (so θ = 1 is bit-identical
    /// to no temperature). The detached row maximum is subtracted first so that a small θ
    /// cannot overflow huge-but-finite logits; every consumer is shift-invariant.
    pub(crate) fn scale<const D: usize>(self, logits: Tensor<D>, dim: usize) -> Tensor<D> {
        if self.0 == 1.0 {
            logits
        } else {
            let m = safe_row_max(&logits, dim);
            (logits - m).div_scalar(self.0)
        }
    }
}

impl Default for Temperature {
    fn default() -> Self {
        Self::ONE
    }
}

impl TryFrom<f64> for Temperature {
    type Error = SoftmaxError;
    fn try_from(value: f64) -> Result<Self> {
        Self::new(value)
    }
}

impl From<Temperature> for f64 {
    fn from(t: Temperature) -> f64 {
        t.0
    }
}

/// Row maxima along `dim` (detached: the softmax is invariant to the shift), with fully masked
/// rows' `−∞` maxima replaced by `0` so that `x − max` stays `−∞` instead of `NaN`.
pub(crate) fn safe_row_max<const D: usize>(z: &Tensor<D>, dim: usize) -> Tensor<D> {
    if z.dims()[dim] == 0 {
        // Rows of no items (Burn's max_dim panics on a size-0 dim): shift by 0.
        return crate::validate::reduced_zeros(z, dim);
    }
    let m = z.clone().detach().max_dim(dim);
    let fully_masked = m.clone().equal_elem(f32::NEG_INFINITY);
    m.mask_fill(fully_masked, 0.0)
}

/// Masked softmax along a resolved `dim` of already-scaled logits `z` (the reference path
/// every normalizer in this crate ends in).
pub(crate) fn softmax_resolved<const D: usize>(z: Tensor<D>, dim: usize) -> Tensor<D> {
    let m = safe_row_max(&z, dim);
    let e = (z - m).exp();
    let s = e.clone().sum_dim(dim);
    // s == 0 only for fully masked rows (the max entry contributes exp(0) = 1 otherwise).
    let s = s.clone().mask_fill(s.equal_elem(0.0), 1.0);
    e / s
}

/// Masked log-softmax along a resolved `dim` of already-scaled logits.
pub(crate) fn log_softmax_resolved<const D: usize>(z: Tensor<D>, dim: usize) -> Tensor<D> {
    let m = safe_row_max(&z, dim);
    let shifted = z - m;
    let s = shifted.clone().exp().sum_dim(dim);
    let s = s.clone().mask_fill(s.equal_elem(0.0), 1.0);
    shifted - s.log()
}

/// $-\sum_k p_k \log p_k$ given weights and their logs, with $0 \log 0 = 0$.
pub(crate) fn entropy_from_logs<const D: usize>(
    p: Tensor<D>,
    log_p: Tensor<D>,
    dim: usize,
) -> Tensor<D> {
    // Zero the logs *before* the product: (0 · −∞) would be NaN in the forward pass and, worse,
    // in the backward pass of the product even where the output is masked afterwards.
    let zero_weight = log_p.clone().equal_elem(f32::NEG_INFINITY);
    (p * log_p.mask_fill(zero_weight, 0.0)).sum_dim(dim).neg()
}

/// Softmax with temperature along `dim` (negative counts from the end):
/// $\operatorname{softmax}_\theta(e)_k = e^{e_k/\theta} / \sum_j e^{e_j/\theta}$.
///
/// Masked (`−∞`) entries get weight 0; fully masked rows are all zeros. Rows with `NaN`/`+∞`
/// are `NaN`. Differentiable on an autodiff device. Fused on Flex (see [`crate::kernel`]);
/// [`softmax_reference`] is the composed version.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
///
/// ```
/// # use burn::tensor::{Device, Tensor};
/// use rigor_softmax::{softmax, Temperature};
/// let x = Tensor::<2>::from_floats([[1.0, 2.0, f32::NEG_INFINITY]], &Device::flex());
/// let p = softmax(x, -1, Temperature::ONE).unwrap();
/// let v = p.try_into_vec_as::<f32>().unwrap();
/// assert!((v[0] + v[1] - 1.0).abs() < 1e-6 && v[2] == 0.0);
/// ```
pub fn softmax<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    temperature: Temperature,
) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(Normalizer::Softmax { temperature }.apply_resolved(logits, dim))
}

/// [`softmax`] through the composed reference ops only (never a fused kernel).
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn softmax_reference<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    temperature: Temperature,
) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(softmax_resolved(temperature.scale(logits, dim), dim))
}

/// Log-softmax with temperature along `dim`:
/// $\log\operatorname{softmax}_\theta(e)_k = e_k/\theta - \log\sum_j e^{e_j/\theta}$.
///
/// Log-weights below `−f32::MAX` (e.g. `−3e38` next to `3e38`) are `−∞` in `f32`.
/// Masked entries give `−∞`; a fully masked row is all `−∞` (the log of its all-zero weights),
/// never `NaN`.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn log_softmax<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    temperature: Temperature,
) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(log_softmax_resolved(temperature.scale(logits, dim), dim))
}

/// Shannon entropy in nats of $\operatorname{softmax}_\theta$ along `dim`, with
/// $0 \log 0 = 0$: $H = -\sum_k p_k \log p_k \in [0, \log n]$. The result keeps `dim` with
/// size 1. A fully masked row has entropy 0.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn entropy<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    temperature: Temperature,
) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    let log_p = log_softmax_resolved(temperature.scale(logits, dim), dim);
    let p = log_p.clone().exp();
    Ok(entropy_from_logs(p, log_p, dim))
}

/// Shannon entropy in nats of given weights along `dim` (any normalizer's output, including
/// sparse ones), with $0 \log 0 = 0$. The result keeps `dim` with size 1.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn weights_entropy<const D: usize>(weights: Tensor<D>, dim: isize) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    let log_p = weights.clone().log();
    Ok(entropy_from_logs(weights, log_p, dim))
}
