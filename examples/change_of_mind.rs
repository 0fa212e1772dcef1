//! Change of mind, seen: the paradigm of *How Overconfidence in Initial Choices and
//! Underconfidence Under Criticism Modulate Change of Mind in Large Language Models*
//! (Kumaran et al., 2025) run on the ideal Bayesian agent and on a simulated agent with
//! planted choice-supportive and asymmetric-advice biases — and on a real model server with
//! `--endpoint` — next to the paper's numbers for Gemma 3 12B.
//!
//! ```text
//! cargo run --release --example change_of_mind -- [--trials 20] [--seed 0] [--out out/change_of_mind]
//! cargo run --release --example change_of_mind -- --endpoint http://127.0.0.1:8080 [--model NAME]
//! ```
//!
//! Prints a table, and writes `change_of_mind.svg`, `confidence_change.svg`, `results.json`
//! and one JSON-lines results file per agent (`bayesian.jsonl`, `biased.jsonl`,
//! `model.jsonl`) to the output folder. Re-running resumes those files (delete them to start
//! afresh with other settings). The model server must speak OpenAI-compatible
//! `/v1/completions` with `logprobs` (llama.cpp `llama-server`, vLLM); see
//! `rigor::confidence::agent::http` for the request and the fields read.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rigor::confidence::HttpAgentConfig;
use rigor::lab::repro::change_of_mind::reproduction::{
    Report, ReproductionConfig, run_reproduction,
};
use rigor::lab::repro::change_of_mind::{plot_change_of_mind, plot_confidence_change};
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(
    about = "The change-of-mind paradigm on Bayesian, biased and (optionally) real LLM agents"
)]
struct Args {
    /// Base URL of an OpenAI-compatible completion server with logprobs (e.g. http://127.0.0.1:8080).
    #[arg(long)]
    endpoint: Option<String>,
    /// Model name sent to the server (omit for llama.cpp, which serves one model).
    #[arg(long)]
    model: Option<String>,
    /// Per-request timeout in seconds for the model server.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Output folder.
    #[arg(long, default_value = "out/change_of_mind")]
    out: PathBuf,
    /// Trials per design cell (2 displays × 3 advice types × 6 accuracies).
    #[arg(long, default_value_t = 20)]
    trials: usize,
    /// Seed of the questions, the plan and the simulated agents.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Bootstrap resamples for the parameter intervals (0 = skip).
    #[arg(long, default_value_t = 100)]
    bootstrap: usize,
}

#[derive(Serialize)]
struct Output<'a> {
    trials_per_cell: usize,
    seed: u64,
    endpoint: Option<&'a str>,
    report: &'a Report,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut config = ReproductionConfig::new(&args.out, args.trials, args.seed)?;
    config.analysis.bootstrap_replicates = args.bootstrap;
    if let Some(url) = &args.endpoint {
        let mut http = HttpAgentConfig::new(url.clone());
        http.model = args.model.clone();
        http.request_timeout = Duration::from_secs(args.timeout);
        config.endpoint = Some(http);
    }
    let bar = ProgressBar::new(1).with_style(ProgressStyle::with_template(
        "{msg:>22} {bar:40} {pos}/{len}",
    )?);
    let report = run_reproduction(&config, &mut |agent, p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        bar.set_message(format!("{agent}, stage {}", p.stage));
    })?;
    bar.finish_and_clear();

    println!(
        "Change of mind (CoM) pooled over advice types and accuracies; overweighting = observed /\n\
         Bayesian log-odds update, Hidden trials, pooled over 60-90% (undefined at 50% and 100%).\n"
    );
    print!("{}", report.table());
    println!(
        "\nThe Bayesian agent changes its mind equally often Shown or Hidden and weights advice 1x;\n\
         the biased agent has planted parameters (shown bonus, same/opposite weights) in the\n\
         direction the paper reports, and model comparison should select model D for it."
    );

    std::fs::create_dir_all(&args.out)?;
    let out = Output {
        trials_per_cell: args.trials,
        seed: args.seed,
        endpoint: args.endpoint.as_deref(),
        report: &report,
    };
    std::fs::write(
        args.out.join("results.json"),
        serde_json::to_string_pretty(&out)?,
    )?;
    plot_change_of_mind(&report, &args.out.join("change_of_mind.svg"))?;
    plot_confidence_change(&report, &args.out.join("confidence_change.svg"))?;
    println!(
        "wrote {}/{{results.json,change_of_mind.svg,confidence_change.svg,*.jsonl}}",
        args.out.display()
    );
    Ok(())
}
