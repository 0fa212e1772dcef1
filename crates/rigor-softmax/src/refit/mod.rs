//! Refitting the adaptive-temperature polynomial β(H) for your own model.
//!
//! The paper's quartic (*Softmax is not Enough*, §4 and Fig. 5) was fitted to samples of
//! (entropy of a head's attention, inverse temperature that head needed) collected from the
//! max-retrieval model. A different model or task may want a different curve. The procedure:
//!
//! 1. Run your model on inputs where you know which item a head *should* attend to (e.g. the
//!    max-priority item in max retrieval), and collect the head's logits rows.
//! 2. For every row, compute its entropy (the same estimate the rule uses:
//!    [`AdaptiveTemperature`](crate::AdaptiveTemperature)'s, with ε = 1e-9 by default) and the
//!    smallest β ≥ 1 that gives the target item a chosen weight `w★` (say 0.9):
//!    [`optimal_beta`]. Because the target must be the row's strict maximum for any β to
//!    help, rows where it is not are reported as errors and should be skipped (they are the
//!    model's mistakes, which no temperature fixes). [`collect_samples`] does steps 2 for a
//!    whole batch and tells you how many rows it skipped.
//! 3. Fit a polynomial of low degree (the paper used 4) to the (H, β★) pairs by least squares:
//!    [`fit_polynomial`] (Householder QR on a scaled Vandermonde matrix, in `f64`).
//! 4. Use it: `AdaptiveTemperatureConfig { polynomial: fit.coefficients().to_vec(), ..Default::default() }`.
//!
//! The threshold (0.5 nats) and the clamp β ≥ 1 of the rule stay in force, so a refit can only
//! ever sharpen.

mod least_squares;
mod target;

pub use least_squares::fit_polynomial;
pub use target::{BetaCriterion, BetaSample, SampleSet, collect_samples, optimal_beta};
