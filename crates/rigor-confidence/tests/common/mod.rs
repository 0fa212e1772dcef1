//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use rigor_confidence::{
    Agent, BiasParams, BiasedAgent, CompletedTrial, DesignConfig, KnowledgeConfig, QuestionSet,
    Results, Runner, synthetic_questions,
};

/// A fresh, empty directory under the system temp dir, unique per test and process.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rigor-confidence-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `agent` on `questions` with `design` into a fresh file and returns the results.
pub fn run(
    agent: &dyn Agent,
    questions: &QuestionSet,
    design: DesignConfig,
    name: &str,
) -> Results {
    let path = temp_dir(name).join("results.jsonl");
    let summary = Runner::new(design)
        .unwrap()
        .run(agent, questions, &path, &mut |_| {})
        .unwrap();
    assert_eq!(summary.trials_failed, 0);
    Results::load(&path).unwrap()
}

/// Completed trials of a biased agent with planted `params` (knowledge spread `spread`) on
/// `n_questions` synthetic two-option questions, `trials_per_cell` per cell of the paper's design.
pub fn biased_trials(
    params: BiasParams,
    spread: f64,
    n_questions: usize,
    trials_per_cell: usize,
    seed: u64,
    name: &str,
) -> Vec<CompletedTrial> {
    let questions = synthetic_questions(n_questions, 2, seed).unwrap();
    let knowledge = KnowledgeConfig {
        seed,
        spread,
        ..KnowledgeConfig::default()
    }
    .build(&questions)
    .unwrap();
    let agent = BiasedAgent::new(knowledge, params, seed).unwrap();
    let design = DesignConfig {
        trials_per_cell,
        seed,
        ..DesignConfig::default()
    };
    run(&agent, &questions, design, name).completed_trials()
}
