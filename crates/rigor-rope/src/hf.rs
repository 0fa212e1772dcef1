//! RoPE from a HuggingFace `config.json`: every layer's [`RopeConfig`] exactly as HF
//! transformers builds it (`modeling_rope_utils.py`, `ROPE_INIT_FUNCTIONS`, and the
//! `standardize_rope_params` rules that turn a v4 config into the v5 form).
//!
//! Both forms are read:
//!
//! - **transformers v4**: `rope_theta` at the top level, `rope_scaling = {"type" | "rope_type":
//!   …, "factor": …}`, `partial_rotary_factor` at the top level; model-specific spellings
//!   (GPT-NeoX's `rotary_pct` / `rotary_emb_base`, Gemma 3's `rope_local_base_freq` for its
//!   sliding layers, Phi-3's top-level `original_max_position_embeddings`, Qwen2-VL's
//!   `"type": "mrope"`, Phi-3's old `"su"`).
//! - **transformers v5**: `rope_parameters = {"rope_type": …, "rope_theta": …, …}`, or one such
//!   dict per layer type (`{"sliding_attention": {…}, "full_attention": {…}}`, Gemma 3), with
//!   `layer_types` naming each layer's type.
//!
//! | `rope_type` | rigor | HF function |
//! |---|---|---|
//! | `default` (also `axial`, `mrope`) | [`Scaling::None`] | `_compute_default_rope_parameters` |
//! | `linear` | [`Scaling::Linear`] | `_compute_linear_scaling_rope_parameters` |
//! | `dynamic` | [`Scaling::DynamicNtk`] with $L_0$ = `max_position_embeddings` | `_compute_dynamic_ntk_parameters` |
//! | `yarn` (incl. `mscale`, `mscale_all_dim`, `truncate`) | [`Scaling::Yarn`] | `_compute_yarn_parameters` |
//! | `longrope` (`su`) | [`Scaling::LongRope`] | `_compute_longrope_parameters` |
//! | `llama3` | [`Scaling::Llama3`] | `_compute_llama3_parameters` |
//! | `proportional` | [`Rotation::Proportional`] (+ [`Scaling::Linear`] when `factor` ≠ 1) | `_compute_proportional_rope_parameters` |
//!
//! `partial_rotary_factor` < 1 outside `proportional` is GPT-NeoX partial rotary
//! ([`Rotation::NeoxPartial`], `int(head_dim · factor)` rotated coordinates) — a different
//! spectrum from p-RoPE (see [`crate::frequencies::rotation`]). `mrope_section` gives
//! [`Axes::MRope`], with `mrope_interleaved` (or a `qwen3_vl*` model) [`Axes::MRopeInterleaved`].
//! Llama 4's NoPE layers (`no_rope_layers`, `no_rope_layer_interval`) get no RoPE and, with
//! `attn_temperature_tuning`, the query scale of [`AttnTemperatureTuning`].
//!
//! Anything this module does not know — an unknown `rope_type`, a key a rope type does not
//! use, a field of the wrong JSON type, `layer_types` of the wrong length, `rope_scaling` and
//! `rope_parameters` that disagree — is a [`RopeError::HfConfig`] naming the field and the
//! value. Nothing is silently ignored inside a RoPE dict; top-level fields unrelated to RoPE
//! are not read.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::{Axes, RopeConfig};
use crate::error::{Result, RopeError};
use crate::frequencies::Rotation;
use crate::layout::Layout;
use crate::scaling::{Llama3Config, LongRopeConfig, Scaling, YarnAttention, YarnConfig};

/// Llama 4's attention temperature tuning on NoPE layers: queries at absolute position $p$
/// are multiplied by
/// $$ \tau(p) = \ln\bigl(1 + \lfloor (p + 1) / f \rfloor\bigr)\\, a + 1 $$
/// with $f$ = `floor_scale` (8192) and $a$ = `attn_scale` (0.1) — HF's `Llama4TextAttention`
/// (`torch.log1p(torch.floor((positions + 1) / floor_scale)) * attn_scale + 1`). $\tau = 1$
/// for every position below $f - 1$, so short contexts are unaffected.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AttnTemperatureTuning {
    /// $f$, `floor_scale` (> 0).
    pub floor_scale: f64,
    /// $a$, `attn_scale` (finite).
    pub attn_scale: f64,
}

