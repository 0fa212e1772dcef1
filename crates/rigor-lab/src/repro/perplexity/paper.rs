//! What *Perplexity Cannot Always Tell Right from Wrong* (Veličković, Barbero, Perivolaropoulos,
//! Osindero & Pascanu, arXiv 2601.22950, 2026) reports for the experiments reproduced here
//! (as recorded in `docs/paper-facts.md` S3; check against the paper before quoting).

use serde::Serialize;

/// The copy experiment's claim.
pub const COPY_CLAIM: &str = "on a toy Transformer trained to copy strings of ≤ 16 bits, as N \
    grows the L∞ gap between the logits on α_N = 0…0 and β_N = 0…01 shrinks, the probability \
    of β's last bit collapses, and pplx(α_N), pplx(β_N) converge while β_N is copied wrongly.";

/// The parity experiment's claim.
pub const PARITY_CLAIM: &str = "training length ≤ 16, test length 128, a checkpoint every 100 \
    of 5 000 steps; micro-F1 against log-perplexity over the checkpoints.";

/// Pearson r of micro-F1 vs log-perplexity in distribution.
pub const R_ID: f64 = -0.94;

/// Pearson r out of distribution (reported as positive, about +0.31).
pub const R_OOD: f64 = 0.31;

/// The numbers above, for `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct PaperNumbers {
    /// [`R_ID`].
    pub r_in_distribution: f64,
    /// [`R_OOD`].
    pub r_out_of_distribution: f64,
    /// Training length.
    pub train_max_len: usize,
    /// Test length out of distribution.
    pub ood_length: usize,
    /// Training steps.
    pub steps: usize,
    /// Checkpoint interval.
    pub checkpoint_every: usize,
}

impl Default for PaperNumbers {
    fn default() -> Self {
        Self {
            r_in_distribution: R_ID,
            r_out_of_distribution: R_OOD,
            train_max_len: 16,
            ood_length: 128,
            steps: 5_000,
            checkpoint_every: 100,
        }
    }
}
