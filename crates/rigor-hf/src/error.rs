//! The crate's error type.

use rigor_nn::NnError;
use rigor_rope::RopeError;
use thiserror::Error;

/// Everything that can go wrong loading or running a HuggingFace checkpoint. Every variant
/// names the file, field or tensor it is about.
#[derive(Debug, Error)]
pub enum HfError {
    /// A file could not be read.
    #[error("reading `{path}` failed: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A `config.json` field is missing, has the wrong type, or is not supported.
    #[error("config.json field `{field}` = {value}: {reason}")]
    Config {
        /// The field.
        field: String,
        /// The value found (JSON text) or `missing`.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A safetensors file or index is malformed.
    #[error("safetensors `{path}`: {reason}")]
    Safetensors {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The model's parameters (as f32) do not fit in the memory available.
    #[error(
        "the model needs {needed_bytes} bytes as f32 parameters but only {available_bytes} bytes of memory are available"
    )]
    TooLarge {
        /// Bytes the parameters take as f32.
        needed_bytes: u64,
        /// `MemAvailable` of the host.
        available_bytes: u64,
    },
    /// The RoPE part of the config (names the field).
    #[error("rope: {0}")]
    Rope(#[from] RopeError),
    /// Building or running the decoder (names the tensor for weight problems).
    #[error("model: {0}")]
    Nn(#[from] NnError),
}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, HfError>;
