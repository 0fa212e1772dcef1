//! Temperature scaling of stage-1 probabilities (Guo et al., 2017).
//!
//! With logits $z_k = \ln \max(p_k, 10^{-12})$ (log-probabilities are logits up to a
//! constant), the calibrated distribution is $\operatorname{softmax}(z / T)$. $T$ minimises
//! the mean negative log-likelihood of the correct options,
//! $\mathrm{NLL}(\beta) = \frac1n\sum_i \big[\ln\sum_k e^{\beta z_{ik}} - \beta z_{i y_i}\big]$,
//! $\beta = 1/T$, which is convex in $\beta$; it is minimised by golden-section search over
//! $\ln\beta \in [\ln 0.01, \ln 100]$ ($T \in [0.01, 100]$). A minimiser on the boundary is
//! flagged (e.g. every answer correct: the NLL keeps falling as $T \to 0$).

use serde::{Deserialize, Serialize};

use crate::agent::OptionProbs;
use crate::error::{ConfidenceError, Result};
use crate::logodds::log_sum_exp;

const FLOOR: f64 = 1e-12;
const LN_BETA_MIN: f64 = -4.605_170_185_988_091; // ln 0.01
const LN_BETA_MAX: f64 = 4.605_170_185_988_091; // ln 100

/// A fitted temperature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TemperatureFit {
    /// $T > 0$ ($T > 1$ softens over-confident probabilities).
    pub temperature: f64,
    /// Mean NLL at $T = 1$.
    pub nll_before: f64,
    /// Mean NLL at the fitted $T$.
    pub nll_after: f64,
    /// Whether $T$ hit the search boundary $[0.01, 100]$.
    pub at_bound: bool,
}

fn logits(p: &OptionProbs) -> Vec<f64> {
    p.as_slice().iter().map(|&x| x.max(FLOOR).ln()).collect()
}

fn nll(z: &[Vec<f64>], y: &[usize], beta: f64) -> f64 {
    let total: f64 = z
        .iter()
        .zip(y)
        .map(|(zi, &yi)| {
            let s: Vec<f64> = zi.iter().map(|v| beta * v).collect();
            log_sum_exp(&s) - s[yi]
        })
        .sum();
    total / z.len() as f64
}

/// `p` rescaled by temperature `t`: $\operatorname{softmax}(\ln p / T)$.
pub fn apply_temperature(p: &OptionProbs, t: f64) -> Result<OptionProbs> {
    if !(t.is_finite() && t > 0.0) {
        return Err(ConfidenceError::InvalidParameter {
            name: "temperature",
            value: t,
            reason: "must be finite and > 0",
        });
    }
    let z: Vec<f64> = logits(p).into_iter().map(|v| v / t).collect();
    OptionProbs::from_log_probs(&z)
}

/// Fits $T$ on `probs` with correct options `correct` (see the module docs).
pub fn fit_temperature(probs: &[OptionProbs], correct: &[usize]) -> Result<TemperatureFit> {
    if probs.len() != correct.len() {
        return Err(ConfidenceError::LengthMismatch {
            what: "temperature scaling",
            left: probs.len(),
            right: correct.len(),
        });
    }
    if probs.is_empty() {
        return Err(ConfidenceError::EmptyInput {
            what: "temperature scaling",
        });
    }
    if let Some((_, &k)) = probs.iter().zip(correct).find(|(p, k)| **k >= p.len()) {
        return Err(ConfidenceError::InvalidParameter {
            name: "correct option",
            value: k as f64,
            reason: "must be a valid option index",
        });
    }
    let z: Vec<Vec<f64>> = probs.iter().map(logits).collect();
    let f = |u: f64| nll(&z, correct, u.exp());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (LN_BETA_MIN, LN_BETA_MAX);
    let mut x1 = hi - g * (hi - lo);
    let mut x2 = lo + g * (hi - lo);
    let (mut f1, mut f2) = (f(x1), f(x2));
    for _ in 0..200 {
        if f1 <= f2 {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - g * (hi - lo);
            f1 = f(x1);
        } else {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + g * (hi - lo);
            f2 = f(x2);
        }
        if hi - lo < 1e-10 {
            break;
        }
    }
    let u = (lo + hi) / 2.0;
    let nll_after = f(u);
    if !nll_after.is_finite() {
        return Err(ConfidenceError::FitFailed {
            model: "temperature scaling".into(),
            reason: format!("non-finite NLL {nll_after}"),
        });
    }
    Ok(TemperatureFit {
        temperature: (-u).exp(),
        nll_before: f(0.0),
        nll_after,
        at_bound: u - LN_BETA_MIN < 1e-3 || LN_BETA_MAX - u < 1e-3,
    })
}
