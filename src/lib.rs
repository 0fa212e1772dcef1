//! # rigor
//!
//! Tested, device-generic [Burn](https://burn.dev) implementations of five recent results about
//! Transformers, with runnable reproductions of each paper's headline experiment.
//!
//! This umbrella crate re-exports the member crates:
//!
//! | module | crate | paper |
//! |---|---|---|
//! | [`softmax`] | `rigor-softmax` | *Softmax is not Enough (for Sharp Size Generalisation)*, ICML 2025 |
//! | [`rope`] | `rigor-rope` | *Round and Round We Go! What makes Rotary Positional Encodings useful?*, ICLR 2025 |
//! | [`perplexity`] | `rigor-perplexity` | *Perplexity Cannot Always Tell Right from Wrong* (arXiv 2601.22950) |
//! | [`optim`] | `rigor-optim` | *Optimizers Qualitatively Alter Solutions And We Should Leverage This* (2025) |
//! | [`confidence`] | `rigor-confidence` | *How Overconfidence in Initial Choices and Underconfidence Under Criticism Modulate Change of Mind in LLMs* (Kumaran et al., 2025) |
//! | [`nn`] | `rigor-nn` | attention with a swappable normalizer and any RoPE, KV cache, blocks, a small decoder LM, the set readout of S1 |
//! | [`hf`] | `rigor-hf` | HuggingFace checkpoints (Llama, Mistral, Qwen2/3, Gemma 1–3) into rigor's decoder, RoPE and normalizers |
//! | [`lab`] | `rigor-lab` | seeded synthetic tasks, the training loop, run reports and the registry of reproductions |
//!
//! Everything is written once against Burn 0.22's `Tensor<D>`; the `Device` picks the backend
//! at run time (Flex by default, NdArray and wgpu behind features).
//!
//! ```
//! # #[cfg(feature = "softmax")] {
//! use burn::tensor::{Device, Tensor};
//! use rigor::softmax::Normalizer;
//!
//! let logits = Tensor::<2>::from_floats([[0.5, 2.0, -1.0]], &Device::flex());
//! let weights = Normalizer::adaptive().apply(logits, -1).unwrap();
//! assert_eq!(weights.dims(), [1, 3]);
//! # }
//! ```
//!
//! ## Features
//!
//! One feature per member crate, all on by default (`full`); depend on only what you use with
//! `rigor = { version = "0.1", default-features = false, features = ["flex", "rope"] }`.
//! `nn` brings `softmax`, `rope` and `perplexity` (its own dependencies); `hf` brings `nn`;
//! `lab` brings `nn`, `optim` and `confidence`. The examples and benches need `full`.
//!
//! - `softmax`, `rope`, `perplexity`, `optim`, `confidence`, `nn`, `hf`, `lab`: the modules of
//!   the table above.
//! - `flex` (default): Burn's pure-Rust CPU backend.
//! - `ndarray`: Burn's deprecated ndarray CPU backend.
//! - `wgpu`: the wgpu GPU backend (Vulkan, Metal, DX12; Mesa's llvmpipe works without a GPU).
//! - `tls`: HTTPS for [`confidence`]'s HTTP agent (plain HTTP to a local server needs nothing).
#![warn(missing_docs)]
#![recursion_limit = "256"]

#[cfg(feature = "confidence")]
pub use rigor_confidence as confidence;
#[cfg(feature = "hf")]
pub use rigor_hf as hf;
#[cfg(feature = "lab")]
pub use rigor_lab as lab;
#[cfg(feature = "nn")]
pub use rigor_nn as nn;
#[cfg(feature = "optim")]
pub use rigor_optim as optim;
#[cfg(feature = "perplexity")]
pub use rigor_perplexity as perplexity;
#[cfg(feature = "rope")]
pub use rigor_rope as rope;
#[cfg(feature = "softmax")]
pub use rigor_softmax as softmax;

/// The types most programs start from, in one import: `use rigor::prelude::*;`.
///
/// ```
/// # #[cfg(all(feature = "rope", feature = "softmax"))] {
/// use rigor::prelude::*;
/// use burn::tensor::{Device, Tensor};
///
/// let rope = RopeConfig::new(8).with_rotation(Rotation::Proportional { p: 0.75 }).init().unwrap();
/// let w = Normalizer::adaptive()
///     .apply(Tensor::<2>::from_floats([[1.0, 2.0]], &Device::flex()), -1)
///     .unwrap();
/// assert_eq!((rope.head_dim(), w.dims()), (8, [1, 2]));
/// # }
/// ```
pub mod prelude {
    #[cfg(feature = "hf")]
    pub use rigor_hf::{HfModel, HfModelConfig};
    #[cfg(feature = "nn")]
    pub use rigor_nn::{
        AttentionKernel, AttentionMask, DecoderLm, DecoderLmConfig, MultiHeadAttention,
        MultiHeadAttentionConfig, PretrainedDecoder, PretrainedDecoderConfig,
    };
    #[cfg(feature = "perplexity")]
    pub use rigor_perplexity::{
        CausalLm, EvalConfig, LabelShift, PerplexityAccumulator, SlidingWindowConfig,
    };
    #[cfg(feature = "rope")]
    pub use rigor_rope::hf::HfRope;
    #[cfg(feature = "rope")]
    pub use rigor_rope::{
        Positions, Rope, RopeConfig, RotaryEmbedding, Rotation, Scaling, TensorLayout,
    };
    #[cfg(feature = "softmax")]
    pub use rigor_softmax::Normalizer;
}
