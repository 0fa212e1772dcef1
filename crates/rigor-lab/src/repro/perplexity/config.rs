//! Configuration of the perplexity reproduction, with presets per [`Scale`].

use burn::tensor::Device;
use rigor_nn::{DecoderLm, DecoderLmConfig, NormKind, PositionalEncoding};
use rigor_rope::RopeConfig;
use serde::{Deserialize, Serialize};

use crate::error::{LabError, Result};
use crate::report::Scale;
use crate::tasks::copy::VOCAB;

/// The decoder both experiments train: rigor-nn's [`DecoderLm`] over the alphabet
/// {0, 1, SEP} with RoPE (θ = 10 000) in every layer — a "compact position embedding" in
/// the paper's sense (S3, Lemma 3.1's setting).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmSpec {
    /// Model width.
    pub d_model: usize,
    /// Attention heads per block.
    pub n_heads: usize,
    /// Blocks.
    pub n_layers: usize,
    /// RoPE base θ.
    pub rope_theta: f64,
    /// The longest sequence (tokens) the model is run on. RoPE itself has no length limit;
    /// this bounds the evaluation lengths (a copy prompt of N bits is 2N tokens) so that a
    /// mistyped N is an error, not an allocation of N² attention scores.
    pub context: usize,
}

impl LmSpec {
    /// The rigor-nn configuration (pre-norm RMSNorm blocks, GELU MLP of width 4·d, no
    /// dropout, untied head).
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] unless `n_heads` divides `d_model` into even head widths.
    pub fn decoder(&self) -> Result<DecoderLmConfig> {
        if self.n_heads == 0 || !self.d_model.is_multiple_of(self.n_heads) {
            return Err(LabError::config(
                "LmSpec::n_heads",
                self.n_heads,
                "must be ≥ 1 and divide d_model",
            ));
        }
        let head_dim = self.d_model / self.n_heads;
        if !head_dim.is_multiple_of(2) {
            return Err(LabError::config(
                "LmSpec::d_model / n_heads",
                head_dim,
                "RoPE needs an even head width",
            ));
        }
        Ok(
            DecoderLmConfig::new(VOCAB, self.d_model, self.n_heads, self.n_layers)
                .with_positional(PositionalEncoding::Rope(
                    RopeConfig::new(head_dim).with_theta(self.rope_theta),
                ))
                .with_norm(NormKind::RmsNorm),
        )
    }

    /// Builds the model on `device` (seed the device first for reproducible weights).
    ///
    /// # Errors
    /// As [`decoder`](Self::decoder) and [`DecoderLmConfig::init`].
    pub fn init(&self, device: &Device) -> Result<DecoderLm> {
        Ok(self.decoder()?.init(device)?)
    }
}

/// Training of one model on a sequence task whose string length is drawn per step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmTraining {
    /// AdamW steps.
    pub steps: usize,
    /// Sequences per step.
    pub batch: usize,
    /// Peak learning rate (linear warm-up, cosine decay to a tenth).
    pub lr: f64,
    /// Warm-up steps.
    pub warmup: usize,
    /// Each step's bit strings have one length drawn uniformly from `min_len..=max_len`.
    pub min_len: usize,
    /// Longest training string (the paper: 16).
    pub max_len: usize,
}

/// Experiment 1: the copy task, α_N = 0…0 against β_N = 0…01 (S3, Lemma 3.1 / Prop. 3.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyExperiment {
    /// Training.
    pub train: LmTraining,
    /// The string lengths N at which α_N and β_N are scored (the paper: 16 … 512).
    pub lengths: Vec<usize>,
    /// Lengths at which the counterexample finder searches single-bit flips of α_N.
    pub search_lengths: Vec<usize>,
    /// The finder's tolerance ξ (nats per bit).
    pub xi: f64,
    /// Strings per model call in the finder.
    pub search_batch: usize,
}

