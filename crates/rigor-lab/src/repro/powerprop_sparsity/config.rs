//! Configuration of the Powerprop sparsity reproduction, with presets per [`Scale`].

use serde::{Deserialize, Serialize};

use crate::error::{LabError, Result};
use crate::report::Scale;

/// Everything the reproduction does (written to `results.json`).
///
/// The paper's reference setup (Schwarz et al. 2021 via `docs/paper-facts.md` S4) is MLP
/// 784-300-100-10, SGD with learning rate 0.1, batch 60, α ∈ {1, …, 5}, then global magnitude
/// pruning. Here the input is the 64 pixels of the UCI digits and the hidden widths,
/// optimizer, learning rate and batch are the paper's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerpropSparsityConfig {
    /// Hidden widths (the paper: 300, 100).
    pub hidden: Vec<usize>,
    /// The exponents α ≥ 1 (α = 1 is the plain network).
    pub alphas: Vec<f64>,
    /// SGD learning rate on θ (the paper: 0.1), constant.
    pub lr: f64,
    /// Samples per batch, drawn uniformly with replacement (the paper: 60).
    pub batch: usize,
    /// SGD steps per model.
    pub steps: usize,
    /// Fraction of the 1 797 digits held out for testing.
    pub test_fraction: f64,
    /// Keep fractions of the pruning curve, in (0, 1]; must contain 1 (the unpruned model).
    pub keep_fractions: Vec<f64>,
    /// Keep fractions shown in the table (a subset of `keep_fractions`).
    pub table_keeps: Vec<f64>,
    /// Keep fractions at or below which the verdict compares α > 1 with α = 1.
    pub verdict_max_keep: f64,
    /// One model per (seed, α); the seed fixes the split, the initial effective weights
    /// (shared by every α) and the batches.
    pub seeds: Vec<u64>,
}

impl PowerpropSparsityConfig {
    /// The preset for `scale`.
    ///
    /// - `Tiny` (tests, seconds): MLP 64-64-32-10, α ∈ {1, 2, 3, 4}, 300 steps, 1 seed.
    /// - `Default` (≈ 40 s on 2 CPU cores, release): MLP 64-300-100-10, α ∈ {1, 2, 3, 4},
    ///   1 500 steps of 60 (≈ 63 epochs of the 1 438 training digits), 8 seeds.
    /// - `Full`: α ∈ {1, …, 5}, 1 500 steps, 20 seeds. (Much longer training at the paper's
    ///   constant η = 0.1 lets the largest weights grow until the α = 4–5 models diverge;
    ///   diverged runs are reported, not averaged.)
    pub fn at_scale(scale: Scale) -> Self {
        let base = Self {
            hidden: vec![300, 100],
            alphas: vec![1.0, 2.0, 3.0, 4.0],
            lr: 0.1,
            batch: 60,
            steps: 1_500,
            test_fraction: 0.2,
            keep_fractions: vec![
                1.0, 0.7, 0.5, 0.3, 0.2, 0.1, 0.07, 0.05, 0.03, 0.02, 0.015, 0.01,
            ],
            table_keeps: vec![1.0, 0.1, 0.05, 0.03, 0.02, 0.01],
            verdict_max_keep: 0.1,
            seeds: (0..8).collect(),
        };
        match scale {
            Scale::Default => base,
            Scale::Tiny => Self {
                hidden: vec![64, 32],
                steps: 300,
                keep_fractions: vec![1.0, 0.5, 0.2, 0.1, 0.05],
                table_keeps: vec![1.0, 0.2, 0.05],
                seeds: vec![0],
                ..base
            },
            Scale::Full => Self {
                alphas: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                seeds: (0..20).collect(),
                ..base
            },
        }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] naming the first invalid field.
    pub fn validate(&self) -> Result<()> {
        for (what, v) in [
            ("PowerpropSparsityConfig::batch", self.batch),
            ("PowerpropSparsityConfig::steps", self.steps),
        ] {
            if v == 0 {
                return Err(LabError::config(what, v, "must be ≥ 1"));
            }
        }
        if self.hidden.contains(&0) {
            return Err(LabError::config(
                "PowerpropSparsityConfig::hidden",
                format!("{:?}", self.hidden),
                "every width must be ≥ 1",
            ));
        }
        if self.alphas.is_empty() || self.alphas.iter().any(|a| !(a.is_finite() && *a >= 1.0)) {
            return Err(LabError::config(
                "PowerpropSparsityConfig::alphas",
                format!("{:?}", self.alphas),
                "need at least one α, all finite and ≥ 1",
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(LabError::config(
                "PowerpropSparsityConfig::lr",
                self.lr,
                "must be finite and > 0",
            ));
        }
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(LabError::config(
                "PowerpropSparsityConfig::test_fraction",
                self.test_fraction,
                "must be in (0, 1)",
            ));
        }
        if self.keep_fractions.iter().any(|k| !(*k > 0.0 && *k <= 1.0))
            || !self.keep_fractions.contains(&1.0)
        {
            return Err(LabError::config(
                "PowerpropSparsityConfig::keep_fractions",
                format!("{:?}", self.keep_fractions),
                "all in (0, 1], including 1",
            ));
        }
        if self
            .table_keeps
            .iter()
            .any(|k| !self.keep_fractions.contains(k))
        {
            return Err(LabError::config(
                "PowerpropSparsityConfig::table_keeps",
                format!("{:?}", self.table_keeps),
                "each must be one of keep_fractions",
            ));
        }
        if self.seeds.is_empty() {
            return Err(LabError::config(
                "PowerpropSparsityConfig::seeds",
                "[]",
                "need one seed",
            ));
        }
        Ok(())
    }
}
