//! *Round and Round We Go! What makes Rotary Positional Encodings useful?* — Barbero,
//! Vitvitskyi, Perivolaropoulos, Pascanu & Veličković, ICLR 2025, arXiv 2410.06205
//! (`docs/paper-facts.md` S2), on byte-level language models trained from scratch.
//!
//! 1. **Language models** ([`experiment::train_variant`]): rigor-nn's `DecoderLm` over bytes
//!    of the committed King James Version ([`crate::data::ByteCorpus`]) with RoPE (θ = 10 000),
//!    p-RoPE p = 0.25 and 0.75 (`Rotation::Proportional`) and NoPE — same seeds, initial
//!    weights and data order — scored in bits per byte by rigor-perplexity's accumulator at
//!    1×, 2× and 4× the training length; paired comparisons against RoPE and a verdict on
//!    p-RoPE ≤ RoPE < NoPE ([`report::ordering_verdict`]).
//! 2. **Frequency usage** (claim 5, [`experiment::frequency_usage`]): mean query/key chunk
//!    norms per layer × frequency (rigor-rope's `FrequencyUsage`) of the trained RoPE and
//!    p-RoPE models, the paper's two observations checked, and the attention pattern of the
//!    most positional head ([`experiment::most_positional_head`]).
//! 3. **Constructions** (claims 2–3, [`experiment::train_construction`],
//!    [`experiment::hand_built_construction`]): one-layer heads over identical tokens trained
//!    to attend to themselves or to the previous token, with RoPE and NoPE, beside the
//!    paper's hand-built RoPE heads.
//! 4. **Drift** (claim 4, [`experiment::drift_analysis`]): |a_k(r) − a_k(0)| from the trained
//!    models' own chunks against 2|sin(r g_k/2)|·‖q_k‖‖k_k‖.
//!
//! Verdicts ([`report::Verdicts`]) are computed from the numbers.

pub mod config;
pub mod experiment;
pub mod paper;
pub mod report;

pub use config::{
    AnalysisExperiment, ByteLmSpec, ConstructionExperiment, LmExperiment, RopeReproConfig, Variant,
};
pub use experiment::{
    ConstructionRun, CorpusInfo, DriftAnalysis, LengthEval, LmRun, PositionalHeadPick, RopeRun,
    UsageAnalysis, UsageObservations, drift_analysis, evaluate_length, frequency_usage,
    hand_built_construction, load_corpus, most_positional_head, run, train_construction,
    train_variant,
};
pub use report::{
    Comparison, ConstructionVerdict, OrderingVerdict, Support, UsageVerdict, Verdicts, compare,
    construction_verdict, ordering_verdict, support, usage_verdict, verdicts, write_report,
};

use crate::report::{ReportSection, ReproCtx, Reproduction, RunDir};

/// The registry entry: runs at `ctx.scale` (on `ctx.corpus` when given) and writes
/// `ctx.dir("rope")`.
pub fn reproduction() -> Reproduction {
    Reproduction {
        name: "rope",
        paper: "Round and Round We Go! What makes Rotary Positional Encodings useful? (ICLR 2025)",
        run: run_reproduction,
    }
}

fn run_reproduction(ctx: &ReproCtx) -> crate::Result<ReportSection> {
    let mut config = RopeReproConfig::at_scale(ctx.scale);
    if let Some(k) = ctx.seeds {
        config.seeds = (0..k as u64).collect();
    }
    config.corpus = ctx.corpus.clone();
    let dir = RunDir::create(ctx.dir("rope"))?;
    let run = run(&config, &ctx.device, ctx.progress)?;
    write_report(&run, &dir, "rope")
}
