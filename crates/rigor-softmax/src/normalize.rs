//! [`Normalize`]: the open trait for attention normalizers — the map $\mathcal N$ from a
//! row of attention scores to weights in $\alpha_{i\cdot} = \mathcal N(e_{i\cdot})$.
//!
//! [`Normalizer`] (the serde enum of the built-in ones) implements it, and so does each
//! built-in's own type ([`Temperature`] for a tempered softmax, [`AdaptiveTemperature`],
//! [`ScalableSoftmax`], [`Entmax`]), so attention code written against `dyn Normalize` —
//! rigor-nn's `MultiHeadAttention::set_custom_normalizer` — takes them and a user's own:
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use rigor_softmax::{Normalize, Normalizer, Result, normalize_along};
//!
//! /// Softmax over the scores divided by a per-head temperature (a user's normalizer).
//! #[derive(Debug)]
//! struct PerHeadTemperature(Vec<f32>);
//!
//! impl Normalize for PerHeadTemperature {
//!     fn name(&self) -> String {
//!         "per-head-θ".into()
//!     }
//!     fn normalize(&self, scores: Tensor<4>) -> Result<Tensor<4>> {
//!         let h = self.0.len();
//!         let inv: Vec<f32> = self.0.iter().map(|t| 1.0 / t).collect();
//!         let inv = Tensor::<1>::from_floats(inv.as_slice(), &scores.device()).reshape([1, h, 1, 1]);
//!         Normalizer::softmax().apply(scores * inv, -1)
//!     }
//! }
//!
//! let scores = Tensor::<4>::zeros([1, 2, 3, 5], &Device::flex());
//! let w = PerHeadTemperature(vec![1.0, 2.0]).normalize(scores).unwrap();
//! assert_eq!(w.dims(), [1, 2, 3, 5]);
//! // Any rank and dim through the helper:
//! let x = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &Device::flex());
//! let w = normalize_along(&Normalizer::adaptive(), x, 0).unwrap();
//! assert_eq!(w.dims(), [2, 2]);
//! ```

use std::fmt::Debug;

use burn::tensor::Tensor;

use crate::error::Result;
use crate::normalizer::Normalizer;
use crate::normalizer::adaptive::AdaptiveTemperature;
use crate::normalizer::entmax::Entmax;
use crate::normalizer::scalable::ScalableSoftmax;
use crate::normalizer::softmax::Temperature;
use crate::validate::resolve_dim;

/// An attention normalizer: scores `[batch, heads, s_q, s_k]` → weights of the same shape,
/// along the last (key) dimension.
///
/// Implementors should follow rigor's conventions (what the built-ins do, and what
/// rigor-nn's attention relies on): a `−∞` score is a **masked** key and gets weight exactly
/// 0; a fully masked row gives all-zero weights (never `NaN`); `NaN`/`+∞` in a row make that
/// row `NaN` (never silently repaired); the map is differentiable where the method is, on
/// every backend (compose Burn tensor ops). The head axis (dim 1) is there for normalizers
/// that differ per head.
///
/// The trait is object safe: attention modules hold an `Arc<dyn Normalize>`. Parameters a
/// normalizer learns belong in the attention module (as Burn `Param`s), not here.
pub trait Normalize: Debug + Send + Sync {
    /// A short name for reports and tables (e.g. `"softmax"`, `"entmax(α=1.5)"`).
    fn name(&self) -> String;

    /// Weights from scores `[batch, heads, s_q, s_k]`, normalised along the last dimension.
    ///
    /// # Errors
    /// Whatever the normalizer refuses (the built-ins only fail on dims they cannot find).
    fn normalize(&self, scores: Tensor<4>) -> Result<Tensor<4>>;

    /// Whether the weights of a row with at least one unmasked key sum to one (softmax,
    /// entmax, …: yes; softmax1 and sink-style normalizers: at most one).
    fn sums_to_one(&self) -> bool {
        true
    }
}

/// Applies any [`Normalize`] along `dim` of a tensor of any rank: `dim` is moved last, the
/// other dims are folded into rows (`[1, 1, rows, n]`), and the result is laid back out.
/// An empty tensor is returned as is.
///
/// A per-head normalizer sees a single "head" here; use [`Normalize::normalize`] on
/// `[batch, heads, s_q, s_k]` scores when heads matter.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`](crate::SoftmaxError::DimOutOfRange) if `dim` does not exist;
/// the normalizer's own errors.
pub fn normalize_along<N: Normalize + ?Sized, const D: usize>(
    normalizer: &N,
    x: Tensor<D>,
    dim: isize,
) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    if x.shape().num_elements() == 0 {
        return Ok(x);
    }
    let last = D - 1;
    let moved = if dim == last {
        x
    } else {
        x.swap_dims(dim, last)
    };
    let dims = moved.dims();
    let n = dims[last];
    let rows = dims[..last].iter().product::<usize>();
    let w = normalizer.normalize(moved.reshape([1, 1, rows, n]))?;
    let w: Tensor<D> = w.reshape(dims);
    Ok(if dim == last {
        w
    } else {
        w.swap_dims(dim, last)
    })
}

impl Normalize for Normalizer {
    fn name(&self) -> String {
        Normalizer::name(self)
    }

    fn normalize(&self, scores: Tensor<4>) -> Result<Tensor<4>> {
        self.apply(scores, -1)
    }

    fn sums_to_one(&self) -> bool {
        Normalizer::sums_to_one(self)
    }
}

impl Normalize for Temperature {
    /// `softmax` or `softmax(θ=…)`.
    fn name(&self) -> String {
        Normalizer::Softmax { temperature: *self }.name()
    }

    /// $\operatorname{softmax}(e/\theta)$ (fused on Flex).
    fn normalize(&self, scores: Tensor<4>) -> Result<Tensor<4>> {
        Normalizer::Softmax { temperature: *self }.apply(scores, -1)
    }
}

impl Normalize for AdaptiveTemperature {
    /// `adaptive-θ`.
    fn name(&self) -> String {
        Normalizer::Adaptive(self.clone()).name()
    }

    /// Adaptive-temperature softmax (*Softmax is not Enough*, §4; fused on Flex).
    fn normalize(&self, scores: Tensor<4>) -> Result<Tensor<4>> {
        Normalizer::Adaptive(self.clone()).apply(scores, -1)
    }
}

impl Normalize for ScalableSoftmax {
    /// `ssmax(s=…)`.
    fn name(&self) -> String {
        Normalizer::Scalable { s: *self }.name()
    }

    /// $\operatorname{softmax}(s \ln n \cdot e)$ with $n$ the unmasked keys of the row
    /// (SSMax, arXiv 2501.19399; fused on Flex).
    fn normalize(&self, scores: Tensor<4>) -> Result<Tensor<4>> {
        Normalizer::Scalable { s: *self }.apply(scores, -1)
    }
}

impl Normalize for Entmax {
    /// `sparsemax` or `entmax(α=…)`.
    fn name(&self) -> String {
        Normalizer::Entmax(*self).name()
    }

    /// α-entmax (Peters et al., 2019; sparsemax at α = 2; exact threshold, fused on Flex).
    fn normalize(&self, scores: Tensor<4>) -> Result<Tensor<4>> {
        Normalizer::Entmax(*self).apply(scores, -1)
    }
}
