//! Max retrieval — *Softmax is not Enough (for Sharp Size Generalisation)*, Veličković,
//! Perivolaropoulos, Barbero & Pascanu, ICML 2025, Fig. 2 and App. A (`docs/paper-facts.md` S1).
//!
//! The paper's architecture ([`model`]): items → deep MLP → one attention head with a learned
//! query → deep MLP predictor, trained with softmax on sets of 16 items
//! ([`crate::tasks::max_retrieval`]). At test time the attention's normalizer is swapped —
//! without touching a weight — for adaptive-temperature softmax (the paper's inference-only
//! fix), SSMax calibrated to the training size ($s = 1/\ln 16$, identical to softmax at
//! n = 16) and 1.5-entmax, and every variant is scored on the same test sets at
//! n = 16, 32, …, 16384 over several seeds ([`experiment`]). [`report`] writes the table
//! (mean ± std per n, paired t-test over seeds and exact McNemar test over test sets against
//! softmax, the paper's numbers beside it) and the accuracy and dispersion figures.

pub mod config;
pub mod experiment;
pub mod model;
pub mod paper;
pub mod report;

pub use config::{EvalNormalizer, EvalVariant, MaxRetrievalConfig};
pub use experiment::{MaxRetrievalRun, PointEval, SeedRun, SummaryRow, evaluate, run, train_seed};
pub use model::{MaxRetrievalModel, MaxRetrievalModelConfig};
pub use report::{accuracy_table, dispersion_table, write_report};

use crate::report::{ReportSection, ReproCtx, Reproduction, RunDir};

/// The registry entry: runs at `ctx.scale` and writes `ctx.dir("max_retrieval")`.
pub fn reproduction() -> Reproduction {
    Reproduction {
        name: "max_retrieval",
        paper: "Softmax is not Enough (ICML 2025)",
        run: run_reproduction,
    }
}

fn run_reproduction(ctx: &ReproCtx) -> crate::Result<ReportSection> {
    let mut config = MaxRetrievalConfig::at_scale(ctx.scale);
    if let Some(k) = ctx.seeds {
        config.seeds = (0..k as u64).collect();
    }
    let dir = RunDir::create(ctx.dir("max_retrieval"))?;
    let run = run(&config, &ctx.device, ctx.progress)?;
    write_report(&run, &dir, "max_retrieval")
}
