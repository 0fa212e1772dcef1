//! Multi-head attention with a swappable normalizer and any rotary encoding.
//!
//! For every head $h$, with $q_i = W_Q^{(h)} x_i$, $k_j = W_K^{(h)} x_j$ (RoPE applied to both
//! when configured), $v_j = W_V^{(h)} x_j$:
//!
//! $$ e_{ij} = s\\, q_i^\top k_j \ (\text{masked} \to -\infty), \qquad
//!    \alpha_{i\cdot} = \mathcal N(e_{i\cdot}), \qquad
//!    o_i = W_O \big[\textstyle\sum_j \alpha_{ij} v_j\big]_{h} $$
//!
//! where $s = 1/\sqrt{d_{head}}$ by default and $\mathcal N$ is any
//! [`Normalizer`] — softmax, adaptive temperature (*Softmax is not Enough*, Fig. 4), SSMax,
//! sparsemax/entmax, softmax1. The normalizer is not a parameter: it can be swapped on a
//! trained model ([`MultiHeadAttention::set_normalizer`]) without touching the weights, which
//! is how the paper applies adaptive temperature at inference only.
//!
//! With a (tempered) softmax the product goes through Burn's own attention op
//! ([`burn::tensor::module::attention`]: burn-flex's fused naive / flash kernel, CubeCL's
//! flash attention) whenever that is the same computation — see [`AttentionKernel`]. Every
//! other normalizer, and every call that returns the weights, runs the composed path
//! $\mathcal N(s\\,QK^\top)V$ with rigor-softmax's kernels. Masks are built on the device
//! (no host buffer per call).
//!
//! - [`mask`] — causal and key-padding masks.
//! - [`burn_compat`] — `burn::nn::attention`'s names (config, `MhaInput`, `MhaOutput`) over
//!   rigor's attention: swapping is the `use` line.
//! - [`cache`] — the KV cache for incremental decoding.

pub mod burn_compat;
pub mod cache;
pub mod mask;

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Tensor};
use rigor_rope::{Positions, Role, Rope, RopeConfig, TensorLayout};
use rigor_softmax::{Normalize, Normalizer};
use std::sync::Arc;

use crate::error::{NnError, Result as NnResult, finite, nonzero, positive, probability};
pub use cache::KvCache;
pub use mask::{AttentionMask, causal_mask, mask_logits};

/// Configuration of a [`MultiHeadAttention`]. Build with [`MultiHeadAttentionConfig::new`] and
/// the `with_*` methods, then [`init`](MultiHeadAttentionConfig::init), which validates.
///
/// ```
/// use burn::tensor::Device;
/// use rigor_nn::MultiHeadAttentionConfig;
/// use rigor_rope::RopeConfig;
/// use rigor_softmax::Normalizer;
///
/// let device = Device::flex();
/// let mha = MultiHeadAttentionConfig::new(16, 4)
///     .with_rope(Some(RopeConfig::new(4)))
///     .with_normalizer(Normalizer::adaptive())
///     .init(&device)
///     .unwrap();
/// assert_eq!(mha.head_dim(), 4);
/// assert!(MultiHeadAttentionConfig::new(16, 3).init(&device).is_err());
/// ```
#[derive(Config, Debug)]
pub struct MultiHeadAttentionConfig {
    /// Model width $d_{model}$ (input and output features).
    pub d_model: usize,
    /// Number of (query) heads; must divide `d_model`.
    pub n_heads: usize,
    /// Key/value heads, for grouped-query attention (Ainslie et al., 2023, *GQA*): query head
    /// $h$ reads key/value head $\lfloor h / g \rfloor$, $g = n_{heads} / n_{kv}$ (HF's
    /// `repeat_kv` order); `Some(1)` is multi-query attention (Shazeer, 2019). `None` is
    /// `n_heads` (plain multi-head). Must divide `n_heads`. $W_K$ and $W_V$ are then
    /// `d_model × n_kv·d_head` and the [`KvCache`] holds `n_kv` heads.
    pub n_kv_heads: Option<usize>,
    /// The map from logits to weights.
    #[config(default = "Normalizer::softmax()")]
    pub normalizer: Normalizer,
    /// Rotary encoding of queries and keys; its `head_dim` must be `d_model / n_heads`.
    pub rope: Option<RopeConfig>,
    /// Biases on the four projections.
    #[config(default = true)]
    pub bias: bool,
    /// Dropout on the attention weights (training on an autodiff device only).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Logit scale $s$; `None` is $1/\sqrt{d_{head}}$.
    pub scale: Option<f64>,
    /// A normalizer with learnable per-head parameters (SSMax's $s_h$, attention sinks
    /// $b_h$), trained with the weights and saved in the record; it replaces `normalizer`,
    /// which must then be the plain softmax. `None`: no learned normalizer.
    pub learned: Option<LearnedNormalizer>,
}

