//! The two-mechanism model (paper S5): fitting recovers the biased agent's planted
//! parameters, and model selection finds exactly the biases that were planted.

mod common;

use rigor_confidence::BiasParams;
use rigor_confidence::logodds::EPSILON;
use rigor_confidence::regression::beta::BetaFitConfig;
use rigor_confidence::regression::bootstrap::bootstrap;
use rigor_confidence::regression::models::{ModelSpec, RegressionData, fit_model};
use rigor_confidence::regression::selection::{SelectionConfig, compare_models};

/// Planted: both biases, paper-like sizes, Beta precision 50.
fn planted() -> BiasParams {
    BiasParams {
        intercept: 0.2,
        prior_weight: 0.9,
        shown_bonus: 1.0,
        same_weight: 1.2,
        opposite_weight: 2.4,
        precision: 50.0,
        accuracy_cap: 0.99,
    }
}

/// The clamp for simulated data: they have no quantisation, so ε = 1e-6 only catches draws
/// that are numerically at 0 or 1. (With ε = 1e-4 and wider priors a few percent of the
/// responses are censored and the weights come out biased towards zero — see
/// `RegressionData::clamped_responses`.)
const SIM_EPSILON: f64 = 1e-6;

/// With 300 questions and 60 trials per cell there are 1920 usable trials (Same/Opposite at
/// 100% are excluded: infinite evidence). Bootstrap standard errors at this size are ≈0.02–0.05
/// for the weights, so a tolerance of 0.15 is ≥ 3 standard errors; the precision φ (SE ≈ 1)
/// gets 6.0. The estimate must also lie within 3.5 bootstrap standard errors of the planted
/// value.
#[test]
fn fitting_recovers_the_planted_parameters_of_the_biased_agent() {
    let p = planted();
    let trials = common::biased_trials(p, 0.6, 300, 60, 11, "recovery");
    let data = RegressionData::from_trials(&trials, SIM_EPSILON).unwrap();
    assert!(
        data.clamped_responses * 100 < data.len(),
        "{} clamped",
        data.clamped_responses
    );
    // Same/Opposite at 100% carry infinite evidence and are excluded (2 displays × 2 types).
    assert_eq!(data.excluded_infinite_evidence, 2 * 2 * 60);
    assert_eq!(data.len(), 2 * 3 * 6 * 60 - 2 * 2 * 60);
    let fit = fit_model(&data, ModelSpec::D, &BetaFitConfig::default()).unwrap();
    let truth = [
        ("intercept", p.intercept, 0.15),
        ("prior_weight", p.prior_weight, 0.15),
        ("shown_bonus", p.shown_bonus, 0.15),
        ("same_weight", p.same_weight, 0.15),
        ("opposite_weight", p.opposite_weight, 0.15),
        ("precision", p.precision, 6.0),
    ];
    for (name, value, tol) in truth {
        let est = fit.get(name).unwrap();
        assert!(
            (est - value).abs() < tol,
            "{name}: estimate {est}, planted {value}"
        );
    }
    let boot = bootstrap(&data, ModelSpec::D, 40, 3, &BetaFitConfig::default()).unwrap();
    assert_eq!(boot.failed, 0);
    for (name, value, _) in truth {
        let e = boot.parameters.iter().find(|e| e.name == name).unwrap();
        // Within 3.5 bootstrap standard errors (a false alarm has probability ≈ 5e-4 per
        // parameter; requiring all six 95% intervals to cover would fail ≈ 26% of seeds).
        assert!(
            (e.estimate - value).abs() <= 3.5 * e.std_error,
            "{name}: planted {value}, estimate {} ± {} (95% CI {:?})",
            e.estimate,
            e.std_error,
            e.ci95
        );
        assert!(e.ci95.0 < e.estimate && e.estimate < e.ci95.1);
        assert!(e.std_error > 0.0 && e.std_error < 0.5 * e.estimate.abs().max(1.0));
    }
}

/// BIC picks the model with exactly the planted biases: none → A, Shown only → B,
/// asymmetric advice only → C, both → D.
#[test]
fn model_selection_finds_exactly_the_planted_biases() {
    let base = BiasParams {
        same_weight: 1.5,
        opposite_weight: 1.5,
        ..BiasParams::unbiased(30.0)
    };
    let cases = [
        (base, ModelSpec::A),
        (
            BiasParams {
                shown_bonus: 0.8,
                ..base
            },
            ModelSpec::B,
        ),
        (
            BiasParams {
                same_weight: 1.2,
                opposite_weight: 2.4,
                ..base
            },
            ModelSpec::C,
        ),
        (
            BiasParams {
                shown_bonus: 0.8,
                same_weight: 1.2,
                opposite_weight: 2.4,
                ..base
            },
            ModelSpec::D,
        ),
    ];
    for (i, (params, expected)) in cases.into_iter().enumerate() {
        let trials =
            common::biased_trials(params, 1.0, 200, 40, 20 + i as u64, &format!("select-{i}"));
        let data = RegressionData::from_trials(&trials, EPSILON).unwrap();
        let cmp = compare_models(&data, &SelectionConfig::default()).unwrap();
        let bics: Vec<(ModelSpec, f64)> = cmp.fits.iter().map(|f| (f.model, f.bic)).collect();
        assert_eq!(cmp.selected, expected, "planted {params:?}: BICs {bics:?}");
        // Held-out log-likelihood agrees that the planted terms matter: the selected model
        // predicts held-out trials at least as well as every model lacking a planted term.
        let best = cmp.held_out[ModelSpec::ALL.iter().position(|m| *m == expected).unwrap()];
        for (m, h) in ModelSpec::ALL.iter().zip(&cmp.held_out) {
            let lacks = (expected.has_shown() && !m.has_shown())
                || (expected.has_separate_advice() && !m.has_separate_advice());
            if lacks {
                assert!(best > *h, "{expected:?} held-out {best} vs {m:?} {h}");
            }
        }
    }
}

/// The Bayesian observer is model A with weights (0, 1, 1) and no noise: the fit finds them.
#[test]
fn ideal_observer_data_fit_the_bayesian_weights() {
    let trials = common::biased_trials(
        BiasParams::unbiased(200.0),
        1.0,
        150,
        30,
        5,
        "bayes-weights",
    );
    let data = RegressionData::from_trials(&trials, EPSILON).unwrap();
    let fit = fit_model(&data, ModelSpec::A, &BetaFitConfig::default()).unwrap();
    for (name, value) in [
        ("intercept", 0.0),
        ("prior_weight", 1.0),
        ("advice_weight", 1.0),
    ] {
        let est = fit.get(name).unwrap();
        assert!((est - value).abs() < 0.1, "{name}: {est}");
    }
}
