//! The paper's measures (S5) and stage-1 calibration.

mod common;

use rigor_confidence::logodds::EPSILON;
use rigor_confidence::measures::calibration::{
    CalibrationReport, auroc, brier_score, expected_calibration_error,
};
use rigor_confidence::measures::change_of_mind::change_of_mind_by_display;
use rigor_confidence::measures::temperature::{apply_temperature, fit_temperature};
use rigor_confidence::measures::update::{
    UndefinedReason, WeightRatio, confidence_gap, overweighting, pooled_overweighting,
    updates_by_cell,
};
use rigor_confidence::{
    AdviceType, AnswerDisplay, BayesianAgent, BiasParams, Cell, CompletedTrial, ConfidenceError,
    DesignConfig, KnowledgeConfig, OptionProbs, latitude_questions,
};

fn trial(c: f64, final_c: f64, advice: AdviceType, pct: u32) -> CompletedTrial {
    let cell = Cell {
        display: AnswerDisplay::Hidden,
        advice,
        accuracy_percent: pct,
    };
    CompletedTrial {
        id: "t".into(),
        cell,
        correct: 0,
        initial_probs: OptionProbs::new(vec![c, 1.0 - c]).unwrap(),
        initial_answer: 0,
        advice_option: match advice {
            AdviceType::Same => Some(0),
            AdviceType::Opposite => Some(1),
            AdviceType::Neutral => None,
        },
        final_probs: OptionProbs::new(vec![final_c, 1.0 - final_c]).unwrap(),
        final_answer: usize::from(final_c < 0.5),
    }
}

/// At a = 50% the Bayesian update is 0: the ratio is explicitly undefined, not ∞ or NaN.
/// Likewise for Neutral advice, and at a = 100% (infinite Bayesian update).
#[test]
fn overweighting_is_undefined_where_bayes_does_not_move_or_moves_infinitely() {
    let at_50 = [trial(0.8, 0.6, AdviceType::Opposite, 50)];
    assert_eq!(
        overweighting(&at_50, EPSILON).unwrap(),
        WeightRatio::Undefined {
            reason: UndefinedReason::NoBayesianUpdate
        }
    );
    let neutral = [trial(0.8, 0.7, AdviceType::Neutral, 80)];
    assert_eq!(overweighting(&neutral, EPSILON).unwrap().value(), None);
    let at_100 = [trial(0.8, 0.1, AdviceType::Opposite, 100)];
    assert_eq!(
        overweighting(&at_100, EPSILON).unwrap(),
        WeightRatio::Undefined {
            reason: UndefinedReason::InfiniteBayesianUpdate
        }
    );
    let none: [CompletedTrial; 0] = [];
    assert_eq!(
        overweighting(&none, EPSILON).unwrap(),
        WeightRatio::Undefined {
            reason: UndefinedReason::NoTrials
        }
    );
}

/// The ratio is observed / Bayesian update on log-odds: an agent moving twice as far as
/// Bayes on the log-odds scale has ratio 2.
#[test]
fn overweighting_ratio_is_observed_over_bayesian_log_odds_update() {
    let logit = |p: f64| (p / (1.0 - p)).ln();
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    let (c, a) = (0.8, 0.7);
    let doubled = sigmoid(logit(c) - 2.0 * logit(a));
    let t = [trial(c, doubled, AdviceType::Opposite, 70)];
    let r = overweighting(&t, EPSILON).unwrap().value().unwrap();
    assert!((r - 2.0).abs() < 1e-9, "{r}");
}

/// Sign convention: gap = c′_obs − c′_Bayes, positive = overconfident in the initial answer.
#[test]
fn gap_is_positive_when_the_agent_keeps_more_confidence_than_bayes() {
    // Bayes after opposing advice at 70% from c = 0.8 is 0.632.
    let stubborn = trial(0.8, 0.75, AdviceType::Opposite, 70);
    let caving = trial(0.8, 0.30, AdviceType::Opposite, 70);
    assert!((confidence_gap(&stubborn).unwrap() - (0.75 - 0.24 / 0.38)).abs() < 1e-12);
    assert!(confidence_gap(&stubborn).unwrap() > 0.0);
    assert!(confidence_gap(&caving).unwrap() < 0.0);
}