/// A normalizer whose parameters the attention learns, one per head (`[n_heads]` `Param`s of
/// [`MultiHeadAttention`], `ssmax_scale` / `sinks`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum LearnedNormalizer {
    /// SSMax with a learnable scale per head (Nakanishi 2025, arXiv 2501.19399, §3:
    /// "$s$ is a learnable scalar"): $\alpha = \operatorname{softmax}(s_h \ln n \cdot e)$, $n$ the
    /// unmasked keys of the row ([`rigor_softmax::scalable_softmax_learned`]); every $s_h$
    /// starts at `s` (finite, `> 0`). Nothing keeps $s_h$ positive during training.
    ScalableSoftmax {
        /// Initial $s$ of every head.
        s: f64,
    },
    /// Softmax with a learnable sink logit per head (OpenAI gpt-oss, 2025):
    /// $\alpha_{ij} = e^{e_{ij}} / (e^{b_h} + \sum_k e^{e_{ik}})$
    /// ([`rigor_softmax::softmax_with_sink`]); every $b_h$ starts at `sink` (finite; 0 is
    /// softmax1, transformers initialises gpt-oss's sinks from the checkpoint).
    Sinks {
        /// Initial $b$ of every head.
        sink: f64,
    },
    /// ASEntmax (Vasylenko et al., ICLR 2026, arXiv 2506.16640): α-entmax of the scores
    /// times a learnable per-head, position-dependent scale
    /// $s_{h,i} = \delta + \beta_h \ln(p_i + 2)^{\gamma_h}$, $p_i$ the query's absolute position
    /// ([`rigor_softmax::AsEntmax`]); `alpha` and `delta` are fixed, every $\beta_h$ starts at
    /// `beta` and every $\gamma_h$ at `gamma` (the authors draw $\beta \sim U(0.1, 1)$,
    /// $\gamma \sim \mathcal N(0, 0.1)$; overwrite the `asentmax_beta` / `asentmax_gamma`
    /// parameters for that). With a KV cache the query rows sit after the cached keys, as in
    /// the reference.
    AsEntmax {
        /// α of α-entmax (finite, `> 1`; the authors use 1.5).
        alpha: f64,
        /// The constant δ (finite; the reference's default is 1).
        delta: f64,
        /// Initial $\beta$ of every head (finite).
        beta: f64,
        /// Initial $\gamma$ of every head (finite).
        gamma: f64,
    },
}

impl MultiHeadAttentionConfig {
    /// Checks every hyper-parameter and returns `d_model / n_heads`.
    ///
    /// # Errors
    /// [`NnError::ZeroSize`], [`NnError::HeadsDoNotDivide`], [`NnError::OddHeadDimWithRope`],
    /// [`NnError::RopeHeadDim`], [`NnError::Rope`] (any other invalid RoPE setting),
    /// [`NnError::InvalidParameter`] (dropout not in `[0, 1)`, scale not finite and `> 0`,
    /// `n_kv_heads` zero or not a divisor of `n_heads`).
    pub fn validate(&self) -> NnResult<usize> {
        nonzero("d_model", self.d_model)?;
        nonzero("n_heads", self.n_heads)?;
        if let Some(kv) = self.n_kv_heads {
            nonzero("n_kv_heads", kv)?;
            if !self.n_heads.is_multiple_of(kv) {
                return Err(NnError::InvalidParameter {
                    name: "n_kv_heads",
                    value: kv as f64,
                    reason: "must divide n_heads (grouped-query attention)",
                });
            }
        }
        if !self.d_model.is_multiple_of(self.n_heads) {
            return Err(NnError::HeadsDoNotDivide {
                d_model: self.d_model,
                n_heads: self.n_heads,
            });
        }
        let head_dim = self.d_model / self.n_heads;
        if let Some(rope) = &self.rope {
            if !head_dim.is_multiple_of(2) {
                return Err(NnError::OddHeadDimWithRope { head_dim });
            }
            if rope.head_dim != head_dim {
                return Err(NnError::RopeHeadDim {
                    rope_head_dim: rope.head_dim,
                    head_dim,
                });
            }
            rope.validate()?;
        }
        probability("dropout", self.dropout)?;
        if let Some(s) = self.scale {
            positive("scale", s)?;
        }
        if let Some(learned) = &self.learned {
            if self.normalizer != Normalizer::softmax() {
                return Err(NnError::InvalidParameter {
                    name: "learned",
                    value: f64::NAN,
                    reason: "a learned normalizer replaces the softmax: leave `normalizer` at softmax()",
                });
            }
            match *learned {
                LearnedNormalizer::ScalableSoftmax { s } => {
                    positive("learned ssmax s", s)?;
                }
                LearnedNormalizer::Sinks { sink } => {
                    finite("learned sink", sink)?;
                }
                LearnedNormalizer::AsEntmax {
                    alpha,
                    delta,
                    beta,
                    gamma,
                } => {
                    rigor_softmax::AsEntmax::new(alpha)?.with_delta(delta)?;
                    finite("learned asentmax beta", beta)?;
                    finite("learned asentmax gamma", gamma)?;
                }
            }
        }
        Ok(head_dim)
    }

