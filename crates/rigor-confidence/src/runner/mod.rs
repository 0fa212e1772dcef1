//! Running the paradigm: stage 1 for every question, a truthful plan, then every stage-2
//! trial as a fresh call — seeded, resumable, every call written to a JSON-lines file.
//!
//! 1. **Stage 1.** Each question is asked with [`StagePrompt::initial`]; the response is
//!    written as a stage-1 record (failed calls too).
//! 2. **Plan.** From the stage-1 answers, [`plan::plan`] assigns questions to cells so that
//!    the advice is correct at the stated rate; the plan is written as one record.
//! 3. **Stage 2.** Each planned trial builds a *new* [`StagePrompt::final_stage`] from the
//!    question, the advice and — only when Shown — the stage-1 answer label, and calls the
//!    agent. The agent receives that prompt and nothing else (see [`Agent`]).
//!
//! **Resuming.** Running again on the same file continues the same experiment: the header
//! (agent name, design, question fingerprint) must match, else
//! [`ConfidenceError::ResumeMismatch`]; completed stage-1 calls and completed trials are
//! skipped; failed ones are retried and their new records appended (the old failure stays in
//! the file). Once the plan is written it is reused verbatim.

pub mod plan;
pub mod store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::agent::{Agent, AgentError, OptionProbs};
use crate::design::condition::{AnswerDisplay, Design, DesignConfig};
use crate::design::prompt::{AdviceMessage, OwnAnswer, StagePrompt};
use crate::design::question::{Question, QuestionSet};
use crate::design::trial::{
    InfeasibleCell, PlannedTrial, Record, RunHeader, Stage1Outcome, Stage1Record, TrialOutcome,
    TrialRecord,
};
use crate::error::{ConfidenceError, Result};
pub use store::{RecordWriter, Results};

/// Progress of a run, reported after every agent call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// 1 or 2.
    pub stage: u8,
    /// Calls finished (or skipped as already complete) in this stage.
    pub done: usize,
    /// Calls in this stage.
    pub total: usize,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The results file.
    pub path: PathBuf,
    /// Stage-1 calls made in this run.
    pub stage1_calls: usize,
    /// Of which failed.
    pub stage1_failed: usize,
    /// Trials in the plan.
    pub trials_planned: usize,
    /// Trials already complete in the file (skipped).
    pub trials_skipped: usize,
    /// Stage-2 calls made in this run.
    pub trials_run: usize,
    /// Of which failed.
    pub trials_failed: usize,
    /// Cells left out of the plan.
    pub infeasible: Vec<InfeasibleCell>,
    /// Bytes of a torn final line dropped before resuming.
    pub torn_tail_bytes: usize,
}

/// Runs the full factorial design against an agent.
#[derive(Debug, Clone)]
pub struct Runner {
    design: Design,
}

impl Runner {
    /// A runner for a validated design.
    pub fn new(design: DesignConfig) -> Result<Self> {
        Ok(Self {
            design: design.validate()?,
        })
    }

    /// The design.
    pub fn design(&self) -> &Design {
        &self.design
    }

