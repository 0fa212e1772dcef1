//! `config.json` → [`PretrainedDecoderConfig`]: which family, which widths, which per-layer
//! attention (RoPE from [`rigor_rope::hf`], sliding windows), which norms and caps.
//!
//! | `model_type` | what differs from Llama |
//! |---|---|
//! | `llama` | — (`attention_bias`, `mlp_bias` read) |
//! | `mistral` | `sliding_window` on every layer |
//! | `qwen2` | q/k/v biases, o without; sliding windows only with `use_sliding_window` (per `layer_types`) |
//! | `qwen3` | per-head q/k RMSNorm before RoPE; `attention_bias` |
//! | `gemma` | RMSNorm $\odot(1 + w)$, embedding $\times\sqrt{d}$, GeGLU, tied head |
//! | `gemma2` | + post-attention / pre- and post-feed-forward norms, logit soft-capping, `query_pre_attn_scalar`, alternating sliding layers |
//! | `gemma3_text` (or `gemma3` with `text_config`) | + q/k norms, per-layer-type RoPE (`rope_local_base_freq`), `sliding_window_pattern` |
//!
//! Any other `model_type` (or none) is an [`HfError::Config`] naming it.

use std::path::Path;

use rigor_nn::{MlpActivation, PretrainedDecoderConfig, PretrainedLayerConfig, RmsNormStyle};
use rigor_rope::hf::HfRope;
use rigor_softmax::Normalizer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{HfError, Result};

/// The supported `model_type` values.
pub const SUPPORTED_MODEL_TYPES: [&str; 8] = [
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "gemma",
    "gemma2",
    "gemma3_text",
    "gemma3",
];

/// A parsed `config.json`: the decoder configuration plus what it was read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HfModelConfig {
    /// `model_type` (for `gemma3` wrappers, the text model's).
    pub model_type: String,
    /// `max_position_embeddings`, when given.
    pub max_position_embeddings: Option<usize>,
    /// Every layer's RoPE as transformers builds it.
    pub rope: HfRope,
    /// The decoder to build.
    pub decoder: PretrainedDecoderConfig,
}

fn cfg_err(field: &str, value: &Value, reason: impl Into<String>) -> HfError {
    HfError::Config {
        field: field.to_string(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

fn missing(field: &str, reason: impl Into<String>) -> HfError {
    HfError::Config {
        field: field.to_string(),
        value: "missing".into(),
        reason: reason.into(),
    }
}

struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn usize(&self, key: &str) -> Result<Option<usize>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|x| usize::try_from(x).ok())
                .map(Some)
                .ok_or_else(|| cfg_err(key, v, "expected a non-negative integer")),
        }
    }

    fn req_usize(&self, key: &str) -> Result<usize> {
        self.usize(key)?
            .ok_or_else(|| missing(key, "required for the decoder"))
    }

    fn f64(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| cfg_err(key, v, "expected a finite number")),
        }
    }

    fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| cfg_err(key, v, "expected true or false")),
        }
    }

    fn str(&self, key: &str) -> Result<Option<&str>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| cfg_err(key, v, "expected a string")),
        }
    }
}

