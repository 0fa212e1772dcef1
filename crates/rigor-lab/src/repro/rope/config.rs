//! Configuration of the RoPE reproduction, with presets per [`Scale`].

use std::path::PathBuf;

use burn::tensor::Device;
use rigor_nn::{DecoderLm, DecoderLmConfig, NormKind, PositionalEncoding};
use rigor_rope::{RopeConfig, Rotation};
use serde::{Deserialize, Serialize};

use crate::data::VOCAB_BYTES;
use crate::error::{LabError, Result};
use crate::report::Scale;

/// How a language model knows where tokens are: the four variants the paper compares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Variant {
    /// RoPE at base θ in every layer.
    Rope,
    /// p-RoPE (`Rotation::Proportional`): the highest ⌊p·d/2⌋ frequencies kept, the rest 0.
    PRope {
        /// The proportion p ∈ (0, 1).
        p: f64,
    },
    /// No positional encoding (the causal mask only).
    NoPe,
}

impl Variant {
    /// Short label for tables and legends: `RoPE`, `0.25-RoPE`, `NoPE`.
    pub fn label(&self) -> String {
        match self {
            Variant::Rope => "RoPE".into(),
            Variant::PRope { p } => format!("{p}-RoPE"),
            Variant::NoPe => "NoPE".into(),
        }
    }

    /// The decoder's positional encoding for a head width `head_dim` and base `theta`.
    pub fn positional(&self, head_dim: usize, theta: f64) -> PositionalEncoding {
        let rope = RopeConfig::new(head_dim).with_theta(theta);
        match *self {
            Variant::Rope => PositionalEncoding::Rope(rope),
            Variant::PRope { p } => {
                PositionalEncoding::Rope(rope.with_rotation(Rotation::Proportional { p }))
            }
            Variant::NoPe => PositionalEncoding::None,
        }
    }
}

/// The byte-level decoder every variant trains: rigor-nn's [`DecoderLm`] over 256 byte
/// tokens, pre-norm RMSNorm blocks, GELU MLPs, untied head. Nothing but the positional
/// encoding differs between variants, and no variant has positional *parameters*, so the same
/// seed gives every variant the same initial weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ByteLmSpec {
    /// Model width.
    pub d_model: usize,
    /// Heads per block (`d_model / n_heads` must be even).
    pub n_heads: usize,
    /// Blocks.
    pub n_layers: usize,
    /// MLP width.
    pub d_ff: usize,
    /// RoPE base θ (the paper: 10 000).
    pub rope_theta: f64,
}

impl ByteLmSpec {
    /// Per-head width.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.n_heads.max(1)
    }

    /// The rigor-nn configuration for `variant`.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] unless `n_heads` divides `d_model` into even head widths
    /// and θ is finite and > 1.
    pub fn decoder(&self, variant: Variant) -> Result<DecoderLmConfig> {
        if self.n_heads == 0 || !self.d_model.is_multiple_of(self.n_heads) {
            return Err(LabError::config(
                "ByteLmSpec::n_heads",
                self.n_heads,
                "must be ≥ 1 and divide d_model",
            ));
        }
        if !self.head_dim().is_multiple_of(2) || self.head_dim() == 0 {
            return Err(LabError::config(
                "ByteLmSpec::d_model / n_heads",
                self.head_dim(),
                "RoPE needs an even head width ≥ 2",
            ));
        }
        if !(self.rope_theta.is_finite() && self.rope_theta > 1.0) {
            return Err(LabError::config(
                "ByteLmSpec::rope_theta",
                self.rope_theta,
                "must be finite and > 1",
            ));
        }
        Ok(
            DecoderLmConfig::new(VOCAB_BYTES, self.d_model, self.n_heads, self.n_layers)
                .with_d_ff(Some(self.d_ff))
                .with_positional(variant.positional(self.head_dim(), self.rope_theta))
                .with_norm(NormKind::RmsNorm),
        )
    }

    /// Builds the model on `device` (seed the device first for reproducible weights).
    ///
    /// # Errors
    /// As [`decoder`](Self::decoder) and [`DecoderLmConfig::init`].
    pub fn init(&self, variant: Variant, device: &Device) -> Result<DecoderLm> {
        Ok(self.decoder(variant)?.init(device)?)
    }
}

/// Experiment 1: training and length-generalisation evaluation of every variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmExperiment {
    /// The variants (RoPE must be among them: comparisons are paired against it).
    pub variants: Vec<Variant>,
    /// AdamW steps.
    pub steps: usize,
    /// Windows per step.
    pub batch: usize,
    /// Training context L: each training window has L + 1 bytes, giving L next-byte
    /// predictions from up to L bytes of context.
    pub context: usize,
    /// Peak learning rate (linear warm-up, cosine decay to a tenth).
    pub lr: f64,
    /// Warm-up steps.
    pub warmup: usize,
    /// Evaluation lengths as multiples of `context` (the paper's question: 1×, 2×, 4×).
    pub eval_multiples: Vec<usize>,
    /// Validation bytes scored at every length (the same text, cut into windows of each
    /// length).
    pub eval_bytes: usize,
    /// Windows per model call at evaluation.
    pub eval_batch: usize,
    /// Record the validation loss at the training length every this many steps (the curves).
    pub eval_every: usize,
}