    /// Validates and builds the module on `device`.
    ///
    /// # Errors
    /// See [`validate`](MultiHeadAttentionConfig::validate).
    pub fn init(&self, device: &burn::tensor::Device) -> NnResult<MultiHeadAttention> {
        let head_dim = self.validate()?;
        let n_kv_heads = self.n_kv_heads.unwrap_or(self.n_heads);
        let linear = LinearConfig::new(self.d_model, self.d_model).with_bias(self.bias);
        let kv_linear = LinearConfig::new(self.d_model, n_kv_heads * head_dim).with_bias(self.bias);
        let rope = match &self.rope {
            Some(r) => Some(r.clone().init()?),
            None => None,
        };
        let per_head = |v: f64| Param::from_tensor(Tensor::<1>::full([self.n_heads], v, device));
        let (mut ssmax_scale, mut sinks) = (None, None);
        let (mut asentmax, mut asentmax_beta, mut asentmax_gamma) = (None, None, None);
        match self.learned {
            Some(LearnedNormalizer::ScalableSoftmax { s }) => ssmax_scale = Some(per_head(s)),
            Some(LearnedNormalizer::Sinks { sink }) => sinks = Some(per_head(sink)),
            Some(LearnedNormalizer::AsEntmax {
                alpha,
                delta,
                beta,
                gamma,
            }) => {
                asentmax = Some(rigor_softmax::AsEntmax::new(alpha)?.with_delta(delta)?);
                asentmax_beta = Some(per_head(beta));
                asentmax_gamma = Some(per_head(gamma));
            }
            None => {}
        }
        Ok(MultiHeadAttention {
            ssmax_scale,
            sinks,
            asentmax_beta,
            asentmax_gamma,
            asentmax,
            use_learned: self.learned.is_some(),
            query: linear.init(device),
            key: kv_linear.init(device),
            value: kv_linear.init(device),
            output: linear.init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            normalizer: self.normalizer.clone(),
            custom: None,
            rope,
            n_heads: self.n_heads,
            n_kv_heads,
            head_dim,
            scale: self.scale.unwrap_or_else(|| 1.0 / (head_dim as f64).sqrt()),
            kernel: AttentionKernel::default(),
        })
    }
}

/// Which implementation computes $\mathcal N(s\\,QK^\top)V$.
///
/// Both give the same result up to float rounding (tested in `tests/attention.rs` against each
/// other and against an f64 host computation); fully masked query rows give a zero context
/// row either way.
///
/// NaN: a NaN in a query or key makes the composed path's context rows NaN. Burn's kernels
/// differ by backend — burn-flex skips NaN scores when it takes a row maximum, so a query
/// whose scores are **all** NaN gets a zero context row there instead. Inside a
/// [`TransformerBlock`](crate::TransformerBlock) the residual stream still carries the NaN to
/// the output; use [`AttentionKernel::Composed`] where a NaN must reach the attention output
/// itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttentionKernel {
    /// Burn's attention op ([`burn::tensor::module::attention`]) when it computes the same thing:
    /// the normalizer is a softmax with temperature $\theta \ge 1$ (scale $s/\theta$), the weights
    /// are not asked for, dropout is inactive, and the device is not an autodiff device — Burn
    /// 0.22's autodiff backend has no attention backward of its own and falls back to composed ops,
    /// which is slower than rigor's path with its fused softmax backward (`benches/lm_step.rs`,
    /// `docs/performance.md`). The composed path otherwise.
    #[default]
    Auto,
    /// Burn's attention op whenever the normalizer and call allow it, autodiff devices
    /// included.
    Burn,
    /// Always the composed path: $QK^\top$, scale, mask, rigor's normalizer kernel, $\cdot V$.
    Composed,
}

