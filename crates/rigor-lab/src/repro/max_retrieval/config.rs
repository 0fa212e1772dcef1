//! Configuration of the max-retrieval reproduction, with presets per [`Scale`].

use std::sync::Arc;

use rigor_softmax::{AsEntmax, Llama4Temperature, Normalize, Normalizer, Sinks};
use serde::{Deserialize, Serialize};

use super::MaxRetrievalModelConfig;
use crate::error::{LabError, Result};
use crate::report::Scale;
use crate::tasks::max_retrieval::MaxRetrievalTask;

/// A normalizer swapped in at evaluation time, with its table label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalVariant {
    /// Column label, e.g. `"adaptive θ"`.
    pub label: String,
    /// The normalizer.
    pub normalizer: EvalNormalizer,
}

/// What an [`EvalVariant`] normalizes with: a built-in [`Normalizer`], or one of the
/// normalizers whose parameters are per head — fixed here for an evaluation-time swap (the
/// model is trained with softmax; none of these is trained). The readout's single query sits
/// at position `n − 1`, after the `n` items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalNormalizer {
    /// Any built-in ([`Normalizer`]; softpick among them).
    BuiltIn(Normalizer),
    /// Softmax with a sink logit $b$ in the denominator (gpt-oss; [`rigor_softmax::Sinks`]).
    Sink {
        /// The sink logit.
        sink: f64,
    },
    /// Llama 4's query temperature $1 + a\ln(1 + \lfloor (p+1)/f \rfloor)$
    /// ([`rigor_softmax::Llama4Temperature`]) at the query's position $p = n - 1$.
    Llama4 {
        /// $f$.
        floor_scale: f64,
        /// $a$.
        attn_scale: f64,
    },
    /// ASEntmax, α-entmax of $(1 + \beta \ln(p + 2)^\gamma)\\,e$ ([`rigor_softmax::AsEntmax`]).
    AsEntmax {
        /// α.
        alpha: f64,
        /// β.
        beta: f64,
        /// γ.
        gamma: f64,
    },
}

impl EvalNormalizer {
    /// The [`Normalize`] implementor it stands for.
    ///
    /// # Errors
    /// [`LabError::Softmax`] for values the underlying constructor refuses (non-finite
    /// values, α ≤ 1, a floor scale ≤ 0).
    pub fn build(&self, n: usize) -> Result<Arc<dyn Normalize>> {
        Ok(match self {
            Self::BuiltIn(b) => Arc::new(b.clone()),
            Self::Sink { sink } => Arc::new(Sinks::new(vec![*sink])?),
            Self::Llama4 {
                floor_scale,
                attn_scale,
            } => Arc::new(
                Llama4Temperature::new(*floor_scale, *attn_scale)?.with_offset(n.saturating_sub(1)),
            ),
            Self::AsEntmax { alpha, beta, gamma } => {
                Arc::new(AsEntmax::new(*alpha)?.with_heads(vec![*beta], vec![*gamma])?)
            }
        })
    }
}

/// Everything the reproduction does (written to `results.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaxRetrievalConfig {
    /// The task (classes, feature noise).
    pub task: MaxRetrievalTask,
    /// The model's sizes.
    pub model: MaxRetrievalModelConfig,
    /// Set size in training (the paper: 16).
    pub train_n: usize,
    /// Sets per training batch.
    pub batch: usize,
    /// Optimizer steps per seed.
    pub steps: usize,
    /// Peak learning rate (AdamW, linear warm-up then cosine decay to `lr / 20`).
    pub lr: f64,
    /// Warm-up steps.
    pub warmup: usize,
    /// AdamW decoupled weight decay (β = (0.9, 0.999), ε = 1e-8).
    pub weight_decay: f32,
    /// One trained model per seed.
    pub seeds: Vec<u64>,
    /// Set sizes to evaluate.
    pub eval_ns: Vec<usize>,
    /// Test items per (seed, n): the number of sets is `test_items / n`, clamped to
    /// `[min_test_sets, max_test_sets]`.
    pub test_items: usize,
    /// Fewest test sets per (seed, n).
    pub min_test_sets: usize,
    /// Most test sets per (seed, n).
    pub max_test_sets: usize,
    /// Items per forward pass at evaluation (memory bound).
    pub chunk_items: usize,
    /// Evaluation normalizers; the first is the baseline every other is tested against.
    pub variants: Vec<EvalVariant>,
}

