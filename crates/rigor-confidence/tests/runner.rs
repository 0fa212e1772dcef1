//! The runner: truthful advice, fresh stage-2 prompts, seeded plans, and resumable
//! JSON-lines results in which nothing is lost.

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;

use rigor_confidence::design::trial::Stage1Outcome;
use rigor_confidence::{
    AdviceMessage, AdviceType, Agent, AgentError, AnswerDisplay, BayesianAgent, ConfidenceError,
    DesignConfig, KnowledgeConfig, OptionProbs, OwnAnswer, QuestionSet, Record, Results, Runner,
    Stage, StagePrompt, TrialOutcome, latitude_questions,
};

fn bayesian(questions: &QuestionSet, skill: f64) -> BayesianAgent {
    BayesianAgent::new(
        KnowledgeConfig {
            skill,
            ..KnowledgeConfig::default()
        }
        .build(questions)
        .unwrap(),
    )
}

/// In every Same/Opposite cell the advice is correct in a fraction within 1/n of the stated
/// accuracy, Same advice names the stage-1 answer and Opposite advice another option.
#[test]
fn advice_is_truthful_in_every_cell() {
    let questions = latitude_questions(3, 2).unwrap();
    let agent = bayesian(&questions, 1.0);
    let n = 30;
    let design = DesignConfig {
        trials_per_cell: n,
        seed: 2,
        ..DesignConfig::default()
    };
    let results = common::run(&agent, &questions, design, "truthful");
    assert_eq!(results.trials.len(), 2 * 3 * 6 * n);
    let mut per_cell: BTreeMap<_, (usize, usize)> = BTreeMap::new();
    for t in results.trials.values() {
        let q = questions.get(&t.question_id).unwrap();
        match t.cell.advice {
            AdviceType::Neutral => assert_eq!((t.advice_option, t.advice_correct), (None, None)),
            advice => {
                let j = t.advice_option.unwrap();
                assert_eq!(t.advice_correct.unwrap(), j == q.correct);
                assert_eq!(advice == AdviceType::Same, j == t.initial_answer);
                let e = per_cell.entry(t.cell).or_insert((0, 0));
                e.0 += usize::from(j == q.correct);
                e.1 += 1;
            }
        }
    }
    for (cell, (k, total)) in per_cell {
        let realised = k as f64 / total as f64;
        assert!(
            (realised - cell.accuracy()).abs() <= 1.0 / n as f64 + 1e-12,
            "{cell}: realised {realised}"
        );
    }
}

/// Records every prompt it is given (interior mutability is used here only to observe the
/// runner; it is exactly what the paradigm forbids an agent to use for its answers).
struct Recorder {
    inner: BayesianAgent,
    seen: RefCell<Vec<StagePrompt>>,
}

impl Agent for Recorder {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn respond(&self, prompt: &StagePrompt) -> Result<OptionProbs, AgentError> {
        self.seen.borrow_mut().push(prompt.clone());
        self.inner.respond(prompt)
    }
}

/// Each stage is one fresh call whose prompt is rebuilt from the question, the advice and
/// (Shown only) the stage-1 answer: nothing else reaches the agent.
#[test]
fn stage_two_prompts_are_fresh_and_carry_no_history() {
    let questions = latitude_questions(2, 3).unwrap();
    let agent = Recorder {
        inner: bayesian(&questions, 1.0),
        seen: RefCell::new(Vec::new()),
    };
    let design = DesignConfig {
        trials_per_cell: 4,
        seed: 3,
        ..DesignConfig::default()
    };
    let results = common::run(&agent, &questions, design.clone(), "fresh");
    let seen = agent.seen.into_inner();
    assert_eq!(seen.len(), questions.len() + 2 * 3 * 6 * 4);
    let (initial, finals): (Vec<_>, Vec<_>) =
        seen.iter().partition(|p| *p.stage() == Stage::Initial);
    assert_eq!(initial.len(), questions.len());
    // Every stage-2 prompt equals one built from scratch for its planned trial.
    let mut expected: Vec<String> = results
        .trials
        .values()
        .map(|t| {
            let q = questions.get(&t.question_id).unwrap();
            let own = match t.cell.display {
                AnswerDisplay::Shown => OwnAnswer::Shown(t.initial_answer),
                AnswerDisplay::Hidden => OwnAnswer::Hidden,
            };
            let advice = AdviceMessage {
                recommends: t.advice_option,
                stated_accuracy: t.cell.accuracy(),
            };
            serde_json::to_string(&StagePrompt::final_stage(q, advice, own)).unwrap()
        })
        .collect();
    let mut got: Vec<String> = finals
        .iter()
        .map(|p| serde_json::to_string(p).unwrap())
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    for p in finals {
        let text = p.render();
        assert_eq!(text.matches("Question:").count(), 1);
        if let Stage::Final {
            own_answer: OwnAnswer::Hidden,
            ..
        } = p.stage()
        {
            assert!(text.contains("Your initial answer was: xx\n"));
        }
    }
}

