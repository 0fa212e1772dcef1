//! The paper's headline experiment end to end, for a `reproduce` driver and for
//! `examples/change_of_mind.rs`: run the paradigm on the Bayesian agent, the biased agent
//! and (optionally) a model server, analyse each results file as the paper did, and put the
//! numbers next to the paper's.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use rigor_confidence::agent::{
    Agent, BayesianAgent, BiasParams, BiasedAgent, HttpAgentConfig, KnowledgeConfig,
};
use rigor_confidence::design::builtin::latitude_questions;
use rigor_confidence::design::condition::{AdviceType, AnswerDisplay, DesignConfig};
use rigor_confidence::design::question::QuestionSet;
use rigor_confidence::error::Result;
use rigor_confidence::logodds::EPSILON;
use rigor_confidence::measures::calibration::CalibrationReport;
use rigor_confidence::measures::change_of_mind::{
    CellRate, Rate, change_of_mind_by_cell, change_of_mind_by_display,
};
use rigor_confidence::measures::temperature::{TemperatureFit, apply_temperature, fit_temperature};
use rigor_confidence::measures::update::{
    UpdateSummary, WeightRatio, pooled_overweighting, updates_by_cell,
};
use rigor_confidence::regression::bootstrap::{BootstrapResult, bootstrap};
use rigor_confidence::regression::models::RegressionData;
use rigor_confidence::regression::selection::{ModelComparison, SelectionConfig, compare_models};
use rigor_confidence::runner::{Progress, Results, RunSummary, Runner};

/// The numbers the paper reports (docs/paper-facts.md S5, from secondary sources; Gemma 3 12B).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PaperNumbers {
    /// Change-of-mind rate with the own answer Shown.
    pub change_of_mind_shown: f64,
    /// Change-of-mind rate with the own answer Hidden (range over reports).
    pub change_of_mind_hidden: (f64, f64),
    /// Overweighting of opposing advice relative to Bayes (range).
    pub opposite_overweighting: (f64, f64),
    /// Overweighting of supporting advice relative to Bayes (range).
    pub same_overweighting: (f64, f64),
}

/// docs/paper-facts.md S5: 13.1% Shown vs 32.5–34% Hidden; opposing ≈2.2–2.6×,
/// supporting ≈1.1–1.3×.
pub const PAPER: PaperNumbers = PaperNumbers {
    change_of_mind_shown: 0.131,
    change_of_mind_hidden: (0.325, 0.34),
    opposite_overweighting: (2.2, 2.6),
    same_overweighting: (1.1, 1.3),
};

/// Settings of [`analyse`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AnalysisConfig {
    /// Confidence clamp $\varepsilon$ before logits.
    pub epsilon: f64,
    /// ECE bins.
    pub ece_bins: usize,
    /// Model comparison settings.
    pub selection: SelectionConfig,
    /// Bootstrap resamples for the selected model (0 = skip).
    pub bootstrap_replicates: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            epsilon: EPSILON,
            ece_bins: 10,
            selection: SelectionConfig::default(),
            bootstrap_replicates: 200,
            seed: 0,
        }
    }
}

/// Everything measured on one agent's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    /// Agent name.
    pub agent: String,
    /// What the run did (absent when analysing a file without running).
    pub run: Option<RunSummary>,
    /// Completed stage-2 trials.
    pub n_completed: usize,
    /// Trials whose latest record is a failure.
    pub n_failed: usize,
    /// Change-of-mind per display, pooled over advice types and accuracies.
    pub change_of_mind: Vec<(AnswerDisplay, Rate)>,
    /// Change-of-mind per display for each advice type.
    pub change_of_mind_by_advice: BTreeMap<AdviceType, Vec<(AnswerDisplay, Rate)>>,
    /// Change-of-mind per cell.
    pub change_of_mind_by_cell: Vec<CellRate>,
    /// Realised fraction of correct advice per cell (should match the stated accuracy).
    pub realised_advice_accuracy: Vec<CellRate>,
    /// Confidence change, gap and overweighting per cell.
    pub updates: Vec<UpdateSummary>,
    /// Overweighting of supporting advice, pooled over accuracies, **Hidden trials only**:
    /// with the answer Shown, a choice-supportive bonus adds to every update, inflating the
    /// supporting ratio and shrinking the opposing one.
    pub same_overweighting: WeightRatio,
    /// Overweighting of opposing advice, pooled over accuracies, Hidden trials only.
    pub opposite_overweighting: WeightRatio,
    /// Stage-1 calibration.
    pub calibration: Option<CalibrationReport>,
    /// Temperature fitted to stage 1.
    pub temperature: Option<TemperatureFit>,
    /// Stage-1 calibration after temperature scaling (in-sample).
    pub calibration_scaled: Option<CalibrationReport>,
    /// Models A–D.
    pub models: Option<ModelComparison>,
    /// Bootstrap of the selected model.
    pub bootstrap: Option<BootstrapResult>,
    /// Analyses that could not be done, and why.
    pub notes: Vec<String>,
}

