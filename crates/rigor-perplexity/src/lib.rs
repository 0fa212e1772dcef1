//! # rigor-perplexity
//!
//! Perplexity done right — pooled, masked, overflow-safe, mergeable, with calibration from the
//! same pass — and the theory of *Perplexity Cannot Always Tell Right from Wrong* —
//! Veličković, Barbero, Perivolaropoulos, Osindero & Pascanu, 2026 (arXiv 2601.22950) — on
//! any Burn device.
//!
//! ## Map: paper → section → module
//!
//! | paper | what | where |
//! |---|---|---|
//! | S3 "Perplexity in practice" | pooled NLL, perplexity, log-perplexity, bits/token | [`metrics::accumulator`], [`metrics::report`] |
//! | — | byte-perplexity, bits-per-byte, word-perplexity (lm-evaluation-harness) | [`metrics::report`] |
//! | — | ignore index, mask, causal label shift | [`metrics::config`] |
//! | — | per-token NLL / accuracy / confidence / entropy / Brier; composed reference | [`metrics::token`] |
//! | — | fused Flex token statistics (no `[tokens, vocab]` temporary) | `kernel` (feature `flex`) |
//! | Guo et al. 2017; Nixon et al. 2019 | ECE, equal-width and equal-mass bins | [`metrics::calibration`] |
//! | HF "perplexity of fixed-length models" | strided sliding-window evaluation | [`eval::sliding`], [`eval::lm`] |
//! | §2, log-perplexity of copying | $\operatorname{pplx}_T(b)$ on the copy task | [`theory::counterexample`] |
//! | §3, Lemma 3.1, Prop. 3.2, Cor. 3.3 | counterexample finder (bit flips) | [`theory::counterexample`] |
//! | §3, Remark 3.4 | temperature folded into confidence | [`theory::temperature`] |
//! | §3, Remark 3.5 / Prop. 3.6 (as derived here) | Boole (union) bounds on copying | [`theory::boole`] |
//! | §4, iso-perplexity | $\operatorname{pplx}(a,\gamma)$, critical accuracy $a^\prime$, grids, curves | [`theory::iso`] |
//! | §4, figures | SVG iso-perplexity plot | `theory::plot` (feature `plot`, default) |
//! | §3 Lemma 3.1, §4 iso-perplexity as a kit | proptest strategies and checkers returning a verdict, on your `CausalLm` | `theorems` (feature `proptest`) |
//!
//! ## Conventions
//!
//! - **Pooled, never averaged.** Every perplexity is $\exp(\sum \mathrm{NLL} / \sum \text{count})$
//!   over every scored token fed so far; per-batch or per-text perplexities are never
//!   averaged. [`PerplexityAccumulator::merge`] adds sums, so a result does not depend on
//!   how tokens were split into batches or threads.
//! - **Scored tokens.** A token is scored iff its mask entry is `true` (when a mask is given)
//!   and its target is not the ignore index (default `-100`). Unscored tokens change nothing.
//!   A scored target outside `0..vocab` is an error.
//! - **No silent `NaN`.** Zero scored tokens is [`PerplexityError::NoTokens`]; `NaN`/`+∞`
//!   logits on a scored token are [`PerplexityError::NonFiniteLogits`].
//! - **No overflow.** NLLs are accumulated in `f64` on the host; the log-perplexity is finite
//!   for any finite `f32` logits, and the perplexity is `+∞` only when it exceeds `f64::MAX`.
//! - **Natural logarithms** (nats) throughout; "bits" divide by $\ln 2$.
//! - Configurations are validated when built (`Result`).
//!
//! ## Example
//!
//! ```
//! use burn::tensor::{Device, Int, Tensor};
//! use rigor_perplexity::{EvalConfig, TextUnits, critical_accuracy};
//!
//! let device = Device::flex();
//! let mut acc = EvalConfig::new().init().unwrap();
//! let logits = Tensor::<2>::from_floats([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]], &device);
//! let targets = Tensor::<1, Int>::from_ints([0, 2], &device);
//! acc.update_flat(logits, targets, None).unwrap();
//! acc.add_text_units(TextUnits { bytes: 9, words: 2 });
//! let r = acc.report().unwrap();
//! assert!(r.perplexity > 1.0 && r.bits_per_byte.is_some());
//!
//! // S3, Sec. 4: a model 0.2 more confident ties with a = 0.9, γ = 0.4 at a' ≈ 0.763.
//! let a = critical_accuracy(0.9, 0.4, 0.2).unwrap();
//! assert!((a - 0.763).abs() < 5e-4);
//! ```
//!
//! ## Features
//!
//! - `flex` (default): Burn's pure-Rust CPU backend.
//! - `ndarray`: Burn's deprecated ndarray backend.
//! - `wgpu`: the wgpu GPU backend.
#![warn(missing_docs)]
#![recursion_limit = "256"]

pub mod error;
pub mod eval;
#[cfg(feature = "flex")]
pub mod kernel;
pub mod metrics;
#[cfg(feature = "proptest")]
pub mod theorems;
pub mod theory;

pub use error::{ModelError, PerplexityError, ReadbackError, Result};
pub use eval::lm::{CausalLm, FnLm};
pub use eval::sliding::{SlidingSummary, SlidingWindow, SlidingWindowConfig, Window};
pub use metrics::accumulator::{BatchSummary, PerplexityAccumulator};
pub use metrics::calibration::{
    ReliabilityBin, equal_mass_bins, equal_width_bins, equal_width_index,
    expected_calibration_error,
};
pub use metrics::config::{EvalConfig, HF_IGNORE_INDEX, LabelShift};
pub use metrics::report::{
    CalibrationReport, MAX_LOG_PERPLEXITY_F64, PerplexityReport, SequenceStats, TextUnits,
};
pub use metrics::token::{token_nll_reference, token_stats, token_stats_reference};
pub use theory::boole::{BooleBounds, boole_bounds, boole_bounds_uniform};
pub use theory::counterexample::{
    CopyScore, CopyTask, Counterexample, CounterexampleConfig, CounterexampleFinder,
    CounterexampleReport,
};
pub use theory::iso::{
    IsoCurve, IsoPerplexityGrid, critical_accuracy, iso_accuracy, iso_curve, pplx,
};
#[cfg(feature = "plot")]
pub use theory::plot::{Marker, plot_iso_perplexity};
pub use theory::temperature::{temperature_fold, tempered_confidence};
