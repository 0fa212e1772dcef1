//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong in `rigor-confidence` outside an agent call.
///
/// Configurations are validated once, when they are built; the remaining errors are about the
/// caller's data (probabilities that are not a distribution, too few trials to fit a model,
/// labels of a single class for an AUROC) and about the results file. An agent that fails
/// during a run does **not** produce a `ConfidenceError`: the runner records the trial as
/// failed (see [`crate::agent::AgentError`]) and carries on.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfidenceError {
    /// A named number was `NaN`, infinite, or outside its documented range.
    #[error("parameter `{name}` = {value} is invalid: {reason}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What the parameter must satisfy.
        reason: &'static str,
    },
    /// A configuration is inconsistent as a whole (an empty list, a duplicate entry, …).
    #[error("invalid {what}: {reason}")]
    InvalidConfig {
        /// The configuration that was rejected.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A question is malformed (fewer than two options, the correct index out of range, …).
    #[error("question `{id}` is invalid: {reason}")]
    InvalidQuestion {
        /// The question's id.
        id: String,
        /// Why.
        reason: String,
    },
    /// A vector that should be a probability distribution over options is not one.
    #[error("invalid option probabilities ({context}): {reason}")]
    InvalidProbabilities {
        /// Where the vector came from.
        context: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The advice has probability zero under the prior, so Bayes' rule is undefined
    /// (e.g. 100%-accurate advice for an option the prior rules out).
    #[error("Bayes update undefined: {reason}")]
    ImpossibleEvidence {
        /// Which combination of prior and advice.
        reason: String,
    },
    /// A measure or fit received no data.
    #[error("{what}: no data")]
    EmptyInput {
        /// What was empty.
        what: &'static str,
    },
    /// Two inputs that must have the same length do not.
    #[error("length mismatch in {what}: {left} vs {right}")]
    LengthMismatch {
        /// The operation.
        what: &'static str,
        /// Length of the first input.
        left: usize,
        /// Length of the second input.
        right: usize,
    },
    /// A discrimination measure (AUROC) needs both classes.
    #[error(
        "{what} needs both correct and incorrect answers, got {positives} correct and {negatives} incorrect"
    )]
    SingleClass {
        /// The measure.
        what: &'static str,
        /// Number of positives (correct answers).
        positives: usize,
        /// Number of negatives (incorrect answers).
        negatives: usize,
    },
    /// A maximum-likelihood fit did not produce a usable optimum.
    #[error("fitting {model} failed: {reason}")]
    FitFailed {
        /// The model being fitted.
        model: String,
        /// Why.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("I/O error on `{path}`: {message}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A results or questions file holds a line that is not a valid record.
    #[error("`{path}` line {line}: {message}")]
    CorruptRecord {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// An existing results file belongs to a different experiment (another agent, design,
    /// question set or seed), so resuming into it would mix two experiments.
    #[error(
        "cannot resume `{path}`: {reason} (use a new file, or delete this one to start afresh)"
    )]
    ResumeMismatch {
        /// The results file.
        path: String,
        /// What differs.
        reason: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, ConfidenceError>;

/// Checks that `value` is finite, returning [`ConfidenceError::InvalidParameter`] otherwise.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ConfidenceError::InvalidParameter {
            name,
            value,
            reason: "must be finite",
        })
    }
}

/// Checks that `value` is a probability in `[0, 1]`.
pub(crate) fn probability(name: &'static str, value: f64) -> Result<f64> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(ConfidenceError::InvalidParameter {
            name,
            value,
            reason: "must be a probability in [0, 1]",
        })
    }
}

/// Turns an I/O error into a [`ConfidenceError::Io`] naming the file.
pub(crate) fn io_error(path: &std::path::Path, err: &std::io::Error) -> ConfidenceError {
    ConfidenceError::Io {
        path: path.display().to_string(),
        message: err.to_string(),
    }
}
