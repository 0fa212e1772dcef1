//! Configuration of the optimizer-forgetting reproduction, with presets per [`Scale`].

use burn::module::{ParamGroup, ParamId};
use burn::optim::{AdamWConfig, LionConfig, ModuleOptimizer, MuonConfig, SgdConfig};
use rigor_optim::{ShampooConfig, SoapConfig};
use serde::{Deserialize, Serialize};

use super::model::ForgettingMlp;
use crate::error::{LabError, Result};
use crate::report::Scale;

/// The optimizers compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Burn's plain SGD (no momentum, no weight decay).
    Sgd,
    /// Burn's AdamW: β = (0.9, 0.999), ε = 1e-8, decoupled weight decay 1e-2 (PyTorch's
    /// defaults; Burn's own defaults are ε = 1e-5, λ = 1e-4).
    AdamW,
    /// rigor-optim's Shampoo with its defaults: factor sums (β₂ = 1), ε = 1e-6,
    /// $L^{-1/4} G R^{-1/4}$ recomputed every 10 steps, Adam-norm grafting, momentum 0.9.
    Shampoo,
    /// Burn's Muon (Newton–Schulz, (a, b, c) = (3.4445, −4.7750, 2.0315), 5 steps, Nesterov
    /// momentum 0.95, lr scaled by $\sqrt{\max(1, A/B)}$) on every weight matrix; Muon only
    /// accepts 2-D tensors (it asserts), so the biases go to an AdamW group (β = (0.9, 0.999),
    /// ε = 1e-8, no weight decay) at the same learning rate.
    Muon,
    /// rigor-optim's SOAP with its defaults: β = (0.95, 0.95), eigenbasis refreshed every 10
    /// steps.
    Soap,
    /// Burn's Lion (Chen et al. 2023) with its defaults, β = (0.9, 0.99), no weight decay:
    /// $w \leftarrow w - \eta\\,\mathrm{sign}(\beta_1 m + (1-\beta_1) g)$ — a sign
    /// method like Signum, a diagonal preconditioner unlike Shampoo.
    Lion,
}

impl OptimizerKind {
    /// Every optimizer, in report order.
    pub const ALL: [OptimizerKind; 6] = [
        OptimizerKind::Sgd,
        OptimizerKind::AdamW,
        OptimizerKind::Shampoo,
        OptimizerKind::Muon,
        OptimizerKind::Soap,
        OptimizerKind::Lion,
    ];

    /// Display name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Sgd => "SGD",
            Self::AdamW => "AdamW",
            Self::Shampoo => "Shampoo",
            Self::Muon => "Muon",
            Self::Soap => "SOAP",
            Self::Lion => "Lion",
        }
    }

    /// The constant learning rate this reproduction uses (tuned once so that every optimizer
    /// fits each task of the default scale; not per-task tuned).
    pub fn default_lr(self) -> f64 {
        match self {
            Self::Sgd => 0.1,
            Self::AdamW => 1e-3,
            Self::Shampoo => 1e-3,
            Self::Muon => 0.02,
            Self::Soap => 3e-3,
            Self::Lion => 3e-4,
        }
    }
}

/// An optimizer and its (constant) learning rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptimizerSpec {
    /// Which optimizer (its hyper-parameters are documented on [`OptimizerKind`]).
    pub kind: OptimizerKind,
    /// Learning rate η, constant over the whole task sequence.
    pub lr: f64,
}

impl OptimizerSpec {
    /// `kind` at its [`OptimizerKind::default_lr`].
    pub fn new(kind: OptimizerKind) -> Self {
        Self {
            kind,
            lr: kind.default_lr(),
        }
    }