impl AttnTemperatureTuning {
    /// Llama 4's values: $f = 8192$, $a = 0.1$.
    pub fn llama4() -> Self {
        Self {
            floor_scale: 8192.0,
            attn_scale: 0.1,
        }
    }

    /// $\tau(p)$ for an absolute position $p$. Finite for the values the parser and
    /// `rigor_nn`'s decoder config accept (`floor_scale` finite and > 0, `attn_scale`
    /// finite); a hand-built `floor_scale` ≤ 0 gives ±∞ or NaN.
    pub fn scale(&self, position: usize) -> f64 {
        ((position as f64 + 1.0) / self.floor_scale).floor().ln_1p() * self.attn_scale + 1.0
    }
}

/// RoPE of one decoder layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HfLayerRope {
    /// The layer's type (`full_attention`, `sliding_attention`, `chunked_attention`, …; HF's
    /// `layer_types`, `full_attention` when the config names none).
    pub layer_type: String,
    /// The rotary encoding; `None` on NoPE layers (Llama 4).
    pub rope: Option<RopeConfig>,
    /// Llama 4's query temperature on NoPE layers, when `attn_temperature_tuning` is on.
    pub query_temperature: Option<AttnTemperatureTuning>,
}

/// Every layer's RoPE, read from a HuggingFace `config.json` (see the [module docs](self)).
///
/// ```
/// use rigor_rope::hf::HfRope;
/// use rigor_rope::Scaling;
///
/// let json = r#"{"model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32,
///   "num_hidden_layers": 32, "max_position_embeddings": 131072, "rope_theta": 500000.0,
///   "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
///                    "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}"#;
/// let hf = HfRope::from_json_str(json).unwrap();
/// assert_eq!(hf.head_dim, 128);
/// let rope = hf.layers[0].rope.as_ref().unwrap();
/// assert!(matches!(rope.scaling, Scaling::Llama3(_)));
///
/// let bad = json.replace("llama3", "llama33");
/// let err = HfRope::from_json_str(&bad).unwrap_err().to_string();
/// assert!(err.contains("rope_type") && err.contains("llama33"), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HfRope {
    /// `model_type`, when the config has one.
    pub model_type: Option<String>,
    /// Head dimension the rotation acts on (`head_dim`, DeepSeek's `qk_rope_head_dim`, or
    /// `hidden_size / num_attention_heads`).
    pub head_dim: usize,
    /// One entry per layer (`num_hidden_layers`).
    pub layers: Vec<HfLayerRope>,
    /// The distinct RoPE of each layer type (`default` when one dict serves every layer).
    pub by_type: BTreeMap<String, RopeConfig>,
    /// DeepSeek's MLA multiplies its softmax scale by $\mathrm{mscale}(s, m_\text{all})^2$
    /// when YaRN has `mscale_all_dim` (HF `yarn_apply_mscale`); 1 for every other model.
    pub softmax_scale_factor: f64,
}

/// The rope-related keys a RoPE dict may hold, by `rope_type` (HF's `_validate_*` required and
/// optional keys, plus the M-RoPE keys of the multimodal configs).
fn allowed_keys(rope_type: &str) -> &'static [&'static str] {
    const COMMON: [&str; 4] = ["rope_type", "type", "rope_theta", "partial_rotary_factor"];
    match rope_type {
        "default" | "axial" | "mrope" => &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            "mrope_section",
            "mrope_interleaved",
        ],
        "linear" | "dynamic" | "proportional" => {
            &[COMMON[0], COMMON[1], COMMON[2], COMMON[3], "factor"]
        }
        "yarn" => &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            "factor",
            "original_max_position_embeddings",
            "attention_factor",
            "beta_fast",
            "beta_slow",
            "mscale",
            "mscale_all_dim",
            "truncate",
        ],
        "longrope" | "su" => &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            "short_factor",
            "long_factor",
            "factor",
            "attention_factor",
            "original_max_position_embeddings",
        ],
        "llama3" => &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            "factor",
            "low_freq_factor",
            "high_freq_factor",
            "original_max_position_embeddings",
        ],
        _ => &[],
    }
}