/// Experiment 2 (and 4): what is read off the trained models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisExperiment {
    /// Validation windows (of the training length) the frequency usage is averaged over.
    pub usage_windows: usize,
    /// Distances r at which the drift |a_k(r) − a_k(0)| is measured.
    pub drift_distances: Vec<usize>,
    /// Query/key token pairs (per layer and head) the drift is averaged over.
    pub drift_pairs: usize,
}

/// Experiment 3: one-layer positional heads over identical tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstructionExperiment {
    /// Sequence length (every token the same).
    pub seq_len: usize,
    /// Model width (one head of this width).
    pub d_model: usize,
    /// Adam steps.
    pub steps: usize,
    /// Learning rate.
    pub lr: f64,
    /// A query row counts as solved when the target's attention weight exceeds every other
    /// weight in the row by at least this much.
    pub margin: f64,
}

/// Everything the reproduction does (written to `results.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RopeReproConfig {
    /// The corpus: `None` is the committed King James Version; `Some(path)` any UTF-8 text
    /// (gzip if it ends in `.gz`).
    pub corpus: Option<PathBuf>,
    /// The language model.
    pub model: ByteLmSpec,
    /// Experiment 1.
    pub lm: LmExperiment,
    /// Experiments 2 and 4.
    pub analysis: AnalysisExperiment,
    /// Experiment 3.
    pub constructions: ConstructionExperiment,
    /// Seeds: every variant trains once per seed, with the same initial weights and data order
    /// as the other variants under that seed.
    pub seeds: Vec<u64>,
}

