//! # rigor-lab
//!
//! The experiment harness of rigor: seeded synthetic tasks, a training loop on Burn's autodiff
//! device, run reports, and the registry of paper reproductions that
//! `cargo run --example reproduce` runs end to end.
//!
//! ## Map: paper → section → module
//!
//! | paper | what | where |
//! |---|---|---|
//! | *Softmax is not Enough* (ICML 2025), App. A | max-retrieval task | [`tasks::max_retrieval`] |
//! | — | copy of bit strings, parity | [`tasks::copy`], [`tasks::parity`] |
//! | *Softmax is not Enough*, App. A | architecture, training, softmax vs adaptive θ vs SSMax vs entmax, report | [`repro::max_retrieval`] |
//! | *Optimizers Qualitatively Alter Solutions* (arXiv 2507.12224), S4 case study 1 | Shampoo vs SGD / AdamW / Muon / SOAP / Lion on continual digits: ACC / BWT / forgetting, effective rank, class similarity, verdict | [`repro::optimizer_forgetting`] |
//! | *Optimizers Qualitatively Alter Solutions*, S4 case study 2 | Powerprop α ∈ {1..4}: accuracy vs weights kept (global magnitude pruning), verdict | [`repro::powerprop_sparsity`] |
//! | *Perplexity Cannot Always Tell Right from Wrong* (arXiv 2601.22950), S3 | copy task α_N vs β_N (Lemma 3.1 / Prop. 3.2) with the counterexample finder, parity checkpoints, iso-perplexity, verdicts | [`repro::perplexity`] |
//! | *Round and Round We Go!* (ICLR 2025), S2 | RoPE / p-RoPE / NoPE byte-level LMs on the King James Version, frequency usage, positional-head constructions, drift bound, verdicts | [`repro::rope`] |
//! | — | byte-level text corpus (the committed KJV or any UTF-8 file), block split | [`data`] |
//! | — | training loop, LR schedules, checkpoints | [`train`] |
//! | — | `results.json`, CSV, SVG, markdown, statistics, registry | [`report`] |
//! | — | seeds and portable random streams | [`rng`] |
//! | — | choosing a backend by name (`--device`) | [`device`] |
//!
//! ## Determinism
//!
//! Every random draw comes from a named ChaCha8 stream ([`rng::rng`]`(seed, label)`) and Burn's
//! generator is seeded by [`rng::seed_device`] before a model is initialised, so the same seed
//! gives the same data, the same initial weights and the same loss curve on a given backend.
//!
//! ## Example
//!
//! ```
//! use burn::tensor::Device;
//! use rigor_lab::rng;
//! use rigor_lab::tasks::max_retrieval::MaxRetrievalTask;
//!
//! let task = MaxRetrievalTask::new(10, 0.0).unwrap();
//! let batch = task.sample(4, 16, &mut rng::rng(0, "doc"), &Device::flex()).unwrap();
//! assert_eq!(batch.items.dims(), [4, 16, 11]);
//! assert_eq!(batch.target_classes.len(), 4);
//! ```
//!
//! ## Features
//!
//! - `flex` (default): Burn's pure-Rust CPU backend.
//! - `ndarray`: Burn's deprecated ndarray backend.
//! - `wgpu`: the wgpu GPU backend.
#![warn(missing_docs)]
#![recursion_limit = "256"]

pub mod data;
pub mod device;
pub mod error;
pub mod report;
pub mod repro;
pub mod rng;
pub mod tasks;
pub mod train;

pub use error::{LabError, Result};
pub use rng::LabRng;
