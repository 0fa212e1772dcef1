//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong in `rigor-perplexity`.
///
/// Configurations are validated once, when they are built; the remaining runtime errors are
/// about the caller's tensors (shapes, target ids, non-finite logits), about asking for a
/// result that does not exist (no token was scored), and about device read-back.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PerplexityError {
    /// A named parameter was `NaN`, infinite, or outside its documented range.
    #[error("parameter `{name}` = {value} is invalid: {reason}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What the parameter must satisfy.
        reason: &'static str,
    },
    /// Two inputs that must agree in shape do not, or an input has an unusable shape.
    #[error("shape mismatch in {op}: {detail}")]
    ShapeMismatch {
        /// The operation that was called.
        op: &'static str,
        /// What did not match.
        detail: String,
    },
    /// A target id (that is not the ignore index and not masked) is outside `0..vocab`.
    #[error(
        "target id {id} at flat position {position} is out of range for a vocabulary of {vocab} (ignore index: {ignore_index:?})"
    )]
    TargetOutOfRange {
        /// The rejected id.
        id: i64,
        /// Its position in the flattened (and, with a label shift, shifted) target tensor.
        position: usize,
        /// The vocabulary size (last dim of the logits).
        vocab: usize,
        /// The configured ignore index, if any.
        ignore_index: Option<i64>,
    },
    /// A scored token's logits row contains `NaN` or `+∞` (or is entirely `−∞`), so its
    /// negative log-likelihood is undefined.
    #[error(
        "logits of scored token at flat position {position} are not finite (NaN or +inf): its NLL is {value}"
    )]
    NonFiniteLogits {
        /// Flat position of the first offending token.
        position: usize,
        /// The value its NLL computed to.
        value: f64,
    },
    /// A scored target has probability exactly 0 under its row: its logit is `−∞` while the
    /// row has a finite maximum (a masked-out vocabulary entry was scored). Its NLL is `+∞`, which
    /// would make every pooled perplexity `+∞` from then on, so the update is refused instead
    /// (the accumulator keeps what it had); mask or ignore such targets to score the rest.
    #[error(
        "the scored target at flat position {position} has logit -inf (probability 0, NLL +inf)"
    )]
    ZeroProbabilityTarget {
        /// Flat position of the first offending token.
        position: usize,
    },
    /// A pooled result was asked for, but no token has been scored (empty or fully masked
    /// input). Perplexity of zero tokens is undefined; it is never reported as `NaN`.
    #[error("no token has been scored (empty or fully masked input): {what} is undefined")]
    NoTokens {
        /// The quantity that was asked for.
        what: &'static str,
    },
    /// Two accumulators with different configurations cannot be merged.
    #[error("cannot merge accumulators with different configurations: {detail}")]
    ConfigMismatch {
        /// What differs.
        detail: String,
    },
    /// The sequence a search starts from does not satisfy the search's premise.
    #[error("premise not met: {detail}")]
    Premise {
        /// What failed.
        detail: String,
    },
    /// A search would exceed its configured candidate budget.
    #[error("search needs {needed} candidates but the budget is {budget}")]
    TooManyCandidates {
        /// Candidates the search would evaluate.
        needed: u128,
        /// The configured maximum.
        budget: usize,
    },
    /// A tensor could not be read back to the host (Burn's error is the source).
    #[error("reading a tensor back from the device failed: {0}")]
    Readback(#[source] ReadbackError),
    /// Writing a plot failed.
    #[error("plotting failed: {0}")]
    Plot(String),
    /// The [`CausalLm`](crate::CausalLm) being evaluated reported an error of its own (the
    /// model's error is kept as the [`source`](std::error::Error::source)).
    #[error("the model failed: {0}")]
    Model(#[source] ModelError),
}

/// A model's own error, carried by [`PerplexityError::Model`] with its source chain intact.
///
/// Shared (`Arc`) so that [`PerplexityError`] stays `Clone`; two `ModelError`s are equal when
/// their messages are.
#[derive(Debug, Clone)]
pub struct ModelError(std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>);

impl ModelError {
    /// Wraps any error.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(error))
    }

    /// The wrapped error.
    pub fn inner(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl core::fmt::Display for ModelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ModelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // Transparent: this wrapper displays Burn's error itself, so the chain continues
        // with that error's own source (no message printed twice).
        self.0.source()
    }
}

impl PartialEq for ModelError {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl PerplexityError {
    /// Wraps a model's own error as [`PerplexityError::Model`].
    pub fn model(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Model(ModelError::new(error))
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, PerplexityError>;

/// Checks that `value` is finite and returns [`PerplexityError::InvalidParameter`] otherwise.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(PerplexityError::InvalidParameter {
            name,
            value,
            reason: "must be finite",
        })
    }
}

/// Checks `lo <= value <= hi` (and finiteness).
pub(crate) fn in_closed(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    reason: &'static str,
) -> Result<f64> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(value)
    } else {
        Err(PerplexityError::InvalidParameter {
            name,
            value,
            reason,
        })
    }
}

/// Maps a read-back error.
pub(crate) fn readback(e: burn::tensor::TensorReadError) -> PerplexityError {
    e.into()
}

/// Burn's [`TensorReadError`](burn::tensor::TensorReadError), shared (`Arc`) so that
/// [`PerplexityError`] stays `Clone` and `PartialEq`; two are equal when their messages are. It
/// displays Burn's error; its [`source`](std::error::Error::source) is that error's own.
#[derive(Debug, Clone)]
pub struct ReadbackError(std::sync::Arc<burn::tensor::TensorReadError>);

impl From<burn::tensor::TensorReadError> for ReadbackError {
    fn from(e: burn::tensor::TensorReadError) -> Self {
        Self(std::sync::Arc::new(e))
    }
}

impl From<burn::tensor::TensorReadError> for PerplexityError {
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
        Some(&*self.0)
    }
}
