//! The ideal observer of paper S5: hand-computed posteriors and the properties of Bayes'
//! rule that every agent is measured against.

use proptest::prelude::*;
use rigor_confidence::AdviceType::{Neutral, Opposite, Same};
use rigor_confidence::observer::{binary_posterior, log_odds_update, posterior};

/// c = 0.8, a = 0.7: Same 0.56 / 0.62 = 0.9032, Opposite 0.24 / 0.38 = 0.6316 (by hand).
#[test]
fn observer_matches_hand_computed_posteriors() {
    let same = binary_posterior(0.8, 0.7, Same).unwrap();
    let opp = binary_posterior(0.8, 0.7, Opposite).unwrap();
    assert!((same - 0.56 / 0.62).abs() < 1e-12 && (same - 0.903).abs() < 5e-4);
    assert!((opp - 0.24 / 0.38).abs() < 1e-12 && (opp - 0.632).abs() < 5e-4);
    // c = 0.6, a = 0.9: Same 0.54 / 0.58, Opposite 0.06 / 0.42.
    assert!((binary_posterior(0.6, 0.9, Same).unwrap() - 0.54 / 0.58).abs() < 1e-12);
    assert!((binary_posterior(0.6, 0.9, Opposite).unwrap() - 0.06 / 0.42).abs() < 1e-12);
    // Three options, uniform-error advisor: prior (0.5, 0.3, 0.2), advice for option 1 at
    // a = 0.6 → likelihoods (0.2, 0.6, 0.2) → joint (0.10, 0.18, 0.04) / 0.32.
    let p = posterior(&[0.5, 0.3, 0.2], Some(1), 0.6).unwrap();
    for (got, want) in p.iter().zip([0.10 / 0.32, 0.18 / 0.32, 0.04 / 0.32]) {
        assert!((got - want).abs() < 1e-12);
    }
}

proptest! {
    /// Same advice moves c′ up with a, Opposite moves it down (monotone in a).
    #[test]
    fn posterior_is_monotone_in_advice_accuracy(c in 0.01f64..0.99, a1 in 0.0f64..1.0, a2 in 0.0f64..1.0) {
        let (lo, hi) = if a1 <= a2 { (a1, a2) } else { (a2, a1) };
        prop_assert!(binary_posterior(c, lo, Same).unwrap() <= binary_posterior(c, hi, Same).unwrap() + 1e-12);
        prop_assert!(binary_posterior(c, lo, Opposite).unwrap() + 1e-12 >= binary_posterior(c, hi, Opposite).unwrap());
    }

    /// Neutral advice leaves c unchanged, at any accuracy.
    #[test]
    fn neutral_advice_leaves_confidence_unchanged(c in 0.0f64..=1.0, a in 0.0f64..=1.0) {
        prop_assert_eq!(binary_posterior(c, a, Neutral).unwrap(), c);
        let p = posterior(&[c, 1.0 - c], None, a).unwrap();
        prop_assert!((p[0] - c).abs() < 1e-12);
    }

    /// Advice at 50% accuracy carries no information.
    #[test]
    fn fifty_percent_advice_changes_nothing(c in 0.0f64..=1.0) {
        prop_assert!((binary_posterior(c, 0.5, Same).unwrap() - c).abs() < 1e-12);
        prop_assert!((binary_posterior(c, 0.5, Opposite).unwrap() - c).abs() < 1e-12);
    }

    /// Same then Opposite advice at the same accuracy returns to the prior.
    #[test]
    fn same_then_opposite_returns_to_the_prior(c in 0.001f64..0.999, a in 0.001f64..0.999) {
        let back = binary_posterior(binary_posterior(c, a, Same).unwrap(), a, Opposite).unwrap();
        prop_assert!((back - c).abs() < 1e-9, "{} -> {}", c, back);
    }

    /// The log-odds form: logit c′ = logit c ± ln(a/(1−a)).
    #[test]
    fn log_odds_form_agrees_with_the_posterior(c in 0.01f64..0.99, a in 0.01f64..0.99) {
        let logit = |p: f64| (p / (1.0 - p)).ln();
        for (advice, option) in [(Same, 0usize), (Opposite, 1)] {
            let post = binary_posterior(c, a, advice).unwrap();
            let delta = log_odds_update(&[c, 1.0 - c], 0, Some(option), a).unwrap();
            prop_assert!((logit(post) - logit(c) - delta).abs() < 1e-9);
        }
    }

    /// K options: the posterior is a distribution, and raising a never lowers the
    /// recommended option's probability.
    #[test]
    fn k_option_posterior_is_a_distribution_monotone_in_a(
        raw in proptest::collection::vec(0.01f64..1.0, 3..6), j in 0usize..3, a1 in 0.0f64..0.999, a2 in 0.0f64..0.999,
    ) {
        let s: f64 = raw.iter().sum();
        let prior: Vec<f64> = raw.iter().map(|x| x / s).collect();
        let (lo, hi) = if a1 <= a2 { (a1, a2) } else { (a2, a1) };
        let p_lo = posterior(&prior, Some(j), lo).unwrap();
        let p_hi = posterior(&prior, Some(j), hi).unwrap();
        prop_assert!((p_hi.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        prop_assert!(p_lo[j] <= p_hi[j] + 1e-12);
    }
}
