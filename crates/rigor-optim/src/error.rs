//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong in `rigor-optim`.
///
/// Optimizer configurations are validated once, when they are built (`build`/`init` return a
/// [`Result`]), so the update math never re-checks them. The remaining errors are about the
/// caller's data: shapes that do not fit a metric, empty or all-zero inputs for which a metric
/// is undefined, non-finite values, and malformed accuracy matrices or dataset files.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OptimError {
    /// A hyper-parameter was `NaN`, infinite, or outside its documented range.
    #[error("hyper-parameter `{name}` = {value} is invalid: {reason}")]
    InvalidHyperParameter {
        /// Which hyper-parameter (the config field name).
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What the hyper-parameter must satisfy.
        reason: &'static str,
    },
    /// A tensor held `NaN` or `±∞` where only finite values are meaningful.
    #[error("{what} contains {count} non-finite value(s) (NaN or ±inf)")]
    NonFinite {
        /// What was checked (e.g. "gradient", "weights").
        what: &'static str,
        /// How many entries were not finite.
        count: usize,
    },
    /// An input was empty, or had too few entries for the quantity to be defined.
    #[error("{what} is undefined for this input: {reason}")]
    Undefined {
        /// The quantity that was requested.
        what: &'static str,
        /// Why it is undefined here.
        reason: &'static str,
    },
    /// Shapes or lengths that must agree did not.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// Where the mismatch was found.
        what: &'static str,
        /// The expected shape or length, in words.
        expected: String,
        /// The shape or length that was passed.
        got: String,
    },
}

/// `Result` with [`OptimError`].
pub type Result<T, E = OptimError> = std::result::Result<T, E>;

/// Checks that a hyper-parameter is finite and satisfies `ok`, else an
/// [`OptimError::InvalidHyperParameter`] carrying `reason`.
pub(crate) fn check_param(
    name: &'static str,
    value: f64,
    ok: bool,
    reason: &'static str,
) -> Result<()> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperParameter {
            name,
            value,
            reason,
        })
    }
}