const ROPE_TYPES: [&str; 10] = [
    "default",
    "axial",
    "mrope",
    "linear",
    "dynamic",
    "yarn",
    "longrope",
    "su",
    "llama3",
    "proportional",
];

fn hf_err(field: impl Into<String>, value: &Value, reason: impl Into<String>) -> RopeError {
    let mut text = value.to_string();
    if text.len() > 200 {
        let mut cut = 200;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    RopeError::HfConfig {
        field: field.into(),
        value: text,
        reason: reason.into(),
    }
}

fn missing(field: impl Into<String>, reason: impl Into<String>) -> RopeError {
    RopeError::HfConfig {
        field: field.into(),
        value: "missing".into(),
        reason: reason.into(),
    }
}

/// A JSON object with the path it sits at, for error messages.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value, treating JSON `null` as absent (HF writes `null` for unset fields).
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn f64(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(hf_err(self.field(key), v, "expected a finite number")),
            },
        }
    }

    fn usize(&self, key: &str) -> Result<Option<usize>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(x) => usize::try_from(x)
                    .map(Some)
                    .map_err(|_| hf_err(self.field(key), v, "too large")),
                None => match v.as_f64() {
                    // HF configs sometimes write integers as 8192.0
                    Some(x) if x >= 0.0 && x.fract() == 0.0 && x < 9.0e15 => Ok(Some(x as usize)),
                    _ => Err(hf_err(
                        self.field(key),
                        v,
                        "expected a non-negative integer",
                    )),
                },
            },
        }
    }

    fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| hf_err(self.field(key), v, "expected true or false")),
        }
    }

    fn str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| hf_err(self.field(key), v, "expected a string")),
        }
    }

    fn f64_list(&self, key: &str) -> Result<Option<Vec<f64>>> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let arr = v
            .as_array()
            .ok_or_else(|| hf_err(self.field(key), v, "expected a list of numbers"))?;
        arr.iter()
            .map(|x| {
                x.as_f64()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| hf_err(self.field(key), v, "expected finite numbers only"))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    fn usize_list(&self, key: &str) -> Result<Option<Vec<usize>>> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let arr = v
            .as_array()
            .ok_or_else(|| hf_err(self.field(key), v, "expected a list of integers"))?;
        arr.iter()
            .map(|x| {
                x.as_u64()
                    .and_then(|x| usize::try_from(x).ok())
                    .ok_or_else(|| hf_err(self.field(key), v, "expected non-negative integers"))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    fn object(&self, key: &str) -> Result<Option<Obj<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_object()
                .map(|map| {
                    Some(Obj {
                        map,
                        path: self.field(key),
                    })
                })
                .ok_or_else(|| hf_err(self.field(key), v, "expected a JSON object")),
        }
    }
}

/// Top-level facts a RoPE dict is completed with (HF's `standardize_rope_params`).
struct Defaults<'a> {
    model_type: &'a str,
    head_dim: usize,
    theta: f64,
    partial_rotary_factor: Option<f64>,
    max_position_embeddings: Option<usize>,
    /// A top-level `original_max_position_embeddings` (Phi-3), which wins over the dict's in
    /// a non-nested config.
    top_original: Option<usize>,
    layout: Layout,
    nested: bool,
    /// The top-level dict's `truncate` (HF reads `config.rope_parameters.get("truncate")`).
    truncate: Option<bool>,
}