/// Multi-head attention (Vaswani et al., 2017) with a [`Normalizer`] chosen at run time and an
/// optional rotary encoding. Build with [`MultiHeadAttentionConfig`]; see the
/// [module docs](self) for the formula.
///
/// Parameters: `query` and `output`, `d_model × d_model` [`Linear`]s; `key` and `value`,
/// `d_model × n_kv·d_head` (`d_model × d_model` without grouped-query heads). The normalizer
/// and the RoPE tables are not parameters (not recorded, not trained).
#[derive(Module, Debug)]
pub struct MultiHeadAttention {
    /// $W_Q$.
    pub query: Linear,
    /// $W_K$.
    pub key: Linear,
    /// $W_V$.
    pub value: Linear,
    /// $W_O$.
    pub output: Linear,
    /// Dropout on the attention weights.
    pub dropout: Dropout,
    /// SSMax's learnable per-head scales $s_h$, `[n_heads]` ([`LearnedNormalizer`]).
    pub ssmax_scale: Option<Param<Tensor<1>>>,
    /// Learnable per-head sink logits $b_h$, `[n_heads]` ([`LearnedNormalizer`]).
    pub sinks: Option<Param<Tensor<1>>>,
    /// ASEntmax's learnable per-head $\beta_h$, `[n_heads]` ([`LearnedNormalizer::AsEntmax`]).
    pub asentmax_beta: Option<Param<Tensor<1>>>,
    /// ASEntmax's learnable per-head $\gamma_h$, `[n_heads]` ([`LearnedNormalizer::AsEntmax`]).
    pub asentmax_gamma: Option<Param<Tensor<1>>>,
    #[module(skip)]
    asentmax: Option<rigor_softmax::AsEntmax>,
    #[module(skip)]
    use_learned: bool,
    #[module(skip)]
    normalizer: Normalizer,
    #[module(skip)]
    custom: Option<Arc<dyn Normalize>>,
    #[module(skip)]
    rope: Option<Rope>,
    n_heads: usize,
    n_kv_heads: usize,
    head_dim: usize,
    scale: f64,
    #[module(skip)]
    kernel: AttentionKernel,
}

/// What an attention call returns.
#[derive(Debug, Clone)]
pub struct AttentionOutput {
    /// `[batch, s_q, d_model]`.
    pub output: Tensor<3>,
    /// Attention weights $\alpha$, `[batch, heads, s_q, s_k]` (before dropout), when asked for.
    pub weights: Option<Tensor<4>>,
    /// Scaled logits $e$ with masked entries at $-\infty$, `[batch, heads, s_q, s_k]`, when
    /// weights were asked for (feed them to `rigor_softmax::diagnose` for dispersion
    /// diagnostics).
    pub scores: Option<Tensor<4>>,
}

impl MultiHeadAttention {
    /// The normalizer.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Replaces the normalizer with a built-in one (and drops a custom one); the weights are
    /// untouched. A learned normalizer's parameters stay (recorded, trained if used) but are
    /// no longer used until [`use_learned_normalizer`](Self::use_learned_normalizer).
    pub fn set_normalizer(&mut self, normalizer: Normalizer) {
        self.normalizer = normalizer;
        self.custom = None;
        self.use_learned = false;
    }

    /// Goes back to the learned normalizer (SSMax scales, sinks or ASEntmax) after
    /// [`set_normalizer`](Self::set_normalizer); returns `false` (and changes nothing) if this
    /// attention has none. A custom normalizer is dropped.
    pub fn use_learned_normalizer(&mut self) -> bool {
        if self.ssmax_scale.is_none() && self.sinks.is_none() && self.asentmax_beta.is_none() {
            return false;
        }
        self.custom = None;
        self.use_learned = true;
        true
    }

