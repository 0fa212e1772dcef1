//! `burn::nn::attention`'s names with rigor's attention behind them: swap the import
//!
//! ```text
//! use burn::nn::attention::{MhaInput, MultiHeadAttentionConfig};      // before
//! use rigor_nn::burn_compat::{MhaInput, MultiHeadAttentionConfig};    // after
//! ```
//!
//! and the same config fields, builder methods (`with_dropout`, `with_quiet_softmax`,
//! `with_initializer`, `with_*_bias`), input builder (`MhaInput::self_attn` / `new`,
//! `mask_pad`, `mask_attn`) and output (`MhaOutput { weights, context }`) work unchanged. The
//! parameters have Burn's names (`query`, `key`, `value`, `output`), so a record saved from
//! `burn::nn::attention::MultiHeadAttention` loads into this module (tested). What differs,
//! by rigor's rules:
//!
//! - `init` and `forward` return a [`Result`](crate::Result): an invalid config or a wrong
//!   shape is an [`NnError`], never a panic — add `?` (or `.unwrap()`) at the two call sites;
//! - masked entries are $-\infty$ (exactly zero weight; a fully masked row gets zero weights
//!   and a zero context), not `min_float` — the field is kept so configs still compile and is
//!   otherwise unused (with Burn's −10⁴ a masked weight is `exp(−10⁴)` = 0 in `f32` as well,
//!   so only fully masked rows differ: Burn spreads them uniformly);
//! - and rigor's additions: any [`Normalizer`] (`with_normalizer`: adaptive temperature,
//!   SSMax, entmax, …; `quiet_softmax` is [`Normalizer::softmax1`]), RoPE on queries and keys
//!   (`with_rope`, positions `0..seq` of each input), grouped-query heads (`with_n_kv_heads`).
//!
//! The scores are $QK^\top/\sqrt{d_k}$ per head, as in Burn; the weights are returned
//! (after dropout, as Burn does).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig};
use burn::tensor::{Bool, Tensor};
use rigor_rope::{Positions, Rope, RopeConfig, TensorLayout};
use rigor_softmax::Normalizer;

use super::repeat_kv;
use crate::error::{NnError, Result as NnResult, nonzero, probability};

/// `burn::nn::attention::MultiHeadAttentionConfig`'s fields and defaults, plus rigor's
/// normalizer, RoPE and grouped-query heads. See the [module docs](self).
#[derive(Config, Debug)]
pub struct MultiHeadAttentionConfig {
    /// The size of each linear layer.
    pub d_model: usize,
    /// The number of heads.
    pub n_heads: usize,
    /// The dropout rate on the attention weights. Default: 0.1 (Burn's).
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Kept for source compatibility with Burn; unused (rigor masks with $-\infty$).
    #[config(default = -1.0e4)]
    pub min_float: f64,
    /// Softmax1 ("quiet softmax", $e^{x_i}/(1 + \sum_j e^{x_j})$) instead of softmax, when
    /// no `normalizer` is given.
    #[config(default = false)]
    pub quiet_softmax: bool,
    /// Initializer of the four projections (Burn's default: Kaiming-uniform, gain $1/\sqrt 3$).
    #[config(
        default = "Initializer::KaimingUniform{gain: 0.577_350_269_189_625_8, fan_out_only: false}"
    )]
    pub initializer: Initializer,
    /// Bias on the key projection.
    #[config(default = true)]
    pub key_bias: bool,
    /// Bias on the value projection.
    #[config(default = true)]
    pub value_bias: bool,
    /// Bias on the query projection.
    #[config(default = true)]
    pub query_bias: bool,
    /// Bias on the output projection.
    #[config(default = true)]
    pub output_bias: bool,
    /// rigor: the map from scores to weights; `None` is softmax (softmax1 with
    /// `quiet_softmax`).
    pub normalizer: Option<Normalizer>,
    /// rigor: rotary encoding of queries and keys (`head_dim = d_model / n_heads`).
    pub rope: Option<RopeConfig>,
    /// rigor: key/value heads for grouped-query attention (must divide `n_heads`); `None` is
    /// `n_heads`.
    pub n_kv_heads: Option<usize>,
}

