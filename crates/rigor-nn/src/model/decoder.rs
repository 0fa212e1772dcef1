//! A small decoder-only language model for synthetic-task reproductions.
//!
//! $$ h^{(0)}\_t = E_{x_t} + P_t\ (\text{learned positions only}),\quad
//!    h^{(\ell)} = \mathrm{Block}\_\ell(h^{(\ell-1)}),\quad
//!    \mathrm{logits}\_t = \mathrm{Norm}(h^{(L)}\_t)\\, W_{out} $$
//!
//! with causal attention in every block and $W_{out} = E^\top$ when embeddings are tied.

use burn::config::Config;
use burn::module::{Initializer, Module};
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Int, Tensor};
use rigor_perplexity::{CausalLm, PerplexityError};
use rigor_rope::RopeConfig;
use rigor_softmax::Normalizer;
use serde::{Deserialize, Serialize};

use crate::attention::{AttentionKernel, AttentionMask, KvCache};
use crate::block::{Norm, NormKind, TransformerBlock, TransformerBlockConfig};
use crate::error::{NnError, Result as NnResult, nonzero, positive, probability};
use crate::loss::cross_entropy;

/// How a [`DecoderLm`] knows where tokens are.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PositionalEncoding {
    /// NoPE: no positional signal except the causal mask.
    #[default]
    None,
    /// Learned absolute positions $P \in \mathbb R^{\text{max\\_seq\\_len} \times d}$ added to
    /// the token embeddings.
    Learned,
    /// Rotary encoding of queries and keys in every layer (any rigor-rope variant: RoPE,
    /// p-RoPE, NoPE-by-rotation, NeoX partial, scaled variants). Its `head_dim` must be
    /// `d_model / n_heads`.
    Rope(RopeConfig),
}

/// Configuration of a [`DecoderLm`].
///
/// ```
/// use burn::tensor::{Device, Int, Tensor};
/// use rigor_nn::{DecoderLmConfig, PositionalEncoding};
/// use rigor_rope::RopeConfig;
///
/// let device = Device::flex();
/// let model = DecoderLmConfig::new(11, 16, 2, 2)
///     .with_positional(PositionalEncoding::Rope(RopeConfig::new(8)))
///     .with_tie_embeddings(true)
///     .init(&device)
///     .unwrap();
/// let tokens = Tensor::<2, Int>::from_ints([[1, 2, 3]], &device);
/// assert_eq!(model.forward(tokens, None).unwrap().dims(), [1, 3, 11]);
/// ```
#[derive(Config, Debug)]
pub struct DecoderLmConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Model width.
    pub d_model: usize,
    /// Attention heads per block.
    pub n_heads: usize,
    /// Key/value heads per block for grouped-query attention (see
    /// [`MultiHeadAttentionConfig::n_kv_heads`](crate::MultiHeadAttentionConfig::n_kv_heads));
    /// `None` is `n_heads`.
    pub n_kv_heads: Option<usize>,
    /// A normalizer with learnable per-head parameters in every block (see
    /// [`MultiHeadAttentionConfig::learned`](crate::MultiHeadAttentionConfig::learned)).
    pub learned: Option<crate::attention::LearnedNormalizer>,
    /// Number of blocks.
    pub n_layers: usize,
    /// MLP hidden width; `None` is `4 · d_model`.
    pub d_ff: Option<usize>,
    /// Size of the learned position table (only read with [`PositionalEncoding::Learned`]).
    #[config(default = 512)]
    pub max_seq_len: usize,
    /// Positional information.
    #[config(default = "PositionalEncoding::None")]
    pub positional: PositionalEncoding,
    /// The attention normalizer of every block.
    #[config(default = "Normalizer::softmax()")]
    pub normalizer: Normalizer,
    /// LayerNorm or RMSNorm.
    #[config(default = "NormKind::LayerNorm")]
    pub norm: NormKind,
    /// ε of the norms.
    #[config(default = 1e-5)]
    pub norm_eps: f64,
    /// Output head $W_{out} = E^\top$ (no separate head parameters).
    #[config(default = false)]
    pub tie_embeddings: bool,
    /// Dropout (embeddings, attention weights, residual branches, MLP).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Biases on the Linears of the blocks and of an untied head.
    #[config(default = true)]
    pub bias: bool,
    /// Standard deviation of the $\mathcal N(0, \sigma^2)$ initialisation of the embeddings
    /// (GPT-2's 0.02 by default).
    #[config(default = 0.02)]
    pub embedding_std: f64,
}

