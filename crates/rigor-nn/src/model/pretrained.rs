//! The decoder architecture of pretrained checkpoints: Llama (1–3.x, 4's NoPE layers),
//! Mistral, Qwen2 / Qwen2.5, Qwen3, Gemma, Gemma 2 and Gemma 3 (text), as one configurable
//! module with rigor's RoPE and any rigor normalizer in place of softmax.
//!
//! Per layer $\ell$, with $h$ the residual stream (pre-norm; Gemma 2/3 add the "sandwich"
//! norms marked †):
//!
//! $$ a = \mathrm{Attn}\_\ell(\mathrm{N}^{in}\_\ell(h)),\quad h \leftarrow h + \mathrm N^{post\text{-}attn\\,\dagger}\_\ell(a),\quad
//!    m = \mathrm{MLP}\_\ell(\mathrm N^{pre\text{-}mlp}\_\ell(h)),\quad h \leftarrow h + \mathrm N^{post\text{-}mlp\\,\dagger}\_\ell(m) $$
//!
//! - **Norms**: RMSNorm $x / \sqrt{\overline{x^2} + \epsilon} \odot w$, or Gemma's
//!   $\odot (1 + w)$ ([`RmsNormStyle`]).
//! - **Attention**: $n_h$ query heads, $n_{kv}$ key/value heads (GQA; MQA when $n_{kv} = 1$),
//!   each head of width $d_h$ (not necessarily $d_{model}/n_h$); optional q/k/v biases (Qwen2),
//!   per-head RMSNorm of $q$ and $k$ before RoPE (Qwen3, Gemma 3); logits
//!   $s\\,q^\top k$ with $s = d_h^{-1/2}$ or Gemma 2/3's `query_pre_attn_scalar`$^{-1/2}$;
//!   optional soft-capping $c \tanh(e / c)$ (Gemma 2); causal mask, plus a sliding window
//!   (key $j$ visible from query $i$ iff $0 \le i - j < W$) on the layers that have one;
//!   then any [`Normalizer`] — the drop-in experiment of *Softmax is not Enough* on a real
//!   model.
//! - **RoPE** per layer (a layer may have none: Llama 4's NoPE layers, whose queries are then
//!   scaled by [`AttnTemperatureTuning`] when configured).
//! - **MLP**: gated, $W_{down}\\,(\phi(W_{gate} x) \odot W_{up} x)$, $\phi$ SiLU (SwiGLU) or
//!   tanh-GELU (GeGLU) — [`MlpActivation`].
//! - **Embedding** scaled by $\sqrt{d_{model}}$ (Gemma) when configured; head tied to the
//!   embedding or separate; final soft-capping (Gemma 2).
//!
//! Parameters come from a [`WeightSource`] that answers HF transformers' tensor names
//! (`model.layers.0.self_attn.q_proj.weight`, …) in HF's layout (`[out, in]` for
//! projections) — `rigor-hf` reads them from safetensors; tests can hand them from memory.
//! Everything runs on any Burn device. With a softmax normalizer on a non-autodiff device the
//! attention product goes through Burn's own attention op (burn-flex's fused naive / flash
//! kernel: scale, soft-cap, mask, softmax, ·V); every other normalizer, and
//! [`AttentionKernel::Composed`], runs $\mathcal N(\mathrm{cap}(s\\,QK^\top))V$ in composed ops
//! with rigor-softmax's fused kernels on Flex.

use burn::module::{Module, Param};
use burn::nn::{Embedding, Linear};
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use rigor_perplexity::{CausalLm, PerplexityError};
use rigor_rope::hf::AttnTemperatureTuning;
use rigor_rope::{Positions, Rope, RopeConfig, TensorLayout};
use rigor_softmax::Normalizer;
use serde::{Deserialize, Serialize};

use crate::attention::{AttentionKernel, repeat_kv};
use crate::error::{NnError, Result as NnResult, nonzero, positive};

/// How an RMSNorm applies its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RmsNormStyle {
    /// $\hat x \odot w$ (Llama, Mistral, Qwen).
    #[default]
    Weight,
    /// $\hat x \odot (1 + w)$ (Gemma 1–3; the checkpoint stores $w$, initialised at 0).
    OnePlusWeight,
}

/// The gate non-linearity $\phi$ of the gated MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MlpActivation {
    /// SiLU $x\\,\sigma(x)$ (SwiGLU; HF `silu`).
    #[default]
    Silu,
    /// tanh-approximated GELU $\tfrac12 x(1 + \tanh(\sqrt{2/\pi}(x + 0.044715x^3)))$ (GeGLU;
    /// HF `gelu_pytorch_tanh`, Gemma).
    GeluTanh,
    /// Exact GELU $x\\,\Phi(x)$ (HF `gelu`).
    Gelu,
}

