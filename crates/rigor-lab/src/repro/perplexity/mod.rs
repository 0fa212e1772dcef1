//! *Perplexity Cannot Always Tell Right from Wrong* — Veličković, Barbero, Perivolaropoulos,
//! Osindero & Pascanu, arXiv 2601.22950 (2026), on a trained model (`docs/paper-facts.md` S3).
//!
//! One decoder ([`config::LmSpec`]: rigor-nn's `DecoderLm` with RoPE, a compact position
//! embedding in the paper's sense) is trained from scratch for each experiment:
//!
//! 1. **Copy task** (Lemma 3.1, Prop. 3.2): trained to copy bit strings of length ≤ 16
//!    (`tasks::copy`), then scored at N = 16 … 512 on α_N = 0…0 and β_N = 0…01
//!    ([`experiment::alpha_beta`]): the L∞ gap of the last step's logits, the probability of
//!    β's last bit, whether greedy decoding copies each, pplx(α_N), pplx(β_N) (through
//!    rigor-perplexity's [`CounterexampleFinder`](rigor_perplexity::CounterexampleFinder),
//!    which runs on `DecoderLm` as a [`CausalLm`](rigor_perplexity::CausalLm)), and Prop. 3.2's
//!    bound term −log(1 − γ) from the measured confidence. The finder then searches every
//!    single-bit flip of α_N for wrong copies within ξ.
//! 2. **Parity** (prefix parities in the LM form, `tasks::parity`): a checkpoint is
//!    evaluated every 100 steps in distribution and at length 128 — micro-F1
//!    ([`crate::report::micro_f1`]) and pooled log-perplexity (rigor-perplexity's
//!    accumulator) — and Pearson's r between them with a bootstrap CI.
//! 3. **Iso-perplexity**: the most accurate and the lowest-perplexity checkpoint of each split
//!    on the curves of `rigor_perplexity::theory::iso`, with the critical accuracy a′.
//!
//! Verdicts ([`report::CopyVerdict`], [`report::CorrelationVerdict`]) are computed from the
//! numbers; a claim that does not show at a scale is reported as such.

pub mod config;
pub mod experiment;
pub mod paper;
pub mod report;

pub use config::{CopyExperiment, LmSpec, LmTraining, ParityExperiment, PerplexityReproConfig};
pub use experiment::{
    CheckpointEval, CopyPoint, CopyRun, IsoComparison, IsoPoint, ParityRun, PerplexityRun,
    SearchOutcome, SplitCorrelation, SplitEval, alpha_beta, copy_sweep, f1_perplexity_correlation,
    iso_comparison, run,
};
pub use report::{
    CopyVerdict, CorrelationVerdict, copy_table, iso_table, parity_table, write_report,
};

use crate::report::{ReportSection, ReproCtx, Reproduction, RunDir};

/// The registry entry: runs at `ctx.scale` and writes `ctx.dir("perplexity")`.
pub fn reproduction() -> Reproduction {
    Reproduction {
        name: "perplexity",
        paper: "Perplexity Cannot Always Tell Right from Wrong (2026)",
        run: run_reproduction,
    }
}

fn run_reproduction(ctx: &ReproCtx) -> crate::Result<ReportSection> {
    let mut config = PerplexityReproConfig::at_scale(ctx.scale);
    if let Some(k) = ctx.seeds {
        config.seeds = (0..k as u64).collect();
    }
    let dir = RunDir::create(ctx.dir("perplexity"))?;
    let run = run(&config, &ctx.device, ctx.progress)?;
    write_report(&run, &dir, "perplexity")
}
