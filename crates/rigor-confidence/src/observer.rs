//! The ideal (Bayesian) observer of the advice-taking stage (paper S5).
//!
//! **Binary.** With prior confidence $c$ in the initial answer and advice of stated accuracy
//! $a$:
//!
//! $$\text{Same: } c^\prime = \frac{ca}{ca + (1-c)(1-a)}, \qquad
//!   \text{Opposite: } c^\prime = \frac{c(1-a)}{c(1-a) + (1-c)a}, \qquad
//!   \text{Neutral: } c^\prime = c,$$
//!
//! i.e. $\operatorname{logit} c^\prime = \operatorname{logit} c \pm \ln\frac{a}{1-a}$.
//!
//! **K options.** Assumption (the advisor's error model): an advisor of accuracy $a$
//! recommends the correct option with probability $a$ and, when wrong, each of the $K-1$
//! incorrect options with equal probability $(1-a)/(K-1)$. The likelihood of advice for
//! option $j$ given that option $k$ is correct is therefore
//! $L_k = a$ if $k = j$ and $L_k = (1-a)/(K-1)$ otherwise, and
//!
//! $$p^\prime_k = \frac{p_k L_k}{\sum_m p_m L_m}.$$
//!
//! For $K = 2$ this is the binary rule. Advice is uninformative at $a = 1/K$ (50% only for
//! two options). Neutral advice (no recommendation) leaves the prior unchanged.

use crate::design::condition::AdviceType;
use crate::error::{ConfidenceError, Result, probability};
use crate::logodds::logit;

/// Binary Bayes update of confidence $c$ in the initial answer (formulas in the module docs).
///
/// Errors: $c$ or $a$ outside $[0, 1]$; [`ConfidenceError::ImpossibleEvidence`] when the
/// advice has probability zero under the prior (e.g. $c = 0$, Same advice at $a = 1$).
///
/// ```
/// use rigor_confidence::observer::binary_posterior;
/// use rigor_confidence::AdviceType;
/// let same = binary_posterior(0.8, 0.7, AdviceType::Same).unwrap();
/// let opposite = binary_posterior(0.8, 0.7, AdviceType::Opposite).unwrap();
/// assert!((same - 0.903).abs() < 1e-3 && (opposite - 0.632).abs() < 1e-3);
/// ```
pub fn binary_posterior(c: f64, a: f64, advice: AdviceType) -> Result<f64> {
    probability("prior confidence c", c)?;
    probability("advice accuracy a", a)?;
    let (num, other) = match advice {
        AdviceType::Neutral => return Ok(c),
        AdviceType::Same => (c * a, (1.0 - c) * (1.0 - a)),
        AdviceType::Opposite => (c * (1.0 - a), (1.0 - c) * a),
    };
    let den = num + other;
    if den == 0.0 {
        return Err(ConfidenceError::ImpossibleEvidence {
            reason: format!("{advice} advice of accuracy {a} has probability 0 under prior {c}"),
        });
    }
    Ok(num / den)
}

/// The log-likelihood ratio carried by a recommendation of accuracy $a$ among $K$ options,
/// $\ln\frac{a (K-1)}{1-a}$: $+\infty$ at $a = 1$, $0$ at $a = 1/K$.
pub fn advice_log_likelihood_ratio(a: f64, n_options: usize) -> f64 {
    (a * (n_options as f64 - 1.0)).ln() - (1.0 - a).ln()
}

fn check_prior(prior: &[f64]) -> Result<()> {
    let bad = |reason: String| ConfidenceError::InvalidProbabilities {
        context: "observer prior".into(),
        reason,
    };
    if prior.len() < 2 {
        return Err(bad(format!("need at least 2 options, got {}", prior.len())));
    }
    if prior.iter().any(|p| !(0.0..=1.0).contains(p)) {
        return Err(bad(format!("{prior:?} has entries outside [0, 1]")));
    }
    let sum: f64 = prior.iter().sum();
    if (sum - 1.0).abs() > crate::agent::SUM_TOLERANCE {
        return Err(bad(format!("entries sum to {sum}, not 1")));
    }
    Ok(())
}

fn likelihoods(n: usize, recommends: Option<usize>, a: f64) -> Result<Vec<f64>> {
    probability("advice accuracy a", a)?;
    match recommends {
        None => Ok(vec![1.0; n]),
        Some(j) if j >= n => Err(ConfidenceError::InvalidParameter {
            name: "recommended option",
            value: j as f64,
            reason: "must be a valid option index",
        }),
        Some(j) => Ok((0..n)
            .map(|k| {
                if k == j {
                    a
                } else {
                    (1.0 - a) / (n as f64 - 1.0)
                }
            })
            .collect()),
    }
}

/// The K-option posterior $p^\prime$ given advice recommending `recommends` (`None`: Neutral)
/// with accuracy $a$, under the uniform-error assumption of the module docs.
pub fn posterior(prior: &[f64], recommends: Option<usize>, a: f64) -> Result<Vec<f64>> {
    check_prior(prior)?;
    let l = likelihoods(prior.len(), recommends, a)?;
    let joint: Vec<f64> = prior.iter().zip(&l).map(|(p, l)| p * l).collect();
    let z: f64 = joint.iter().sum();
    if z == 0.0 {
        return Err(ConfidenceError::ImpossibleEvidence {
            reason: format!(
                "advice for option {recommends:?} at accuracy {a} has probability 0 under prior {prior:?}"
            ),
        });
    }
    Ok(joint.into_iter().map(|j| j / z).collect())
}

