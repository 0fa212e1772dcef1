//! What counts as a scored token: ignore index, label shift, calibration bins.

use serde::{Deserialize, Serialize};

use crate::error::{PerplexityError, Result};

/// How logits line up with targets.
///
/// With [`LabelShift::Causal`] the caller passes the *input ids* as targets, exactly as for
/// Hugging Face's `labels`: the logits at position $t$ predict the token at $t+1$, so the last
/// logit row and the first target of every sequence are dropped before scoring
/// (`logits[:, :-1]` against `targets[:, 1:]`). A mask is aligned with the **targets**
/// (mask position $t$ says whether token $t$ is scored), so it is shifted with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LabelShift {
    /// Logits at position $t$ are scored against the target at position $t$ (targets were
    /// already shifted by the caller, or this is not a causal LM).
    #[default]
    None,
    /// Logits at position $t$ are scored against the target at position $t + 1$.
    Causal,
}

/// The ignore index of PyTorch / Hugging Face (`-100`): targets with this id are not scored.
pub const HF_IGNORE_INDEX: i64 = -100;

/// Configuration of a [`PerplexityAccumulator`](crate::PerplexityAccumulator).
///
/// Build with [`EvalConfig::new`] and the `with_*` methods; the values are validated when the
/// accumulator is created ([`EvalConfig::init`]).
///
/// A token is **scored** iff its mask entry (if a mask is given) is `true` **and** its target
/// is not the ignore index (if one is set). Unscored tokens change no sum and no count; their
/// target ids are not checked and their logits are never read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    /// Targets equal to this id are not scored. Default: `Some(-100)` ([`HF_IGNORE_INDEX`]).
    pub ignore_index: Option<i64>,
    /// Whether logits at $t$ predict the target at $t$ or $t+1$. Default: [`LabelShift::None`].
    pub label_shift: LabelShift,
    /// Number of bins of the equal-width and equal-mass expected calibration errors.
    /// Default 15 (the common choice since Guo et al., 2017). Must be ≥ 1.
    pub ece_bins: usize,
    /// Keep every scored token's (confidence, correct) pair on the host (5 bytes a token) so
    /// the equal-mass ECE can be computed exactly. Default `true`; with `false` the report's
    /// equal-mass ECE is `None`.
    pub keep_samples: bool,
    /// Record the pooled NLL and token count of every sequence (each row of a 3-D batch; each
    /// call of [`update_flat`](crate::PerplexityAccumulator::update_flat)). Default `true`.
    pub per_sequence: bool,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            ignore_index: Some(HF_IGNORE_INDEX),
            label_shift: LabelShift::None,
            ece_bins: 15,
            keep_samples: true,
            per_sequence: true,
        }
    }
}

impl EvalConfig {
    /// The defaults (see the field docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the ignore index (`None`: every target is scored unless masked).
    pub fn with_ignore_index(mut self, ignore_index: Option<i64>) -> Self {
        self.ignore_index = ignore_index;
        self
    }

    /// Sets the label shift.
    pub fn with_label_shift(mut self, label_shift: LabelShift) -> Self {
        self.label_shift = label_shift;
        self
    }

    /// Sets the number of ECE bins.
    pub fn with_ece_bins(mut self, bins: usize) -> Self {
        self.ece_bins = bins;
        self
    }

    /// Whether to keep per-token samples for the equal-mass ECE.
    pub fn with_keep_samples(mut self, keep: bool) -> Self {
        self.keep_samples = keep;
        self
    }

    /// Whether to record per-sequence values.
    pub fn with_per_sequence(mut self, per_sequence: bool) -> Self {
        self.per_sequence = per_sequence;
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`PerplexityError::InvalidParameter`] if `ece_bins == 0`.
    pub fn validate(&self) -> Result<()> {
        if self.ece_bins == 0 {
            return Err(PerplexityError::InvalidParameter {
                name: "ece_bins",
                value: 0.0,
                reason: "must be at least 1",
            });
        }
        Ok(())
    }

    /// Validates the configuration and creates an empty accumulator.
    ///
    /// # Errors
    /// See [`EvalConfig::validate`].
    pub fn init(self) -> Result<crate::PerplexityAccumulator> {
        crate::PerplexityAccumulator::new(self)
    }
}