/// One layer's attention pattern and positions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainedLayerConfig {
    /// RoPE of this layer (`head_dim` must equal the model's); `None` is NoPE.
    pub rope: Option<RopeConfig>,
    /// Sliding window $W$: query $i$ sees keys $j$ with $0 \le i - j < W$. `None`: causal only.
    pub sliding_window: Option<usize>,
    /// Query temperature by absolute position (Llama 4's NoPE layers).
    pub query_temperature: Option<AttnTemperatureTuning>,
}

/// Configuration of a [`PretrainedDecoder`]; validated by [`init_from`](Self::init_from) and
/// [`init_random`](Self::init_random).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainedDecoderConfig {
    /// Vocabulary size $V$.
    pub vocab_size: usize,
    /// $d_{model}$.
    pub hidden_size: usize,
    /// Width of the MLP's hidden layer.
    pub intermediate_size: usize,
    /// Query heads $n_h$.
    pub n_heads: usize,
    /// Key/value heads $n_{kv}$ (divides $n_h$).
    pub n_kv_heads: usize,
    /// Per-head width $d_h$.
    pub head_dim: usize,
    /// RMSNorm $\epsilon$.
    pub rms_norm_eps: f64,
    /// How RMSNorm weights apply.
    pub norm_style: RmsNormStyle,
    /// Gate non-linearity.
    pub activation: MlpActivation,
    /// Biases on q, k and v (Qwen2).
    pub qkv_bias: bool,
    /// Bias on the output projection.
    pub output_bias: bool,
    /// Biases on the MLP's three projections.
    pub mlp_bias: bool,
    /// RMSNorm of each query and key head before RoPE (Qwen3, Gemma 3).
    pub qk_norm: bool,
    /// Gemma 2/3's extra norms after attention and after the MLP.
    pub sandwich_norms: bool,
    /// The LM head is the embedding matrix.
    pub tie_word_embeddings: bool,
    /// Multiply embeddings by this (Gemma: $\sqrt{d_{model}}$).
    pub embedding_scale: Option<f64>,
    /// Attention-logit soft cap $c$ (Gemma 2).
    pub attn_logit_softcap: Option<f64>,
    /// Final-logit soft cap (Gemma 2).
    pub final_logit_softcap: Option<f64>,
    /// Logit scale $s$; `None` is $d_h^{-1/2}$.
    pub attention_scale: Option<f64>,
    /// One entry per layer.
    pub layers: Vec<PretrainedLayerConfig>,
    /// The attention normalizer (softmax for every checkpoint; swap to experiment).
    pub normalizer: Normalizer,
}

/// Where a [`PretrainedDecoder`]'s parameters come from: HF transformers' names and layouts.
pub trait WeightSource {
    /// The tensor called `name` as `f32` values in row-major order, which must have `shape`.
    /// `Ok(None)` if the source has no such tensor.
    ///
    /// # Errors
    /// Whatever reading it costs (I/O, dtype); the loader reports it with the name.
    fn tensor(&mut self, name: &str, shape: &[usize]) -> NnResult<Option<Vec<f32>>>;
}

/// RMSNorm over the last dimension, $x / \sqrt{\overline{x^2} + \epsilon} \odot w$ or
/// $\odot (1 + w)$. NaN/±∞ in a row make that row NaN.
#[derive(Module, Debug)]
pub struct PretrainedRmsNorm {
    /// $w$ as stored in the checkpoint.
    pub weight: Param<Tensor<1>>,
    epsilon: f64,
    one_plus: bool,
}

impl PretrainedRmsNorm {
    /// Normalises over the last dimension.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let ms = x.clone().powi_scalar(2).mean_dim(D - 1);
        let x = x * ms.add_scalar(self.epsilon).sqrt().recip();
        let w = self.weight.val();
        let w = if self.one_plus { w.add_scalar(1.0) } else { w };
        let mut shape = [1usize; D];
        shape[D - 1] = w.dims()[0];
        x * w.reshape(shape)
    }
}