    /// Whether the learned normalizer computes the weights now.
    pub fn learned_normalizer_active(&self) -> bool {
        self.custom.is_none() && self.use_learned
    }

    /// Builder form of [`set_normalizer`](Self::set_normalizer).
    pub fn with_normalizer(mut self, normalizer: Normalizer) -> Self {
        self.set_normalizer(normalizer);
        self
    }

    /// Uses any [`Normalize`] implementor — a user's own normalizer, or a built-in's type —
    /// in place of the built-in [`normalizer`](Self::normalizer) until
    /// [`set_normalizer`](Self::set_normalizer) is called again. Attention then always takes
    /// the composed path, $\mathcal N(s\\,QK^\top)V$, with the scores
    /// `[batch, heads, s_q, s_k]` handed to [`Normalize::normalize`] (masked keys at
    /// $-\infty$). Like the built-in normalizer it is not a parameter: it is neither recorded
    /// in checkpoints nor in the config (set it again after loading).
    pub fn set_custom_normalizer(&mut self, normalizer: Arc<dyn Normalize>) {
        self.custom = Some(normalizer);
    }

    /// Builder form of [`set_custom_normalizer`](Self::set_custom_normalizer).
    pub fn with_custom_normalizer(mut self, normalizer: Arc<dyn Normalize>) -> Self {
        self.set_custom_normalizer(normalizer);
        self
    }

    /// The custom normalizer in use, if any.
    pub fn custom_normalizer(&self) -> Option<&Arc<dyn Normalize>> {
        self.custom.as_ref()
    }

    /// Which implementation computes the attention product (see [`AttentionKernel`]).
    pub fn kernel(&self) -> AttentionKernel {
        self.kernel
    }

    /// Chooses the implementation of the attention product; results agree up to rounding.
    pub fn set_kernel(&mut self, kernel: AttentionKernel) {
        self.kernel = kernel;
    }

