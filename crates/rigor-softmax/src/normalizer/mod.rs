//! Normalizers: maps from logits to attention weights, one type to pick them by.
//!
//! | variant | formula | module |
//! |---|---|---|
//! | [`Normalizer::Softmax`] | $\operatorname{softmax}(e/\theta)$ | [`softmax`] |
//! | [`Normalizer::Adaptive`] | $\operatorname{softmax}(\beta(H)\\,e)$, *Softmax is not Enough* §4 | [`adaptive`] |
//! | [`Normalizer::Scalable`] | $\operatorname{softmax}((s\ln n)\\,e)$, SSMax | [`scalable`] |
//! | [`Normalizer::Sparsemax`] | $[e - \tau]_+$ | [`entmax`] |
//! | [`Normalizer::Entmax`] | $[(\alpha-1)e - \tau]_+^{1/(\alpha-1)}$ | [`entmax`] |
//! | [`Normalizer::Softmax1`] | $e^{e_k}/(1 + \sum_j e^{e_j})$ | [`quiet`] |
//!
//! On Flex (`f32`/`f64`) every variant runs a fused row kernel ([`crate::kernel`]);
//! [`Normalizer::apply_reference`] runs the composed ops it is tested against, which every
//! other backend runs too.
//!
//! Every variant treats `−∞` as a mask (weight exactly 0), gives an all-zero row for a fully
//! masked row, and turns a row holding `NaN`/`+∞` into `NaN` (see [`check_logits`] for an
//! explicit error). All are differentiable on an autodiff device.

pub mod adaptive;
pub mod asentmax;
pub mod entmax;
pub mod llama4;
pub mod quiet;
pub mod scalable;
pub mod sink;
pub mod softmax;
pub mod softpick;

use core::fmt;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::validate::{check_logits, resolve_dim};

use adaptive::{AdaptiveTemperature, AdaptiveTemperatureConfig};
use entmax::Entmax;
use scalable::ScalableSoftmax;
use softmax::Temperature;

/// A validated choice of normalizer. Build one with the constructors (which check their
/// parameters), then [`apply`](Normalizer::apply) it to any tensor on any device.
///
/// Serializes with serde (e.g. inside a model config); deserialization re-validates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Normalizer {
    /// Softmax with temperature θ.
    Softmax {
        /// θ > 0.
        temperature: Temperature,
    },
    /// Adaptive-temperature softmax (Veličković et al., ICML 2025, §4).
    Adaptive(AdaptiveTemperature),
    /// Scalable-Softmax with a fixed scale `s` (Nakanishi, 2025).
    Scalable {
        /// s > 0.
        s: ScalableSoftmax,
    },
    /// Sparsemax (α-entmax with α = 2).
    Sparsemax,
    /// α-entmax, α > 1.
    Entmax(Entmax),
    /// Softmax1 / quiet softmax: rows may sum to less than one.
    Softmax1,
    /// Softpick, the rectified softmax (Zuhri et al., 2025): $\operatorname{ReLU}(e^{x}-1) /
    /// \sum|e^{x}-1|$; exact zeros for $x \le 0$, rows sum to at most one
    /// ([`softpick`]). Composed ops on every backend.
    Softpick,
}

impl Default for Normalizer {
    /// Plain softmax.
    fn default() -> Self {
        Self::softmax()
    }
}

impl Normalizer {
    /// Plain softmax (θ = 1).
    pub fn softmax() -> Self {
        Self::Softmax {
            temperature: Temperature::ONE,
        }
    }