/// Grouped-query attention of a pretrained layer (see the [module docs](self)).
#[derive(Module, Debug)]
pub struct PretrainedAttention {
    /// $W_Q$, `hidden → n_h·d_h`.
    pub q_proj: Linear,
    /// $W_K$, `hidden → n_kv·d_h`.
    pub k_proj: Linear,
    /// $W_V$, `hidden → n_kv·d_h`.
    pub v_proj: Linear,
    /// $W_O$, `n_h·d_h → hidden`.
    pub o_proj: Linear,
    /// Per-head query norm (Qwen3, Gemma 3).
    pub q_norm: Option<PretrainedRmsNorm>,
    /// Per-head key norm.
    pub k_norm: Option<PretrainedRmsNorm>,
    #[module(skip)]
    rope: Option<Rope>,
    #[module(skip)]
    temperature: Option<AttnTemperatureTuning>,
    #[module(skip)]
    window: Option<usize>,
    #[module(skip)]
    softcap: Option<f64>,
    #[module(skip)]
    normalizer: Normalizer,
    #[module(skip)]
    custom: Option<std::sync::Arc<dyn rigor_softmax::Normalize>>,
    #[module(skip)]
    kernel: AttentionKernel,
    n_heads: usize,
    n_kv_heads: usize,
    head_dim: usize,
    scale: f64,
}

/// Gated MLP $W_{down}(\phi(W_{gate}x) \odot W_{up}x)$.
#[derive(Module, Debug)]
pub struct PretrainedMlp {
    /// $W_{gate}$.
    pub gate_proj: Linear,
    /// $W_{up}$.
    pub up_proj: Linear,
    /// $W_{down}$.
    pub down_proj: Linear,
    #[module(skip)]
    activation: MlpActivation,
}

/// One decoder layer.
#[derive(Module, Debug)]
pub struct PretrainedBlock {
    /// Norm before attention (HF `input_layernorm`).
    pub input_norm: PretrainedRmsNorm,
    /// Attention.
    pub attention: PretrainedAttention,
    /// Norm of the attention output (Gemma 2/3 `post_attention_layernorm`).
    pub post_attention_norm: Option<PretrainedRmsNorm>,
    /// Norm before the MLP (HF `post_attention_layernorm` in Llama-style models,
    /// `pre_feedforward_layernorm` in Gemma 2/3).
    pub pre_mlp_norm: PretrainedRmsNorm,
    /// MLP.
    pub mlp: PretrainedMlp,
    /// Norm of the MLP output (Gemma 2/3 `post_feedforward_layernorm`).
    pub post_mlp_norm: Option<PretrainedRmsNorm>,
}

/// A decoder of the Llama / Mistral / Qwen / Gemma families (see the [module docs](self)).
#[derive(Module, Debug)]
pub struct PretrainedDecoder {
    /// Token embedding `[V, d_model]`.
    pub embed_tokens: Embedding,
    /// The layers.
    pub layers: Vec<PretrainedBlock>,
    /// Final norm.
    pub norm: PretrainedRmsNorm,
    /// Separate LM head (`None` when tied to the embedding).
    pub lm_head: Option<Linear>,
    #[module(skip)]
    config: PretrainedDecoderConfig,
}

/// Random initial values, for [`PretrainedDecoderConfig::init_random`].
struct RandomSource {
    rng: rand::rngs::ChaCha8Rng,
    std: f32,
    /// Norm weights are drawn around this (1, or 0 for Gemma's stored $w$ of $1 + w$).
    norm_center: f32,
}

