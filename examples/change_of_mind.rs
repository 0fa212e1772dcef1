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

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;
use rigor::confidence::measures::update::UpdateSummary;
use rigor::confidence::reproduction::AgentReport;
use rigor::confidence::{
    AdviceType, AnswerDisplay, HttpAgentConfig, Report, ReproductionConfig, run_reproduction,
};
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

fn short(agent: &str) -> &str {
    agent.split('(').next().unwrap_or(agent)
}

type Plot = Result<(), Box<dyn std::error::Error>>;

/// Change-of-mind rate vs advice accuracy for opposing advice, Shown vs Hidden, per agent,
/// with the paper's pooled rates as horizontal references.
fn plot_change_of_mind(report: &Report, path: &Path) -> Plot {
    let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Change of mind vs advice accuracy (opposing advice)",
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(45f64..105f64, 0f64..1f64)?;
    chart
        .configure_mesh()
        .x_desc("stated advice accuracy (%)")
        .y_desc("change-of-mind rate")
        .draw()?;
    for (i, a) in report.agents.iter().enumerate() {
        for display in AnswerDisplay::ALL {
            let pts: Vec<(f64, f64)> = a
                .change_of_mind_by_cell
                .iter()
                .filter(|c| c.cell.advice == AdviceType::Opposite && c.cell.display == display)
                .map(|c| (f64::from(c.cell.accuracy_percent), c.rate.rate))
                .collect();
            let color = Palette99::pick(i);
            let style = if display == AnswerDisplay::Shown {
                color.stroke_width(3)
            } else {
                color.stroke_width(1)
            };
            chart
                .draw_series(LineSeries::new(pts.clone(), style))?
                .label(format!("{} ({display})", short(&a.agent)))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, style.filled())))?;
        }
    }
    let paper = report.paper;
    for (label, y) in [
        ("paper, shown (pooled)", paper.change_of_mind_shown),
        ("paper, hidden (pooled)", paper.change_of_mind_hidden.0),
    ] {
        let style = BLACK.stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new(
                vec![(45.0, y), (105.0, y)],
                6,
                4,
                style,
            ))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn curve(
    a: &AgentReport,
    advice: AdviceType,
    f: impl Fn(&UpdateSummary) -> f64,
) -> Vec<(f64, f64)> {
    a.updates
        .iter()
        .filter(|u| u.cell.advice == advice && u.cell.display == AnswerDisplay::Hidden)
        .map(|u| (f64::from(u.cell.accuracy_percent), f(u)))
        .collect()
}

/// Mean change of confidence in the initial answer vs accuracy, Same and Opposite advice
/// (Hidden), per agent, with each agent's Bayes curve (dashed).
fn plot_confidence_change(report: &Report, path: &Path) -> Plot {
    let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Confidence change in the initial answer (answer hidden)",
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(45f64..105f64, -1f64..0.5f64)?;
    chart
        .configure_mesh()
        .x_desc("stated advice accuracy (%)")
        .y_desc("mean c' - c")
        .draw()?;
    for (i, a) in report.agents.iter().enumerate() {
        let color = Palette99::pick(i);
        for advice in [AdviceType::Same, AdviceType::Opposite] {
            let style = color.stroke_width(2);
            let observed = curve(a, advice, |u| u.mean_change);
            chart
                .draw_series(LineSeries::new(observed.clone(), style))?
                .label(format!("{} {advice}", short(&a.agent)))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            chart.draw_series(
                observed
                    .into_iter()
                    .map(|p| Circle::new(p, 3, style.filled())),
            )?;
            let bayes = curve(a, advice, |u| u.mean_bayes_change);
            chart.draw_series(DashedLineSeries::new(bayes, 5, 4, color.stroke_width(1)))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
