//! A loaded checkpoint: [`HfModel::load`] reads `config.json` and the safetensors weights of
//! a model directory into a [`PretrainedDecoder`].

use std::path::Path;

use burn::tensor::{Device, Int, Tensor};
use rigor_nn::{PretrainedDecoder, WeightSource};
use rigor_perplexity::{CausalLm, PerplexityError};
use rigor_rope::TensorLayout;
use rigor_rope::theory::usage::FrequencyUsage;
use rigor_softmax::Normalizer;

use crate::config::HfModelConfig;
use crate::error::{HfError, Result};
use crate::weights::SafetensorsSource;

/// A HuggingFace decoder checkpoint in rigor: the parsed config and the decoder.
#[derive(Debug)]
pub struct HfModel {
    /// What `config.json` says.
    pub config: HfModelConfig,
    /// The decoder with the checkpoint's weights.
    pub decoder: PretrainedDecoder,
    /// Tensors in the checkpoint the decoder did not use (e.g. a tied model's saved
    /// `lm_head.weight`, old rotary `inv_freq` buffers).
    pub unused_tensors: Vec<String>,
}

/// Bytes of memory the host reports as available (`MemAvailable` in `/proc/meminfo`), when
/// it can be read.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

impl HfModel {
    /// Loads `dir` (`config.json` + `model.safetensors`, or shards with
    /// `model.safetensors.index.json`) onto `device`; weights are converted to `f32`.
    ///
    /// Before reading any weight it checks that the parameters fit: f32 parameters need at
    /// most the host's available memory (Linux `MemAvailable`; skipped where unknown).
    ///
    /// # Errors
    /// [`HfError::Io`] for a missing file; [`HfError::Config`] / [`HfError::Rope`] for the
    /// config; [`HfError::TooLarge`]; [`HfError::Nn`] with [`rigor_nn::NnError::Weight`]
    /// naming the first missing or mis-shaped tensor.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let config = HfModelConfig::from_dir(dir)?;
        let mut source = SafetensorsSource::open(dir)?;
        let needed = config.parameter_count().saturating_mul(4);
        if let Some(available) = available_memory()
            && needed > available
        {
            return Err(HfError::TooLarge {
                needed_bytes: needed,
                available_bytes: available,
            });
        }
        Self::from_source(config, &mut source, device).map(|(decoder, config)| {
            let mut unused = source.unused();
            if decoder.config().tie_word_embeddings {
                unused.retain(|n| n != "lm_head.weight");
            }
            Self {
                config,
                decoder,
                unused_tensors: unused,
            }
        })
    }

    fn from_source(
        config: HfModelConfig,
        source: &mut dyn WeightSource,
        device: &Device,
    ) -> Result<(PretrainedDecoder, HfModelConfig)> {
        let decoder = config.decoder.init_from(source, device)?;
        Ok((decoder, config))
    }

    /// Swaps the attention normalizer in every layer (the drop-in experiment of *Softmax is
    /// not Enough*); the weights are untouched.
    pub fn set_normalizer(&mut self, normalizer: Normalizer) {
        self.decoder.set_normalizer(normalizer);
    }

    /// Uses any [`Normalize`](rigor_softmax::Normalize) implementor — a user's own — in every
    /// layer's attention (see [`PretrainedDecoder::set_custom_normalizer`]); the weights are
    /// untouched and [`set_normalizer`](Self::set_normalizer) goes back to a built-in one.
    pub fn set_custom_normalizer(
        &mut self,
        normalizer: std::sync::Arc<dyn rigor_softmax::Normalize>,
    ) {
        self.decoder.set_custom_normalizer(normalizer);
    }

    /// Next-token logits `[b, s, V]`.
    ///
    /// # Errors
    /// As [`PretrainedDecoder::forward`].
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Result<Tensor<3>> {
        Ok(self.decoder.forward(tokens)?)
    }

    /// The frequency usage of *Round and Round We Go!* §6 over `tokens`: per layer (with
    /// RoPE), head and frequency slot, the mean norm of the 2-D query and key chunks before
    /// rotation (rotation keeps chunk norms). Layers without RoPE (Llama 4's NoPE layers) are
    /// skipped (their indices are not in [`CheckpointUsage::layers`]); frequencies and
    /// wavelengths are those of the first RoPE layer (Gemma 3's local layers have another
    /// θ — compare their rows with that in mind). `None` when no layer has RoPE.
    ///
    /// # Errors
    /// As [`forward`](Self::forward); [`HfError::Rope`] from the measure.
    pub fn frequency_usage(&self, tokens: Tensor<2, Int>) -> Result<Option<CheckpointUsage>> {
        let ropes = self.decoder.ropes();
        let Some(first) = ropes.iter().flatten().next().copied() else {
            return Ok(None);
        };
        let first = first.clone();
        let qk = self.decoder.queries_keys(tokens)?;
        let (mut qs, mut ks, mut layers) = (Vec::new(), Vec::new(), Vec::new());
        for (i, ((q, k), rope)) in qk.into_iter().zip(ropes).enumerate() {
            if rope.is_some() {
                qs.push(q);
                ks.push(k);
                layers.push(i);
            }
        }
        Ok(Some(CheckpointUsage {
            query: FrequencyUsage::from_activations("query", &qs, TensorLayout::Bhsd, &first)?,
            key: FrequencyUsage::from_activations("key", &ks, TensorLayout::Bhsd, &first)?,
            layers,
        }))
    }
}

/// Frequency usage of a checkpoint's queries and keys ([`HfModel::frequency_usage`]).
#[derive(Debug, Clone)]
pub struct CheckpointUsage {
    /// Query chunk norms, `norms[i][head][slot]` for the `i`-th entry of `layers`.
    pub query: FrequencyUsage,
    /// Key chunk norms (`n_kv` heads).
    pub key: FrequencyUsage,
    /// The model layers measured (those with RoPE).
    pub layers: Vec<usize>,
}

/// rigor-perplexity's evaluators (pooled perplexity, sliding windows, calibration) run on a
/// loaded checkpoint directly.
impl CausalLm for HfModel {
    fn logits(&self, tokens: Tensor<2, Int>) -> rigor_perplexity::Result<Tensor<3>> {
        self.decoder.forward(tokens).map_err(PerplexityError::model)
    }
}