impl HfRope {
    /// Reads `config.json` at `path`.
    ///
    /// # Errors
    /// [`RopeError::Io`] if the file cannot be read; otherwise as
    /// [`from_json_str`](Self::from_json_str).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| RopeError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_json_str(&text)
    }

    /// Parses the text of a `config.json`.
    ///
    /// # Errors
    /// [`RopeError::HfConfig`] for invalid JSON or any field problem (see the
    /// [module docs](self)); the [`RopeConfig::validate`] errors for values out of range.
    pub fn from_json_str(text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text).map_err(|e| RopeError::HfConfig {
            field: "<file>".into(),
            value: "not JSON".into(),
            reason: e.to_string(),
        })?;
        Self::from_json(&value)
    }

    /// Parses a `config.json` already read as JSON. A multimodal wrapper (Gemma 3, Llama 4,
    /// Qwen-VL in the v5 form) is read through its `text_config` when the top level has no
    /// `num_hidden_layers`.
    ///
    /// # Errors
    /// As [`from_json_str`](Self::from_json_str).
    pub fn from_json(value: &Value) -> Result<Self> {
        let root = value
            .as_object()
            .ok_or_else(|| hf_err("<root>", value, "expected a JSON object"))?;
        let root = Obj {
            map: root,
            path: String::new(),
        };
        let cfg = match (root.get("num_hidden_layers"), root.object("text_config")?) {
            (None, Some(text)) => text,
            _ => root,
        };
        parse(&cfg)
    }

    /// The RoPE of layer `layer` (`None` on NoPE layers or past the last layer).
    pub fn layer(&self, layer: usize) -> Option<&RopeConfig> {
        self.layers.get(layer).and_then(|l| l.rope.as_ref())
    }
}