impl WeightSource for RandomSource {
    fn tensor(&mut self, name: &str, shape: &[usize]) -> NnResult<Option<Vec<f32>>> {
        let n: usize = shape.iter().product();
        let norm = name.ends_with("norm.weight") || name.ends_with("layernorm.weight");
        Ok(Some(
            (0..n)
                .map(|_| {
                    // ChaCha8 → uniform(−1, 1)·std·√3 (variance std²), 24 random bits
                    let z: u32 = rand::RngExt::random(&mut self.rng);
                    let u = (z >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
                    if norm {
                        self.norm_center + 0.1 * u
                    } else {
                        u * self.std * 3f32.sqrt()
                    }
                })
                .collect(),
        ))
    }
}

impl PretrainedDecoderConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`NnError::ZeroSize`] for a zero width, count or layer list;
    /// [`NnError::InvalidParameter`] for $n_{kv} \nmid n_h$, a non-positive $\epsilon$,
    /// scale or cap, a zero window; [`NnError::RopeHeadDim`] when a layer's RoPE has another
    /// head dim; [`NnError::Rope`] for an invalid RoPE.
    pub fn validate(&self) -> NnResult<()> {
        nonzero("vocab_size", self.vocab_size)?;
        nonzero("hidden_size", self.hidden_size)?;
        nonzero("intermediate_size", self.intermediate_size)?;
        nonzero("n_heads", self.n_heads)?;
        nonzero("n_kv_heads", self.n_kv_heads)?;
        nonzero("head_dim", self.head_dim)?;
        nonzero("layers", self.layers.len())?;
        if !self.n_heads.is_multiple_of(self.n_kv_heads) {
            return Err(NnError::InvalidParameter {
                name: "n_kv_heads",
                value: self.n_kv_heads as f64,
                reason: "must divide n_heads (grouped-query attention)",
            });
        }
        positive("rms_norm_eps", self.rms_norm_eps)?;
        for (name, v) in [
            ("embedding_scale", self.embedding_scale),
            ("attn_logit_softcap", self.attn_logit_softcap),
            ("final_logit_softcap", self.final_logit_softcap),
            ("attention_scale", self.attention_scale),
        ] {
            if let Some(v) = v {
                positive(name, v)?;
            }
        }
        for layer in &self.layers {
            if let Some(rope) = &layer.rope {
                if rope.head_dim != self.head_dim {
                    return Err(NnError::RopeHeadDim {
                        rope_head_dim: rope.head_dim,
                        head_dim: self.head_dim,
                    });
                }
                rope.validate()?;
            }
            if layer.sliding_window == Some(0) {
                return Err(NnError::InvalidParameter {
                    name: "sliding_window",
                    value: 0.0,
                    reason: "must be >= 1 (1 = each token sees only itself)",
                });
            }
            if let Some(t) = layer.query_temperature
                && !(t.floor_scale.is_finite() && t.floor_scale > 0.0 && t.attn_scale.is_finite())
            {
                return Err(NnError::InvalidParameter {
                    name: "floor_scale",
                    value: t.floor_scale,
                    reason: "must be finite and > 0 (attn_scale finite)",
                });
            }
        }
        Ok(())
    }

    /// Random weights (uniform, std 0.02; norm weights near 1), deterministic in `seed`: for
    /// tests and for training from scratch.
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    pub fn init_random(&self, seed: u64, device: &Device) -> NnResult<PretrainedDecoder> {
        let mut source = RandomSource {
            rng: rand::SeedableRng::seed_from_u64(seed),
            std: 0.02,
            // Gemma stores w with 1 + w the effective weight; effective weights stay near 1.
            norm_center: match self.norm_style {
                RmsNormStyle::Weight => 1.0,
                RmsNormStyle::OnePlusWeight => 0.0,
            },
        };
        self.init_from(&mut source, device)
    }

    /// Builds the model from `source`, which is asked for every parameter by its HF
    /// transformers name and shape (`[out, in]` for projections; transposed to Burn's
    /// `[in, out]` here):
    ///
    /// | parameter | name |
    /// |---|---|
    /// | embedding `[V, d]` | `model.embed_tokens.weight` |
    /// | q/k/v/o `[out, in]` (+ `.bias`) | `model.layers.{i}.self_attn.{q,k,v,o}_proj.weight` |
    /// | q/k norm `[d_h]` | `model.layers.{i}.self_attn.{q,k}_norm.weight` |
    /// | MLP | `model.layers.{i}.mlp.{gate,up,down}_proj.weight` |
    /// | norms `[d]` | `model.layers.{i}.input_layernorm.weight`, `…post_attention_layernorm.weight`, Gemma 2/3 also `…pre_feedforward_layernorm.weight`, `…post_feedforward_layernorm.weight` |
    /// | final norm, head | `model.norm.weight`, `lm_head.weight` (untied only) |
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`NnError::Weight`] naming the first tensor that is
    /// missing or has the wrong number of values; the source's own errors.
    pub fn init_from(
        &self,
        source: &mut dyn WeightSource,
        device: &Device,
    ) -> NnResult<PretrainedDecoder> {
        self.validate()?;
        let d = self.hidden_size;
        let hd = self.head_dim;
        let one_plus = self.norm_style == RmsNormStyle::OnePlusWeight;
        let mut loader = Loader {
            source,
            device: device.clone(),
        };
        let embed_tokens = Embedding {
            weight: Param::from_tensor(loader.matrix(
                "model.embed_tokens.weight",
                [self.vocab_size, d],
                false,
            )?),
        };
        let mut layers = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            let p = format!("model.layers.{i}");
            let norm = |loader: &mut Loader<'_>, name: &str, width: usize| {
                loader.norm(
                    &format!("{p}.{name}.weight"),
                    width,
                    self.rms_norm_eps,
                    one_plus,
                )
            };
            let input_norm = norm(&mut loader, "input_layernorm", d)?;
            let (post_attention_norm, pre_mlp_norm, post_mlp_norm) = if self.sandwich_norms {
                (
                    Some(norm(&mut loader, "post_attention_layernorm", d)?),
                    norm(&mut loader, "pre_feedforward_layernorm", d)?,
                    Some(norm(&mut loader, "post_feedforward_layernorm", d)?),
                )
            } else {
                (
                    None,
                    norm(&mut loader, "post_attention_layernorm", d)?,
                    None,
                )
            };
            let a = format!("{p}.self_attn");
            let q_proj =
                loader.linear(&format!("{a}.q_proj"), d, self.n_heads * hd, self.qkv_bias)?;
            let k_proj = loader.linear(
                &format!("{a}.k_proj"),
                d,
                self.n_kv_heads * hd,
                self.qkv_bias,
            )?;
            let v_proj = loader.linear(
                &format!("{a}.v_proj"),
                d,
                self.n_kv_heads * hd,
                self.qkv_bias,
            )?;
            let o_proj = loader.linear(
                &format!("{a}.o_proj"),
                self.n_heads * hd,
                d,
                self.output_bias,
            )?;
            let (q_norm, k_norm) = if self.qk_norm {
                (
                    Some(norm(&mut loader, "self_attn.q_norm", hd)?),
                    Some(norm(&mut loader, "self_attn.k_norm", hd)?),
                )
            } else {
                (None, None)
            };
            let m = format!("{p}.mlp");
            let f = self.intermediate_size;
            let mlp = PretrainedMlp {
                gate_proj: loader.linear(&format!("{m}.gate_proj"), d, f, self.mlp_bias)?,
                up_proj: loader.linear(&format!("{m}.up_proj"), d, f, self.mlp_bias)?,
                down_proj: loader.linear(&format!("{m}.down_proj"), f, d, self.mlp_bias)?,
                activation: self.activation,
            };
            let rope = match &layer.rope {
                Some(r) => Some(r.clone().init()?),
                None => None,
            };
            layers.push(PretrainedBlock {
                input_norm,
                attention: PretrainedAttention {
                    q_proj,
                    k_proj,
                    v_proj,
                    o_proj,
                    q_norm,
                    k_norm,
                    rope,
                    temperature: layer.query_temperature,
                    window: layer.sliding_window,
                    softcap: self.attn_logit_softcap,
                    normalizer: self.normalizer.clone(),
                    custom: None,
                    kernel: AttentionKernel::default(),
                    n_heads: self.n_heads,
                    n_kv_heads: self.n_kv_heads,
                    head_dim: hd,
                    scale: self
                        .attention_scale
                        .unwrap_or_else(|| 1.0 / (hd as f64).sqrt()),
                },
                post_attention_norm,
                pre_mlp_norm,
                mlp,
                post_mlp_norm,
            });
        }
        let norm = loader.norm("model.norm.weight", d, self.rms_norm_eps, one_plus)?;
        let lm_head = if self.tie_word_embeddings {
            None
        } else {
            Some(loader.linear("lm_head", d, self.vocab_size, false)?)
        };
        Ok(PretrainedDecoder {
            embed_tokens,
            layers,
            norm,
            lm_head,
            config: self.clone(),
        })
    }
}

