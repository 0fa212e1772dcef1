//! Trial records: what the runner writes, one JSON object per line, and the view of a
//! completed trial the measures work on.

use serde::{Deserialize, Serialize};

use super::condition::{AdviceType, AnswerDisplay, Cell, DesignConfig};
use crate::agent::OptionProbs;
use crate::error::Result;
use crate::observer;

/// Outcome of a stage-1 call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Stage1Outcome {
    /// The agent answered.
    Completed {
        /// Option probabilities $p$.
        probs: OptionProbs,
        /// The answer $\arg\max_k p_k$.
        answer: usize,
    },
    /// The agent failed; the question takes no part in stage 2.
    Failed {
        /// The agent's error message.
        error: String,
    },
}

/// A stage-1 response: answer + option probabilities (paper S5: "confidence = probability
/// of its answer token").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage1Record {
    /// The question.
    pub question_id: String,
    /// Its correct option.
    pub correct: usize,
    /// What happened.
    pub outcome: Stage1Outcome,
}

/// One planned stage-2 trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedTrial {
    /// Unique id, `"{display}-{advice}-{accuracy}-{index}"`.
    pub id: String,
    /// The question.
    pub question_id: String,
    /// The design cell.
    pub cell: Cell,
    /// The recommended option (`None` for Neutral).
    pub advice_option: Option<usize>,
    /// Whether the recommendation is the correct option (`None` for Neutral).
    pub advice_correct: Option<bool>,
}

/// A cell the plan could not fill truthfully (e.g. 100%-accurate Opposite advice needs
/// questions the agent got wrong at stage 1, and it got none wrong).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfeasibleCell {
    /// The cell.
    pub cell: Cell,
    /// Why.
    pub reason: String,
}

/// The plan of stage 2, written once after stage 1 so that a resumed run uses exactly the
/// same trials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    /// Trials, in the order they are run.
    pub trials: Vec<PlannedTrial>,
    /// Cells left out.
    pub infeasible: Vec<InfeasibleCell>,
}

/// Outcome of a stage-2 call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TrialOutcome {
    /// The agent answered.
    Completed {
        /// Final option probabilities $p^\prime$.
        final_probs: OptionProbs,
        /// The final answer $\arg\max_k p^\prime_k$.
        final_answer: usize,
    },
    /// The agent failed; retried on resume.
    Failed {
        /// The agent's error message.
        error: String,
    },
}

/// A stage-2 trial with everything needed to analyse it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// The planned trial's id.
    pub id: String,
    /// The question.
    pub question_id: String,
    /// The design cell.
    pub cell: Cell,
    /// The correct option.
    pub correct: usize,
    /// Stage-1 probabilities $p$.
    pub initial_probs: OptionProbs,
    /// Stage-1 answer $i$.
    pub initial_answer: usize,
    /// The recommended option (`None` for Neutral).
    pub advice_option: Option<usize>,
    /// Whether the recommendation is correct (`None` for Neutral).
    pub advice_correct: Option<bool>,
    /// What happened.
    pub outcome: TrialOutcome,
}

/// Identifies the experiment a results file belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    /// Format version of the file (currently 1).
    pub format: u32,
    /// [`crate::Agent::name`].
    pub agent: String,
    /// The design.
    pub design: DesignConfig,
    /// [`crate::QuestionSet::fingerprint`].
    pub questions: String,
}

/// One line of a results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// First line: which experiment.
    Header(RunHeader),
    /// A stage-1 response.
    Stage1(Stage1Record),
    /// The stage-2 plan.
    Plan(PlanRecord),
    /// A stage-2 trial.
    Trial(TrialRecord),
}

/// A completed stage-2 trial, the unit every measure works on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletedTrial {
    /// The trial id.
    pub id: String,
    /// The design cell.
    pub cell: Cell,
    /// The correct option.
    pub correct: usize,
    /// Stage-1 probabilities $p$.
    pub initial_probs: OptionProbs,
    /// Stage-1 answer $i$.
    pub initial_answer: usize,
    /// The recommended option (`None` for Neutral).
    pub advice_option: Option<usize>,
    /// Final probabilities $p^\prime$.
    pub final_probs: OptionProbs,
    /// Final answer.
    pub final_answer: usize,
}

impl CompletedTrial {
    /// The completed trial of a record (`None` for failed trials).
    pub fn from_record(r: &TrialRecord) -> Option<Self> {
        match &r.outcome {
            TrialOutcome::Completed {
                final_probs,
                final_answer,
            } => Some(Self {
                id: r.id.clone(),
                cell: r.cell,
                correct: r.correct,
                initial_probs: r.initial_probs.clone(),
                initial_answer: r.initial_answer,
                advice_option: r.advice_option,
                final_probs: final_probs.clone(),
                final_answer: *final_answer,
            }),
            TrialOutcome::Failed { .. } => None,
        }
    }

    /// Prior confidence $c = p_i$ in the initially chosen option.
    pub fn initial_confidence(&self) -> f64 {
        self.initial_probs.get(self.initial_answer)
    }

    /// Final confidence $c^\prime_\text{obs} = p^\prime_i$ in the **initially chosen** option.
    pub fn final_confidence(&self) -> f64 {
        self.final_probs.get(self.initial_answer)
    }

    /// Whether the final answer differs from the initial one (a change of mind).
    pub fn changed_mind(&self) -> bool {
        self.final_answer != self.initial_answer
    }

    /// Whether the answer display was Shown.
    pub fn shown(&self) -> bool {
        self.cell.display == AnswerDisplay::Shown
    }

    /// The advice type.
    pub fn advice(&self) -> AdviceType {
        self.cell.advice
    }

    /// The ideal observer's final confidence in the initially chosen option,
    /// $c^\prime_\text{Bayes}$ ([`crate::observer::posterior`] from $p$ and the advice).
    pub fn bayes_final_confidence(&self) -> Result<f64> {
        observer::posterior_confidence(
            self.initial_probs.as_slice(),
            self.initial_answer,
            self.advice_option,
            self.cell.accuracy(),
        )
    }

    /// The ideal observer's log-odds update of the initially chosen option,
    /// $\Delta_\text{Bayes}$ ([`crate::observer::log_odds_update`]); $\pm\infty$ at $a = 1$.
    pub fn bayes_log_odds_update(&self) -> Result<f64> {
        observer::log_odds_update(
            self.initial_probs.as_slice(),
            self.initial_answer,
            self.advice_option,
            self.cell.accuracy(),
        )
    }
}