fn parse(cfg: &Obj<'_>) -> Result<HfRope> {
    let model_type = cfg.str("model_type")?.unwrap_or("").to_string();
    let mt = model_type.as_str();
    let n_layers = cfg.usize("num_hidden_layers")?.ok_or_else(|| {
        missing(
            cfg.field("num_hidden_layers"),
            "needed for one RoPE per layer",
        )
    })?;
    if n_layers == 0 {
        return Err(hf_err(
            cfg.field("num_hidden_layers"),
            &Value::from(0),
            "must be > 0",
        ));
    }
    let head_dim = head_dim(cfg, mt)?;
    let is_neox = mt == "gpt_neox" || mt == "gpt_neox_japanese";
    let is_gemma3 = mt == "gemma3" || mt == "gemma3_text";
    let default_theta = if is_gemma3 { 1.0e6 } else { 10_000.0 };
    let theta = match cfg.f64("rope_theta")? {
        Some(t) => t,
        None if is_neox => cfg.f64("rotary_emb_base")?.unwrap_or(default_theta),
        None => default_theta,
    };
    let mut partial_rotary_factor = cfg.f64("partial_rotary_factor")?;
    if is_neox && partial_rotary_factor.is_none() {
        partial_rotary_factor = Some(cfg.f64("rotary_pct")?.unwrap_or(0.25));
    }
    let max_position_embeddings = cfg.usize("max_position_embeddings")?;
    let top_original = cfg.usize("original_max_position_embeddings")?;
    let layout = layout(cfg, mt)?;

    // rope_scaling (v4) and rope_parameters (v5): HF takes rope_scaling when both are given;
    // rigor refuses two that disagree.
    let scaling = cfg.object("rope_scaling")?;
    let params = cfg.object("rope_parameters")?;
    let dict = match (scaling, params) {
        (Some(s), Some(p)) => {
            let same = s.map.iter().all(|(k, v)| p.map.get(k) == Some(v));
            if !same {
                return Err(hf_err(
                    s.path.clone(),
                    &Value::Object(s.map.clone()),
                    "rope_scaling and rope_parameters are both given and disagree",
                ));
            }
            Some(p)
        }
        (s, p) => s.or(p),
    };

    let layer_types = layer_types(cfg, mt, n_layers)?;
    let nested = dict
        .as_ref()
        .is_some_and(|d| d.map.keys().any(|k| layer_types.contains(k)));
    let mut defaults = Defaults {
        model_type: mt,
        head_dim,
        theta,
        partial_rotary_factor,
        max_position_embeddings,
        top_original,
        layout,
        nested,
        truncate: None,
    };

    let mut by_type: BTreeMap<String, RopeConfig> = BTreeMap::new();
    let mut softmax_scale_factor = 1.0;
    match &dict {
        Some(d) if nested => {
            defaults.truncate = d.bool("truncate")?;
            for (key, v) in d.map.iter() {
                if !layer_types.contains(key) {
                    return Err(hf_err(
                        d.field(key),
                        v,
                        format!(
                            "a nested rope_parameters key must be one of the layer types {:?}",
                            distinct(&layer_types)
                        ),
                    ));
                }
                let Some(inner) = d.object(key)? else {
                    continue;
                };
                let (rope, _) = rope_from_dict(Some(&inner), &defaults)?;
                by_type.insert(key.clone(), rope);
            }
            for t in distinct(&layer_types) {
                if !by_type.contains_key(&t) {
                    return Err(missing(
                        d.field(&t),
                        "layer_types names this type but rope_parameters has no entry for it",
                    ));
                }
            }
        }
        Some(d) if is_gemma3 && d.get("rope_theta").is_none() => {
            // Gemma 3 in the v4 form: rope_scaling is the global (full-attention) layers'
            // scaling at rope_theta; sliding layers use plain RoPE at rope_local_base_freq.
            defaults.truncate = d.bool("truncate")?;
            let (full, _) = rope_from_dict(Some(d), &defaults)?;
            by_type.insert("full_attention".into(), full);
            by_type.insert("sliding_attention".into(), gemma3_local(cfg, &defaults)?);
        }
        None if is_gemma3 => {
            let (full, _) = rope_from_dict(None, &defaults)?;
            by_type.insert("full_attention".into(), full);
            by_type.insert("sliding_attention".into(), gemma3_local(cfg, &defaults)?);
        }
        d => {
            if let Some(d) = d {
                defaults.truncate = d.bool("truncate")?;
            }
            let (rope, factor) = rope_from_dict(d.as_ref(), &defaults)?;
            softmax_scale_factor = factor;
            by_type.insert("default".into(), rope);
        }
    }

    let nope = nope_layers(cfg, mt, n_layers)?;
    // Llama 4's published configs write `"attn_temperature_tuning": 4` (a 4.51-era int);
    // transformers 5 wants a bool. Any non-zero number reads as true here.
    let tuning = match cfg.get("attn_temperature_tuning") {
        None => mt.starts_with("llama4"),
        Some(Value::Bool(b)) => *b,
        Some(v) if v.is_number() => v.as_f64() != Some(0.0),
        Some(v) => {
            return Err(hf_err(
                cfg.field("attn_temperature_tuning"),
                v,
                "expected true/false (or a number, read as non-zero)",
            ));
        }
    };
    let temperature = if nope.iter().any(|&n| n) && tuning {
        let t = AttnTemperatureTuning {
            floor_scale: cfg.f64("floor_scale")?.unwrap_or(8192.0),
            attn_scale: cfg.f64("attn_scale")?.unwrap_or(0.1),
        };
        if t.floor_scale <= 0.0 {
            return Err(hf_err(
                cfg.field("floor_scale"),
                &Value::from(t.floor_scale),
                "must be > 0",
            ));
        }
        Some(t)
    } else {
        None
    };
    let layers = layer_types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let rope = if nope[i] {
                None
            } else {
                by_type
                    .get(t)
                    .or_else(|| by_type.get("default"))
                    .or_else(|| by_type.get("full_attention"))
                    .cloned()
            };
            HfLayerRope {
                layer_type: t.clone(),
                query_temperature: if nope[i] { temperature } else { None },
                rope,
            }
        })
        .collect();
    Ok(HfRope {
        model_type: (!model_type.is_empty()).then_some(model_type),
        head_dim,
        layers,
        by_type,
        softmax_scale_factor,
    })
}

