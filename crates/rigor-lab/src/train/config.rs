//! What a training run does, validated once by [`Trainer::new`](super::Trainer::new).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::LrSchedule;
use crate::error::{LabError, Result};

/// Configuration of one training run (serialisable, so it goes into `results.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Number of optimizer steps (≥ 1).
    pub steps: usize,
    /// Seed of the batch stream (`"train/batches"`) and of the device (`"train/device"`).
    pub seed: u64,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Run the evaluation hook every this many steps (and after the last step); 0: only after
    /// the last step.
    pub eval_every: usize,
    /// Steps (1-based counts of completed steps) after which the model is saved.
    pub checkpoint_steps: Vec<usize>,
    /// Folder for checkpoints; required when `checkpoint_steps` is not empty.
    pub checkpoint_dir: Option<PathBuf>,
    /// Show an `indicatif` progress bar (hidden when `false`, e.g. in tests).
    pub progress: bool,
    /// Read the losses back to the host every this many steps (≥ 1), and always before an
    /// evaluation, a checkpoint and the end of the run. Between reads the losses stay on the
    /// device, so a step does not wait for the device to finish the previous one. The
    /// non-finite check runs on each read: the error names the first non-finite step, at most
    /// `loss_read_every − 1` steps late (those steps' work is discarded with the run).
    #[serde(default = "default_loss_read_every")]
    pub loss_read_every: usize,
}

/// [`TrainConfig::loss_read_every`] when a stored config does not say.
pub const DEFAULT_LOSS_READ_EVERY: usize = 16;

fn default_loss_read_every() -> usize {
    DEFAULT_LOSS_READ_EVERY
}

impl TrainConfig {
    /// `steps` steps under `seed`, constant rate 10⁻³, evaluation only at the end, no
    /// checkpoints, no progress bar.
    pub fn new(steps: usize, seed: u64) -> Self {
        Self {
            steps,
            seed,
            schedule: LrSchedule::Constant { lr: 1e-3 },
            eval_every: 0,
            checkpoint_steps: Vec::new(),
            checkpoint_dir: None,
            progress: false,
            loss_read_every: DEFAULT_LOSS_READ_EVERY,
        }
    }

    /// Sets the learning-rate schedule.
    pub fn with_schedule(mut self, schedule: LrSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Evaluates every `k` steps (0: only at the end).
    pub fn with_eval_every(mut self, k: usize) -> Self {
        self.eval_every = k;
        self
    }

    /// Saves the model after each of `steps` into `dir`.
    pub fn with_checkpoints(mut self, dir: impl Into<PathBuf>, steps: Vec<usize>) -> Self {
        self.checkpoint_dir = Some(dir.into());
        self.checkpoint_steps = steps;
        self
    }

    /// Reads the losses back every `k` steps (see [`TrainConfig::loss_read_every`]).
    pub fn with_loss_read_every(mut self, k: usize) -> Self {
        self.loss_read_every = k;
        self
    }

    /// Shows or hides the progress bar.
    pub fn with_progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] for zero steps, an invalid schedule, a checkpoint step
    /// outside `1..=steps`, checkpoint steps without a folder, or `loss_read_every = 0`.
    pub fn validate(&self) -> Result<()> {
        if self.steps == 0 {
            return Err(LabError::config("TrainConfig::steps", 0, "must be ≥ 1"));
        }
        if self.loss_read_every == 0 {
            return Err(LabError::config(
                "TrainConfig::loss_read_every",
                0,
                "must be ≥ 1",
            ));
        }
        self.schedule.validate()?;
        if let Some(&s) = self
            .checkpoint_steps
            .iter()
            .find(|&&s| s == 0 || s > self.steps)
        {
            return Err(LabError::config(
                "TrainConfig::checkpoint_steps",
                s,
                "each must be in 1..=steps",
            ));
        }
        if !self.checkpoint_steps.is_empty() && self.checkpoint_dir.is_none() {
            return Err(LabError::config(
                "TrainConfig::checkpoint_dir",
                "None",
                "checkpoint_steps needs a folder",
            ));
        }
        Ok(())
    }
}