/// Experiments 2 and 3: prefix parity over training checkpoints, and iso-perplexity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParityExperiment {
    /// Training.
    pub train: LmTraining,
    /// Evaluate a checkpoint every this many steps (the paper: 100).
    pub checkpoint_every: usize,
    /// In-distribution test lengths (each ≤ the training `max_len`).
    pub id_lengths: Vec<usize>,
    /// Out-of-distribution test length (the paper: 128).
    pub ood_length: usize,
    /// Test sequences per length (the same sets for every checkpoint).
    pub test_per_length: usize,
    /// Sequences per model call at test time.
    pub eval_batch: usize,
    /// Bootstrap resamples for the CI of Pearson's r (0: none).
    pub bootstrap: usize,
}

/// Everything the reproduction does (written to `results.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerplexityReproConfig {
    /// The model of both experiments.
    pub model: LmSpec,
    /// Experiment 1.
    pub copy: CopyExperiment,
    /// Experiments 2–3.
    pub parity: ParityExperiment,
    /// Seeds: experiment 1 trains one copy model per seed; experiment 2 one parity run per
    /// seed, whose checkpoints are pooled for the correlations.
    pub seeds: Vec<u64>,
}

impl PerplexityReproConfig {
    /// The preset for `scale`.
    ///
    /// - `Tiny` (tests, seconds): d = 32, 1 layer, 60 / 60 steps, N ≤ 64.
    /// - `Default` (minutes on 2 CPU cores): d = 64, 2 layers, 4 heads; copy 1 500 steps,
    ///   N = 16 … 512; parity 2 000 steps with a checkpoint every 100; 1 seed.
    /// - `Full`: copy 6 000 steps, parity for the paper's 5 000 steps, 3 seeds.
    pub fn at_scale(scale: Scale) -> Self {
        let train = LmTraining {
            steps: 1_500,
            batch: 64,
            lr: 3e-3,
            warmup: 100,
            min_len: 1,
            max_len: 16,
        };
        let base = Self {
            model: LmSpec {
                d_model: 64,
                n_heads: 4,
                n_layers: 2,
                rope_theta: 10_000.0,
                context: 1_024,
            },
            copy: CopyExperiment {
                train: train.clone(),
                lengths: vec![16, 32, 64, 128, 256, 512],
                search_lengths: vec![16, 64, 256],
                xi: 0.05,
                search_batch: 8,
            },
            parity: ParityExperiment {
                train: LmTraining {
                    steps: 2_000,
                    ..train
                },
                checkpoint_every: 100,
                id_lengths: vec![4, 8, 12, 16],
                ood_length: 128,
                test_per_length: 64,
                eval_batch: 32,
                bootstrap: 1_000,
            },
            seeds: vec![0],
        };
        match scale {
            Scale::Default => base,
            Scale::Tiny => Self {
                model: LmSpec {
                    d_model: 32,
                    n_heads: 2,
                    n_layers: 1,
                    ..base.model
                },
                copy: CopyExperiment {
                    train: LmTraining {
                        steps: 60,
                        batch: 16,
                        warmup: 10,
                        max_len: 8,
                        ..base.copy.train
                    },
                    lengths: vec![8, 16, 64],
                    search_lengths: vec![8],
                    ..base.copy
                },
                parity: ParityExperiment {
                    train: LmTraining {
                        steps: 60,
                        batch: 16,
                        warmup: 10,
                        max_len: 8,
                        ..base.parity.train
                    },
                    checkpoint_every: 20,
                    id_lengths: vec![4, 8],
                    ood_length: 32,
                    test_per_length: 8,
                    eval_batch: 8,
                    bootstrap: 50,
                },
                seeds: vec![0],
            },
            Scale::Full => Self {
                copy: CopyExperiment {
                    train: LmTraining {
                        steps: 6_000,
                        ..base.copy.train.clone()
                    },
                    ..base.copy.clone()
                },
                parity: ParityExperiment {
                    train: LmTraining {
                        steps: 5_000,
                        ..base.parity.train
                    },
                    ..base.parity
                },
                seeds: vec![0, 1, 2],
                ..base
            },
        }
    }