    /// The whole-module optimizer for `model` (Muon needs the ids of the model's weight
    /// matrices to route them to its group).
    ///
    /// # Errors
    /// [`LabError::Optim`] for an invalid rigor-optim configuration.
    pub fn build(&self, model: &ForgettingMlp) -> Result<ModuleOptimizer> {
        let adamw = |wd: f32| {
            AdamWConfig::new()
                .with_beta_1(0.9)
                .with_beta_2(0.999)
                .with_epsilon(1e-8)
                .with_weight_decay(wd)
        };
        Ok(match self.kind {
            OptimizerKind::Sgd => SgdConfig::new().init(),
            OptimizerKind::AdamW => adamw(1e-2).init(),
            OptimizerKind::Shampoo => ShampooConfig::default().init()?,
            OptimizerKind::Soap => SoapConfig::default().init()?,
            OptimizerKind::Lion => LionConfig::new().init(),
            OptimizerKind::Muon => {
                let weights: Vec<ParamId> = model.weight_ids();
                adamw(0.0).init().with_group(
                    ParamGroup::from_ids(weights),
                    MuonConfig::new().build(),
                    None,
                )
            }
        })
    }
}

/// Which continual-learning sequence a model is trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Task k: every image's pixels under a fixed random permutation $\pi_k$ (task 0:
    /// identity); all ten classes in every task.
    Permuted,
    /// Task k: the images of classes 2k and 2k + 1, labels unchanged, one shared 10-way head.
    ClassIncremental,
}

impl TaskKind {
    /// Display name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Permuted => "permuted pixels",
            Self::ClassIncremental => "class-incremental pairs",
        }
    }

    /// File-name-safe name.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Permuted => "permuted",
            Self::ClassIncremental => "class_incremental",
        }
    }
}

/// Everything the reproduction does (written to `results.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerForgettingConfig {
    /// Hidden widths of the ReLU MLP `64 → hidden[0] → … → 10`.
    pub hidden: Vec<usize>,
    /// The optimizers; the verdict compares [`OptimizerKind::Shampoo`] against
    /// [`OptimizerKind::Sgd`] and [`OptimizerKind::AdamW`] and needs all three.
    pub optimizers: Vec<OptimizerSpec>,
    /// The task sequences.
    pub task_kinds: Vec<TaskKind>,
    /// Number of permuted-pixel tasks (≥ 2).
    pub permuted_tasks: usize,
    /// Number of class-incremental pairs (2–5: (0,1) → (2,3) → …).
    pub class_tasks: usize,
    /// Optimizer steps per permuted task.
    pub steps_per_permuted_task: usize,
    /// Optimizer steps per class-incremental task.
    pub steps_per_class_task: usize,
    /// Samples per batch (drawn with replacement from the current task's training set).
    pub batch: usize,
    /// Fraction of the 1 797 digits held out for testing (same split for every task).
    pub test_fraction: f64,
    /// Test images per task in the representation probe (effective rank, class similarity).
    pub probe_per_task: usize,
    /// One run of every (task kind, optimizer) per seed; the seed fixes the split, the
    /// permutations, the initial weights (shared by all optimizers) and the batches.
    pub seeds: Vec<u64>,
}

impl OptimizerForgettingConfig {
    /// The preset for `scale`.
    ///
    /// - `Tiny` (tests, seconds): MLP 64-32-10, 3 permuted tasks × 100 steps, 3 pairs × 60
    ///   steps, batch 32, 1 seed.
    /// - `Default` (≈ 1 min on 2 CPU cores, release): MLP 64-64-64-10, 5 permuted tasks × 400
    ///   steps, 5 pairs × 150 steps, batch 64, 5 seeds.
    /// - `Full`: MLP 64-256-256-10, 10 permuted tasks × 1 000 steps, 5 pairs × 400 steps,
    ///   batch 128, 5 seeds (the paper used MNIST; see `docs/optim.md`).
    pub fn at_scale(scale: Scale) -> Self {
        let base = Self {
            hidden: vec![64, 64],
            optimizers: OptimizerKind::ALL.map(OptimizerSpec::new).to_vec(),
            task_kinds: vec![TaskKind::Permuted, TaskKind::ClassIncremental],
            permuted_tasks: 5,
            class_tasks: 5,
            steps_per_permuted_task: 400,
            steps_per_class_task: 150,
            batch: 64,
            test_fraction: 0.25,
            probe_per_task: 100,
            seeds: (0..5).collect(),
        };
        match scale {
            Scale::Default => base,
            Scale::Tiny => Self {
                hidden: vec![32],
                permuted_tasks: 3,
                class_tasks: 3,
                steps_per_permuted_task: 100,
                steps_per_class_task: 60,
                batch: 32,
                probe_per_task: 60,
                seeds: vec![0],
                ..base
            },
            Scale::Full => Self {
                hidden: vec![256, 256],
                permuted_tasks: 10,
                steps_per_permuted_task: 1_000,
                steps_per_class_task: 400,
                batch: 128,
                probe_per_task: 200,
                seeds: (0..5).collect(),
                ..base
            },
        }
    }

