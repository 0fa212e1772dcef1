//! Perplexity and calibration metrics over logits ("Perplexity in practice",
//! docs/paper-facts.md S3).
//!
//! - [`token`]: the per-token device pass (NLL, correctness, confidence, entropy, Brier) and
//!   the composed `log_softmax` + `gather` reference.
//! - [`config`]: what counts as a scored token (ignore index, mask, label shift).
//! - [`accumulator`]: the streaming, mergeable, pooled accumulator.
//! - [`calibration`]: reliability bins and ECE (equal width, equal mass).
//! - [`report`]: the pooled results (perplexity, bits, byte/word normalisations).

pub mod accumulator;
pub mod calibration;
pub mod config;
pub mod report;
pub mod token;