impl RopeReproConfig {
    /// The preset for `scale`.
    ///
    /// - `Tiny` (tests, seconds): d = 16, 2 layers, 6 steps, L = 16.
    /// - `Default` (minutes on 2 CPU cores): d = 64, 2 heads of 32, 3 layers, L = 64,
    ///   batch 16, 500 steps, 2 seeds, evaluated at 64 / 128 / 256 bytes on 16 KiB of
    ///   validation text.
    /// - `Full` (a GPU): d = 256, 4 heads of 64, 6 layers, L = 256, batch 32, 10 000 steps,
    ///   3 seeds, 256 KiB of validation text.
    pub fn at_scale(scale: Scale) -> Self {
        let base = Self {
            corpus: None,
            model: ByteLmSpec {
                d_model: 64,
                n_heads: 2,
                n_layers: 3,
                d_ff: 256,
                rope_theta: 10_000.0,
            },
            lm: LmExperiment {
                variants: vec![
                    Variant::Rope,
                    Variant::PRope { p: 0.25 },
                    Variant::PRope { p: 0.75 },
                    Variant::NoPe,
                ],
                steps: 500,
                batch: 16,
                context: 64,
                lr: 3e-3,
                warmup: 50,
                eval_multiples: vec![1, 2, 4],
                eval_bytes: 16_384,
                eval_batch: 16,
                eval_every: 100,
            },
            analysis: AnalysisExperiment {
                usage_windows: 16,
                drift_distances: vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096],
                drift_pairs: 256,
            },
            constructions: ConstructionExperiment {
                seq_len: 16,
                d_model: 16,
                steps: 300,
                lr: 0.03,
                margin: 0.01,
            },
            seeds: vec![0, 1],
        };
        match scale {
            Scale::Default => base,
            Scale::Tiny => Self {
                model: ByteLmSpec {
                    d_model: 16,
                    n_heads: 1,
                    n_layers: 2,
                    d_ff: 32,
                    ..base.model
                },
                lm: LmExperiment {
                    steps: 6,
                    batch: 4,
                    context: 16,
                    warmup: 2,
                    eval_bytes: 256,
                    eval_batch: 4,
                    eval_every: 3,
                    ..base.lm
                },
                analysis: AnalysisExperiment {
                    usage_windows: 2,
                    drift_distances: vec![1, 4, 64],
                    drift_pairs: 16,
                },
                constructions: ConstructionExperiment {
                    seq_len: 8,
                    steps: 20,
                    ..base.constructions
                },
                seeds: vec![0],
                ..base
            },
            Scale::Full => Self {
                model: ByteLmSpec {
                    d_model: 256,
                    n_heads: 4,
                    n_layers: 6,
                    d_ff: 1024,
                    ..base.model
                },
                lm: LmExperiment {
                    steps: 10_000,
                    batch: 32,
                    context: 256,
                    lr: 1e-3,
                    warmup: 500,
                    eval_bytes: 262_144,
                    eval_batch: 16,
                    eval_every: 500,
                    ..base.lm
                },
                analysis: AnalysisExperiment {
                    usage_windows: 64,
                    drift_pairs: 1_024,
                    ..base.analysis
                },
                constructions: ConstructionExperiment {
                    seq_len: 32,
                    steps: 1_000,
                    ..base.constructions
                },
                seeds: vec![0, 1, 2],
                ..base
            },
        }
    }

    /// The longest evaluation window, `context · max(eval_multiples)`.
    pub fn longest_eval(&self) -> usize {
        self.lm.context * self.lm.eval_multiples.iter().copied().max().unwrap_or(1)
    }

    /// Checks the configuration before anything is read or trained.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] naming the field: the model errors of
    /// [`ByteLmSpec::decoder`], zero sizes, steps or layers, no RoPE among the variants, a
    /// repeated variant, a p outside (0, 1), an empty or zero evaluation multiple, fewer
    /// validation bytes than one longest window, a non-finite or non-positive learning rate
    /// or margin, a construction shorter than 3 tokens or with an odd width, empty or
    /// repeated seeds.
    pub fn validate(&self) -> Result<()> {
        for v in &self.lm.variants {
            self.model.decoder(*v)?;
            if let Variant::PRope { p } = *v
                && !(p.is_finite() && p > 0.0 && p < 1.0)
            {
                return Err(LabError::config(
                    "lm.variants p-RoPE p",
                    p,
                    "must lie in (0, 1) (p = 1 is RoPE, p = 0 NoPE: list those as such)",
                ));
            }
        }
        if !self.lm.variants.contains(&Variant::Rope) {
            return Err(LabError::config(
                "lm.variants",
                format!("{:?}", self.lm.variants),
                "must include RoPE (every comparison is paired against it)",
            ));
        }
        let labels: Vec<String> = self.lm.variants.iter().map(Variant::label).collect();
        if (1..labels.len()).any(|i| labels[..i].contains(&labels[i])) {
            return Err(LabError::config(
                "lm.variants",
                labels.join(", "),
                "variants must be distinct",
            ));
        }
        let lm = &self.lm;
        for (name, v) in [
            ("model.d_model", self.model.d_model),
            ("model.n_layers", self.model.n_layers),
            ("model.d_ff", self.model.d_ff),
            ("lm.steps", lm.steps),
            ("lm.batch", lm.batch),
            ("lm.eval_batch", lm.eval_batch),
            ("lm.eval_every", lm.eval_every),
            ("analysis.usage_windows", self.analysis.usage_windows),
            ("analysis.drift_pairs", self.analysis.drift_pairs),
            ("constructions.steps", self.constructions.steps),
        ] {
            if v == 0 {
                return Err(LabError::config(name, v, "must be ≥ 1"));
            }
        }
        if lm.context < 2 {
            return Err(LabError::config(
                "lm.context",
                lm.context,
                "must be ≥ 2 bytes",
            ));
        }
        if lm.eval_multiples.is_empty() || lm.eval_multiples.contains(&0) {
            return Err(LabError::config(
                "lm.eval_multiples",
                format!("{:?}", lm.eval_multiples),
                "need at least one multiple, each ≥ 1",
            ));
        }
        if lm.eval_bytes < self.longest_eval() {
            return Err(LabError::config(
                "lm.eval_bytes",
                lm.eval_bytes,
                "must hold at least one window of the longest evaluation length",
            ));
        }
        for (name, lr) in [
            ("lm.lr", lm.lr),
            ("constructions.lr", self.constructions.lr),
        ] {
            if !(lr.is_finite() && lr > 0.0) {
                return Err(LabError::config(name, lr, "must be finite and > 0"));
            }
        }
        let c = &self.constructions;
        if c.seq_len < 3 {
            return Err(LabError::config(
                "constructions.seq_len",
                c.seq_len,
                "must be ≥ 3 (row 0 has a single key)",
            ));
        }
        if c.d_model < 2 || !c.d_model.is_multiple_of(2) {
            return Err(LabError::config(
                "constructions.d_model",
                c.d_model,
                "must be even and ≥ 2 (one RoPE head)",
            ));
        }
        if !(c.margin.is_finite() && c.margin > 0.0 && c.margin < 1.0) {
            return Err(LabError::config(
                "constructions.margin",
                c.margin,
                "must lie in (0, 1)",
            ));
        }
        if self.analysis.drift_distances.is_empty() {
            return Err(LabError::config(
                "analysis.drift_distances",
                "[]",
                "need at least one distance",
            ));
        }
        if self.seeds.is_empty() {
            return Err(LabError::config("seeds", "[]", "need at least one seed"));
        }
        let mut seeds = self.seeds.clone();
        seeds.sort_unstable();
        if seeds.windows(2).any(|w| w[0] == w[1]) {
            return Err(LabError::config(
                "seeds",
                format!("{:?}", self.seeds),
                "seeds must be distinct",
            ));
        }
        Ok(())
    }
}
