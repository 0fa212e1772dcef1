//! The log-odds scale every measure and model in this crate works on.
//!
//! Confidences near 0 or 1 have unbounded log-odds, and LLMs report such confidences
//! routinely. Wherever a *measured* confidence enters a logit, it is first clamped into
//! $[\varepsilon, 1-\varepsilon]$ with [`EPSILON`] $= 10^{-4}$ unless a config says otherwise
//! (log-odds then lie in $\pm 9.21$). Exact quantities of the ideal observer are never
//! clamped: an infinite Bayesian update stays infinite and is reported as such.

use crate::error::{ConfidenceError, Result};

/// Default clamp $\varepsilon = 10^{-4}$ applied to measured confidences before a logit.
pub const EPSILON: f64 = 1e-4;

/// $\operatorname{logit}(p) = \ln\frac{p}{1-p}$ (exact: $\pm\infty$ at 0 and 1).
pub fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// The logistic function $\sigma(x) = 1 / (1 + e^{-x})$, computed without overflow.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Clamps a probability into $[\varepsilon, 1-\varepsilon]$.
pub fn clamp(p: f64, epsilon: f64) -> f64 {
    p.clamp(epsilon, 1.0 - epsilon)
}

/// $\operatorname{logit}(\operatorname{clamp}(p, \varepsilon))$: the log-odds of a measured
/// confidence, always finite.
pub fn clamped_logit(p: f64, epsilon: f64) -> f64 {
    logit(clamp(p, epsilon))
}

/// Validates a clamp $\varepsilon \in (0, 0.5)$.
pub fn check_epsilon(epsilon: f64) -> Result<f64> {
    if epsilon > 0.0 && epsilon < 0.5 {
        Ok(epsilon)
    } else {
        Err(ConfidenceError::InvalidParameter {
            name: "epsilon",
            value: epsilon,
            reason: "the confidence clamp must lie in (0, 0.5)",
        })
    }
}

/// $\ln\sum_k e^{x_k}$, stable; $-\infty$ for an empty slice or all $-\infty$.
pub fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_inverts_logit() {
        for p in [1e-6, 0.1, 0.5, 0.9, 1.0 - 1e-6] {
            assert!((sigmoid(logit(p)) - p).abs() < 1e-12);
        }
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
    }

    #[test]
    fn clamped_logit_is_finite_at_the_ends() {
        assert!((clamped_logit(1.0, EPSILON) - 9.2102).abs() < 1e-3);
        assert!((clamped_logit(0.0, EPSILON) + 9.2102).abs() < 1e-3);
        assert!(check_epsilon(0.0).is_err());
        assert!(check_epsilon(0.5).is_err());
    }

    #[test]
    fn log_sum_exp_matches_direct_sum() {
        let xs = [-1.0, 0.5, 2.0];
        let direct: f64 = xs.iter().map(|x: &f64| x.exp()).sum::<f64>().ln();
        assert!((log_sum_exp(&xs) - direct).abs() < 1e-12);
        assert_eq!(log_sum_exp(&[]), f64::NEG_INFINITY);
    }
}
