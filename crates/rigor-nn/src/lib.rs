//! # rigor-nn
//!
//! Transformer building blocks for rigor's reproductions, on any Burn device: multi-head
//! attention whose normalizer is any [`rigor_softmax::Normalizer`] (swappable on a trained
//! model) and whose positional encoding is any [`rigor_rope`] variant, causal and padding
//! masks, a KV cache, pre-norm blocks, a small decoder-only LM, and the set-encoder +
//! attention-readout model of the max-retrieval task.
//!
//! Everything is written once against `Tensor<D>` from composed Burn ops, so it runs and
//! differentiates on Flex, NdArray and wgpu alike.
//!
//! ## Map: paper → section → module
//!
//! | paper | what | where |
//! |---|---|---|
//! | Vaswani et al. 2017 | multi-head attention, $\mathcal N(s\\,QK^\top)V$ | [`attention`] |
//! | *Softmax is not Enough* §2–4 | the normalizer $\mathcal N$ as a run-time choice | [`MultiHeadAttention::set_normalizer`] |
//! | *Softmax is not Enough*, Fig. 2 / App. A | max retrieval: items → MLP → one learned-query head → MLP | [`model::set_readout`] |
//! | *Round and Round We Go!* §2–6 | RoPE / p-RoPE / NoPE in attention, per-head $q, k$ | [`attention`] ([`MultiHeadAttention::queries_keys`]) |
//! | SSMax (arXiv 2501.19399); gpt-oss sinks; ASEntmax (arXiv 2506.16640) | normalizers with learnable per-head parameters (`Param`s of the attention) | [`LearnedNormalizer`] |
//! | — | any user normalizer (`rigor_softmax::Normalize`) in attention, the decoders and the set readout | [`MultiHeadAttention::set_custom_normalizer`] |
//! | Ainslie et al. 2023 (GQA); Shazeer 2019 (MQA) | grouped- / multi-query heads | [`MultiHeadAttentionConfig::n_kv_heads`] |
//! | — | `burn::nn::attention`'s API (config, `MhaInput`, `MhaOutput`, parameter names) over rigor's attention | [`burn_compat`] |
//! | — | causal and key-padding masks | [`attention::mask`] |
//! | — | KV cache for incremental decoding | [`attention::cache`] |
//! | Xiong et al. 2020 (pre-LN) | pre-norm block, MLP, LayerNorm/RMSNorm | [`block`] |
//! | Hendrycks & Gimpel 2016 | fused GELU $x\Phi(x)$ for Flex (values and gradient), reference `gelu_reference` | `kernel` (feature `flex`) |
//! | Radford et al. 2019 (GPT-2) | decoder-only LM, tied head | [`model::decoder`] |
//! | Touvron et al. 2023 (Llama); Ainslie et al. 2023 (GQA); Gemma Team 2024–25; Qwen Team 2024–25 | the decoder of pretrained checkpoints, by HF tensor names | [`model::pretrained`] |
//! | — | cross-entropy, accuracy | [`loss`] |
//! | — | save/load parameters (burnpack) | [`checkpoint`] |
//!
//! ## Conventions
//!
//! - Shapes: activations `[batch, seq, d_model]`; attention weights
//!   `[batch, heads, s_q, s_k]`; padding masks `[batch, seq]` with `true` = **padded**.
//! - Masked logits are $-\infty$; a query whose keys are all masked gets all-zero weights
//!   (rigor-softmax's convention) and a finite output — never `NaN`.
//! - Configs are validated once, in `init` (a [`NnError`]); afterwards only the caller's
//!   tensors can be wrong (width, mask shape, sequence length), which is again an
//!   [`NnError`], not a panic.
//! - The normalizer and RoPE are **not** parameters: they are not trained, not saved by
//!   [`checkpoint::save`], and live in the config.
//!
//! ## Example
//!
//! ```
//! use burn::tensor::{Device, Int, Tensor};
//! use rigor_nn::{DecoderLmConfig, PositionalEncoding};
//! use rigor_rope::{RopeConfig, Rotation};
//! use rigor_softmax::Normalizer;
//!
//! let device = Device::flex();
//! let rope = RopeConfig::new(8).with_rotation(Rotation::Proportional { p: 0.75 });
//! let model = DecoderLmConfig::new(10, 16, 2, 2)
//!     .with_positional(PositionalEncoding::Rope(rope))
//!     .init(&device)
//!     .unwrap();
//! let tokens = Tensor::<2, Int>::from_ints([[1, 4, 2, 7]], &device);
//! let loss = model.next_token_loss(tokens.clone(), None).unwrap();
//! assert!(loss.into_scalar::<f32>().is_finite());
//!
//! // Same weights, another normalizer; and incremental decoding with a KV cache.
//! let model = model.with_normalizer(Normalizer::adaptive());
//! let mut cache = model.new_cache();
//! let first = model.forward_cached(tokens.clone().narrow(1, 0, 3), None, &mut cache).unwrap();
//! let next = model.forward_cached(tokens.narrow(1, 3, 1), None, &mut cache).unwrap();
//! assert_eq!((first.dims(), next.dims(), cache.len()), ([1, 3, 10], [1, 1, 10], 4));
//! ```
//!
//! ## Features
//!
//! - `flex` (default): Burn's pure-Rust CPU backend.
//! - `ndarray`: Burn's deprecated ndarray backend.
//! - `wgpu`: the wgpu GPU backend.
#![warn(missing_docs)]
#![recursion_limit = "256"]

pub mod attention;
pub mod block;
pub mod checkpoint;
pub mod error;
#[cfg(feature = "flex")]
pub mod kernel;
pub mod loss;
pub mod model;

pub use attention::burn_compat;
pub use attention::{
    AttentionKernel, AttentionMask, AttentionOutput, KvCache, LearnedNormalizer,
    MultiHeadAttention, MultiHeadAttentionConfig, causal_mask, mask_logits,
};
pub use block::{Mlp, MlpConfig, Norm, NormKind, TransformerBlock, TransformerBlockConfig};
pub use error::{NnError, Result};
pub use loss::{accuracy, cross_entropy};
pub use model::{
    DecoderCache, DecoderLm, DecoderLmConfig, DecoderOutput, MlpActivation, PositionalEncoding,
    PretrainedDecoder, PretrainedDecoderConfig, PretrainedLayerConfig, QuerySource, RmsNormStyle,
    SetReadout, SetReadoutConfig, SetReadoutEncoding, SetReadoutOutput, WeightSource,
};
