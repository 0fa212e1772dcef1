//! Evaluating a causal language model: the [`lm::CausalLm`] trait and strided sliding-window
//! evaluation ("Perplexity in practice", docs/paper-facts.md S3).

pub mod lm;
pub mod sliding;