impl MultiHeadAttentionConfig {
    /// Validates and builds the module.
    ///
    /// # Errors
    /// [`NnError::ZeroSize`], [`NnError::HeadsDoNotDivide`], [`NnError::InvalidParameter`]
    /// (dropout outside `[0, 1)`, `n_kv_heads` not dividing `n_heads`),
    /// [`NnError::RopeHeadDim`] / [`NnError::OddHeadDimWithRope`] / [`NnError::Rope`].
    pub fn init(&self, device: &burn::tensor::Device) -> NnResult<MultiHeadAttention> {
        // The same checks as rigor's own attention config.
        let head_dim = super::MultiHeadAttentionConfig::new(self.d_model, self.n_heads)
            .with_rope(self.rope.clone())
            .with_dropout(self.dropout)
            .with_n_kv_heads(self.n_kv_heads)
            .validate()?;
        let n_kv_heads = nonzero("n_kv_heads", self.n_kv_heads.unwrap_or(self.n_heads))?;
        probability("dropout", self.dropout)?;
        let linear = |d_out: usize, bias: bool| {
            LinearConfig::new(self.d_model, d_out)
                .with_bias(bias)
                .with_initializer(self.initializer.clone())
                .init(device)
        };
        let normalizer = self.normalizer.clone().unwrap_or(if self.quiet_softmax {
            Normalizer::softmax1()
        } else {
            Normalizer::softmax()
        });
        Ok(MultiHeadAttention {
            query: linear(self.d_model, self.query_bias),
            key: linear(n_kv_heads * head_dim, self.key_bias),
            value: linear(n_kv_heads * head_dim, self.value_bias),
            output: linear(self.d_model, self.output_bias),
            dropout: DropoutConfig::new(self.dropout).init(),
            normalizer,
            rope: match &self.rope {
                Some(r) => Some(r.clone().init()?),
                None => None,
            },
            d_model: self.d_model,
            n_heads: self.n_heads,
            n_kv_heads,
            d_k: head_dim,
        })
    }
}

/// `burn::nn::attention::MhaInput`: queries `[batch, s₁, d_model]`, keys and values
/// `[batch, s₂, d_model]`, an optional key padding mask `[batch, s₂]` and attention mask
/// `[batch, s₁, s₂]` (`true` = masked).
#[derive(Debug, Clone)]
pub struct MhaInput {
    query: Tensor<3>,
    key: Tensor<3>,
    value: Tensor<3>,
    mask_pad: Option<Tensor<2, Bool>>,
    mask_attn: Option<Tensor<3, Bool>>,
}

impl MhaInput {
    /// Self-attention: queries, keys and values from one tensor.
    pub fn self_attn(tensor: Tensor<3>) -> Self {
        Self::new(tensor.clone(), tensor.clone(), tensor)
    }

    /// Separate queries, keys and values.
    pub fn new(query: Tensor<3>, key: Tensor<3>, value: Tensor<3>) -> Self {
        Self {
            query,
            key,
            value,
            mask_pad: None,
            mask_attn: None,
        }
    }

    /// Key padding mask `[batch, s₂]`, `true` = padded.
    pub fn mask_pad(mut self, mask_pad: Tensor<2, Bool>) -> Self {
        self.mask_pad = Some(mask_pad);
        self
    }

    /// Attention mask `[batch, s₁, s₂]`, `true` = hidden (e.g. a causal mask).
    pub fn mask_attn(mut self, mask_attn: Tensor<3, Bool>) -> Self {
        self.mask_attn = Some(mask_attn);
        self
    }
}

/// `burn::nn::attention::MhaOutput`.
#[derive(Debug, Clone)]
pub struct MhaOutput {
    /// The attention weights `[batch, n_heads, s₁, s₂]` (after dropout while training).
    pub weights: Tensor<4>,
    /// The context `[batch, s₁, d_model]`.
    pub context: Tensor<3>,
}

/// `burn::nn::attention::MultiHeadAttention` with rigor's normalizers, RoPE and
/// grouped-query heads; same parameter names (records load both ways). Build with
/// [`MultiHeadAttentionConfig`].
#[derive(Module, Debug)]
pub struct MultiHeadAttention {
    /// Query projection, `d_model → d_model`.
    pub query: Linear,
    /// Key projection, `d_model → n_kv·d_k`.
    pub key: Linear,
    /// Value projection, `d_model → n_kv·d_k`.
    pub value: Linear,
    /// Output projection, `d_model → d_model`.
    pub output: Linear,
    /// Dropout on the weights.
    pub dropout: Dropout,
    #[module(skip)]
    normalizer: Normalizer,
    #[module(skip)]
    rope: Option<Rope>,
    d_model: usize,
    n_heads: usize,
    n_kv_heads: usize,
    d_k: usize,
}