impl DecoderLmConfig {
    /// The configuration of every block.
    pub fn block(&self) -> TransformerBlockConfig {
        let rope = match &self.positional {
            PositionalEncoding::Rope(r) => Some(r.clone()),
            _ => None,
        };
        TransformerBlockConfig::new(self.d_model, self.n_heads)
            .with_n_kv_heads(self.n_kv_heads)
            .with_learned(self.learned.clone())
            .with_d_ff(self.d_ff)
            .with_normalizer(self.normalizer.clone())
            .with_rope(rope)
            .with_norm(self.norm)
            .with_norm_eps(self.norm_eps)
            .with_dropout(self.dropout)
            .with_bias(self.bias)
    }

    /// Validates and builds the model.
    ///
    /// # Errors
    /// [`NnError::ZeroSize`] (`vocab_size`, `n_layers`, `max_seq_len` with learned positions),
    /// [`NnError::InvalidParameter`] (`embedding_std`, `dropout`), and everything
    /// [`TransformerBlockConfig::init`] reports.
    pub fn init(&self, device: &Device) -> NnResult<DecoderLm> {
        nonzero("vocab_size", self.vocab_size)?;
        nonzero("n_layers", self.n_layers)?;
        positive("embedding_std", self.embedding_std)?;
        probability("dropout", self.dropout)?;
        let block = self.block();
        let blocks = (0..self.n_layers)
            .map(|_| block.init(device))
            .collect::<NnResult<Vec<_>>>()?;
        let init = Initializer::Normal {
            mean: 0.0,
            std: self.embedding_std,
        };
        let position_embedding = match self.positional {
            PositionalEncoding::Learned => Some(
                EmbeddingConfig::new(nonzero("max_seq_len", self.max_seq_len)?, self.d_model)
                    .with_initializer(init.clone())
                    .init(device),
            ),
            _ => None,
        };
        Ok(DecoderLm {
            token_embedding: EmbeddingConfig::new(self.vocab_size, self.d_model)
                .with_initializer(init)
                .init(device),
            position_embedding,
            blocks,
            final_norm: self.norm.init(self.d_model, self.norm_eps, device),
            lm_head: (!self.tie_embeddings).then(|| {
                LinearConfig::new(self.d_model, self.vocab_size)
                    .with_bias(self.bias)
                    .init(device)
            }),
            dropout: DropoutConfig::new(self.dropout).init(),
            max_seq_len: self.max_seq_len,
        })
    }
}

/// A pre-norm decoder-only Transformer LM. Build with [`DecoderLmConfig`]; see the
/// [module docs](self).
///
/// Every forward is causal. Token ids must be `< vocab_size` (not checked: that would read the
/// device back).
#[derive(Module, Debug)]
pub struct DecoderLm {
    /// Token embedding $E$, `[vocab_size, d_model]`.
    pub token_embedding: Embedding,
    /// Learned absolute positions $P$, `[max_seq_len, d_model]`.
    pub position_embedding: Option<Embedding>,
    /// The blocks, input first.
    pub blocks: Vec<TransformerBlock>,
    /// Norm before the head.
    pub final_norm: Norm,
    /// Untied head ($d_{model} \to$ vocab); `None` when tied to $E$.
    pub lm_head: Option<Linear>,
    /// Dropout on the embeddings.
    pub dropout: Dropout,
    max_seq_len: usize,
}

/// Everything [`DecoderLm::forward_with_weights`] returns.
#[derive(Debug, Clone)]
pub struct DecoderOutput {
    /// `[batch, seq, vocab_size]`.
    pub logits: Tensor<3>,
    /// Final hidden states after the final norm, `[batch, seq, d_model]`.
    pub hidden: Tensor<3>,
    /// Attention weights of every layer, `[batch, heads, seq, seq]` each.
    pub weights: Vec<Tensor<4>>,
    /// Attention scores (logits, masked at $-\infty$) of every layer.
    pub scores: Vec<Tensor<4>>,
}

/// One [`KvCache`] per block. Get one from [`DecoderLm::new_cache`].
#[derive(Debug, Clone, Default)]
pub struct DecoderCache {
    /// The per-layer caches, input first.
    pub layers: Vec<KvCache>,
}

impl DecoderCache {
    /// Tokens seen so far (the position of the next token).
    pub fn len(&self) -> usize {
        self.layers.first().map_or(0, KvCache::len)
    }

    /// `true` before the first token.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every token.
    pub fn clear(&mut self) {
        self.layers.iter_mut().for_each(KvCache::clear);
    }
}

impl DecoderLm {
    /// Number of blocks.
    pub fn n_layers(&self) -> usize {
        self.blocks.len()
    }