/// On the Bayesian agent every measure reads "Bayesian": ratio 1, gap 0, confidence change
/// equal to the Bayes curve, and no Shown/Hidden difference in change of mind.
#[test]
fn bayesian_agent_measures_as_bayesian() {
    let questions = latitude_questions(2, 1).unwrap();
    let agent = BayesianAgent::new(KnowledgeConfig::default().build(&questions).unwrap());
    let design = DesignConfig {
        trials_per_cell: 15,
        seed: 1,
        ..DesignConfig::default()
    };
    let trials = common::run(&agent, &questions, design, "bayes-measures").completed_trials();
    for s in updates_by_cell(&trials, EPSILON).unwrap() {
        assert!(s.mean_gap.abs() < 1e-12, "{:?}", s.cell);
        assert!((s.mean_change - s.mean_bayes_change).abs() < 1e-12);
        match (s.cell.advice, s.cell.accuracy_percent) {
            (AdviceType::Neutral, _) | (_, 50) | (_, 100) => {
                assert_eq!(s.overweighting.value(), None)
            }
            _ => {
                let r = s.overweighting.value().unwrap();
                assert!((r - 1.0).abs() < 1e-6, "{:?}: {r}", s.cell);
            }
        }
    }
    for advice in [AdviceType::Same, AdviceType::Opposite] {
        let r = pooled_overweighting(&trials, advice, None, EPSILON)
            .unwrap()
            .value()
            .unwrap();
        assert!((r - 1.0).abs() < 1e-6);
    }
    let com = change_of_mind_by_display(&trials, None);
    assert_eq!(com.len(), 2);
    // Paired design: Shown and Hidden cells hold the same questions and advice.
    assert_eq!(com[0].1.events, com[1].1.events);
    assert!(com[0].1.events > 0);
}

/// The biased agent with paper-like planted parameters shows the paper's pattern: more
/// change of mind when Hidden, opposing advice overweighted more than supporting advice.
/// Overweighting is read on Hidden trials: with the answer Shown, the choice-supportive
/// bonus adds to every update and would inflate the supporting ratio and shrink the
/// opposing one (with all displays pooled this agent reads ≈2.7× supporting, ≈1.6× opposing).
#[test]
fn biased_agent_shows_the_papers_qualitative_pattern() {
    let trials = common::biased_trials(BiasParams::paper_like(), 1.0, 200, 20, 4, "paper-pattern");
    let com = change_of_mind_by_display(&trials, None);
    let (shown, hidden) = (com[0].1, com[1].1);
    assert_eq!(com[0].0, AnswerDisplay::Shown);
    assert!(
        shown.ci95.1 < hidden.ci95.0,
        "shown {shown:?} hidden {hidden:?}"
    );
    let hidden = Some(AnswerDisplay::Hidden);
    let same = pooled_overweighting(&trials, AdviceType::Same, hidden, EPSILON)
        .unwrap()
        .value()
        .unwrap();
    let opp = pooled_overweighting(&trials, AdviceType::Opposite, hidden, EPSILON)
        .unwrap()
        .value()
        .unwrap();
    // Planted 1.2 and 2.4. Raw ratios of noisy responses are biased upwards near the
    // boundary (E[logit y] > logit μ for Beta noise when μ → 1, as after supporting advice),
    // so only the ordering is claimed here; the regression tests recover the exact weights.
    assert!(
        opp > 2.0 && opp > same && same > 1.0,
        "same {same}, opposite {opp}"
    );

    // Without response noise the Hidden ratios are exactly the planted weights (up to the
    // ε clamp on a few extreme confidences).
    let exact = BiasParams {
        precision: f64::INFINITY,
        ..BiasParams::paper_like()
    };
    let trials = common::biased_trials(exact, 1.0, 200, 20, 4, "paper-pattern-exact");
    let same = pooled_overweighting(&trials, AdviceType::Same, hidden, EPSILON)
        .unwrap()
        .value()
        .unwrap();
    let opp = pooled_overweighting(&trials, AdviceType::Opposite, hidden, EPSILON)
        .unwrap()
        .value()
        .unwrap();
    assert!(
        (same - 1.2).abs() < 0.02 && (opp - 2.4).abs() < 0.02,
        "same {same}, opposite {opp}"
    );
}