impl MultiHeadAttention {
    /// The normalizer.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Replaces the normalizer (the weights are untouched).
    pub fn set_normalizer(&mut self, normalizer: Normalizer) {
        self.normalizer = normalizer;
    }

    /// $\mathcal N(QK^\top/\sqrt{d_k} \text{ masked})\\,V$ per head, then the output
    /// projection — Burn's `forward`, with errors instead of panics.
    ///
    /// NaN in an input reaches the rows that read it; masked entries get exactly zero weight.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if a last dimension is not `d_model`, the batches differ,
    /// keys and values differ in length, a sequence is empty, or a mask has another shape;
    /// [`NnError::Rope`].
    pub fn forward(&self, input: MhaInput) -> NnResult<MhaOutput> {
        let op = "burn_compat::MultiHeadAttention::forward";
        let [b, s1, d1] = input.query.dims();
        let [bk, s2, d2] = input.key.dims();
        let [bv, s2v, d3] = input.value.dims();
        let bad = |detail: String| Err(NnError::ShapeMismatch { op, detail });
        if d1 != self.d_model || d2 != self.d_model || d3 != self.d_model {
            return bad(format!(
                "query {:?}, key {:?}, value {:?}: the last dimension must be d_model = {}",
                [b, s1, d1],
                [bk, s2, d2],
                [bv, s2v, d3],
                self.d_model
            ));
        }
        if bk != b || bv != b || s2v != s2 || s1 == 0 || s2 == 0 {
            return bad(format!(
                "query {:?}, key {:?}, value {:?}: batches must agree, keys and values have \
                 one length, no sequence may be empty",
                [b, s1, d1],
                [bk, s2, d2],
                [bv, s2v, d3]
            ));
        }
        if let Some(m) = &input.mask_pad
            && m.dims() != [b, s2]
        {
            return bad(format!("mask_pad is {:?}, expected [{b}, {s2}]", m.dims()));
        }
        if let Some(m) = &input.mask_attn
            && m.dims() != [b, s1, s2]
        {
            return bad(format!(
                "mask_attn is {:?}, expected [{b}, {s1}, {s2}]",
                m.dims()
            ));
        }
        let heads = |x: Tensor<3>, h: usize| -> Tensor<4> {
            let [b, s, _] = x.dims();
            x.reshape([b, s, h, self.d_k]).swap_dims(1, 2)
        };
        let mut q = heads(self.query.forward(input.query), self.n_heads);
        let mut k = heads(self.key.forward(input.key), self.n_kv_heads);
        let v = heads(self.value.forward(input.value), self.n_kv_heads);
        if let Some(rope) = &self.rope {
            use rigor_rope::Role;
            let at = Positions::Offset(0);
            q = rope.apply(q, TensorLayout::Bhsd, Role::Query, at)?;
            k = rope.apply(k, TensorLayout::Bhsd, Role::Key, at)?;
        }
        let group = self.n_heads / self.n_kv_heads;
        let (k, v) = (repeat_kv(k, group), repeat_kv(v, group));
        let mut scores = q
            .matmul(k.swap_dims(2, 3))
            .div_scalar((self.d_k as f64).sqrt());
        let h = self.n_heads;
        let mask = match (input.mask_pad, input.mask_attn) {
            (None, None) => None,
            (Some(p), None) => Some(p.reshape([b, 1, 1, s2]).expand([b, h, s1, s2])),
            (None, Some(a)) => Some(a.reshape([b, 1, s1, s2]).expand([b, h, s1, s2])),
            (Some(p), Some(a)) => Some(
                p.reshape([b, 1, s2])
                    .expand([b, s1, s2])
                    .bool_or(a)
                    .reshape([b, 1, s1, s2])
                    .expand([b, h, s1, s2]),
            ),
        };
        if let Some(mask) = mask {
            scores = scores.mask_fill(mask, f32::NEG_INFINITY);
        }
        let weights = self.dropout.forward(self.normalizer.apply(scores, -1)?);
        let context = weights
            .clone()
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([b, s1, self.d_model]);
        Ok(MhaOutput {
            weights,
            context: self.output.forward(context),
        })
    }
}