/// Analyses a results file as the paper did.
pub fn analyse(results: &Results, config: &AnalysisConfig) -> Result<AgentReport> {
    let trials = results.completed_trials();
    let eps = config.epsilon;
    let hidden = Some(AnswerDisplay::Hidden);
    let mut notes = Vec::new();
    let mut note = |what: &str, e: &dyn std::fmt::Display| notes.push(format!("{what}: {e}"));

    let mut advice_groups: BTreeMap<_, (usize, usize)> = BTreeMap::new();
    for t in results.trials.values() {
        if let Some(c) = t.advice_correct {
            let e = advice_groups.entry(t.cell).or_insert((0, 0));
            e.0 += usize::from(c);
            e.1 += 1;
        }
    }
    let realised_advice_accuracy = advice_groups
        .into_iter()
        .filter_map(|(cell, (k, n))| Rate::new(k, n).ok().map(|rate| CellRate { cell, rate }))
        .collect();

    let stage1 = results.stage1_completed();
    let probs: Vec<_> = stage1.iter().map(|s| s.2.clone()).collect();
    let correct: Vec<usize> = stage1.iter().map(|s| s.1).collect();
    let calibration = CalibrationReport::new(&probs, &correct, config.ece_bins)
        .map_err(|e| note("stage-1 calibration", &e))
        .ok();
    let temperature = fit_temperature(&probs, &correct)
        .map_err(|e| note("temperature scaling", &e))
        .ok();
    let calibration_scaled = temperature.and_then(|t| {
        probs
            .iter()
            .map(|p| apply_temperature(p, t.temperature))
            .collect::<Result<Vec<_>>>()
            .and_then(|scaled| CalibrationReport::new(&scaled, &correct, config.ece_bins))
            .map_err(|e| note("calibration after scaling", &e))
            .ok()
    });

    let data = RegressionData::from_trials(&trials, eps)?;
    let models = compare_models(&data, &config.selection)
        .map_err(|e| note("models A-D", &e))
        .ok();
    let bootstrap = match (&models, config.bootstrap_replicates) {
        (Some(m), b) if b > 0 => {
            bootstrap(&data, m.selected, b, config.seed, &config.selection.fit)
                .map_err(|e| note("bootstrap", &e))
                .ok()
        }
        _ => None,
    };

    Ok(AgentReport {
        agent: results
            .header
            .as_ref()
            .map(|h| h.agent.clone())
            .unwrap_or_default(),
        run: None,
        n_completed: trials.len(),
        n_failed: results.failed_trials().len(),
        change_of_mind: change_of_mind_by_display(&trials, None),
        change_of_mind_by_advice: AdviceType::ALL
            .into_iter()
            .map(|a| (a, change_of_mind_by_display(&trials, Some(a))))
            .collect(),
        change_of_mind_by_cell: change_of_mind_by_cell(&trials),
        realised_advice_accuracy,
        updates: updates_by_cell(&trials, eps)?,
        same_overweighting: pooled_overweighting(&trials, AdviceType::Same, hidden, eps)?,
        opposite_overweighting: pooled_overweighting(&trials, AdviceType::Opposite, hidden, eps)?,
        calibration,
        temperature,
        calibration_scaled,
        models,
        bootstrap,
        notes,
    })
}

/// Settings of [`run_reproduction`].
#[derive(Debug, Clone)]
pub struct ReproductionConfig {
    /// The design (paper default: 2 × 3 × {50…100}%).
    pub design: DesignConfig,
    /// The questions (default: the built-in latitude task, two options).
    pub questions: QuestionSet,
    /// Beliefs of the simulated agents.
    pub knowledge: KnowledgeConfig,
    /// Planted parameters of the biased agent.
    pub biased: BiasParams,
    /// Seed of the biased agent's response noise.
    pub agent_seed: u64,
    /// Run the paradigm on a model server too.
    pub endpoint: Option<HttpAgentConfig>,
    /// Where the results files go (`bayesian.jsonl`, `biased.jsonl`, `model.jsonl`).
    pub out_dir: PathBuf,
    /// Analysis settings.
    pub analysis: AnalysisConfig,
}

impl ReproductionConfig {
    /// The paper's design with `trials_per_cell` trials per cell, seeded, writing to
    /// `out_dir`.
    pub fn new(out_dir: impl Into<PathBuf>, trials_per_cell: usize, seed: u64) -> Result<Self> {
        Ok(Self {
            design: DesignConfig {
                trials_per_cell,
                seed,
                ..DesignConfig::default()
            },
            questions: latitude_questions(2, seed)?,
            knowledge: KnowledgeConfig {
                seed,
                ..KnowledgeConfig::default()
            },
            biased: BiasParams::paper_like(),
            agent_seed: seed,
            endpoint: None,
            out_dir: out_dir.into(),
            analysis: AnalysisConfig {
                seed,
                ..AnalysisConfig::default()
            },
        })
    }
}

/// The reproduction's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The paper's numbers.
    pub paper: PaperNumbers,
    /// One report per agent: Bayesian, biased, then the model server if any.
    pub agents: Vec<AgentReport>,
}

