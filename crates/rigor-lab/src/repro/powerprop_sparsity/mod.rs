//! Powerprop sparsity — *Optimizers Qualitatively Alter Solutions And We Should Leverage
//! This*, Pascanu et al., arXiv 2507.12224 (2025), second case study (`docs/paper-facts.md` S4), on
//! Powerpropagation (Schwarz, Jayakumar, Pascanu, Latham & Teh, NeurIPS 2021).
//!
//! The claim: a sparsity-inducing reparameterisation is an optimizer in disguise. Training
//! $w = \operatorname{sign}(\theta)|\theta|^\alpha$ with SGD on $\theta$ moves $w$, to first order,
//! by $-\eta\\,\alpha^2|w|^{2-2/\alpha}\nabla_w\mathcal L$: zero is a fixed point and large
//! weights move fastest, so the solution concentrates its mass in few weights and survives
//! global magnitude pruning far better than the plain network ($\alpha = 1$).
//!
//! The reproduction ([`experiment`]) trains the paper's MLP (hidden 300-100, SGD η = 0.1,
//! batch 60) with the input scaled to the 64 pixels of the UCI digits ([`model`]) for
//! $\alpha \in \\{1, 2, 3, 4\\}$ over several seeds, prunes each trained network at a range of keep
//! fractions with rigor-optim's [`prune_global_magnitude`](rigor_optim::metrics::pruning::prune_global_magnitude),
//! and [`report`] writes the accuracy-vs-kept curve (mean ± std band), a table at a few keep
//! fractions and a verdict computed from the numbers ([`report::verdict`]).

pub mod config;
pub mod experiment;
pub mod model;
pub mod report;

pub use config::PowerpropSparsityConfig;
pub use experiment::{
    AlphaRun, AlphaSummary, CurvePoint, PowerpropSparsityRun, accuracy, run, train_alpha,
};
pub use model::{PlainMlp, PowerpropMlp};
pub use report::{sparsity_table, verdict, write_report};

use crate::report::{ReportSection, ReproCtx, Reproduction, RunDir};

/// The registry entry: runs at `ctx.scale` and writes `ctx.dir("powerprop_sparsity")`.
pub fn reproduction() -> Reproduction {
    Reproduction {
        name: "powerprop_sparsity",
        paper: "Optimizers Qualitatively Alter Solutions (arXiv 2507.12224), S4 case study 2",
        run: run_reproduction,
    }
}

fn run_reproduction(ctx: &ReproCtx) -> crate::Result<ReportSection> {
    let mut config = PowerpropSparsityConfig::at_scale(ctx.scale);
    if let Some(k) = ctx.seeds {
        config.seeds = (0..k as u64).collect();
    }
    let dir = RunDir::create(ctx.dir("powerprop_sparsity"))?;
    let run = run(&config, &ctx.device, ctx.progress)?;
    write_report(&run, &dir, "powerprop_sparsity")
}