/// Fails every call whose prompt hashes into a chosen residue, like a flaky server.
struct Flaky {
    inner: BayesianAgent,
    fail: bool,
}

impl Agent for Flaky {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn respond(&self, prompt: &StagePrompt) -> Result<OptionProbs, AgentError> {
        let text = prompt.render();
        if self.fail && text.len().is_multiple_of(3) {
            return Err(AgentError::Timeout {
                url: "http://flaky".into(),
                timeout_ms: 1,
            });
        }
        self.inner.respond(prompt)
    }
}

/// Agent failures become failed records with their message; a second run retries exactly
/// those, skips the completed ones, and the file keeps every attempt.
#[test]
fn interrupted_runs_resume_without_losing_or_repeating_trials() {
    let questions = latitude_questions(2, 4).unwrap();
    let design = DesignConfig {
        trials_per_cell: 5,
        seed: 4,
        ..DesignConfig::default()
    };
    let path = common::temp_dir("resume").join("r.jsonl");
    let runner = Runner::new(design).unwrap();
    let flaky = Flaky {
        inner: bayesian(&questions, 1.0),
        fail: true,
    };
    let first = runner.run(&flaky, &questions, &path, &mut |_| {}).unwrap();
    assert!(first.trials_failed > 0 && first.trials_failed < first.trials_run);
    assert!(first.stage1_failed > 0);
    let r1 = Results::load(&path).unwrap();
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    assert_eq!(lines, 1 + questions.len() + 1 + first.trials_run);
    assert_eq!(r1.failed_trials().len(), first.trials_failed);
    assert!(r1.failed_trials().iter().all(|t| matches!(
        &t.outcome,
        TrialOutcome::Failed { error } if error.contains("timed out")
    )));
    let s1_failed = r1
        .stage1
        .values()
        .filter(|s| matches!(s.outcome, Stage1Outcome::Failed { .. }))
        .count();
    assert_eq!(s1_failed, first.stage1_failed);
    // Questions that failed stage 1 take no part in the plan.
    let plan = r1.plan.as_ref().unwrap();
    assert!(plan.trials.iter().all(|t| matches!(
        r1.stage1[&t.question_id].outcome,
        Stage1Outcome::Completed { .. }
    )));

    let healthy = Flaky {
        inner: bayesian(&questions, 1.0),
        fail: false,
    };
    let second = runner
        .run(&healthy, &questions, &path, &mut |_| {})
        .unwrap();
    assert_eq!(second.stage1_calls, 0, "the plan is final once written");
    assert_eq!(second.trials_run, first.trials_failed);
    assert_eq!(
        second.trials_skipped,
        first.trials_run - first.trials_failed
    );
    assert_eq!(second.trials_failed, 0);
    let r2 = Results::load(&path).unwrap();
    assert_eq!(r2.completed_trials().len(), plan.trials.len());
    assert_eq!(r2.n_records, r1.n_records + first.trials_failed);
    // A third run has nothing to do.
    let third = runner
        .run(&healthy, &questions, &path, &mut |_| {})
        .unwrap();
    assert_eq!(
        (third.trials_run, third.trials_skipped),
        (0, plan.trials.len())
    );
}