struct Loader<'a> {
    source: &'a mut dyn WeightSource,
    device: Device,
}

impl Loader<'_> {
    fn values(&mut self, name: &str, shape: &[usize]) -> NnResult<Vec<f32>> {
        let v = self
            .source
            .tensor(name, shape)?
            .ok_or_else(|| NnError::Weight {
                name: name.to_string(),
                reason: format!("missing (expected shape {shape:?})"),
            })?;
        let n: usize = shape.iter().product();
        if v.len() != n {
            return Err(NnError::Weight {
                name: name.to_string(),
                reason: format!("has {} values, expected shape {shape:?} ({n})", v.len()),
            });
        }
        Ok(v)
    }

    /// A `[rows, cols]` matrix; `transpose` turns HF's `[out, in]` into Burn's `[in, out]`.
    fn matrix(&mut self, name: &str, shape: [usize; 2], transpose: bool) -> NnResult<Tensor<2>> {
        let v = self.values(name, &shape)?;
        let t = Tensor::<2>::from_data(TensorData::new(v, shape), &self.device);
        Ok(if transpose { t.transpose() } else { t })
    }

    fn vector(&mut self, name: &str, len: usize) -> NnResult<Tensor<1>> {
        let v = self.values(name, &[len])?;
        Ok(Tensor::<1>::from_data(
            TensorData::new(v, [len]),
            &self.device,
        ))
    }

    /// Built directly from the tensors (no random initialisation to throw away).
    fn linear(&mut self, prefix: &str, d_in: usize, d_out: usize, bias: bool) -> NnResult<Linear> {
        let w = self.matrix(&format!("{prefix}.weight"), [d_out, d_in], true)?;
        let bias = if bias {
            Some(Param::from_tensor(
                self.vector(&format!("{prefix}.bias"), d_out)?,
            ))
        } else {
            None
        };
        Ok(Linear {
            weight: Param::from_tensor(w),
            bias,
        })
    }

    fn norm(
        &mut self,
        name: &str,
        width: usize,
        epsilon: f64,
        one_plus: bool,
    ) -> NnResult<PretrainedRmsNorm> {
        Ok(PretrainedRmsNorm {
            weight: Param::from_tensor(self.vector(name, width)?),
            epsilon,
            one_plus,
        })
    }
}