    /// Number of tasks of `kind`.
    pub fn tasks(&self, kind: TaskKind) -> usize {
        match kind {
            TaskKind::Permuted => self.permuted_tasks,
            TaskKind::ClassIncremental => self.class_tasks,
        }
    }

    /// Optimizer steps per task of `kind`.
    pub fn steps_per_task(&self, kind: TaskKind) -> usize {
        match kind {
            TaskKind::Permuted => self.steps_per_permuted_task,
            TaskKind::ClassIncremental => self.steps_per_class_task,
        }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] naming the first invalid field.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            (
                "OptimizerForgettingConfig::steps_per_permuted_task",
                self.steps_per_permuted_task,
            ),
            (
                "OptimizerForgettingConfig::steps_per_class_task",
                self.steps_per_class_task,
            ),
            ("OptimizerForgettingConfig::batch", self.batch),
            (
                "OptimizerForgettingConfig::probe_per_task",
                self.probe_per_task,
            ),
        ];
        for (what, v) in positive {
            if v == 0 {
                return Err(LabError::config(what, v, "must be ≥ 1"));
            }
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err(LabError::config(
                "OptimizerForgettingConfig::hidden",
                format!("{:?}", self.hidden),
                "need at least one hidden layer, all widths ≥ 1",
            ));
        }
        if self.permuted_tasks < 2 {
            return Err(LabError::config(
                "OptimizerForgettingConfig::permuted_tasks",
                self.permuted_tasks,
                "must be ≥ 2 (forgetting needs two tasks)",
            ));
        }
        if !(2..=5).contains(&self.class_tasks) {
            return Err(LabError::config(
                "OptimizerForgettingConfig::class_tasks",
                self.class_tasks,
                "must be in 2..=5 (pairs of the ten digits)",
            ));
        }
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(LabError::config(
                "OptimizerForgettingConfig::test_fraction",
                self.test_fraction,
                "must be in (0, 1)",
            ));
        }
        if self.seeds.is_empty() {
            return Err(LabError::config(
                "OptimizerForgettingConfig::seeds",
                "[]",
                "need one seed",
            ));
        }
        if self.task_kinds.is_empty() {
            return Err(LabError::config(
                "OptimizerForgettingConfig::task_kinds",
                "[]",
                "need one task sequence",
            ));
        }
        for needed in [
            OptimizerKind::Sgd,
            OptimizerKind::AdamW,
            OptimizerKind::Shampoo,
        ] {
            if !self.optimizers.iter().any(|o| o.kind == needed) {
                return Err(LabError::config(
                    "OptimizerForgettingConfig::optimizers",
                    format!("{:?}", self.optimizers),
                    "the paper's comparison needs SGD, AdamW and Shampoo",
                ));
            }
        }
        let distinct = |n: usize, mut v: Vec<String>| {
            v.sort_unstable();
            v.dedup();
            v.len() == n
        };
        if !distinct(
            self.optimizers.len(),
            self.optimizers
                .iter()
                .map(|o| format!("{:?}", o.kind))
                .collect(),
        ) || !distinct(
            self.seeds.len(),
            self.seeds.iter().map(u64::to_string).collect(),
        ) || !distinct(
            self.task_kinds.len(),
            self.task_kinds.iter().map(|k| format!("{k:?}")).collect(),
        ) {
            return Err(LabError::config(
                "OptimizerForgettingConfig",
                format!(
                    "optimizers {:?}, seeds {:?}, task_kinds {:?}",
                    self.optimizers, self.seeds, self.task_kinds
                ),
                "optimizers, seeds and task kinds must not repeat (rows are keyed by them)",
            ));
        }
        for o in &self.optimizers {
            if !(o.lr.is_finite() && o.lr > 0.0) {
                return Err(LabError::config(
                    "OptimizerSpec::lr",
                    o.lr,
                    "must be finite and > 0",
                ));
            }
        }
        Ok(())
    }
}
