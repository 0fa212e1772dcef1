//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong in `rigor-rope`.
///
/// Configurations are validated once, in [`RopeConfig::init`](crate::RopeConfig::init), so
/// frequency math never fails afterwards; the remaining runtime errors are about the caller's
/// tensors (shapes, position ids) and about writing results to disk.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RopeError {
    /// The head dimension was zero or odd: RoPE rotates 2-D chunks.
    #[error("head_dim must be even and > 0 (RoPE rotates pairs of coordinates), got {head_dim}")]
    InvalidHeadDim {
        /// The rejected head dimension.
        head_dim: usize,
    },
    /// A named parameter was `NaN`, infinite or outside its documented range.
    #[error("parameter `{name}` = {value} is invalid: {reason}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What the parameter must satisfy.
        reason: &'static str,
    },
    /// The proportion `p` of p-RoPE was outside `[0, 1]`.
    #[error("p-RoPE proportion p must lie in [0, 1] (p = 0 is NoPE, p = 1 is RoPE), got {p}")]
    ProportionOutOfRange {
        /// The rejected proportion.
        p: f64,
    },
    /// A context-extension factor was below one (or not finite).
    #[error(
        "{variant} scaling factor must be finite and >= 1 (factor 1 is plain RoPE), got {factor}"
    )]
    FactorBelowOne {
        /// The scaling variant (`"linear"`, `"yarn"`, …).
        variant: &'static str,
        /// The rejected factor.
        factor: f64,
    },
    /// YaRN's `beta_fast` must be strictly greater than `beta_slow`.
    #[error(
        "YaRN needs beta_fast > beta_slow > 0 (defaults 32 and 1), got beta_fast = {beta_fast}, beta_slow = {beta_slow}"
    )]
    BetaOrder {
        /// Rotations that mark the fast (extrapolated) end of the ramp.
        beta_fast: f64,
        /// Rotations that mark the slow (interpolated) end of the ramp.
        beta_slow: f64,
    },
    /// Llama-3 scaling needs `high_freq_factor >= low_freq_factor > 0`.
    #[error(
        "Llama-3 scaling needs high_freq_factor >= low_freq_factor > 0, got low = {low}, high = {high}"
    )]
    FreqFactorOrder {
        /// `low_freq_factor`.
        low: f64,
        /// `high_freq_factor`.
        high: f64,
    },
    /// A LongRoPE factor list does not have one entry per rotated frequency.
    #[error("LongRoPE {which} list has {got} entries, expected rotary_dim / 2 = {expected}")]
    LongRopeFactorLength {
        /// `"short_factor"` or `"long_factor"`.
        which: &'static str,
        /// Length given.
        got: usize,
        /// Length required.
        expected: usize,
    },
    /// M-RoPE sections do not partition the frequency slots.
    #[error(
        "M-RoPE sections {sections:?} sum to {sum}, but there are rotary_dim / 2 = {expected} frequency slots"
    )]
    MropeSections {
        /// The sections given (temporal, height, width, …).
        sections: Vec<usize>,
        /// Their sum.
        sum: usize,
        /// The number of frequency slots.
        expected: usize,
    },
    /// GPT-NeoX partial rotary dims invalid.
    #[error("rotary_dims = {rotary_dims} is invalid for head_dim = {head_dim}: {reason}")]
    InvalidRotaryDims {
        /// The rejected number of rotated dimensions.
        rotary_dims: usize,
        /// The head dimension.
        head_dim: usize,
        /// What it must satisfy.
        reason: &'static str,
    },
    /// A combination of options this crate does not define.
    #[error("unsupported combination: {what}")]
    Unsupported {
        /// What was combined.
        what: String,
    },
    /// A tensor did not have the shape an op needs.
    #[error("shape mismatch in {op}: {detail}")]
    ShapeMismatch {
        /// The operation that was called.
        op: &'static str,
        /// What did not match.
        detail: String,
    },
    /// Position ids had the wrong shape for the tensor they position.
    #[error(
        "position ids have shape {got:?}, expected {expected:?} ([axes, batch, seq]; axes = {axes} for this config)"
    )]
    PositionIdsShape {
        /// The shape given.
        got: Vec<usize>,
        /// The shape required.
        expected: Vec<usize>,
        /// Number of position axes the config uses (1, 2 for axial, 3 for M-RoPE).
        axes: usize,
    },
    /// A position id was negative.
    #[error("position id {value} at flat index {index} is negative")]
    NegativePosition {
        /// The value.
        value: i64,
        /// Its flat index.
        index: usize,
    },
    /// xPos scales would leave the f32 range at this position.
    #[error(
        "xPos: position {position} is beyond {limit}, where zeta^(t/scale_base) leaves the f32 range; shift positions (only differences matter) or raise scale_base"
    )]
    XposOutOfRange {
        /// The largest position requested.
        position: usize,
        /// The largest position that stays in range.
        limit: usize,
    },
    /// A position beyond the largest one rotary tables are computed for (or an offset plus
    /// sequence length that overflows).
    #[error(
        "position {position} is beyond {limit}, the largest position RoPE angles are computed for (f64 angles lose f32 precision beyond it); shift positions (only differences matter)"
    )]
    PositionOutOfRange {
        /// The largest position requested (`usize::MAX` when offset + length overflows).
        position: usize,
        /// [`MAX_POSITION`](crate::MAX_POSITION).
        limit: usize,
    },
    /// A HuggingFace `config.json` field is missing, has the wrong type, is unknown, or
    /// contradicts another field ([`crate::hf`]).
    #[error("config.json field `{field}` = {value}: {reason}")]
    HfConfig {
        /// The field, as a path (`rope_scaling.factor`, `rope_parameters.full_attention.rope_type`).
        field: String,
        /// The value found (JSON text), or `missing`.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A tensor could not be read back to the host (Burn's error is the source).
    #[error("reading a tensor back from the device failed: {0}")]
    Readback(#[source] ReadbackError),
    /// Writing a file (JSON, SVG) failed.
    #[error("writing {path} failed: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, RopeError>;

/// Checks that `value` is finite and `> 0`.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(RopeError::InvalidParameter {
            name,
            value,
            reason: "must be finite and > 0",
        })
    }
}

/// Checks a context-extension factor: finite and `>= 1`.
pub(crate) fn factor_at_least_one(variant: &'static str, factor: f64) -> Result<f64> {
    if factor.is_finite() && factor >= 1.0 {
        Ok(factor)
    } else {
        Err(RopeError::FactorBelowOne { variant, factor })
    }
}

/// Burn's [`TensorReadError`](burn::tensor::TensorReadError), shared (`Arc`) so that
/// [`RopeError`] stays `Clone` and `PartialEq`; two are equal when their messages are. It
/// displays Burn's error; its [`source`](std::error::Error::source) is that error's own.
#[derive(Debug, Clone)]
pub struct ReadbackError(std::sync::Arc<burn::tensor::TensorReadError>);

impl From<burn::tensor::TensorReadError> for ReadbackError {
    fn from(e: burn::tensor::TensorReadError) -> Self {
        Self(std::sync::Arc::new(e))
    }
}

impl From<burn::tensor::TensorReadError> for RopeError {
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