impl PretrainedMlp {
    /// $W_{down}(\phi(W_{gate}x) \odot W_{up}x)$.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let g = self.gate_proj.forward(x.clone());
        let g = match self.activation {
            MlpActivation::Silu => burn::tensor::activation::silu(g),
            MlpActivation::Gelu => burn::tensor::activation::gelu(g),
            MlpActivation::GeluTanh => {
                let c = (2.0 / std::f64::consts::PI).sqrt();
                let inner =
                    (g.clone() + g.clone().powi_scalar(3).mul_scalar(0.044715)).mul_scalar(c);
                g.clone().mul_scalar(0.5) * inner.tanh().add_scalar(1.0)
            }
        };
        self.down_proj.forward(g * self.up_proj.forward(x))
    }
}

/// `[s, s]` mask, `true` where key $j$ is hidden from query $i$: $j > i$, or $i - j \ge W$.
fn layer_mask(s: usize, window: Option<usize>, device: &Device) -> Tensor<2, Bool> {
    let causal = Tensor::<2, Bool>::tril_mask([s, s], 0, device);
    match window {
        Some(w) if w < s => {
            // triu_mask(offset) hides j − i < offset; offset 1 − W hides i − j ≥ W.
            let far = Tensor::<2, Bool>::triu_mask([s, s], 1 - w as i64, device);
            causal.bool_or(far)
        }
        _ => causal,
    }
}

impl PretrainedAttention {
    /// `[b, s, n·d_h]` → `[b, n, s, d_h]`.
    fn split(&self, x: Tensor<3>, heads: usize) -> Tensor<4> {
        let [b, s, _] = x.dims();
        x.reshape([b, s, heads, self.head_dim]).swap_dims(1, 2)
    }

    /// Queries and keys before RoPE (after the q/k norms), `[b, heads, s, d_h]`.
    fn project_qk(&self, x: Tensor<3>) -> (Tensor<4>, Tensor<4>) {
        let mut q = self.split(self.q_proj.forward(x.clone()), self.n_heads);
        let mut k = self.split(self.k_proj.forward(x), self.n_kv_heads);
        if let Some(n) = &self.q_norm {
            q = n.forward(q);
        }
        if let Some(n) = &self.k_norm {
            k = n.forward(k);
        }
        (q, k)
    }

    /// Causal self-attention over `x` (`[b, s, hidden]`), tokens at positions `0..s`.
    fn forward(
        &self,
        x: Tensor<3>,
        want_weights: bool,
    ) -> NnResult<(Tensor<3>, Option<Tensor<4>>)> {
        let [b, s, _] = x.dims();
        let device = x.device();
        let (mut q, mut k) = self.project_qk(x.clone());
        let v = self.split(self.v_proj.forward(x), self.n_kv_heads);
        if let Some(rope) = &self.rope {
            (q, k) = rope.apply_qk(q, k, TensorLayout::Bhsd, Positions::Offset(0))?;
        }
        if let Some(t) = self.temperature {
            let scales: Vec<f32> = (0..s).map(|p| t.scale(p) as f32).collect();
            let scales = Tensor::<1>::from_data(TensorData::new(scales, [s]), &device);
            q = q * scales.reshape([1, 1, s, 1]);
        }
        let group = self.n_heads / self.n_kv_heads;
        let (k, v) = (repeat_kv(k, group), repeat_kv(v, group));
        if let Some(scale) = self.burn_attention_scale(want_weights, &q) {
            // Burn's attention op (burn-flex's fused naive / flash kernel): the same
            // computation — scale, soft-cap, then the mask, then softmax.
            let mask = self.window.filter(|&w| w < s).map(|w| {
                layer_mask(s, Some(w), &device)
                    .reshape([1, 1, s, s])
                    .expand([b, self.n_heads, s, s])
            });
            let options = AttentionModuleOptions {
                scale: Some(scale),
                softcap: self.softcap,
                is_causal: true,
            };
            let context = attention(q, k, v, mask, None, options)
                .swap_dims(1, 2)
                .reshape([b, s, self.n_heads * self.head_dim]);
            return Ok((self.o_proj.forward(context), None));
        }
        let mut scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(self.scale);
        if let Some(c) = self.softcap {
            scores = scores.div_scalar(c).tanh().mul_scalar(c);
        }
        let mask = layer_mask(s, self.window, &device)
            .reshape([1, 1, s, s])
            .expand([b, self.n_heads, s, s]);
        let scores = scores.mask_fill(mask, f32::NEG_INFINITY);
        let weights = match &self.custom {
            Some(custom) => custom.normalize(scores)?,
            None => self.normalizer.apply(scores, -1)?,
        };
        let context = weights.clone().matmul(v);
        let context = context
            .swap_dims(1, 2)
            .reshape([b, s, self.n_heads * self.head_dim]);
        Ok((
            self.o_proj.forward(context),
            want_weights.then_some(weights),
        ))
    }
}