/// Runs (or resumes) the paradigm on every agent of `config` and analyses each.
/// `progress` receives the agent's short name and the runner's progress.
pub fn run_reproduction(
    config: &ReproductionConfig,
    progress: &mut dyn FnMut(&str, Progress),
) -> Result<Report> {
    let runner = Runner::new(config.design.clone())?;
    let knowledge = config.knowledge.build(&config.questions)?;
    let mut agents: Vec<(&str, Box<dyn Agent>)> = vec![
        ("bayesian", Box::new(BayesianAgent::new(knowledge.clone()))),
        (
            "biased",
            Box::new(BiasedAgent::new(
                knowledge,
                config.biased,
                config.agent_seed,
            )?),
        ),
    ];
    if let Some(http) = &config.endpoint {
        agents.push(("model", Box::new(http.clone().build()?)));
    }
    let mut reports = Vec::new();
    for (short, agent) in &agents {
        let path = config.out_dir.join(format!("{short}.jsonl"));
        let summary = runner.run(agent.as_ref(), &config.questions, &path, &mut |p| {
            progress(short, p)
        })?;
        let results = Results::load(&path)?;
        let mut report = analyse(&results, &config.analysis)?;
        report.run = Some(summary);
        reports.push(report);
    }
    Ok(Report {
        paper: PAPER,
        agents: reports,
    })
}

fn ratio(w: &WeightRatio) -> String {
    match w.value() {
        Some(r) => format!("{r:.2}x"),
        None => "undefined".into(),
    }
}

impl Report {
    /// A plain-text table of the headline numbers next to the paper's.
    pub fn table(&self) -> String {
        let p = &self.paper;
        // The name column fits the longest agent name (a biased agent's name lists its planted
        // parameters), at least the paper row's label.
        let w = self
            .agents
            .iter()
            .map(|a| a.agent.chars().count())
            .chain([44])
            .max()
            .unwrap_or(44);
        let mut s = String::new();
        s.push_str(&format!(
            "{:<w$} {:>14} {:>14} {:>12} {:>12}\n",
            "agent", "CoM shown", "CoM hidden", "same w (H)", "opp. w (H)"
        ));
        s.push_str(&format!(
            "{:<w$} {:>14} {:>14} {:>12} {:>12}\n",
            "paper (Gemma 3 12B, paper-facts.md S5)",
            format!("{:.1}%", p.change_of_mind_shown * 100.0),
            format!(
                "{:.1}-{:.0}%",
                p.change_of_mind_hidden.0 * 100.0,
                p.change_of_mind_hidden.1 * 100.0
            ),
            format!(
                "{:.1}-{:.1}x",
                p.same_overweighting.0, p.same_overweighting.1
            ),
            format!(
                "{:.1}-{:.1}x",
                p.opposite_overweighting.0, p.opposite_overweighting.1
            ),
        ));
        for a in &self.agents {
            let com = |d: AnswerDisplay| {
                a.change_of_mind
                    .iter()
                    .find(|(x, _)| *x == d)
                    .map_or("-".to_string(), |(_, r)| format!("{:.1}%", r.rate * 100.0))
            };
            let name = &a.agent;
            s.push_str(&format!(
                "{:<w$} {:>14} {:>14} {:>12} {:>12}\n",
                name,
                com(AnswerDisplay::Shown),
                com(AnswerDisplay::Hidden),
                ratio(&a.same_overweighting),
                ratio(&a.opposite_overweighting)
            ));
        }
        for a in &self.agents {
            let name = &a.agent;
            s.push_str(&format!(
                "\n{name}: {} trials, {} failed\n",
                a.n_completed, a.n_failed
            ));
            if let Some(c) = &a.calibration {
                s.push_str(&format!(
                    "  stage 1: accuracy {:.3}, mean confidence {:.3}, ECE {:.3}, Brier {:.3}, AUROC {}\n",
                    c.accuracy,
                    c.mean_confidence,
                    c.ece,
                    c.brier,
                    c.auroc.map_or("-".into(), |v| format!("{v:.3}"))
                ));
            }
            if let (Some(t), Some(c)) = (&a.temperature, &a.calibration_scaled) {
                s.push_str(&format!(
                    "  temperature T = {:.3}{}: ECE {:.3}, NLL {:.3} -> {:.3}\n",
                    t.temperature,
                    if t.at_bound { " (at bound)" } else { "" },
                    c.ece,
                    t.nll_before,
                    t.nll_after
                ));
            }
            if let Some(m) = &a.models {
                s.push_str(&format!("  models ({:?}): ", m.criterion));
                for f in &m.fits {
                    s.push_str(&format!("{:?} BIC {:.1}  ", f.model, f.bic));
                }
                s.push_str(&format!("-> selected {:?}\n", m.selected));
            }
            if let Some(b) = &a.bootstrap {
                for p in &b.parameters {
                    s.push_str(&format!(
                        "    {:<16} {:>8.3}  95% CI [{:.3}, {:.3}]\n",
                        p.name, p.estimate, p.ci95.0, p.ci95.1
                    ));
                }
            }
            for n in &a.notes {
                s.push_str(&format!("  note: {n}\n"));
            }
        }
        s
    }
}
