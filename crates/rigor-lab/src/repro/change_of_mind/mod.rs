//! Change of mind — *How Overconfidence in Initial Choices and Underconfidence Under Criticism
//! Modulate Change of Mind in Large Language Models* (Kumaran et al., 2025;
//! `docs/paper-facts.md` S5), registered for the `reproduce` example.
//!
//! The paradigm (2 answer displays × 3 advice types × stated accuracies 50…100 %) runs on the
//! ideal Bayesian agent and on the simulated agent with planted choice-supportive and
//! asymmetric-advice biases, through [`run_reproduction`]; this module picks
//! the size per [`Scale`], writes the trials (JSON lines), `results.json`, the two figures of
//! the `change_of_mind` example ([`plot_change_of_mind`], [`plot_confidence_change`]) and the
//! report section with the headline table next to the paper's numbers.
//!
//! [`reproduction`](mod@reproduction) holds the experiment itself (design, both agents, analysis, the paper's
//! numbers), built from rigor-confidence's parts.

pub mod reproduction;

use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;
use rigor_confidence::measures::update::UpdateSummary;
use rigor_confidence::{AdviceType, AnswerDisplay};

use reproduction::{AgentReport, Report, ReproductionConfig, run_reproduction};

use crate::error::{LabError, Result};
use crate::report::{ReportSection, ReproCtx, Reproduction, RunDir, Scale};

/// Trials per design cell and bootstrap resamples for `scale`: Tiny 4 / 0, Default 20 / 100,
/// Full 100 / 1000 (36 cells, two stages, two agents).
pub fn size(scale: Scale) -> (usize, usize) {
    match scale {
        Scale::Tiny => (4, 0),
        Scale::Default => (20, 100),
        Scale::Full => (100, 1000),
    }
}

/// The registry entry: runs at `ctx.scale` and writes `ctx.dir("change_of_mind")`.
pub fn reproduction() -> Reproduction {
    Reproduction {
        name: "change_of_mind",
        paper: "Change of mind in LLMs (Kumaran et al., 2025), Bayesian + biased agents",
        run: run_reproduction_section,
    }
}

fn run_reproduction_section(ctx: &ReproCtx) -> Result<ReportSection> {
    let dir = RunDir::create(ctx.dir("change_of_mind"))?;
    // The runner resumes existing trial files; a registered run starts afresh so that its
    // numbers (and time) are this run's, whatever scale ran in this folder before.
    for agent in ["bayesian", "biased"] {
        let path = dir.join(&format!("{agent}.jsonl"));
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| LabError::io(&path, e))?;
        }
    }
    let (trials, bootstrap) = size(ctx.scale);
    // One seed: the paradigm's variability is within a run (trials), not across trained models;
    // `ctx.seeds` (a number of trained models) does not apply.
    let seed = 0;
    let mut config = ReproductionConfig::new(dir.path(), trials, seed)?;
    config.analysis.bootstrap_replicates = bootstrap;
    let bar = if ctx.progress {
        ProgressBar::new(1)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{msg:>22} {bar:40} {pos}/{len}") {
        bar.set_style(style);
    }
    let report = run_reproduction(&config, &mut |agent, p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        bar.set_message(format!("{agent}, stage {}", p.stage));
    })?;
    bar.finish_and_clear();
    write_report(&report, trials, seed, &dir)
}

/// Writes `results.json`, `change_of_mind.svg`, `confidence_change.svg` and `section.md` into
/// `dir` and returns the section.
///
/// # Errors
/// I/O, JSON and plotting errors.
pub fn write_report(
    report: &Report,
    trials_per_cell: usize,
    seed: u64,
    dir: &RunDir,
) -> Result<ReportSection> {
    dir.write_json(
        "results.json",
        &serde_json::json!({
            "trials_per_cell": trials_per_cell,
            "seed": seed,
            "report": report,
        }),
    )?;
    plot_change_of_mind(report, &dir.join("change_of_mind.svg"))?;
    plot_confidence_change(report, &dir.join("confidence_change.svg"))?;
    let body = format!(
        "The two-stage paradigm, {trials_per_cell} trials per cell (2 displays × 3 advice types × \
         6 accuracies), seed {seed}. Change of mind (CoM) is pooled over advice types and \
         accuracies; overweighting = observed / Bayesian log-odds update on Hidden trials, pooled \
         over 60–90 % (undefined at 50 % and 100 %).\n\n```text\n{}```\n\n\
         The Bayesian agent changes its mind equally often Shown or Hidden and weights advice 1×; \
         the biased agent has planted parameters in the direction the paper reports for Gemma 3 \
         12B, and model comparison should select model D (both biases) for it. Run the \
         `change_of_mind` example with `--endpoint URL` to put a real model in the table.\n",
        report.table()
    );
    let section = ReportSection {
        title: "Change of mind: choice-supportive bias and advice asymmetry".into(),
        body,
        figures: vec![
            (
                "Change-of-mind rate vs stated advice accuracy, opposing advice, Shown vs Hidden"
                    .into(),
                "change_of_mind.svg".into(),
            ),
            (
                "Confidence change in the initial answer vs accuracy, with the Bayes curve (dashed)"
                    .into(),
                "confidence_change.svg".into(),
            ),
        ],
        folder: "change_of_mind".into(),
    };
    dir.write_text("section.md", &section.to_markdown(""))?;
    Ok(section)
}

fn short(agent: &str) -> &str {
    agent.split('(').next().unwrap_or(agent).trim()
}

fn plot_err(path: &Path) -> impl Fn(String) -> LabError + '_ {
    move |message| LabError::Plot {
        path: path.to_path_buf(),
        message,
    }
}

/// Change-of-mind rate vs stated advice accuracy for opposing advice, Shown (thick) vs Hidden
/// (thin), per agent, with the paper's pooled rates as dashed references; SVG at `path`.
///
/// # Errors
/// [`LabError::Plot`] if plotters fails.
pub fn plot_change_of_mind(report: &Report, path: &Path) -> Result<()> {
    draw_change_of_mind(report, path).map_err(|e| plot_err(path)(e.to_string()))
}

/// Mean change of confidence in the initial answer vs stated accuracy, Same and Opposite
/// advice (answer Hidden), per agent, with each agent's Bayes curve dashed; SVG at `path`.
///
/// # Errors
/// [`LabError::Plot`] if plotters fails.
pub fn plot_confidence_change(report: &Report, path: &Path) -> Result<()> {
    draw_confidence_change(report, path).map_err(|e| plot_err(path)(e.to_string()))
}

type Drawn = std::result::Result<(), Box<dyn std::error::Error>>;

fn draw_change_of_mind(report: &Report, path: &Path) -> Drawn {
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

fn draw_confidence_change(report: &Report, path: &Path) -> Drawn {
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