impl HfModelConfig {
    /// Reads `dir/config.json`.
    ///
    /// # Errors
    /// [`HfError::Io`] if it cannot be read; otherwise as [`from_json_str`](Self::from_json_str).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path).map_err(|source| HfError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json_str(&text)
    }

    /// Parses the text of a `config.json`.
    ///
    /// # Errors
    /// [`HfError::Config`] for invalid JSON, an unsupported `model_type`, or a missing or
    /// mistyped field; [`HfError::Rope`] for the RoPE fields; [`HfError::Nn`] when the decoder
    /// configuration is invalid (e.g. `num_key_value_heads` not dividing the heads).
    pub fn from_json_str(text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text).map_err(|e| HfError::Config {
            field: "<file>".into(),
            value: "not JSON".into(),
            reason: e.to_string(),
        })?;
        Self::from_json(&value)
    }

    /// Parses a `config.json` already read as JSON.
    ///
    /// # Errors
    /// As [`from_json_str`](Self::from_json_str).
    pub fn from_json(value: &Value) -> Result<Self> {
        let root = value
            .as_object()
            .ok_or_else(|| cfg_err("<root>", value, "expected a JSON object"))?;
        let outer_type = root.get("model_type").and_then(Value::as_str).unwrap_or("");
        let (map, text_value) = match (outer_type, root.get("text_config")) {
            ("gemma3", Some(Value::Object(t))) => (t, root.get("text_config").cloned()),
            _ => (root, None),
        };
        let f = Fields(map);
        let mut model_type = f.str("model_type")?.unwrap_or("").to_string();
        if model_type.is_empty() && outer_type == "gemma3" {
            model_type = "gemma3_text".into();
        }
        if !SUPPORTED_MODEL_TYPES.contains(&model_type.as_str()) {
            return Err(cfg_err(
                "model_type",
                &Value::from(model_type.clone()),
                format!("not a supported decoder family; supported: {SUPPORTED_MODEL_TYPES:?}"),
            ));
        }
        let mt = model_type.as_str();
        let rope = match text_value {
            Some(t) => {
                let mut t = t;
                if let Some(o) = t.as_object_mut() {
                    o.entry("model_type")
                        .or_insert_with(|| Value::from("gemma3_text"));
                }
                HfRope::from_json(&t)?
            }
            None => HfRope::from_json(value)?,
        };
        let gemma = mt.starts_with("gemma");
        let gemma2or3 = mt == "gemma2" || mt.starts_with("gemma3");
        let hidden_size = f.req_usize("hidden_size")?;
        let n_heads = f.req_usize("num_attention_heads")?;
        let n_layers = f.req_usize("num_hidden_layers")?;
        let n_kv_heads = f.usize("num_key_value_heads")?.unwrap_or(n_heads);
        let head_dim = match f.usize("head_dim")? {
            Some(d) => d,
            None if n_heads > 0 => hidden_size / n_heads,
            None => 0,
        };
        let act_name = f
            .str("hidden_activation")?
            .or(f.str("hidden_act")?)
            .unwrap_or(if gemma { "gelu_pytorch_tanh" } else { "silu" });
        let activation = match act_name {
            "silu" | "swish" => MlpActivation::Silu,
            "gelu_pytorch_tanh" | "gelu_new" | "gelu_fast" => MlpActivation::GeluTanh,
            // HF's Gemma (1) replaces a configured exact "gelu" by the tanh form as well.
            "gelu" if mt == "gemma" => MlpActivation::GeluTanh,
            "gelu" => MlpActivation::Gelu,
            other => {
                return Err(cfg_err(
                    if f.get("hidden_activation").is_some() {
                        "hidden_activation"
                    } else {
                        "hidden_act"
                    },
                    &Value::from(other),
                    "unsupported activation (silu, gelu, gelu_pytorch_tanh, gelu_new)",
                ));
            }
        };
        let attention_bias = f.bool("attention_bias")?.unwrap_or(false);
        let (qkv_bias, output_bias) = match mt {
            "qwen2" => (true, false),
            _ => (attention_bias, attention_bias),
        };
        let tie_default = gemma;
        let tie_word_embeddings = root
            .get("tie_word_embeddings")
            .and_then(Value::as_bool)
            .or(f.bool("tie_word_embeddings")?)
            .unwrap_or(tie_default);
        let sliding_window = f.usize("sliding_window")?;
        let use_sliding = match mt {
            "qwen2" => f.bool("use_sliding_window")?.unwrap_or(false),
            _ => true,
        };
        let layer_windows: Vec<Option<usize>> = rope
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let sliding_layer = match mt {
                    "mistral" => true,
                    "qwen2" => {
                        // transformers: sliding on layers >= max_window_layers when enabled,
                        // or as `layer_types` says.
                        if f.get("layer_types").is_some() {
                            l.layer_type == "sliding_attention"
                        } else {
                            let max_window_layers = f
                                .usize("max_window_layers")
                                .ok()
                                .flatten()
                                .unwrap_or(n_layers);
                            i >= max_window_layers
                        }
                    }
                    _ => l.layer_type == "sliding_attention",
                };
                if use_sliding && sliding_layer {
                    sliding_window
                } else {
                    None
                }
            })
            .collect();
        if rope.layers.len() != n_layers {
            return Err(cfg_err(
                "num_hidden_layers",
                &Value::from(n_layers),
                format!("RoPE was read for {} layers", rope.layers.len()),
            ));
        }
        if rope.head_dim != head_dim {
            return Err(cfg_err(
                "head_dim",
                &Value::from(head_dim),
                format!("RoPE head dim is {}", rope.head_dim),
            ));
        }
        let layers = rope
            .layers
            .iter()
            .zip(layer_windows)
            .map(|(l, w)| PretrainedLayerConfig {
                rope: l.rope.clone(),
                sliding_window: w,
                query_temperature: l.query_temperature,
            })
            .collect();
        let attention_scale = if gemma2or3 {
            let q = f.f64("query_pre_attn_scalar")?.unwrap_or(head_dim as f64);
            if q <= 0.0 {
                return Err(cfg_err(
                    "query_pre_attn_scalar",
                    &Value::from(q),
                    "must be > 0",
                ));
            }
            Some(q.powf(-0.5))
        } else {
            None
        };
        let decoder = PretrainedDecoderConfig {
            vocab_size: f.req_usize("vocab_size")?,
            hidden_size,
            intermediate_size: f.req_usize("intermediate_size")?,
            n_heads,
            n_kv_heads,
            head_dim,
            rms_norm_eps: f.f64("rms_norm_eps")?.unwrap_or(1e-6),
            norm_style: if gemma {
                RmsNormStyle::OnePlusWeight
            } else {
                RmsNormStyle::Weight
            },
            activation,
            qkv_bias,
            output_bias,
            mlp_bias: f.bool("mlp_bias")?.unwrap_or(false),
            qk_norm: mt == "qwen3" || mt.starts_with("gemma3"),
            sandwich_norms: gemma2or3,
            tie_word_embeddings,
            embedding_scale: gemma.then(|| (hidden_size as f64).sqrt()),
            attn_logit_softcap: if gemma2or3 {
                f.f64("attn_logit_softcapping")?
            } else {
                None
            },
            final_logit_softcap: if gemma2or3 {
                f.f64("final_logit_softcapping")?
            } else {
                None
            },
            attention_scale,
            layers,
            normalizer: Normalizer::softmax(),
        };
        decoder.validate()?;
        Ok(Self {
            model_type,
            max_position_embeddings: f.usize("max_position_embeddings")?,
            rope,
            decoder,
        })
    }

    /// Number of parameters the decoder holds (saturating at `u64::MAX` for absurd configs).
    pub fn parameter_count(&self) -> u64 {
        let c = &self.decoder;
        let n = |x: usize| x as u64;
        let mul = |a: u64, b: u64| a.saturating_mul(b);
        let (d, hd, f, v) = (
            n(c.hidden_size),
            n(c.head_dim),
            n(c.intermediate_size),
            n(c.vocab_size),
        );
        let (h, kv) = (n(c.n_heads), n(c.n_kv_heads));
        let attn = mul(mul(d, hd), mul(h, 2).saturating_add(mul(kv, 2)));
        let mlp = mul(3, mul(d, f));
        let norms = mul(d, if c.sandwich_norms { 4 } else { 2 }).saturating_add(if c.qk_norm {
            mul(2, hd)
        } else {
            0
        });
        let per_layer = attn.saturating_add(mlp).saturating_add(norms);
        let embed = mul(v, d);
        let head = if c.tie_word_embeddings { 0 } else { embed };
        embed
            .saturating_add(mul(n(c.layers.len()), per_layer))
            .saturating_add(d)
            .saturating_add(head)
    }
}
