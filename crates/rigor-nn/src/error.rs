//! The crate's error type.

use rigor_rope::RopeError;
use rigor_softmax::SoftmaxError;
use thiserror::Error;

/// Everything that can go wrong in `rigor-nn`.
///
/// Configurations are validated once, when a config becomes a module (`init`), so a built
/// module never re-checks its hyper-parameters; the remaining runtime errors are about the
/// caller's tensors (a wrong width, a mask of the wrong shape, a sequence longer than the
/// learned position table, a cache from another batch) and about files.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum NnError {
    /// A size that must be positive was zero.
    #[error("`{name}` must be > 0")]
    ZeroSize {
        /// Which size.
        name: &'static str,
    },
    /// The model width is not a multiple of the number of heads.
    #[error("d_model = {d_model} is not divisible by n_heads = {n_heads}")]
    HeadsDoNotDivide {
        /// Model width.
        d_model: usize,
        /// Number of heads.
        n_heads: usize,
    },
    /// RoPE rotates pairs of coordinates, so the head dimension must be even.
    #[error(
        "RoPE needs an even head_dim, got head_dim = d_model / n_heads = {head_dim}; change d_model or n_heads, or drop RoPE"
    )]
    OddHeadDimWithRope {
        /// `d_model / n_heads`.
        head_dim: usize,
    },
    /// The RoPE configuration was built for another head dimension.
    #[error(
        "the RoPE config has head_dim = {rope_head_dim} but the attention's head_dim = d_model / n_heads = {head_dim}; use RopeConfig::new({head_dim})"
    )]
    RopeHeadDim {
        /// `RopeConfig::head_dim`.
        rope_head_dim: usize,
        /// `d_model / n_heads`.
        head_dim: usize,
    },
    /// A scalar hyper-parameter was out of its range.
    #[error("parameter `{name}` = {value} is invalid: {reason}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What the parameter must satisfy.
        reason: &'static str,
    },
    /// A tensor had the wrong shape for the operation.
    #[error("shape mismatch in {op}: {detail}")]
    ShapeMismatch {
        /// The operation that was called.
        op: &'static str,
        /// What did not match.
        detail: String,
    },
    /// A sequence (with the KV cache offset) is longer than the learned position table.
    #[error(
        "sequence reaches position {len} but the learned position table has max_seq_len = {max}"
    )]
    SequenceTooLong {
        /// Positions needed (cache offset + new tokens).
        len: usize,
        /// Size of the position table.
        max: usize,
    },
    /// A KV cache was built for another model (number of layers).
    #[error("the decoder cache holds {got} layers but the model has {expected}")]
    CacheLayers {
        /// Layers in the cache.
        got: usize,
        /// Layers in the model.
        expected: usize,
    },
    /// A parameter tensor handed to [`PretrainedDecoderConfig::init_from`](crate::model::pretrained::PretrainedDecoderConfig::init_from)
    /// was missing, of the wrong shape, or unreadable.
    #[error("weight `{name}`: {reason}")]
    Weight {
        /// The parameter's (HF-style) name, e.g. `model.layers.3.self_attn.q_proj.weight`.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// An error from the positional encoding.
    #[error("rope: {0}")]
    Rope(#[from] RopeError),
    /// An error from the normalizer.
    #[error("normalizer: {0}")]
    Softmax(#[from] SoftmaxError),
    /// Saving or loading a model or config failed.
    #[error("{op} `{path}` failed: {detail}")]
    Io {
        /// `"saving"` or `"loading"`.
        op: &'static str,
        /// The file.
        path: String,
        /// The underlying error.
        detail: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, NnError>;

/// `Err(ZeroSize)` if `value == 0`.
pub(crate) fn nonzero(name: &'static str, value: usize) -> Result<usize> {
    if value == 0 {
        Err(NnError::ZeroSize { name })
    } else {
        Ok(value)
    }
}

/// `Err(InvalidParameter)` unless `0 <= p < 1`.
pub(crate) fn probability(name: &'static str, p: f64) -> Result<f64> {
    if p.is_finite() && (0.0..1.0).contains(&p) {
        Ok(p)
    } else {
        Err(NnError::InvalidParameter {
            name,
            value: p,
            reason: "must be finite and in [0, 1)",
        })
    }
}

/// `Err(InvalidParameter)` unless finite and `> 0`.
pub(crate) fn positive(name: &'static str, v: f64) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(NnError::InvalidParameter {
            name,
            value: v,
            reason: "must be finite and > 0",
        })
    }
}

/// `Err(InvalidParameter)` unless finite.
pub(crate) fn finite(name: &'static str, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(NnError::InvalidParameter {
            name,
            value: v,
            reason: "must be finite",
        })
    }
}