    /// Softmax with temperature θ.
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidTemperature`](crate::SoftmaxError::InvalidTemperature) unless θ
    /// is finite and `> 0`.
    pub fn softmax_with_temperature(theta: f64) -> Result<Self> {
        Ok(Self::Softmax {
            temperature: Temperature::new(theta)?,
        })
    }

    /// The paper's adaptive-temperature softmax.
    pub fn adaptive() -> Self {
        Self::Adaptive(AdaptiveTemperature::default())
    }

    /// Adaptive-temperature softmax with a custom rule (e.g. a refitted polynomial).
    ///
    /// # Errors
    /// As [`AdaptiveTemperatureConfig::init`].
    pub fn adaptive_with(config: AdaptiveTemperatureConfig) -> Result<Self> {
        Ok(Self::Adaptive(config.init()?))
    }

    /// Scalable-Softmax with scale `s`.
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidScale`](crate::SoftmaxError::InvalidScale) unless `s` is finite
    /// and `> 0`.
    pub fn scalable(s: f64) -> Result<Self> {
        Ok(Self::Scalable {
            s: ScalableSoftmax::new(s)?,
        })
    }

    /// Sparsemax.
    pub fn sparsemax() -> Self {
        Self::Sparsemax
    }

    /// α-entmax.
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidAlpha`](crate::SoftmaxError::InvalidAlpha) unless α is finite
    /// and `> 1`.
    pub fn entmax(alpha: f64) -> Result<Self> {
        Ok(Self::Entmax(Entmax::new(alpha)?))
    }

    /// Softmax1 (quiet softmax).
    pub fn softmax1() -> Self {
        Self::Softmax1
    }

    /// A short name for tables and plots, e.g. `softmax(θ=0.5)` or `entmax(α=1.5)`.
    pub fn name(&self) -> String {
        self.to_string()
    }

    /// `true` if every unmasked row of the output sums to one (all but softmax1).
    pub fn sums_to_one(&self) -> bool {
        !matches!(self, Self::Softmax1 | Self::Softpick)
    }

    /// `true` if the output can hold exact zeros for unmasked items (sparsemax, entmax,
    /// softpick).
    pub fn is_sparse(&self) -> bool {
        matches!(self, Self::Sparsemax | Self::Entmax(_) | Self::Softpick)
    }

    /// Softpick (rectified softmax, arXiv 2504.20966).
    pub fn softpick() -> Self {
        Self::Softpick
    }

    /// Normalizes `logits` along `dim` (negative counts from the end).
    ///
    /// # Errors
    /// [`SoftmaxError::DimOutOfRange`](crate::SoftmaxError::DimOutOfRange) if `dim` does not
    /// exist.
    pub fn apply<const D: usize>(&self, logits: Tensor<D>, dim: isize) -> Result<Tensor<D>> {
        let d = resolve_dim(dim, D)?;
        Ok(self.apply_resolved(logits, d))
    }

    /// As [`apply`](Normalizer::apply), but first checks on the host that `logits` holds only
    /// finite values and `−∞` masks (a device synchronisation).
    ///
    /// # Errors
    /// [`SoftmaxError::NonFiniteLogits`](crate::SoftmaxError::NonFiniteLogits) for `NaN`/`+∞`,
    /// or as [`apply`](Normalizer::apply).
    pub fn apply_checked<const D: usize>(
        &self,
        logits: Tensor<D>,
        dim: isize,
    ) -> Result<Tensor<D>> {
        let d = resolve_dim(dim, D)?;
        check_logits(&logits)?;
        Ok(self.apply_resolved(logits, d))
    }

    /// As [`apply`](Normalizer::apply), also returning the per-row inverse temperature $\beta$ that
    /// multiplied the logits (size-1 `dim`): $1/\theta$ for softmax, $\beta(H)$ for adaptive,
    /// $s\ln n$ for SSMax, and `None` for normalizers without one (sparsemax, entmax, softmax1).
    ///
    /// # Errors
    /// As [`apply`](Normalizer::apply).
    pub fn apply_with_beta<const D: usize>(
        &self,
        logits: Tensor<D>,
        dim: isize,
    ) -> Result<(Tensor<D>, Option<Tensor<D>>)> {
        let d = resolve_dim(dim, D)?;
        #[cfg(feature = "flex")]
        if crate::kernel::fused_available(&logits) && !matches!(self, Self::Softpick) {
            let (p, beta) = self.apply_fused(logits, d);
            // softmax1's β is the constant 1 of the kernel; the API reports none.
            let beta = if matches!(self, Self::Softmax1) {
                None
            } else {
                beta
            };
            return Ok((p, beta));
        }
        Ok(match self {
            Self::Softmax { temperature } => {
                let mut shape = logits.dims();
                shape[d] = 1;
                let beta = Tensor::full(shape, temperature.beta(), &logits.device());
                (self.apply_resolved(logits, d), Some(beta))
            }
            Self::Adaptive(rule) => {
                let (out, beta) = rule.apply_resolved(logits, d);
                (out, Some(beta))
            }
            Self::Scalable { s } => {
                let beta = scalable::log_n(&logits, d).mul_scalar(s.s());
                (self.apply_resolved(logits, d), Some(beta))
            }
            _ => (self.apply_resolved(logits, d), None),
        })
    }

    /// As [`apply`](Normalizer::apply) but always through the composed reference ops, never
    /// a fused kernel: the oracle the kernels are tested against, and what every backend
    /// without a kernel runs.
    ///
    /// # Errors
    /// As [`apply`](Normalizer::apply).
    pub fn apply_reference<const D: usize>(
        &self,
        logits: Tensor<D>,
        dim: isize,
    ) -> Result<Tensor<D>> {
        let d = resolve_dim(dim, D)?;
        Ok(self.apply_reference_resolved(logits, d))
    }

    pub(crate) fn apply_resolved<const D: usize>(
        &self,
        logits: Tensor<D>,
        dim: usize,
    ) -> Tensor<D> {
        #[cfg(feature = "flex")]
        if crate::kernel::fused_available(&logits) && !matches!(self, Self::Softpick) {
            return self.apply_fused(logits, dim).0;
        }
        self.apply_reference_resolved(logits, dim)
    }

    /// The fused kernel's weights and, for the softmax family, β per row.
    #[cfg(feature = "flex")]
    fn apply_fused<const D: usize>(
        &self,
        logits: Tensor<D>,
        dim: usize,
    ) -> (Tensor<D>, Option<Tensor<D>>) {
        use crate::kernel::{AdaptiveKind, RowKind, fused_entmax, fused_family};
        let kind = match self {
            Self::Softmax { temperature } => RowKind::Softmax(*temperature),
            Self::Adaptive(rule) => RowKind::Adaptive(AdaptiveKind::from(rule)),
            Self::Scalable { s } => RowKind::Scalable(*s),
            Self::Softmax1 => RowKind::Softmax1,
            Self::Sparsemax => return (fused_entmax(logits, dim, Entmax::sparsemax()), None),
            Self::Entmax(e) => return (fused_entmax(logits, dim, *e), None),
            Self::Softpick => return (softpick::softpick_resolved(logits, dim), None),
        };
        let (p, beta) = fused_family(logits, dim, kind);
        (p, Some(beta))
    }

    pub(crate) fn apply_reference_resolved<const D: usize>(
        &self,
        logits: Tensor<D>,
        dim: usize,
    ) -> Tensor<D> {
        if logits.shape().num_elements() == 0 {
            // Nothing to normalise (and Burn's max_dim panics on a size-0 dim).
            return logits;
        }
        match self {
            Self::Softmax { temperature } => {
                softmax::softmax_resolved(temperature.scale(logits, dim), dim)
            }
            Self::Adaptive(rule) => rule.apply_resolved(logits, dim).0,
            Self::Scalable { s } => scalable::scalable_softmax_resolved(logits, dim, *s),
            Self::Sparsemax => Entmax::sparsemax().apply_resolved(logits, dim),
            Self::Entmax(e) => e.apply_resolved(logits, dim),
            Self::Softmax1 => quiet::softmax1_resolved(logits, dim),
            Self::Softpick => softpick::softpick_resolved(logits, dim),
        }
    }
}

impl fmt::Display for Normalizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Softmax { temperature } if temperature.theta() == 1.0 => write!(f, "softmax"),
            Self::Softmax { temperature } => write!(f, "softmax(θ={})", temperature.theta()),
            Self::Adaptive(rule) if *rule == AdaptiveTemperature::default() => {
                write!(f, "adaptive-θ")
            }
            Self::Adaptive(_) => write!(f, "adaptive-θ(custom)"),
            Self::Scalable { s } => write!(f, "ssmax(s={})", s.s()),
            Self::Sparsemax => write!(f, "sparsemax"),
            Self::Entmax(e) => write!(f, "entmax(α={})", e.alpha()),
            Self::Softmax1 => write!(f, "softmax1"),
            Self::Softpick => write!(f, "softpick"),
        }
    }
}