/// The Bayesian update of the log-odds of option `i`:
/// $\Delta = \operatorname{logit} p^\prime_i - \operatorname{logit} p_i
///   = \ln L_i - \ln \frac{\sum_{k \ne i} p_k L_k}{\sum_{k \ne i} p_k}$.
///
/// It does not depend on $p_i$ (the right-hand side is used, so it stays defined when
/// $p_i \in \\{0, 1\\}$; when $p_i = 1$ the other options are weighted equally). For $K = 2$:
/// $+\ln\frac{a}{1-a}$ when the advice recommends $i$ (Same), $-\ln\frac{a}{1-a}$ otherwise
/// (Opposite), 0 for Neutral. It is $\pm\infty$ at $a \in \\{0, 1\\}$.
pub fn log_odds_update(prior: &[f64], i: usize, recommends: Option<usize>, a: f64) -> Result<f64> {
    check_prior(prior)?;
    if i >= prior.len() {
        return Err(ConfidenceError::InvalidParameter {
            name: "option i",
            value: i as f64,
            reason: "must be a valid option index",
        });
    }
    let l = likelihoods(prior.len(), recommends, a)?;
    let others: f64 = (0..prior.len()).filter(|&k| k != i).map(|k| prior[k]).sum();
    let (num, den) = if others > 0.0 {
        let num: f64 = (0..prior.len())
            .filter(|&k| k != i)
            .map(|k| prior[k] * l[k])
            .sum();
        (num, others)
    } else {
        let num: f64 = (0..prior.len()).filter(|&k| k != i).map(|k| l[k]).sum();
        (num, prior.len() as f64 - 1.0)
    };
    let delta = l[i].ln() - (num / den).ln();
    if delta.is_nan() {
        return Err(ConfidenceError::ImpossibleEvidence {
            reason: format!("advice at accuracy {a} rules out every option"),
        });
    }
    Ok(delta)
}

/// The Bayesian posterior confidence in option `i`, from the exact posterior.
pub fn posterior_confidence(
    prior: &[f64],
    i: usize,
    recommends: Option<usize>,
    a: f64,
) -> Result<f64> {
    let p = posterior(prior, recommends, a)?;
    p.get(i).copied().ok_or(ConfidenceError::InvalidParameter {
        name: "option i",
        value: i as f64,
        reason: "must be a valid option index",
    })
}

/// $\operatorname{logit} c^\prime - \operatorname{logit} c$ for the binary rule: $\pm\ln\frac{a}{1-a}$.
pub fn binary_log_odds_update(a: f64, advice: AdviceType) -> Result<f64> {
    probability("advice accuracy a", a)?;
    let e = logit(a);
    Ok(match advice {
        AdviceType::Same => e,
        AdviceType::Opposite => -e,
        AdviceType::Neutral => 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_option_update_reduces_to_binary_for_two_options() {
        for (c, a) in [(0.8, 0.7), (0.3, 0.9), (0.55, 0.6)] {
            let same = posterior(&[c, 1.0 - c], Some(0), a).unwrap()[0];
            let opp = posterior(&[c, 1.0 - c], Some(1), a).unwrap()[0];
            assert!((same - binary_posterior(c, a, AdviceType::Same).unwrap()).abs() < 1e-12);
            assert!((opp - binary_posterior(c, a, AdviceType::Opposite).unwrap()).abs() < 1e-12);
            let d = log_odds_update(&[c, 1.0 - c], 0, Some(1), a).unwrap();
            assert!((d + logit(a)).abs() < 1e-12);
        }
    }

    #[test]
    fn k_option_advice_at_chance_accuracy_changes_nothing() {
        let prior = [0.5, 0.3, 0.2];
        let post = posterior(&prior, Some(2), 1.0 / 3.0).unwrap();
        for (p, q) in prior.iter().zip(&post) {
            assert!((p - q).abs() < 1e-12);
        }
        assert!(advice_log_likelihood_ratio(1.0 / 3.0, 3).abs() < 1e-12);
        // The update of option 0 when option 2 is recommended, by hand:
        // L = (0.35, 0.35, 0.3) at a = 0.3 → others' mean L = (0.3·0.35 + 0.2·0.3)/0.5 = 0.33.
        let d = log_odds_update(&prior, 0, Some(2), 0.3).unwrap();
        assert!((d - (0.35f64 / 0.33).ln()).abs() < 1e-12);
    }

    #[test]
    fn impossible_evidence_is_an_error_not_nan() {
        assert!(matches!(
            binary_posterior(0.0, 1.0, AdviceType::Same),
            Err(ConfidenceError::ImpossibleEvidence { .. })
        ));
        assert!(posterior(&[1.0, 0.0], Some(1), 1.0).is_err());
        assert!(binary_posterior(1.2, 0.5, AdviceType::Same).is_err());
        assert!(binary_posterior(0.5, f64::NAN, AdviceType::Same).is_err());
        assert_eq!(
            log_odds_update(&[0.5, 0.5], 0, Some(1), 1.0).unwrap(),
            f64::NEG_INFINITY
        );
    }
}