    /// Vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.token_embedding.weight.val().dims()[0]
    }

    /// Model width.
    pub fn d_model(&self) -> usize {
        self.token_embedding.weight.val().dims()[1]
    }

    /// Size of the learned position table (`None` without learned positions).
    pub fn max_seq_len(&self) -> Option<usize> {
        self.position_embedding.as_ref().map(|_| self.max_seq_len)
    }

    /// The normalizer of the first block (all blocks share it unless set per layer).
    pub fn normalizer(&self) -> &Normalizer {
        self.blocks[0].attention.normalizer()
    }

    /// Sets the normalizer of every block; the weights are untouched.
    pub fn set_normalizer(&mut self, normalizer: Normalizer) {
        for b in &mut self.blocks {
            b.attention.set_normalizer(normalizer.clone());
        }
    }

    /// Builder form of [`set_normalizer`](Self::set_normalizer).
    pub fn with_normalizer(mut self, normalizer: Normalizer) -> Self {
        self.set_normalizer(normalizer);
        self
    }

    /// Uses any [`Normalize`](rigor_softmax::Normalize) implementor in every block's attention
    /// (see [`MultiHeadAttention::set_custom_normalizer`](crate::MultiHeadAttention::set_custom_normalizer)).
    pub fn set_custom_normalizer(
        &mut self,
        normalizer: std::sync::Arc<dyn rigor_softmax::Normalize>,
    ) {
        for b in &mut self.blocks {
            b.attention.set_custom_normalizer(normalizer.clone());
        }
    }

    /// Sets the attention implementation of every block (see [`AttentionKernel`]); results
    /// agree up to rounding.
    pub fn set_attention_kernel(&mut self, kernel: AttentionKernel) {
        for b in &mut self.blocks {
            b.attention.set_kernel(kernel);
        }
    }

    /// Builder form of [`set_attention_kernel`](Self::set_attention_kernel).
    pub fn with_attention_kernel(mut self, kernel: AttentionKernel) -> Self {
        self.set_attention_kernel(kernel);
        self
    }

    /// An empty KV cache for [`forward_cached`](Self::forward_cached).
    pub fn new_cache(&self) -> DecoderCache {
        DecoderCache {
            layers: vec![KvCache::new(); self.blocks.len()],
        }
    }

    /// Token ids `[batch, seq]` (optional key padding `[batch, seq]`, `true` = pad) →
    /// logits `[batch, seq, vocab_size]`.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] (empty sequence, padding shape),
    /// [`NnError::SequenceTooLong`] (learned positions), [`NnError::Rope`].
    pub fn forward(
        &self,
        tokens: Tensor<2, Int>,
        key_padding: Option<Tensor<2, Bool>>,
    ) -> NnResult<Tensor<3>> {
        let mask = AttentionMask::causal().with_key_padding_opt(key_padding);
        let mut x = self.embed(tokens, 0)?;
        for block in &self.blocks {
            x = block.forward(x, &mask)?;
        }
        Ok(self.head(self.final_norm.forward(x)))
    }

    /// As [`forward`](Self::forward), also returning hidden states and every layer's
    /// attention weights and scores.
    ///
    /// # Errors
    /// As [`forward`](Self::forward).
    pub fn forward_with_weights(
        &self,
        tokens: Tensor<2, Int>,
        key_padding: Option<Tensor<2, Bool>>,
    ) -> NnResult<DecoderOutput> {
        let mask = AttentionMask::causal().with_key_padding_opt(key_padding);
        let mut x = self.embed(tokens, 0)?;
        let mut weights = Vec::with_capacity(self.blocks.len());
        let mut scores = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let out = block.forward_with_weights(x, &mask)?;
            x = out.output;
            weights.extend(out.weights);
            scores.extend(out.scores);
        }
        let hidden = self.final_norm.forward(x);
        Ok(DecoderOutput {
            logits: self.head(hidden.clone()),
            hidden,
            weights,
            scores,
        })
    }

    /// Per-layer queries and keys of every head **before** RoPE, `[batch, heads, seq,
    /// head_dim]` each, input layer first: what each block's attention computes from its
    /// normed input ([`MultiHeadAttention::queries_keys`](crate::MultiHeadAttention::queries_keys)).
    /// The frequency-usage measure of *Round and Round We Go!* §6 and the drift bound of §5
    /// read these (a rotation preserves chunk norms, so rotated or not gives the same usage).
    ///
    /// # Errors
    /// As [`forward`](Self::forward).
    pub fn queries_keys(&self, tokens: Tensor<2, Int>) -> NnResult<Vec<(Tensor<4>, Tensor<4>)>> {
        let mask = AttentionMask::causal();
        let mut x = self.embed(tokens, 0)?;
        let mut out = Vec::with_capacity(self.blocks.len());
        for (l, block) in self.blocks.iter().enumerate() {
            out.push(
                block
                    .attention
                    .queries_keys(block.attention_norm.forward(x.clone()))?,
            );
            if l + 1 < self.blocks.len() {
                x = block.forward(x, &mask)?;
            }
        }
        Ok(out)
    }

    /// Incremental decoding: `tokens` (`[batch, s]`, `s ≥ 1`) are the **new** tokens at
    /// positions `cache.len()..cache.len() + s`; returns their logits `[batch, s, vocab]`,
    /// equal (up to float round-off) to the matching rows of [`forward`](Self::forward) over
    /// the whole sequence. `key_padding`, if any, is `[batch, s]` for the new tokens.
    ///
    /// # Errors
    /// As [`forward`](Self::forward); [`NnError::CacheLayers`] for a cache of another model.
    pub fn forward_cached(
        &self,
        tokens: Tensor<2, Int>,
        key_padding: Option<Tensor<2, Bool>>,
        cache: &mut DecoderCache,
    ) -> NnResult<Tensor<3>> {
        if cache.layers.len() != self.blocks.len() {
            return Err(NnError::CacheLayers {
                got: cache.layers.len(),
                expected: self.blocks.len(),
            });
        }
        let mask = AttentionMask::causal().with_key_padding_opt(key_padding);
        let mut x = self.embed(tokens, cache.len())?;
        for (block, c) in self.blocks.iter().zip(&mut cache.layers) {
            x = block.forward_cached(x, c, &mask)?;
        }
        Ok(self.head(self.final_norm.forward(x)))
    }

    /// Mean next-token cross-entropy (nats): position $t$ predicts token $t+1$; targets that
    /// are padding (`key_padding`, `true` = pad) are left out of the mean.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `seq < 2`; as [`forward`](Self::forward).
    pub fn next_token_loss(
        &self,
        tokens: Tensor<2, Int>,
        key_padding: Option<Tensor<2, Bool>>,
    ) -> NnResult<Tensor<1>> {
        let [b, s] = tokens.dims();
        if s < 2 {
            return Err(NnError::ShapeMismatch {
                op: "DecoderLm::next_token_loss",
                detail: format!("need at least 2 tokens per sequence, got shape [{b}, {s}]"),
            });
        }
        let logits = self.forward(tokens.clone(), key_padding.clone())?;
        let v = logits.dims()[2];
        let logits = logits.narrow(1, 0, s - 1).reshape([b * (s - 1), v]);
        let targets = tokens.narrow(1, 1, s - 1).reshape([b * (s - 1)]);
        let weight = key_padding.map(|p| {
            p.narrow(1, 1, s - 1)
                .bool_not()
                .float()
                .reshape([b * (s - 1)])
        });
        Ok(cross_entropy(logits, targets, weight))
    }

    /// Token (+ position) embedding of `[batch, s]` tokens at positions `offset..offset + s`.
    fn embed(&self, tokens: Tensor<2, Int>, offset: usize) -> NnResult<Tensor<3>> {
        let [b, s] = tokens.dims();
        if s == 0 || b == 0 {
            return Err(NnError::ShapeMismatch {
                op: "DecoderLm",
                detail: format!("tokens have shape [{b}, {s}], expected [batch >= 1, seq >= 1]"),
            });
        }
        let device = tokens.device();
        let mut x = self.token_embedding.forward(tokens);
        if let Some(p) = &self.position_embedding {
            if offset + s > self.max_seq_len {
                return Err(NnError::SequenceTooLong {
                    len: offset + s,
                    max: self.max_seq_len,
                });
            }
            let ids = Tensor::<1, Int>::arange(offset as i64..(offset + s) as i64, &device)
                .reshape([1, s]);
            x = x + p.forward(ids);
        }
        Ok(self.dropout.forward(x))
    }

    fn head(&self, h: Tensor<3>) -> Tensor<3> {
        match &self.lm_head {
            Some(l) => l.forward(h),
            None => {
                burn::tensor::module::linear(h, self.token_embedding.weight.val().transpose(), None)
            }
        }
    }
}

/// rigor-perplexity's evaluators (sliding window, accumulator, counterexample finder) run on a
/// `DecoderLm` directly: `logits` is [`DecoderLm::forward`] without padding — position $t$
/// predicts token $t + 1$ from tokens $0..=t$ (causal). A [`NnError`] (an empty input, a
/// sequence longer than the learned position table, a RoPE position limit) becomes
/// [`PerplexityError::Model`] with the `NnError` as its source.
impl CausalLm for DecoderLm {
    fn logits(&self, tokens: Tensor<2, Int>) -> rigor_perplexity::Result<Tensor<3>> {
        self.forward(tokens, None).map_err(PerplexityError::model)
    }
}
