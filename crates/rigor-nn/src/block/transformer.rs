//! The pre-norm Transformer block (GPT-2 / Xiong et al., 2020 placement of the norms).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Device, Tensor};
use rigor_rope::RopeConfig;
use rigor_softmax::Normalizer;

use super::mlp::{Mlp, MlpConfig};
use super::norm::{Norm, NormKind};
use crate::attention::{
    AttentionMask, AttentionOutput, KvCache, MultiHeadAttention, MultiHeadAttentionConfig,
};
use crate::error::{Result as NnResult, nonzero, positive};

/// Configuration of a [`TransformerBlock`].
#[derive(Config, Debug)]
pub struct TransformerBlockConfig {
    /// Model width.
    pub d_model: usize,
    /// Attention heads; must divide `d_model`.
    pub n_heads: usize,
    /// Key/value heads for grouped-query attention (see
    /// [`MultiHeadAttentionConfig::n_kv_heads`]); `None` is `n_heads`.
    pub n_kv_heads: Option<usize>,
    /// A normalizer with learnable per-head parameters (see
    /// [`MultiHeadAttentionConfig::learned`]).
    pub learned: Option<crate::attention::LearnedNormalizer>,
    /// MLP hidden width; `None` is `4 · d_model`.
    pub d_ff: Option<usize>,
    /// The attention normalizer.
    #[config(default = "Normalizer::softmax()")]
    pub normalizer: Normalizer,
    /// Rotary encoding in the attention (`head_dim = d_model / n_heads`).
    pub rope: Option<RopeConfig>,
    /// LayerNorm or RMSNorm.
    #[config(default = "NormKind::LayerNorm")]
    pub norm: NormKind,
    /// ε of the norms.
    #[config(default = 1e-5)]
    pub norm_eps: f64,
    /// Dropout on attention weights, after the MLP's GELU and on both residual branches.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Biases on every Linear.
    #[config(default = true)]
    pub bias: bool,
}

impl TransformerBlockConfig {
    /// The attention's configuration.
    pub fn attention(&self) -> MultiHeadAttentionConfig {
        MultiHeadAttentionConfig::new(self.d_model, self.n_heads)
            .with_n_kv_heads(self.n_kv_heads)
            .with_learned(self.learned.clone())
            .with_normalizer(self.normalizer.clone())
            .with_rope(self.rope.clone())
            .with_bias(self.bias)
            .with_dropout(self.dropout)
    }

    /// Validates and builds the block.
    ///
    /// # Errors
    /// As [`MultiHeadAttentionConfig::validate`] and [`MlpConfig::init`]; `norm_eps` must be
    /// finite and `> 0`.
    pub fn init(&self, device: &Device) -> NnResult<TransformerBlock> {
        positive("norm_eps", self.norm_eps)?;
        let attention = self.attention().init(device)?;
        let d_ff = nonzero("d_ff", self.d_ff.unwrap_or(4 * self.d_model))?;
        let mlp = MlpConfig::new(self.d_model, d_ff, self.d_model)
            .with_bias(self.bias)
            .with_dropout(self.dropout)
            .init(device)?;
        Ok(TransformerBlock {
            attention_norm: self.norm.init(self.d_model, self.norm_eps, device),
            attention,
            mlp_norm: self.norm.init(self.d_model, self.norm_eps, device),
            mlp,
            dropout: DropoutConfig::new(self.dropout).init(),
        })
    }
}

/// Pre-norm block:
/// $h = x + \mathrm{Attn}(\mathrm{Norm}_1(x))$, $y = h + \mathrm{MLP}(\mathrm{Norm}_2(h))$.
#[derive(Module, Debug)]
pub struct TransformerBlock {
    /// Norm before attention.
    pub attention_norm: Norm,
    /// Self-attention.
    pub attention: MultiHeadAttention,
    /// Norm before the MLP.
    pub mlp_norm: Norm,
    /// Feed-forward block.
    pub mlp: Mlp,
    /// Dropout on both residual branches.
    pub dropout: Dropout,
}

impl TransformerBlock {
    /// `[batch, seq, d_model]` → `[batch, seq, d_model]`.
    ///
    /// # Errors
    /// As [`MultiHeadAttention::forward`].
    pub fn forward(&self, x: Tensor<3>, mask: &AttentionMask) -> NnResult<Tensor<3>> {
        Ok(self.run(x, None, mask, false)?.output)
    }

    /// As [`forward`](Self::forward); `output` is the block's output, `weights`/`scores` the
    /// attention's.
    ///
    /// # Errors
    /// As [`MultiHeadAttention::forward`].
    pub fn forward_with_weights(
        &self,
        x: Tensor<3>,
        mask: &AttentionMask,
    ) -> NnResult<AttentionOutput> {
        self.run(x, None, mask, true)
    }

    /// Incremental form over new tokens (see [`MultiHeadAttention::forward_cached`]).
    ///
    /// # Errors
    /// As [`MultiHeadAttention::forward_cached`].
    pub fn forward_cached(
        &self,
        x: Tensor<3>,
        cache: &mut KvCache,
        mask: &AttentionMask,
    ) -> NnResult<Tensor<3>> {
        Ok(self.run(x, Some(cache), mask, false)?.output)
    }

    fn run(
        &self,
        x: Tensor<3>,
        cache: Option<&mut KvCache>,
        mask: &AttentionMask,
        want_weights: bool,
    ) -> NnResult<AttentionOutput> {
        let normed = self.attention_norm.forward(x.clone());
        let attn = self
            .attention
            .run(normed, None, cache, mask, want_weights)?;
        let h = x + self.dropout.forward(attn.output);
        let y = h.clone()
            + self
                .dropout
                .forward(self.mlp.forward(self.mlp_norm.forward(h)));
        Ok(AttentionOutput {
            output: y,
            weights: attn.weights,
            scores: attn.scores,
        })
    }
}
