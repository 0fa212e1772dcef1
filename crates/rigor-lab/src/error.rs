//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in rigor-lab. Messages name the offending value and where it
/// came from, so a caller can fix the call without reading this crate.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A configuration value is out of its valid range.
    #[error("invalid {what}: {value} ({why})")]
    InvalidConfig {
        /// The field, e.g. `"TrainConfig::steps"`.
        what: &'static str,
        /// The offending value, rendered.
        value: String,
        /// What would be valid.
        why: &'static str,
    },
    /// The training loop was given a device without autodiff.
    #[error("training needs an autodiff device (`device.autodiff()`), got {device}")]
    NotAutodiff {
        /// The device, rendered with `Debug`.
        device: String,
    },
    /// The loss became `NaN` or infinite.
    #[error("loss is not finite ({loss}) at step {step}")]
    NonFiniteLoss {
        /// 1-based step at which it happened.
        step: usize,
        /// The value read back.
        loss: f32,
    },
    /// Reading a tensor back to the host failed.
    #[error("reading {what} back from the device failed: {source}")]
    Readback {
        /// Which tensor.
        what: &'static str,
        /// Burn's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Saving or loading a Burn record (checkpoint) failed.
    #[error("checkpoint {}: {source}", .path.display())]
    Checkpoint {
        /// The `.bpk` file.
        path: PathBuf,
        /// Burn's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A file or folder could not be written or read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// JSON (de)serialisation failed.
    #[error("results.json: {0}")]
    Json(#[from] serde_json::Error),
    /// Drawing a figure failed.
    #[error("plot {}: {message}", .path.display())]
    Plot {
        /// The SVG file.
        path: PathBuf,
        /// The plotters message.
        message: String,
    },
    /// A text corpus that cannot be used (empty, not UTF-8, shorter than one context).
    #[error("corpus {origin}: {why}")]
    Corpus {
        /// Its path, or `"kjv"` for the committed corpus.
        origin: String,
        /// What is wrong with it.
        why: String,
    },
    /// A data set file that cannot be read or parsed (digits, MNIST).
    #[error("data set {origin}: {why}")]
    Dataset {
        /// The file, or a description of the source.
        origin: String,
        /// What went wrong.
        why: String,
    },
    /// A statistic was asked of data that cannot support it.
    #[error("statistics: {0}")]
    Stats(&'static str),
    /// An error from rigor-softmax (e.g. a normalizer configuration).
    #[error(transparent)]
    Softmax(#[from] rigor_softmax::SoftmaxError),
    /// An error from rigor-rope (a RoPE configuration, a construction, frequency usage).
    #[error(transparent)]
    Rope(#[from] rigor_rope::RopeError),
    /// An error from rigor-nn (a model configuration or an input shape).
    #[error(transparent)]
    Nn(#[from] rigor_nn::NnError),
    /// An error from rigor-perplexity (an evaluation config, logits it cannot score, a
    /// counterexample search whose premise fails).
    #[error(transparent)]
    Perplexity(#[from] rigor_perplexity::PerplexityError),
    /// An error from rigor-optim (an optimizer configuration).
    #[error(transparent)]
    Optim(#[from] rigor_optim::OptimError),
    /// An error from rigor-confidence (the change-of-mind reproduction).
    #[error(transparent)]
    Confidence(#[from] rigor_confidence::ConfidenceError),
}

/// `Result` with [`LabError`].
pub type Result<T, E = LabError> = std::result::Result<T, E>;

impl LabError {
    /// An [`LabError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn config(what: &'static str, value: impl ToString, why: &'static str) -> Self {
        Self::InvalidConfig {
            what,
            value: value.to_string(),
            why,
        }
    }
}