fn distinct(types: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in types {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

fn head_dim(cfg: &Obj<'_>, mt: &str) -> Result<usize> {
    if mt.starts_with("deepseek")
        && let Some(d) = cfg.usize("qk_rope_head_dim")?
    {
        return Ok(d);
    }
    if let Some(d) = cfg.usize("head_dim")? {
        return Ok(d);
    }
    let hidden = cfg.usize("hidden_size")?.ok_or_else(|| {
        missing(
            cfg.field("hidden_size"),
            "needed for head_dim (no head_dim given)",
        )
    })?;
    let heads = cfg.usize("num_attention_heads")?.ok_or_else(|| {
        missing(
            cfg.field("num_attention_heads"),
            "needed for head_dim (no head_dim given)",
        )
    })?;
    if heads == 0 || hidden / heads == 0 {
        return Err(hf_err(
            cfg.field("num_attention_heads"),
            &Value::from(heads),
            format!("hidden_size {hidden} / num_attention_heads gives no head dimension"),
        ));
    }
    Ok(hidden / heads)
}

fn layout(cfg: &Obj<'_>, mt: &str) -> Result<Layout> {
    let interleave_default = matches!(
        mt,
        "deepseek_v2" | "deepseek_v3" | "gptj" | "cohere" | "cohere2"
    );
    Ok(
        if cfg.bool("rope_interleave")?.unwrap_or(interleave_default) {
            Layout::Interleaved
        } else {
            Layout::HalfSplit
        },
    )
}

fn layer_types(cfg: &Obj<'_>, mt: &str, n: usize) -> Result<Vec<String>> {
    if let Some(v) = cfg.get("layer_types") {
        let arr = v
            .as_array()
            .ok_or_else(|| hf_err(cfg.field("layer_types"), v, "expected a list of strings"))?;
        let types = arr
            .iter()
            .map(|t| {
                t.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| hf_err(cfg.field("layer_types"), v, "expected strings only"))
            })
            .collect::<Result<Vec<_>>>()?;
        if types.len() != n {
            return Err(hf_err(
                cfg.field("layer_types"),
                v,
                format!("has {} entries but num_hidden_layers is {n}", types.len()),
            ));
        }
        return Ok(types);
    }
    let sliding = |is: bool| {
        if is {
            "sliding_attention".to_string()
        } else {
            "full_attention".to_string()
        }
    };
    Ok(match mt {
        "gemma3" | "gemma3_text" => {
            let pattern = cfg.usize("sliding_window_pattern")?.unwrap_or(6);
            if pattern == 0 {
                return Err(hf_err(
                    cfg.field("sliding_window_pattern"),
                    &Value::from(0),
                    "must be > 0",
                ));
            }
            (0..n).map(|i| sliding((i + 1) % pattern != 0)).collect()
        }
        "gemma2" => (0..n).map(|i| sliding(i % 2 == 0)).collect(),
        _ => vec!["full_attention".to_string(); n],
    })
}

/// `true` for the layers that have no RoPE (Llama 4). HF's `no_rope_layers[i]` is 1 where
/// layer `i` **uses** RoPE (`use_rope = config.no_rope_layers[layer_idx]`).
fn nope_layers(cfg: &Obj<'_>, mt: &str, n: usize) -> Result<Vec<bool>> {
    if let Some(list) = cfg.usize_list("no_rope_layers")?
        && !list.is_empty()
    {
        if list.len() != n || list.iter().any(|&x| x > 1) {
            return Err(hf_err(
                cfg.field("no_rope_layers"),
                cfg.get("no_rope_layers").unwrap_or(&Value::Null),
                format!("expected {n} entries of 0 (NoPE) or 1 (RoPE)"),
            ));
        }
        return Ok(list.iter().map(|&x| x == 0).collect());
    }
    let interval = cfg.usize("no_rope_layer_interval")?;
    match (interval, mt.starts_with("llama4")) {
        (Some(0), _) => Err(hf_err(
            cfg.field("no_rope_layer_interval"),
            &Value::from(0),
            "must be > 0",
        )),
        (Some(k), _) => Ok((0..n).map(|i| (i + 1) % k == 0).collect()),
        (None, true) => Ok((0..n).map(|i| (i + 1) % 4 == 0).collect()),
        (None, false) => Ok(vec![false; n]),
    }
}

fn gemma3_local(cfg: &Obj<'_>, d: &Defaults<'_>) -> Result<RopeConfig> {
    let theta = cfg.f64("rope_local_base_freq")?.unwrap_or(10_000.0);
    let r = RopeConfig::new(d.head_dim)
        .with_theta(theta)
        .with_layout(d.layout);
    r.validate()?;
    Ok(r)
}

/// One RoPE dict → a validated [`RopeConfig`], plus DeepSeek's softmax-scale factor.
fn rope_from_dict(dict: Option<&Obj<'_>>, d: &Defaults<'_>) -> Result<(RopeConfig, f64)> {
    let empty = Map::new();
    let dict = match dict {
        Some(o) => Obj {
            map: o.map,
            path: o.path.clone(),
        },
        None => Obj {
            map: &empty,
            path: "rope_parameters".into(),
        },
    };
    let rope_type = match (dict.str("rope_type")?, dict.str("type")?) {
        // transformers 5 rewrites Qwen2-VL's `"type": "mrope"` as `"rope_type": "default"`
        // and keeps the old key beside it.
        (Some("default"), Some("mrope")) => "default",
        (Some(a), Some(b)) if a != b => {
            return Err(hf_err(
                dict.field("type"),
                &Value::from(b),
                format!("disagrees with rope_type = \"{a}\""),
            ));
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => "default",
    };
    if !ROPE_TYPES.contains(&rope_type) {
        return Err(hf_err(
            dict.field(if dict.get("rope_type").is_some() {
                "rope_type"
            } else {
                "type"
            }),
            &Value::from(rope_type),
            format!("unknown rope_type; known: {ROPE_TYPES:?}"),
        ));
    }
    let allowed = allowed_keys(rope_type);
    for (k, v) in dict.map.iter() {
        if !allowed.contains(&k.as_str()) {
            return Err(hf_err(
                dict.field(k),
                v,
                format!("not a parameter of rope_type \"{rope_type}\" (allowed: {allowed:?})"),
            ));
        }
    }
    let theta = dict.f64("rope_theta")?.unwrap_or(d.theta);
    let prf = dict
        .f64("partial_rotary_factor")?
        .or(d.partial_rotary_factor);
    let head_dim = d.head_dim;
    let rotation = match (rope_type, prf) {
        ("proportional", p) => Rotation::Proportional {
            p: p.unwrap_or(1.0),
        },
        (_, Some(p)) if p < 1.0 => {
            if p <= 0.0 {
                return Err(hf_err(
                    dict.field("partial_rotary_factor"),
                    &Value::from(p),
                    "must lie in (0, 1]",
                ));
            }
            Rotation::NeoxPartial {
                rotary_dims: (head_dim as f64 * p).floor() as usize,
            }
        }
        (_, Some(p)) if p > 1.0 => {
            return Err(hf_err(
                dict.field("partial_rotary_factor"),
                &Value::from(p),
                "must lie in (0, 1]",
            ));
        }
        _ => Rotation::Full,
    };
    let req_f64 = |key: &str| -> Result<f64> {
        dict.f64(key)?.ok_or_else(|| {
            missing(
                dict.field(key),
                format!("required by rope_type \"{rope_type}\""),
            )
        })
    };
    let max_pos = || -> Result<usize> {
        d.max_position_embeddings.ok_or_else(|| {
            missing(
                "max_position_embeddings",
                format!("required by rope_type \"{rope_type}\""),
            )
        })
    };
    // HF's standardize_rope_params: a top-level original_max_position_embeddings (Phi-3) wins
    // in a one-dict config; otherwise the dict's, else max_position_embeddings.
    let original = || -> Result<usize> {
        let top = if d.nested { None } else { d.top_original };
        match top.or(dict.usize("original_max_position_embeddings")?) {
            Some(o) if o > 0 => Ok(o),
            Some(o) => Err(hf_err(
                dict.field("original_max_position_embeddings"),
                &Value::from(o),
                "must be > 0",
            )),
            None => max_pos(),
        }
    };
    let mut softmax_scale_factor = 1.0;
    let scaling = match rope_type {
        "default" | "axial" | "mrope" => Scaling::None,
        "linear" => Scaling::Linear {
            factor: req_f64("factor")?,
        },
        "proportional" => match dict.f64("factor")? {
            None => Scaling::None,
            Some(1.0) => Scaling::None,
            Some(f) => Scaling::Linear { factor: f },
        },
        "dynamic" => Scaling::DynamicNtk {
            factor: req_f64("factor")?,
            original_max_position_embeddings: max_pos()?,
        },
        "yarn" => {
            let l0 = original()?;
            let factor = match dict.f64("factor")? {
                Some(f) => f,
                None => max_pos()? as f64 / l0 as f64,
            };
            let mscale = dict.f64("mscale")?.filter(|&m| m != 0.0);
            let mscale_all_dim = dict.f64("mscale_all_dim")?.filter(|&m| m != 0.0);
            let attention = match (dict.f64("attention_factor")?, mscale, mscale_all_dim) {
                (Some(a), _, _) => YarnAttention::Explicit { value: a },
                (None, Some(m), Some(a)) => YarnAttention::Mscale {
                    mscale: m,
                    mscale_all_dim: a,
                },
                _ => YarnAttention::Default,
            };
            if d.model_type.starts_with("deepseek")
                && let Some(a) = mscale_all_dim
            {
                let m = crate::scaling::yarn::get_mscale(factor, a);
                softmax_scale_factor = m * m;
            }
            // HF: `rope_parameters.get("beta_fast") or 32` — 0 and null take the default.
            let beta_fast = dict.f64("beta_fast")?.filter(|&b| b != 0.0).unwrap_or(32.0);
            let beta_slow = dict.f64("beta_slow")?.filter(|&b| b != 0.0).unwrap_or(1.0);
            let truncate = d.truncate.or(dict.bool("truncate")?).unwrap_or(true);
            Scaling::Yarn(
                YarnConfig::new(factor, l0)
                    .with_betas(beta_fast, beta_slow)
                    .with_attention(attention)
                    .with_truncate(truncate),
            )
        }
        "longrope" | "su" => {
            let l0 = original()?;
            let lmax = max_pos()?;
            let short_factor = dict
                .f64_list("short_factor")?
                .ok_or_else(|| missing(dict.field("short_factor"), "required by longrope"))?;
            let long_factor = dict
                .f64_list("long_factor")?
                .ok_or_else(|| missing(dict.field("long_factor"), "required by longrope"))?;
            let factor = match dict.f64("factor")? {
                Some(f) => f,
                None => lmax as f64 / l0 as f64,
            };
            let attention_factor = match dict.f64("attention_factor")? {
                Some(a) => a,
                None if factor <= 1.0 => 1.0,
                None => (1.0 + factor.ln() / (l0 as f64).ln()).sqrt(),
            };
            Scaling::LongRope(LongRopeConfig {
                short_factor,
                long_factor,
                original_max_position_embeddings: l0,
                max_position_embeddings: lmax,
                attention_factor: Some(attention_factor),
            })
        }
        "llama3" => {
            let l0 = original()?;
            Scaling::Llama3(Llama3Config {
                factor: req_f64("factor")?,
                low_freq_factor: req_f64("low_freq_factor")?,
                high_freq_factor: req_f64("high_freq_factor")?,
                original_max_position_embeddings: l0,
            })
        }
        _ => unreachable!("rope_type checked against ROPE_TYPES"),
    };
    let mut axes = Axes::Sequence;
    if let Some(sections) = dict.usize_list("mrope_section")? {
        // transformers' Qwen3-VL always interleaves (it ignores the flag); others follow it.
        let interleaved = d.model_type.starts_with("qwen3_vl")
            || dict.bool("mrope_interleaved")?.unwrap_or(false);
        axes = if interleaved {
            Axes::MRopeInterleaved { sections }
        } else {
            Axes::MRope { sections }
        };
    }
    let config = RopeConfig::new(head_dim)
        .with_theta(theta)
        .with_layout(d.layout)
        .with_rotation(rotation)
        .with_scaling(scaling)
        .with_axes(axes);
    config.validate()?;
    Ok((config, softmax_scale_factor))
}