impl PretrainedAttention {
    /// The scale to hand Burn's attention op when this call may take it (as
    /// [`AttentionKernel`] says for rigor's own attention): a softmax normalizer (temperature
    /// $\theta \ge 1$, scale $s/\theta$; exactly $\theta = 1$ when soft-capped, since the cap acts on
    /// the scaled logits), no weights asked for, and — under [`AttentionKernel::Auto`] — not an
    /// autodiff device.
    fn burn_attention_scale(&self, want_weights: bool, q: &Tensor<4>) -> Option<f64> {
        if self.custom.is_some() {
            return None;
        }
        let Normalizer::Softmax { temperature } = &self.normalizer else {
            return None;
        };
        let allowed = match self.kernel {
            AttentionKernel::Composed => false,
            AttentionKernel::Burn => true,
            AttentionKernel::Auto => !q.device().is_autodiff(),
        };
        let theta = temperature.theta();
        let theta_ok = if self.softcap.is_some() {
            theta == 1.0
        } else {
            theta >= 1.0
        };
        (allowed && !want_weights && theta_ok).then(|| self.scale / theta)
    }
}

impl PretrainedBlock {
    fn forward(
        &self,
        h: Tensor<3>,
        want_weights: bool,
    ) -> NnResult<(Tensor<3>, Option<Tensor<4>>)> {
        let (mut a, weights) = self
            .attention
            .forward(self.input_norm.forward(h.clone()), want_weights)?;
        if let Some(n) = &self.post_attention_norm {
            a = n.forward(a);
        }
        let h = h + a;
        let mut m = self.mlp.forward(self.pre_mlp_norm.forward(h.clone()));
        if let Some(n) = &self.post_mlp_norm {
            m = n.forward(m);
        }
        Ok((h + m, weights))
    }
}

impl PretrainedDecoder {
    /// The configuration the model was built from.
    pub fn config(&self) -> &PretrainedDecoderConfig {
        &self.config
    }

    /// The attention normalizer (the same in every layer).
    pub fn normalizer(&self) -> &Normalizer {
        &self.config.normalizer
    }

    /// Replaces the attention normalizer in every layer; the weights are untouched.
    pub fn set_normalizer(&mut self, normalizer: Normalizer) {
        for l in self.layers.iter_mut() {
            l.attention.normalizer = normalizer.clone();
            l.attention.custom = None;
        }
        self.config.normalizer = normalizer;
    }

    /// Uses any [`Normalize`](rigor_softmax::Normalize) implementor in every layer's attention,
    /// in place of the built-in normalizer, until [`set_normalizer`](Self::set_normalizer) is
    /// called again; attention then takes the composed path with the scores
    /// `[batch, heads, s, s]` (masked keys at $-\infty$, after soft-capping).
    pub fn set_custom_normalizer(
        &mut self,
        normalizer: std::sync::Arc<dyn rigor_softmax::Normalize>,
    ) {
        for l in self.layers.iter_mut() {
            l.attention.custom = Some(normalizer.clone());
        }
    }

    /// Builder form of [`set_normalizer`](Self::set_normalizer).
    pub fn with_normalizer(mut self, normalizer: Normalizer) -> Self {
        self.set_normalizer(normalizer);
        self
    }

