//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong in `rigor-softmax`.
///
/// Configurations are validated once, when they are built, so the tensor math itself never
/// fails; the remaining runtime errors are about the caller's tensors (a dimension that does
/// not exist, logits that contain `NaN`/`+∞` when checked) and about the host-side fitting
/// helpers.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SoftmaxError {
    /// A temperature θ was not a finite number greater than zero.
    #[error("temperature must be finite and > 0, got {value}")]
    InvalidTemperature {
        /// The rejected temperature.
        value: f64,
    },
    /// The α of α-entmax was not a finite number greater than one.
    #[error(
        "entmax alpha must be finite and > 1 (alpha = 1 is softmax: use Normalizer::softmax), got {value}"
    )]
    InvalidAlpha {
        /// The rejected α.
        value: f64,
    },
    /// The scale `s` of scalable softmax was not a finite number greater than zero.
    #[error("scalable-softmax scale s must be finite and > 0, got {value}")]
    InvalidScale {
        /// The rejected scale.
        value: f64,
    },
    /// A polynomial had no coefficients.
    #[error("polynomial must have at least one coefficient")]
    EmptyPolynomial,
    /// A named parameter was `NaN` or infinite, or outside its documented range.
    #[error("parameter `{name}` = {value} is invalid: {reason}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What the parameter must satisfy.
        reason: &'static str,
    },
    /// A dimension index does not exist for a tensor of this rank.
    #[error("dimension {dim} is out of range for a tensor of rank {rank} (valid: -{rank}..{rank})")]
    DimOutOfRange {
        /// The requested dimension (negative counts from the end).
        dim: isize,
        /// The tensor's rank.
        rank: usize,
    },
    /// Logits contained `NaN` or `+∞`, which no normalizer can give a meaning to.
    ///
    /// `−∞` is not an error: it marks a masked item.
    #[error(
        "logits contain {nan} NaN and {pos_inf} +inf entries (only finite values and -inf masks are allowed)"
    )]
    NonFiniteLogits {
        /// Number of `NaN` entries.
        nan: usize,
        /// Number of `+∞` entries.
        pos_inf: usize,
    },
    /// Two inputs that must agree in shape do not.
    #[error("shape mismatch in {op}: {detail}")]
    ShapeMismatch {
        /// The operation that was called.
        op: &'static str,
        /// What did not match.
        detail: String,
    },
    /// An index (a target item, a row) was out of range.
    #[error("{what} index {index} is out of range for length {len}")]
    IndexOutOfRange {
        /// What the index selects.
        what: &'static str,
        /// The rejected index.
        index: usize,
        /// The length it must be smaller than.
        len: usize,
    },
    /// The item that should win is masked or is not the strict maximum of its row, so no
    /// finite inverse temperature sharpens the row towards it.
    #[error(
        "target item {target} is not the unique maximum of its row (its logit {target_logit}, row max {row_max}); no beta >= 1 sharpens towards it"
    )]
    TargetNotArgmax {
        /// The target item.
        target: usize,
        /// Its logit.
        target_logit: f64,
        /// The largest logit of the row.
        row_max: f64,
    },
    /// A least-squares fit had too few distinct samples for the requested degree.
    #[error(
        "cannot fit a degree-{degree} polynomial to {samples} samples with {distinct} distinct x values (need at least {needed})"
    )]
    UnderdeterminedFit {
        /// Requested degree.
        degree: usize,
        /// Number of samples given.
        samples: usize,
        /// Number of distinct abscissae.
        distinct: usize,
        /// Minimum number of distinct abscissae.
        needed: usize,
    },
    /// A tensor could not be read back to the host (Burn's error is the source).
    #[error("reading a tensor back from the device failed: {0}")]
    Readback(#[source] ReadbackError),
}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, SoftmaxError>;

/// Checks that `value` is finite and returns a [`SoftmaxError::InvalidParameter`] otherwise.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(SoftmaxError::InvalidParameter {
            name,
            value,
            reason: "must be finite",
        })
    }
}

/// Burn's [`TensorReadError`](burn::tensor::TensorReadError), shared (`Arc`) so that
/// [`SoftmaxError`] stays `Clone` and `PartialEq`; two are equal when their messages are. It
/// displays Burn's error; its [`source`](std::error::Error::source) is that error's own.
#[derive(Debug, Clone)]
pub struct ReadbackError(std::sync::Arc<burn::tensor::TensorReadError>);

impl From<burn::tensor::TensorReadError> for ReadbackError {
    fn from(e: burn::tensor::TensorReadError) -> Self {
        Self(std::sync::Arc::new(e))
    }
}

impl From<burn::tensor::TensorReadError> for SoftmaxError {
    fn from(e: burn::tensor::TensorReadError) -> Self {
        Self::Readback(e.into())
    }
}

impl PartialEq for ReadbackError {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl core::fmt::Display for ReadbackError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ReadbackError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // Transparent: this wrapper displays Burn's error itself, so the chain continues
        // with that error's own source (no message printed twice).
        self.0.source()
    }
}