    /// Checks the configuration before anything is trained.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] naming the field: a length N whose 2N-token prompt exceeds
    /// [`LmSpec::context`], zero sizes or steps, an empty length or
    /// seed list, a zero length, `min_len > max_len`, an in-distribution length beyond the
    /// training length, a checkpoint interval outside `1..=steps`, a non-finite or
    /// non-positive ξ or learning rate, repeated seeds; and the model errors of
    /// [`LmSpec::decoder`].
    pub fn validate(&self) -> Result<()> {
        self.model.decoder()?;
        if self.model.d_model == 0 || self.model.n_layers == 0 {
            return Err(LabError::config(
                "LmSpec::d_model / n_layers",
                format!("{} / {}", self.model.d_model, self.model.n_layers),
                "must be ≥ 1",
            ));
        }
        let longest = self
            .copy
            .lengths
            .iter()
            .chain(&self.copy.search_lengths)
            .chain(&self.parity.id_lengths)
            .chain([&self.parity.ood_length])
            .copied()
            .max()
            .unwrap_or(0);
        if 2 * longest > self.model.context {
            return Err(LabError::config(
                "length N (2N tokens)",
                longest,
                "beyond the model's context (LmSpec::context)",
            ));
        }
        if !(self.model.rope_theta.is_finite() && self.model.rope_theta > 1.0) {
            return Err(LabError::config(
                "LmSpec::rope_theta",
                self.model.rope_theta,
                "must be finite and > 1",
            ));
        }
        for (name, t) in [
            ("copy.train", &self.copy.train),
            ("parity.train", &self.parity.train),
        ] {
            check_training(name, t)?;
        }
        nonempty_lengths("copy.lengths", &self.copy.lengths)?;
        if !self.copy.search_lengths.is_empty() {
            nonempty_lengths("copy.search_lengths", &self.copy.search_lengths)?;
        }
        if !(self.copy.xi.is_finite() && self.copy.xi > 0.0) {
            return Err(LabError::config(
                "copy.xi",
                self.copy.xi,
                "must be finite and > 0",
            ));
        }
        let p = &self.parity;
        for (name, v) in [
            ("copy.search_batch", self.copy.search_batch),
            ("parity.test_per_length", p.test_per_length),
            ("parity.eval_batch", p.eval_batch),
            ("parity.ood_length", p.ood_length),
        ] {
            if v == 0 {
                return Err(LabError::config(name, v, "must be ≥ 1"));
            }
        }
        if p.checkpoint_every == 0 || p.checkpoint_every > p.train.steps {
            return Err(LabError::config(
                "parity.checkpoint_every",
                p.checkpoint_every,
                "must be in 1..=parity.train.steps",
            ));
        }
        nonempty_lengths("parity.id_lengths", &p.id_lengths)?;
        if let Some(&l) = p.id_lengths.iter().find(|&&l| l > p.train.max_len) {
            return Err(LabError::config(
                "parity.id_lengths",
                l,
                "in-distribution lengths must be ≤ parity.train.max_len",
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

fn check_training(name: &'static str, t: &LmTraining) -> Result<()> {
    if t.steps == 0 || t.batch == 0 {
        return Err(LabError::config(
            name,
            format!("steps {} batch {}", t.steps, t.batch),
            "steps and batch must be ≥ 1",
        ));
    }
    if t.min_len == 0 || t.min_len > t.max_len {
        return Err(LabError::config(
            name,
            format!("min_len {} max_len {}", t.min_len, t.max_len),
            "need 1 ≤ min_len ≤ max_len",
        ));
    }
    if !(t.lr.is_finite() && t.lr > 0.0) {
        return Err(LabError::config(name, t.lr, "lr must be finite and > 0"));
    }
    Ok(())
}

fn nonempty_lengths(name: &'static str, lengths: &[usize]) -> Result<()> {
    if lengths.is_empty() {
        return Err(LabError::config(name, "[]", "need at least one length"));
    }
    if lengths.contains(&0) {
        return Err(LabError::config(name, 0, "a bit string needs length ≥ 1"));
    }
    Ok(())
}
