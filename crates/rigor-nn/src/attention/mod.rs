//! Multi-head attention with a swappable normalizer and any rotary encoding.
//!
//! For every head $h$, with $q_i = W_Q^{(h)} x_i$, $k_j = W_K^{(h)} x_j$ (RoPE applied to both
//! when configured), $v_j = W_V^{(h)} x_j$:
//!
//! $$ e_{ij} = s\, q_i^\top k_j \ (\text{masked} \to -\infty), \qquad
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
//! $\mathcal N(s\,QK^\top)V$ with rigor-softmax's kernels. Masks are built on the device
//! (no host buffer per call).
//!
//! - [`mask`] — causal and key-padding masks.
//! - [`cache`] — the KV cache for incremental decoding.

pub mod cache;
pub mod mask;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Tensor};
use rigor_rope::{Positions, Role, Rope, RopeConfig, TensorLayout};
use rigor_softmax::Normalizer;

use crate::error::{NnError, Result as NnResult, nonzero, positive, probability};
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
    /// Number of heads; must divide `d_model`.
    pub n_heads: usize,
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
}

impl MultiHeadAttentionConfig {
    /// Checks every hyper-parameter and returns `d_model / n_heads`.
    ///
    /// # Errors
    /// [`NnError::ZeroSize`], [`NnError::HeadsDoNotDivide`], [`NnError::OddHeadDimWithRope`],
    /// [`NnError::RopeHeadDim`], [`NnError::Rope`] (any other invalid RoPE setting),
    /// [`NnError::InvalidParameter`] (dropout not in `[0, 1)`, scale not finite and `> 0`).
    pub fn validate(&self) -> NnResult<usize> {
        nonzero("d_model", self.d_model)?;
        nonzero("n_heads", self.n_heads)?;
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
        Ok(head_dim)
    }

    /// Validates and builds the module on `device`.
    ///
    /// # Errors
    /// See [`validate`](MultiHeadAttentionConfig::validate).
    pub fn init(&self, device: &burn::tensor::Device) -> NnResult<MultiHeadAttention> {
        let head_dim = self.validate()?;
        let linear = LinearConfig::new(self.d_model, self.d_model).with_bias(self.bias);
        let rope = match &self.rope {
            Some(r) => Some(r.clone().init()?),
            None => None,
        };
        Ok(MultiHeadAttention {
            query: linear.init(device),
            key: linear.init(device),
            value: linear.init(device),
            output: linear.init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            normalizer: self.normalizer.clone(),
            rope,
            n_heads: self.n_heads,
            head_dim,
            scale: self.scale.unwrap_or_else(|| 1.0 / (head_dim as f64).sqrt()),
            kernel: AttentionKernel::default(),
        })
    }
}

/// Which implementation computes $\mathcal N(s\,QK^\top)V$.
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
    /// Burn's attention op ([`burn::tensor::module::attention`]) when it computes the same
    /// thing: the normalizer is a softmax with temperature θ ≥ 1 (scale $s/θ$), the weights are
    /// not asked for, dropout is inactive, and the device is not an autodiff device — Burn
    /// 0.22's autodiff backend has no attention backward of its own and falls back to
    /// composed ops, which is slower than rigor's path with its fused softmax backward
    /// (`benches/lm_step.rs`, `docs/performance.md`). The composed path otherwise.
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
/// Parameters: `query`, `key`, `value`, `output`, each a `d_model × d_model` [`Linear`]. The
/// normalizer and the RoPE tables are not parameters (not recorded, not trained).
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
    #[module(skip)]
    normalizer: Normalizer,
    #[module(skip)]
    rope: Option<Rope>,
    n_heads: usize,
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

    /// Replaces the normalizer; the weights are untouched.
    pub fn set_normalizer(&mut self, normalizer: Normalizer) {
        self.normalizer = normalizer;
    }

    /// Builder form of [`set_normalizer`](Self::set_normalizer).
    pub fn with_normalizer(mut self, normalizer: Normalizer) -> Self {
        self.normalizer = normalizer;
        self
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

    /// Per-head queries and keys of `x` **before** RoPE, `[batch, heads, seq, head_dim]` each —
    /// what the frequency-usage measure of *Round and Round We Go!* §6 reads.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] for a wrong width.
    pub fn queries_keys(&self, x: Tensor<3>) -> NnResult<(Tensor<4>, Tensor<4>)> {
        self.check_input("MultiHeadAttention::queries_keys", &x)?;
        Ok((
            self.heads(self.query.forward(x.clone())),
            self.heads(self.key.forward(x)),
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

    /// `[b, s, d_model]` → `[b, heads, s, head_dim]`.
    fn heads(&self, x: Tensor<3>) -> Tensor<4> {
        let [b, s, _] = x.dims();
        x.reshape([b, s, self.n_heads, self.head_dim])
            .swap_dims(1, 2)
    }

    /// The scale to hand Burn's attention op, when this call may go through it: a softmax
    /// normalizer with temperature θ is softmax at scale $s/θ$.
    fn burn_attention_scale(&self, want_weights: bool, q: &Tensor<4>) -> Option<f64> {
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
        let mut q = self.heads(self.query.forward(query));
        let mut k = self.heads(self.key.forward(source.clone()));
        let v = self.heads(self.value.forward(source));
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
        let weights = self.normalizer.apply(scores.clone(), -1)?;
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