/// ECE, Brier and AUROC against hand computations.
#[test]
fn calibration_measures_match_hand_computations() {
    let conf = [0.9, 0.9, 0.6, 0.6];
    let right = [true, false, true, true];
    // 2 bins: [0.5,1) holds all → |acc 0.75 − conf 0.75| = 0. 10 bins: bin 9 (0.9,0.9; acc
    // 0.5) → |0.5 − 0.9|·2/4 = 0.2; bin 6 (0.6,0.6; acc 1) → 0.4·2/4 = 0.2; ECE = 0.4.
    assert!(expected_calibration_error(&conf, &right, 2).unwrap().abs() < 1e-12);
    assert!((expected_calibration_error(&conf, &right, 10).unwrap() - 0.4).abs() < 1e-12);
    // Brier: (0.01 + 0.81 + 0.16 + 0.16) / 4 = 0.285.
    assert!((brier_score(&conf, &right).unwrap() - 0.285).abs() < 1e-12);
    // AUROC with ties: positives {0.9, 0.6, 0.6}, negative {0.9}: pairs (0.9 vs 0.9) = ½,
    // (0.6 vs 0.9) = 0 twice → 0.5 / 3.
    assert!((auroc(&conf, &right).unwrap() - 0.5 / 3.0).abs() < 1e-12);
    assert!((auroc(&[0.1, 0.2, 0.3], &[false, false, true]).unwrap() - 1.0).abs() < 1e-12);
    assert!(matches!(
        auroc(&[0.1, 0.2], &[true, true]),
        Err(ConfidenceError::SingleClass { .. })
    ));
    assert!(expected_calibration_error(&[1.2], &[true], 10).is_err());
    assert!(brier_score(&[0.5], &[true, false]).is_err());
}

/// Temperature scaling recovers the temperature that distorted calibrated probabilities,
/// and lowers the ECE.
#[test]
fn temperature_scaling_recovers_a_planted_temperature() {
    // Calibrated binary forecasts: correct option 0 with probability q; sharpen by T = 0.5.
    let mut probs = Vec::new();
    let mut correct = Vec::new();
    let mut state = 7u64;
    for i in 0..4000 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (state >> 11) as f64 / (1u64 << 53) as f64;
        let q = 0.5 + 0.45 * ((i % 100) as f64 / 100.0);
        let calibrated = OptionProbs::new(vec![q, 1.0 - q]).unwrap();
        probs.push(apply_temperature(&calibrated, 0.5).unwrap());
        correct.push(usize::from(u >= q));
    }
    let fit = fit_temperature(&probs, &correct).unwrap();
    assert!((fit.temperature - 2.0).abs() < 0.15, "{fit:?}");
    assert!(fit.nll_after < fit.nll_before && !fit.at_bound);
    let before = CalibrationReport::new(&probs, &correct, 10).unwrap();
    let scaled: Vec<_> = probs
        .iter()
        .map(|p| apply_temperature(p, fit.temperature).unwrap())
        .collect();
    let after = CalibrationReport::new(&scaled, &correct, 10).unwrap();
    assert!(
        after.ece < before.ece / 2.0,
        "{} -> {}",
        before.ece,
        after.ece
    );
    assert!(apply_temperature(&probs[0], 0.0).is_err());
}
