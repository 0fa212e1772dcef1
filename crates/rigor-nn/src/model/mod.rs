//! Models built from the blocks.
//!
//! - [`decoder`] — a small decoder-only LM (token embedding, optional learned positions or
//!   RoPE, pre-norm blocks, final norm, tied or untied head).
//! - [`pretrained`] — the decoder of pretrained checkpoints (Llama, Mistral, Qwen2/3, Gemma
//!   1–3): GQA, RMSNorm styles, gated MLPs, q/k norms, soft-capping, sliding windows, per-layer
//!   RoPE, any normalizer; parameters from a [`pretrained::WeightSource`] by HF names.
//! - [`set_readout`] — items → MLP → one attention head with a (learned or given) query → MLP
//!   → class logits — the max-retrieval architecture of *Softmax is not Enough* (Fig. 2, App. A).

pub mod decoder;
pub mod pretrained;
pub mod set_readout;

pub use decoder::{DecoderCache, DecoderLm, DecoderLmConfig, DecoderOutput, PositionalEncoding};
pub use pretrained::{
    MlpActivation, PretrainedDecoder, PretrainedDecoderConfig, PretrainedLayerConfig, RmsNormStyle,
    WeightSource,
};
pub use set_readout::{
    QuerySource, SetReadout, SetReadoutConfig, SetReadoutEncoding, SetReadoutOutput,
};
