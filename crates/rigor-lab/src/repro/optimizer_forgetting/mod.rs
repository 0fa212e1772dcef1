//! Optimizers and forgetting — *Optimizers Qualitatively Alter Solutions And We Should
//! Leverage This*, Pascanu et al., arXiv 2507.12224 (2025), first case study
//! (`docs/paper-facts.md` S4).
//!
//! The claim: non-diagonal preconditioning (Shampoo) finds *different* solutions from SGD and
//! AdamW on continual-learning sequences — it forgets less, and its hidden representations are
//! lower-rank, more localised, with lower cross-class similarity of the per-class mean
//! activations.
//!
//! The reproduction ([`experiment`]) trains a ReLU MLP ([`model`]) on the UCI digits
//! (rigor-optim's offline copy, 8 × 8 pixels — the paper used MNIST) through two task
//! sequences: permuted pixels and class-incremental pairs (0,1) → (2,3) → …, with SGD, AdamW,
//! Shampoo, Muon, SOAP and Lion ([`config::OptimizerKind`]), over several seeds. After each task it
//! records the row $R_{i,\cdot}$ of the accuracy matrix (task-incremental and
//! class-incremental readings of the shared 10-way head, [`Evaluation`]), the effective rank
//! $\exp(-\sum_i p_i \ln p_i)$, $p_i = \sigma_i/\sum_j \sigma_j$, of the last hidden
//! representation on a probe set and, after the last task, the cosine similarity of class-mean
//! activations. [`report`] writes ACC / BWT / forgetting (mean ± std over seeds), the heat maps
//! ([`crate::report::heatmap`]) and curves, and states — from the numbers — whether the paper's claim holds
//! ([`report::verdict`]).

pub mod config;
pub mod experiment;
pub mod model;
pub mod report;

pub use config::{OptimizerForgettingConfig, OptimizerKind, OptimizerSpec, TaskKind};
pub use experiment::{
    ClaimCheck, ContinualScores, Evaluation, OptimizerForgettingRun, SequenceRun, SummaryRow, Task,
    build_tasks, run, train_sequence,
};
pub use model::ForgettingMlp;
pub use report::{claims_table, forgetting_table, verdict, write_report};

use crate::report::{ReportSection, ReproCtx, Reproduction, RunDir};

/// The registry entry: runs at `ctx.scale` and writes `ctx.dir("optimizer_forgetting")`.
pub fn reproduction() -> Reproduction {
    Reproduction {
        name: "optimizer_forgetting",
        paper: "Optimizers Qualitatively Alter Solutions (arXiv 2507.12224), S4 case study 1",
        run: run_reproduction,
    }
}

fn run_reproduction(ctx: &ReproCtx) -> crate::Result<ReportSection> {
    let mut config = OptimizerForgettingConfig::at_scale(ctx.scale);
    if let Some(k) = ctx.seeds {
        config.seeds = (0..k as u64).collect();
    }
    let dir = RunDir::create(ctx.dir("optimizer_forgetting"))?;
    let run = run(&config, &ctx.device, ctx.progress)?;
    write_report(&run, &dir, "optimizer_forgetting")
}