    /// Builder form of [`set_kernel`](Self::set_kernel).
    pub fn with_kernel(mut self, kernel: AttentionKernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// The rotary encoding, if any.
    pub fn rope(&self) -> Option<&Rope> {
        self.rope.as_ref()
    }

    /// Number of heads.
    pub fn n_heads(&self) -> usize {
        self.n_heads
    }

    /// Number of key/value heads ($n_{heads}$ unless grouped-query).
    pub fn n_kv_heads(&self) -> usize {
        self.n_kv_heads
    }

    /// Per-head width $d_{head} = d_{model} / n_{heads}$.
    pub fn head_dim(&self) -> usize {
        self.head_dim
    }

    /// Model width.
    pub fn d_model(&self) -> usize {
        self.n_heads * self.head_dim
    }

    /// Logit scale $s$.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Self-attention over `x`, `[batch, seq, d_model]` → `[batch, seq, d_model]`.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] for a wrong width, an empty sequence or a padding mask that is
    /// not `[batch, seq]`; [`NnError::Rope`] (xPos beyond its range).
    pub fn forward(&self, x: Tensor<3>, mask: &AttentionMask) -> NnResult<Tensor<3>> {
        Ok(self.run(x, None, None, mask, false)?.output)
    }

    /// As [`forward`](Self::forward), also returning the weights and scores.
    ///
    /// # Errors
    /// As [`forward`](Self::forward).
    pub fn forward_with_weights(
        &self,
        x: Tensor<3>,
        mask: &AttentionMask,
    ) -> NnResult<AttentionOutput> {
        self.run(x, None, None, mask, true)
    }

    /// Cross-attention: `query` (`[batch, s_q, d_model]`) attends over `context`
    /// (`[batch, s_k, d_model]`). With RoPE, queries sit at positions `0..s_q` and keys at
    /// `0..s_k`. `mask.key_padding` describes `context`. Weights are returned.
    ///
    /// # Errors
    /// As [`forward`](Self::forward); also if `query` and `context` differ in batch.
    pub fn forward_cross(
        &self,
        query: Tensor<3>,
        context: Tensor<3>,
        mask: &AttentionMask,
    ) -> NnResult<AttentionOutput> {
        self.run(query, Some(context), None, mask, true)
    }

    /// Incremental self-attention: `x` holds the **new** tokens (`[batch, s, d_model]`, `s ≥ 1`),
    /// which sit at absolute positions `cache.len()..cache.len() + s`; their keys and values
    /// are appended to `cache`. `mask.key_padding` (if any) is `[batch, s]`, for the new
    /// tokens. With `mask.causal` the result equals the matching rows of a causal
    /// [`forward`](Self::forward) over the whole sequence.
    ///
    /// # Errors
    /// As [`forward`](Self::forward); [`NnError::ShapeMismatch`] if `cache` holds another batch.
    pub fn forward_cached(
        &self,
        x: Tensor<3>,
        cache: &mut KvCache,
        mask: &AttentionMask,
    ) -> NnResult<Tensor<3>> {
        Ok(self.run(x, None, Some(cache), mask, false)?.output)
    }

    /// As [`forward_cached`](Self::forward_cached), also returning weights over all cached
    /// keys.
    ///
    /// # Errors
    /// As [`forward_cached`](Self::forward_cached).
    pub fn forward_cached_with_weights(
        &self,
        x: Tensor<3>,
        cache: &mut KvCache,
        mask: &AttentionMask,
    ) -> NnResult<AttentionOutput> {
        self.run(x, None, Some(cache), mask, true)
    }

    /// Per-head queries and keys of `x` **before** RoPE, `[batch, heads, seq, head_dim]` and
    /// `[batch, n_kv_heads, seq, head_dim]` — what the frequency-usage measure of *Round and
    /// Round We Go!* §6 reads.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] for a wrong width.
    pub fn queries_keys(&self, x: Tensor<3>) -> NnResult<(Tensor<4>, Tensor<4>)> {
        self.check_input("MultiHeadAttention::queries_keys", &x)?;
        Ok((
            self.heads(self.query.forward(x.clone()), self.n_heads),
            self.heads(self.key.forward(x), self.n_kv_heads),
        ))
    }

    fn check_input(&self, op: &'static str, x: &Tensor<3>) -> NnResult<()> {
        let [_, s, d] = x.dims();
        if d != self.d_model() || s == 0 {
            return Err(NnError::ShapeMismatch {
                op,
                detail: format!(
                    "input has shape {:?}, expected [batch, seq >= 1, d_model = {}]",
                    x.dims(),
                    self.d_model()
                ),
            });
        }
        Ok(())
    }

    /// `[b, s, heads·head_dim]` → `[b, heads, s, head_dim]`.
    fn heads(&self, x: Tensor<3>, heads: usize) -> Tensor<4> {
        let [b, s, _] = x.dims();
        x.reshape([b, s, heads, self.head_dim]).swap_dims(1, 2)
    }

    /// The scale to hand Burn's attention op, when this call may go through it: a softmax
    /// normalizer with temperature $\theta$ is softmax at scale $s/\theta$.
    fn burn_attention_scale(&self, want_weights: bool, q: &Tensor<4>) -> Option<f64> {
        if self.custom.is_some() || self.use_learned {
            return None;
        }
        let Normalizer::Softmax { temperature } = &self.normalizer else {
            return None;
        };
        let autodiff = q.device().is_autodiff();
        let allowed = match self.kernel {
            AttentionKernel::Composed => false,
            AttentionKernel::Burn => true,
            AttentionKernel::Auto => !autodiff,
        };
        let dropout_inactive =
            self.dropout.prob == 0.0 || !autodiff || !self.dropout.training.is_enabled();
        // θ < 1 would raise the logits before the maximum is subtracted (rigor's softmax
        // subtracts it first), so only θ ≥ 1 is the same computation for huge logits.
        let theta = temperature.theta();
        (allowed && !want_weights && dropout_inactive && theta >= 1.0).then(|| self.scale / theta)
    }

    /// The learned normalizer's weights (the caller checked `use_learned`).
    fn learned_weights(&self, scores: Tensor<4>) -> NnResult<Tensor<4>> {
        let h = self.n_heads;
        if let Some(s) = &self.ssmax_scale {
            let s = s.val().reshape([1, h, 1, 1]);
            return Ok(rigor_softmax::scalable_softmax_learned(scores, -1, s)?);
        }
        if let Some(b) = &self.sinks {
            let b = b.val().reshape([1, h, 1, 1]);
            return Ok(rigor_softmax::softmax_with_sink(scores, -1, b)?);
        }
        if let (Some(a), Some(beta), Some(gamma)) =
            (&self.asentmax, &self.asentmax_beta, &self.asentmax_gamma)
        {
            return Ok(a.apply(scores, beta.val(), gamma.val())?);
        }
        Ok(self.normalizer.apply(scores, -1)?)
    }

    pub(crate) fn run(
        &self,
        query: Tensor<3>,
        context: Option<Tensor<3>>,
        cache: Option<&mut KvCache>,
        mask: &AttentionMask,
        want_weights: bool,
    ) -> NnResult<AttentionOutput> {
        self.check_input("MultiHeadAttention (query)", &query)?;
        let [b, s_q, _] = query.dims();
        let source = match &context {
            Some(c) => {
                self.check_input("MultiHeadAttention (context)", c)?;
                if c.dims()[0] != b {
                    return Err(NnError::ShapeMismatch {
                        op: "MultiHeadAttention::forward_cross",
                        detail: format!("query batch {b} but context batch {}", c.dims()[0]),
                    });
                }
                c.clone()
            }
            None => query.clone(),
        };
        let s_new = source.dims()[1];
        let padding = mask.key_padding.clone();
        if let Some(p) = &padding
            && p.dims() != [b, s_new]
        {
            return Err(NnError::ShapeMismatch {
                op: "attention key padding",
                detail: format!(
                    "key_padding has shape {:?}, expected [batch, seq] = [{b}, {s_new}] (the tokens of this call)",
                    p.dims()
                ),
            });
        }
        let offset = cache.as_ref().map_or(0, |c| c.len());
        let mut q = self.heads(self.query.forward(query), self.n_heads);
        let mut k = self.heads(self.key.forward(source.clone()), self.n_kv_heads);
        let v = self.heads(self.value.forward(source), self.n_kv_heads);
        if let Some(rope) = &self.rope {
            q = rope.apply(
                q,
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Offset(offset),
            )?;
            k = rope.apply(k, TensorLayout::Bhsd, Role::Key, Positions::Offset(offset))?;
        }
        let (k, v, padding): (Tensor<4>, Tensor<4>, Option<Tensor<2, Bool>>) = match cache {
            Some(c) => c.append(k, v, padding)?,
            None => (k, v, padding),
        };
        let group = self.n_heads / self.n_kv_heads;
        let (k, v) = (repeat_kv(k, group), repeat_kv(v, group));
        if let Some(scale) = self.burn_attention_scale(want_weights, &q) {
            let h = self.n_heads;
            let s_k = k.dims()[2];
            let key_mask = padding.map(|p| p.reshape([b, 1, 1, s_k]).expand([b, h, s_q, s_k]));
            let options = AttentionModuleOptions {
                scale: Some(scale),
                softcap: None,
                is_causal: mask.causal,
            };
            let context = attention(q, k, v, key_mask, None, options);
            let context = context.swap_dims(1, 2).reshape([b, s_q, self.d_model()]);
            return Ok(AttentionOutput {
                output: self.output.forward(context),
                weights: None,
                scores: None,
            });
        }
        let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(self.scale);
        let scores = mask_logits(scores, mask.causal, padding)?;
        let weights = match &self.custom {
            Some(custom) => custom.normalize(scores.clone())?,
            None if self.use_learned => self.learned_weights(scores.clone())?,
            None => self.normalizer.apply(scores.clone(), -1)?,
        };
        let context = self.dropout.forward(weights.clone()).matmul(v);
        let context = context.swap_dims(1, 2).reshape([b, s_q, self.d_model()]);
        let output = self.output.forward(context);
        Ok(AttentionOutput {
            output,
            weights: want_weights.then_some(weights),
            scores: want_weights.then_some(scores),
        })
    }
}

/// Grouped-query attention's key/value expansion: `[b, n_kv, s, d]` → `[b, n_kv·group, s, d]`,
/// head `h` reading kv head `h / group` (HF transformers' `repeat_kv`). `group = 1` returns
/// `t` as is.
pub(crate) fn repeat_kv(t: Tensor<4>, group: usize) -> Tensor<4> {
    if group == 1 {
        return t;
    }
    let [b, kv, s, d] = t.dims();
    t.unsqueeze_dim::<5>(2)
        .expand([b, kv, group, s, d])
        .reshape([b, kv * group, s, d])
}