impl MaxRetrievalConfig {
    /// The preset for `scale`.
    ///
    /// - `Tiny` (tests, seconds): 1 seed, d = 32, 400 steps, n ∈ {16, 256}.
    /// - `Default` (~3 min on 2 CPU cores): 5 seeds, d = 64, 1 500 steps of 128 sets,
    ///   n = 16 … 16384, up to 512 test sets per n.
    /// - `Full` (hours): 5 seeds, d = 128, 20 000 steps, up to 4 096 test sets per n. The
    ///   paper's exact widths/steps are not in `docs/paper-facts.md`; check them before
    ///   claiming parity.
    pub fn at_scale(scale: Scale) -> Self {
        let task = MaxRetrievalTask::new(10, 0.0).expect("10 classes, no noise is valid");
        let all_ns: Vec<usize> = (4..=14).map(|k| 1usize << k).collect();
        let model = |hidden, encoder_layers, predictor_layers| MaxRetrievalModelConfig {
            item_dim: task.item_dim(),
            classes: task.classes(),
            hidden,
            encoder_layers,
            predictor_layers,
        };
        let base = Self {
            task,
            model: model(64, 3, 2),
            train_n: 16,
            batch: 128,
            steps: 1_500,
            lr: 3e-3,
            warmup: 100,
            weight_decay: 1e-4,
            seeds: (0..5).collect(),
            eval_ns: all_ns.clone(),
            test_items: 1 << 19,
            min_test_sets: 64,
            max_test_sets: 512,
            chunk_items: 1 << 16,
            variants: default_variants(16),
        };
        match scale {
            Scale::Default => base,
            Scale::Tiny => Self {
                model: model(32, 2, 1),
                batch: 64,
                steps: 400,
                warmup: 20,
                seeds: vec![0],
                eval_ns: vec![16, 256],
                test_items: 1 << 14,
                min_test_sets: 64,
                max_test_sets: 256,
                ..base
            },
            Scale::Full => Self {
                model: model(128, 4, 3),
                steps: 20_000,
                lr: 1e-3,
                warmup: 500,
                seeds: (0..5).collect(),
                test_items: 1 << 22,
                min_test_sets: 256,
                max_test_sets: 4_096,
                ..base
            },
        }
    }

    /// Test sets per (seed, n).
    pub fn test_sets(&self, n: usize) -> usize {
        (self.test_items / n.max(1)).clamp(self.min_test_sets, self.max_test_sets)
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] naming the first invalid field.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("MaxRetrievalConfig::train_n", self.train_n),
            ("MaxRetrievalConfig::batch", self.batch),
            ("MaxRetrievalConfig::steps", self.steps),
            ("MaxRetrievalConfig::min_test_sets", self.min_test_sets),
            ("MaxRetrievalConfig::chunk_items", self.chunk_items),
        ];
        for (what, v) in positive {
            if v == 0 {
                return Err(LabError::config(what, v, "must be ≥ 1"));
            }
        }
        if self.max_test_sets < self.min_test_sets {
            return Err(LabError::config(
                "MaxRetrievalConfig::max_test_sets",
                self.max_test_sets,
                "must be ≥ min_test_sets",
            ));
        }
        if self.seeds.is_empty() {
            return Err(LabError::config(
                "MaxRetrievalConfig::seeds",
                "[]",
                "need one seed",
            ));
        }
        if self.eval_ns.is_empty() || self.eval_ns.contains(&0) {
            return Err(LabError::config(
                "MaxRetrievalConfig::eval_ns",
                format!("{:?}", self.eval_ns),
                "need at least one n, all ≥ 1",
            ));
        }
        if self.variants.is_empty() {
            return Err(LabError::config(
                "MaxRetrievalConfig::variants",
                "[]",
                "need at least the baseline",
            ));
        }
        if self.model.item_dim != self.task.item_dim() || self.model.classes != self.task.classes()
        {
            return Err(LabError::config(
                "MaxRetrievalConfig::model",
                format!("{:?}", self.model),
                "item_dim and classes must match the task",
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(LabError::config(
                "MaxRetrievalConfig::lr",
                self.lr,
                "must be > 0",
            ));
        }
        Ok(())
    }
}

/// Softmax (baseline), adaptive θ, SSMax with $s = 1/\ln n_{\text{train}}$ (equal to softmax
/// at the training size), 1.5-entmax, softpick, a sink logit 0 (softmax1), Llama 4's temperature
/// with its floor scale shrunk to $f = n_{\text{train}}$ (the released models' 8192 would
/// never act at these sizes; $a = 0.1$ as released) and ASEntmax with $\beta = 0.5$,
/// $\gamma = 1$ (fixed, not learned: an evaluation-time swap on a softmax-trained model like the
/// others).
pub fn default_variants(train_n: usize) -> Vec<EvalVariant> {
    let s = 1.0 / (train_n.max(2) as f64).ln();
    let built_in = |label: &str, normalizer: Normalizer| EvalVariant {
        label: label.into(),
        normalizer: EvalNormalizer::BuiltIn(normalizer),
    };
    let mut v = vec![
        built_in("softmax", Normalizer::softmax()),
        built_in("adaptive θ", Normalizer::adaptive()),
    ];
    if let Ok(normalizer) = Normalizer::scalable(s) {
        v.push(built_in(&format!("SSMax (s=1/ln {train_n})"), normalizer));
    }
    if let Ok(normalizer) = Normalizer::entmax(1.5) {
        v.push(built_in("1.5-entmax", normalizer));
    }
    v.push(built_in("softpick", Normalizer::softpick()));
    v.push(EvalVariant {
        label: "sink b=0".into(),
        normalizer: EvalNormalizer::Sink { sink: 0.0 },
    });
    v.push(EvalVariant {
        label: format!("llama4 τ (f={})", train_n.max(1)),
        normalizer: EvalNormalizer::Llama4 {
            floor_scale: train_n.max(1) as f64,
            attn_scale: 0.1,
        },
    });
    v.push(EvalVariant {
        label: "ASEntmax (β=0.5, γ=1)".into(),
        normalizer: EvalNormalizer::AsEntmax {
            alpha: 1.5,
            beta: 0.5,
            gamma: 1.0,
        },
    });
    v
}