    /// Runs (or resumes) the experiment into `path`, reporting progress after each call.
    ///
    /// Agent failures do not stop the run: they are written as failed records and counted
    /// in the summary. Errors are about the file (I/O, a corrupt line, a header that belongs
    /// to another experiment).
    pub fn run(
        &self,
        agent: &dyn Agent,
        questions: &QuestionSet,
        path: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<RunSummary> {
        let existing = if path.exists() {
            Results::load(path)?
        } else {
            Results::default()
        };
        let header = RunHeader {
            format: 1,
            agent: agent.name(),
            design: self.design.config().clone(),
            questions: questions.fingerprint(),
        };
        let mismatch = |reason: String| ConfidenceError::ResumeMismatch {
            path: path.display().to_string(),
            reason,
        };
        match &existing.header {
            Some(h) if h.agent != header.agent => {
                return Err(mismatch(format!(
                    "agent `{}` ≠ `{}`",
                    h.agent, header.agent
                )));
            }
            Some(h) if h.design != header.design => {
                return Err(mismatch(format!(
                    "design {:?} ≠ {:?}",
                    h.design, header.design
                )));
            }
            Some(h) if h.questions != header.questions || h.format != header.format => {
                return Err(mismatch("the question set (or file format) differs".into()));
            }
            None if existing.n_records > 0 => {
                return Err(mismatch("the file has records but no header".into()));
            }
            _ => {}
        }
        let mut writer = RecordWriter::open(path, Some(&existing))?;
        if existing.header.is_none() {
            writer.write(&Record::Header(header))?;
        }
        let mut summary = RunSummary {
            path: path.to_path_buf(),
            stage1_calls: 0,
            stage1_failed: 0,
            trials_planned: 0,
            trials_skipped: 0,
            trials_run: 0,
            trials_failed: 0,
            infeasible: Vec::new(),
            torn_tail_bytes: existing.torn_tail_bytes,
        };

        // Stage 1 (skipped entirely once a plan exists: the plan is final).
        let mut answers: BTreeMap<String, OptionProbs> = existing
            .stage1
            .values()
            .filter_map(|s| match &s.outcome {
                Stage1Outcome::Completed { probs, .. } => {
                    Some((s.question_id.clone(), probs.clone()))
                }
                Stage1Outcome::Failed { .. } => None,
            })
            .collect();
        let plan = match &existing.plan {
            Some(p) => p.clone(),
            None => {
                let total = questions.len();
                for (done, q) in questions.questions().iter().enumerate() {
                    if !answers.contains_key(&q.id) {
                        let outcome = match call(agent, &StagePrompt::initial(q), q) {
                            Ok(probs) => {
                                answers.insert(q.id.clone(), probs.clone());
                                Stage1Outcome::Completed {
                                    answer: probs.answer(),
                                    probs,
                                }
                            }
                            Err(e) => {
                                summary.stage1_failed += 1;
                                Stage1Outcome::Failed {
                                    error: e.to_string(),
                                }
                            }
                        };
                        summary.stage1_calls += 1;
                        writer.write(&Record::Stage1(Stage1Record {
                            question_id: q.id.clone(),
                            correct: q.correct,
                            outcome,
                        }))?;
                    }
                    progress(Progress {
                        stage: 1,
                        done: done + 1,
                        total,
                    });
                }
                let p = plan::plan(&self.design, questions, &answers);
                writer.write(&Record::Plan(p.clone()))?;
                p
            }
        };
        summary.trials_planned = plan.trials.len();
        summary.infeasible = plan.infeasible.clone();

        // Stage 2.
        let total = plan.trials.len();
        for (done, t) in plan.trials.iter().enumerate() {
            let complete = existing
                .trials
                .get(&t.id)
                .is_some_and(|r| matches!(r.outcome, TrialOutcome::Completed { .. }));
            if complete {
                summary.trials_skipped += 1;
            } else {
                let q = questions.get(&t.question_id).ok_or_else(|| {
                    mismatch(format!(
                        "the plan names unknown question `{}`",
                        t.question_id
                    ))
                })?;
                let initial = answers.get(&t.question_id).ok_or_else(|| {
                    mismatch(format!(
                        "the plan names question `{}` without a stage-1 answer",
                        t.question_id
                    ))
                })?;
                let record = run_trial(agent, q, initial, t);
                if matches!(record.outcome, TrialOutcome::Failed { .. }) {
                    summary.trials_failed += 1;
                }
                summary.trials_run += 1;
                writer.write(&Record::Trial(record))?;
            }
            progress(Progress {
                stage: 2,
                done: done + 1,
                total,
            });
        }
        Ok(summary)
    }
}

/// One agent call, with the output checked against the question.
fn call(
    agent: &dyn Agent,
    prompt: &StagePrompt,
    q: &Question,
) -> core::result::Result<OptionProbs, AgentError> {
    let probs = agent.respond(prompt)?;
    if probs.len() != q.n_options() {
        return Err(AgentError::InvalidOutput {
            reason: format!(
                "{} probabilities for a question with {} options",
                probs.len(),
                q.n_options()
            ),
        });
    }
    Ok(probs)
}

/// Builds the fresh stage-2 prompt of a planned trial and records the agent's answer.
fn run_trial(
    agent: &dyn Agent,
    q: &Question,
    initial: &OptionProbs,
    t: &PlannedTrial,
) -> TrialRecord {
    let initial_answer = initial.answer();
    let own_answer = match t.cell.display {
        AnswerDisplay::Shown => OwnAnswer::Shown(initial_answer),
        AnswerDisplay::Hidden => OwnAnswer::Hidden,
    };
    let advice = AdviceMessage {
        recommends: t.advice_option,
        stated_accuracy: t.cell.accuracy(),
    };
    let prompt = StagePrompt::final_stage(q, advice, own_answer);
    let outcome = match call(agent, &prompt, q) {
        Ok(p) => TrialOutcome::Completed {
            final_answer: p.answer(),
            final_probs: p,
        },
        Err(e) => TrialOutcome::Failed {
            error: e.to_string(),
        },
    };
    TrialRecord {
        id: t.id.clone(),
        question_id: q.id.clone(),
        cell: t.cell,
        correct: q.correct,
        initial_probs: initial.clone(),
        initial_answer,
        advice_option: t.advice_option,
        advice_correct: t.advice_correct,
        outcome,
    }
}
