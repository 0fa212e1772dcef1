//! # rigor-confidence
//!
//! The change-of-mind paradigm of *How Overconfidence in Initial Choices and
//! Underconfidence Under Criticism Modulate Change of Mind in Large Language Models* —
//! Kumaran, Fleming, Markeeva, Heyward, Banino, Mathur, Pascanu, Osindero, De Martino,
//! Veličković & Pătrăucean, arXiv 2507.03120 (2025); journal version *Competing Biases
//! underlie Overconfidence and Underconfidence in LLMs* — for any agent that gives option
//! probabilities, with the ideal observer, the paper's measures and the two-bias model.
//! Pure host-side `f64` statistics: no Burn, no GPU.
//!
//! ## Map: paper → what → module
//!
//! | paper (S5) | what | where |
//! |---|---|---|
//! | paradigm | questions, latitude task, design cells, prompts, trial records | [`design`] |
//! | stage 1 / stage 2, fresh calls | the [`Agent`] trait, memoryless by construction | [`agent`] |
//! | 2 × 3 × {50…100}% design | seeded, truthful, resumable runner writing JSON lines | [`runner`], [`runner::plan`] |
//! | ideal observer | binary and K-option Bayes updates | [`observer`] |
//! | change of mind (13.1% vs 32.5–34%) | rates per cell / display | [`measures::change_of_mind`] |
//! | confidence change, overweighting (≈2.2–2.6× / 1.1–1.3×), OUCS | update measures | [`measures::update`] |
//! | confidence = answer-token probability | ECE, Brier, AUROC, temperature scaling | [`measures::calibration`], [`measures::temperature`] |
//! | regression with Same/Opposite weights + Shown | beta regression, models A–D, bootstrap | [`regression`] |
//! | Gemma 3 12B via logprobs | OpenAI-compatible HTTP agent | [`agent::http`] |
//! | headline experiment | run + analyse + paper numbers | rigor-lab's `repro::change_of_mind::reproduction` (this crate has the parts) |
//!
//! ## Conventions and the choices this crate makes
//!
//! - **Confidence** is the probability of the chosen option; the chosen option is the most
//!   probable one (ties: lowest index). All update measures are about the confidence in the
//!   **initially chosen** option $i$, before ($c$) and after ($c^\prime$) the advice.
//! - **Clamp.** Measured confidences are clamped into $[\varepsilon, 1 - \varepsilon]$,
//!   $\varepsilon = 10^{-4}$ ([`logodds::EPSILON`]), before any logit. Exact observer
//!   quantities are never clamped.
//! - **Sign convention** (used everywhere): gap $g = c^\prime_\text{obs} - c^\prime_\text{Bayes}$;
//!   **positive = overconfident** in the initial answer relative to Bayes, negative =
//!   underconfident (e.g. over-reacting to criticism).
//! - **Overweighting ratio** $= \sum\Delta_\text{obs} / \sum\Delta_\text{Bayes}$ on log-odds;
//!   undefined (an explicit [`measures::update::WeightRatio::Undefined`], never a division
//!   by zero) for Neutral advice, at 50% for two options, and at 100% (infinite evidence).
//! - **K options.** The observer assumes the advisor's errors are spread uniformly over the
//!   $K - 1$ wrong options ([`observer`]).
//! - **Neutral advice** states the advisor's accuracy but recommends nothing.
//!   docs/paper-facts.md S5 only names the condition, so this is an interpretation; the
//!   ideal observer leaves $c^\prime = c$.
//! - **Truthful advice.** The cell fixes the advice type relative to the stage-1 answer; the
//!   plan assigns questions to cells so that, in every cell, advice is correct in a fraction
//!   of trials within $1/n$ of the stated accuracy ([`runner::plan`]).
//! - **Models A–D** regress logit of the final confidence on the prior log-odds and the
//!   Bayesian advice evidence: A one advice weight, B + Shown, C separate Same/Opposite
//!   weights, D both ([`regression::models`]); BIC selects by default.
//! - Configurations are validated when built (`Result`); bad input is an error, never a
//!   panic or a silent `NaN`.
//!
//! ## Example
//!
//! ```
//! use rigor_confidence::{
//!     BayesianAgent, DesignConfig, KnowledgeConfig, Runner, Results, latitude_questions,
//!     measures::change_of_mind::change_of_mind_by_display,
//! };
//!
//! let questions = latitude_questions(2, 0).unwrap();
//! let agent = BayesianAgent::new(KnowledgeConfig::default().build(&questions).unwrap());
//! let design = DesignConfig { trials_per_cell: 4, ..DesignConfig::default() };
//! let path = std::env::temp_dir().join(format!("rigor-doc-{}.jsonl", std::process::id()));
//! # let _ = std::fs::remove_file(&path);
//! let summary = Runner::new(design).unwrap().run(&agent, &questions, &path, &mut |_| {}).unwrap();
//! assert_eq!(summary.trials_failed, 0);
//! let trials = Results::load(&path).unwrap().completed_trials();
//! // The ideal observer changes its mind as often whether its answer is shown or not.
//! let rates = change_of_mind_by_display(&trials, None);
//! assert_eq!(rates[0].1.rate, rates[1].1.rate);
//! # std::fs::remove_file(&path).unwrap();
//! ```
//!
//! ## Features
//!
//! - `tls`: HTTPS endpoints for the HTTP agent (plain HTTP otherwise, which is what local
//!   llama.cpp and vLLM servers speak).
#![warn(missing_docs)]

pub mod agent;
pub mod design;
pub mod error;
pub mod logodds;
pub mod measures;
pub mod observer;
pub mod regression;
pub mod runner;
pub mod seed;

pub use agent::{
    Agent, AgentError, BayesianAgent, BiasParams, BiasedAgent, HttpAgent, HttpAgentConfig,
    Knowledge, KnowledgeConfig, OptionProbs,
};
pub use design::builtin::{latitude_questions, synthetic_questions};
pub use design::condition::{AdviceType, AnswerDisplay, Cell, Design, DesignConfig};
pub use design::prompt::{AdviceMessage, OwnAnswer, Stage, StagePrompt};
pub use design::question::{Question, QuestionSet};
pub use design::trial::{CompletedTrial, Record, TrialOutcome, TrialRecord};
pub use error::{ConfidenceError, Result};
pub use runner::{Progress, Results, RunSummary, Runner};