/// A line cut short by a crash is dropped on resume and its trial run again.
#[test]
fn torn_final_line_is_dropped_on_resume() {
    let questions = latitude_questions(2, 5).unwrap();
    let agent = bayesian(&questions, 1.0);
    let design = DesignConfig {
        trials_per_cell: 2,
        seed: 5,
        ..DesignConfig::default()
    };
    let path = common::temp_dir("torn").join("r.jsonl");
    let runner = Runner::new(design).unwrap();
    runner.run(&agent, &questions, &path, &mut |_| {}).unwrap();
    // Remove the last record and leave half of it behind, as a crash mid-write would.
    let text = std::fs::read_to_string(&path).unwrap();
    let last_start = text[..text.len() - 1].rfind('\n').unwrap() + 1;
    let last = &text[last_start..];
    let torn = &last[..last.len() / 2];
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(&text.as_bytes()[..last_start]).unwrap();
    f.write_all(torn.as_bytes()).unwrap();
    drop(f);
    assert_eq!(Results::load(&path).unwrap().torn_tail_bytes, torn.len());
    let summary = runner.run(&agent, &questions, &path, &mut |_| {}).unwrap();
    assert_eq!(summary.torn_tail_bytes, torn.len());
    assert_eq!(summary.trials_run, 1);
    let r = Results::load(&path).unwrap();
    assert_eq!(r.torn_tail_bytes, 0);
    assert_eq!(r.completed_trials().len(), summary.trials_planned);
    // A corrupt line in the middle is an error naming the line, never silently skipped.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("\"record\":\"trial\"", "\"record\":\"bogus\"", 1),
    )
    .unwrap();
    assert!(matches!(
        Results::load(&path),
        Err(ConfidenceError::CorruptRecord { .. })
    ));
}

/// A results file is never resumed with another agent, design or question set.
#[test]
fn resuming_another_experiment_is_refused() {
    let questions = latitude_questions(2, 6).unwrap();
    let design = DesignConfig {
        trials_per_cell: 1,
        seed: 6,
        ..DesignConfig::default()
    };
    let path = common::temp_dir("mismatch").join("r.jsonl");
    Runner::new(design.clone())
        .unwrap()
        .run(&bayesian(&questions, 1.0), &questions, &path, &mut |_| {})
        .unwrap();
    let other_agent = Runner::new(design.clone()).unwrap().run(
        &bayesian(&questions, 2.0),
        &questions,
        &path,
        &mut |_| {},
    );
    assert!(matches!(
        other_agent,
        Err(ConfidenceError::ResumeMismatch { .. })
    ));
    let other_design = Runner::new(DesignConfig {
        seed: 7,
        ..design.clone()
    })
    .unwrap()
    .run(&bayesian(&questions, 1.0), &questions, &path, &mut |_| {});
    assert!(matches!(
        other_design,
        Err(ConfidenceError::ResumeMismatch { .. })
    ));
    let other_questions = latitude_questions(2, 7).unwrap();
    let agent = bayesian(&other_questions, 1.0);
    let r = Runner::new(design)
        .unwrap()
        .run(&agent, &other_questions, &path, &mut |_| {});
    assert!(matches!(r, Err(ConfidenceError::ResumeMismatch { .. })));
}

/// The plan is a function of the seed (and the stage-1 answers).
#[test]
fn plans_are_seeded() {
    let questions = latitude_questions(2, 8).unwrap();
    let agent = bayesian(&questions, 1.0);
    let plan = |seed, name: &str| {
        let design = DesignConfig {
            trials_per_cell: 3,
            seed,
            ..DesignConfig::default()
        };
        common::run(&agent, &questions, design, name).plan.unwrap()
    };
    assert_eq!(plan(1, "seed-a"), plan(1, "seed-b"));
    assert_ne!(plan(1, "seed-c"), plan(2, "seed-d"));
}

/// An agent that answers everything correctly cannot receive truthful correct Opposite
/// advice: those cells are reported as infeasible instead of faked.
#[test]
fn cells_that_cannot_be_truthful_are_reported_not_faked() {
    let questions = latitude_questions(2, 9).unwrap();
    let agent = bayesian(&questions, 40.0);
    let design = DesignConfig {
        trials_per_cell: 5,
        seed: 9,
        ..DesignConfig::default()
    };
    let path = common::temp_dir("infeasible").join("r.jsonl");
    let summary = Runner::new(design)
        .unwrap()
        .run(&agent, &questions, &path, &mut |_| {})
        .unwrap();
    // Same advice at < 100% needs wrong answers; Opposite advice at > 0% needs wrong answers.
    assert!(!summary.infeasible.is_empty());
    assert!(
        summary
            .infeasible
            .iter()
            .all(|c| c.cell.advice != AdviceType::Neutral)
    );
    assert!(
        summary
            .infeasible
            .iter()
            .any(|c| c.reason.contains("answered wrongly"))
    );
    let r = Results::load(&path).unwrap();
    let same_100 = r
        .trials
        .values()
        .filter(|t| t.cell.advice == AdviceType::Same && t.cell.accuracy_percent == 100)
        .count();
    assert_eq!(same_100, 2 * 5);
    let header = std::fs::read_to_string(&path).unwrap();
    let first: Record = serde_json::from_str(header.lines().next().unwrap()).unwrap();
    assert!(matches!(first, Record::Header(_)));
}