    /// Chooses how attention is computed in every layer (see [`AttentionKernel`]: `Auto`
    /// takes Burn's fused attention for a softmax on non-autodiff devices); results agree up
    /// to float rounding.
    pub fn set_attention_kernel(&mut self, kernel: AttentionKernel) {
        for l in self.layers.iter_mut() {
            l.attention.kernel = kernel;
        }
    }

    /// Each layer's RoPE (`None` on NoPE layers).
    pub fn ropes(&self) -> Vec<Option<&Rope>> {
        self.layers
            .iter()
            .map(|l| l.attention.rope.as_ref())
            .collect()
    }

    fn check_tokens(&self, tokens: &Tensor<2, Int>) -> NnResult<()> {
        let [_, s] = tokens.dims();
        if s == 0 {
            return Err(NnError::ShapeMismatch {
                op: "PretrainedDecoder::forward",
                detail: format!("tokens have shape {:?}; need seq >= 1", tokens.dims()),
            });
        }
        Ok(())
    }

    fn embed(&self, tokens: Tensor<2, Int>) -> NnResult<Tensor<3>> {
        self.check_tokens(&tokens)?;
        let v = self.config.vocab_size as i64;
        let ids = tokens.to_data();
        if let Some((i, bad)) = ids
            .iter::<i64>()
            .enumerate()
            .find(|(_, t)| *t < 0 || *t >= v)
        {
            return Err(NnError::ShapeMismatch {
                op: "PretrainedDecoder::forward",
                detail: format!(
                    "token id {bad} at flat index {i} is outside the vocabulary [0, {v})"
                ),
            });
        }
        let h = self.embed_tokens.forward(tokens);
        Ok(match self.config.embedding_scale {
            Some(s) => h.mul_scalar(s as f32 as f64),
            None => h,
        })
    }

    fn head(&self, h: Tensor<3>) -> Tensor<3> {
        let h = self.norm.forward(h);
        let logits = match &self.lm_head {
            Some(l) => l.forward(h),
            None => {
                let [b, s, d] = h.dims();
                let w = self.embed_tokens.weight.val();
                h.reshape([b * s, d])
                    .matmul(w.transpose())
                    .reshape([b, s, self.config.vocab_size])
            }
        };
        match self.config.final_logit_softcap {
            Some(c) => logits.div_scalar(c).tanh().mul_scalar(c),
            None => logits,
        }
    }

    /// Next-token logits `[b, s, V]` for tokens `[b, s]` at positions `0..s` (causal).
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] for an empty sequence or a token id outside the vocabulary;
    /// [`NnError::Rope`] (positions beyond RoPE's limit); [`NnError::Softmax`].
    pub fn forward(&self, tokens: Tensor<2, Int>) -> NnResult<Tensor<3>> {
        let mut h = self.embed(tokens)?;
        for layer in &self.layers {
            h = layer.forward(h, false)?.0;
        }
        Ok(self.head(h))
    }

    /// As [`forward`](Self::forward), also returning every layer's attention weights
    /// `[b, n_h, s, s]`.
    ///
    /// # Errors
    /// As [`forward`](Self::forward).
    pub fn forward_with_weights(
        &self,
        tokens: Tensor<2, Int>,
    ) -> NnResult<(Tensor<3>, Vec<Tensor<4>>)> {
        let mut h = self.embed(tokens)?;
        let mut all = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let (next, w) = layer.forward(h, true)?;
            h = next;
            all.extend(w);
        }
        Ok((self.head(h), all))
    }

    /// Every layer's queries and keys **before** RoPE (after the q/k norms),
    /// `[b, n_h, s, d_h]` and `[b, n_kv, s, d_h]` — what the frequency-usage measure of
    /// *Round and Round We Go!* §6 reads.
    ///
    /// # Errors
    /// As [`forward`](Self::forward).
    pub fn queries_keys(&self, tokens: Tensor<2, Int>) -> NnResult<Vec<(Tensor<4>, Tensor<4>)>> {
        let mut h = self.embed(tokens)?;
        let mut out = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            out.push(
                layer
                    .attention
                    .project_qk(layer.input_norm.forward(h.clone())),
            );
            h = layer.forward(h, false)?.0;
        }
        Ok(out)
    }
}

/// rigor-perplexity's evaluators run on a `PretrainedDecoder` directly: position $t$ predicts
/// token $t + 1$. A [`NnError`] becomes [`PerplexityError::Model`].
impl CausalLm for PretrainedDecoder {
    fn logits(&self, tokens: Tensor<2, Int>) -> rigor_perplexity::Result<Tensor<3>> {
        self.forward(tokens).map_err(PerplexityError::model)
    }
}
