//! Iso-perplexity (S3, Section 4): binary classes, the same confidence $1-\gamma$ on every
//! prediction, accuracy $a$.
//!
//! $$\operatorname{pplx}(a, \gamma) = -a\log(1-\gamma) - (1-a)\log\gamma .$$
//!
//! A model that is $\Delta\gamma$ more confident ($\gamma^\prime = \gamma - \Delta\gamma$) ties on
//! perplexity at the **critical accuracy**
//! $$a^\prime = \frac{\operatorname{pplx}(a,\gamma) + \log(\gamma-\Delta\gamma)}
//!   {\log(\gamma-\Delta\gamma) - \log(1-\gamma+\Delta\gamma)},$$
//! and beats it whenever its accuracy exceeds $a^\prime$ — even if $a^\prime < a$: a less accurate,
//! more confident model can win on perplexity. Solving $\operatorname{pplx}(a, \gamma) = L$ for $a$
//! gives the iso-perplexity curve of level $L$:
//! $$a_L(\gamma) = \frac{L + \log\gamma}{\log\gamma - \log(1-\gamma)} \qquad (\gamma \ne \tfrac12),$$
//! of which the critical accuracy is the point
//! $a^\prime = a_{\operatorname{pplx}(a,\gamma)}(\gamma - \Delta\gamma)$.

use serde::{Deserialize, Serialize};

use crate::error::{PerplexityError, Result, finite, in_closed};

/// $\operatorname{pplx}(a, \gamma) = -a\log(1-\gamma) - (1-a)\log\gamma$ (nats), with
/// $0 \cdot \log 0 = 0$: $\operatorname{pplx}(1, 0) = 0$, and $+\infty$ when a wrong answer
/// gets probability 0 ($\gamma = 0$, $a < 1$) or a right one does ($\gamma = 1$, $a > 0$).
///
/// # Errors
/// [`PerplexityError::InvalidParameter`] unless $a, \gamma \in [0, 1]$.
pub fn pplx(accuracy: f64, gamma: f64) -> Result<f64> {
    let a = in_closed("accuracy", accuracy, 0.0, 1.0, "must be in [0, 1]")?;
    let g = in_closed("gamma", gamma, 0.0, 1.0, "must be in [0, 1]")?;
    Ok(xlogy_neg(a, 1.0 - g) + xlogy_neg(1.0 - a, g))
}

/// $-x \log y$ with $0 \cdot \log 0 = 0$.
fn xlogy_neg(x: f64, y: f64) -> f64 {
    if x == 0.0 { 0.0 } else { -x * y.ln() }
}

/// The critical accuracy $a^\prime(a, \gamma, \Delta\gamma)$ at which a model with confidence
/// $1 - \gamma + \Delta\gamma$ ties on perplexity with one of accuracy $a$ and confidence
/// $1 - \gamma$ (formula in the module docs; S3, Section 4).
///
/// Domain: $a \in [0, 1]$, $\gamma \in (0, \tfrac12)$ (confidence above ½, the paper's
/// setting), $\Delta\gamma \in [0, \gamma]$. At $\Delta\gamma = 0$ it is $a$; at
/// $\Delta\gamma = \gamma$ (a perfectly confident model) it is the limit $1$. The value is
/// returned as computed: a result below $0$ means every accuracy of the more confident model
/// beats the reference.
///
/// Worked checks (docs/paper-facts.md S3):
/// $a = 0.5, \gamma = 0.4, \Delta\gamma = 0.2 \Rightarrow a^\prime \approx 0.646$;
/// $a = 0.9 \Rightarrow a^\prime \approx 0.763$.
///
/// # Errors
/// [`PerplexityError::InvalidParameter`] outside the domain.
pub fn critical_accuracy(accuracy: f64, gamma: f64, delta_gamma: f64) -> Result<f64> {
    let a = in_closed("accuracy", accuracy, 0.0, 1.0, "must be in [0, 1]")?;
    let g = finite("gamma", gamma)?;
    if !(g > 0.0 && g < 0.5) {
        return Err(PerplexityError::InvalidParameter {
            name: "gamma",
            value: gamma,
            reason: "must be in (0, 1/2) (confidence 1 - gamma above 1/2)",
        });
    }
    let d = in_closed("delta_gamma", delta_gamma, 0.0, g, "must be in [0, gamma]")?;
    let g2 = g - d;
    if g2 <= 0.0 {
        return Ok(1.0);
    }
    let level = pplx(a, g)?;
    Ok((level + g2.ln()) / (g2.ln() - (1.0 - g2).ln()))
}

/// The accuracy at which a model of error rate $\gamma$ has log-perplexity `level`:
/// $a_L(\gamma) = (L + \log\gamma)/(\log\gamma - \log(1-\gamma))$; `None` at $\gamma = \tfrac12$
/// (where perplexity does not depend on accuracy) or for $\gamma \in \\{0, 1\\}$.
pub fn iso_accuracy(level: f64, gamma: f64) -> Option<f64> {
    if !(gamma > 0.0 && gamma < 1.0) || gamma == 0.5 || !level.is_finite() {
        return None;
    }
    Some((level + gamma.ln()) / (gamma.ln() - (1.0 - gamma).ln()))
}

/// $\operatorname{pplx}(a, \gamma)$ tabulated over a grid of accuracies and confidences
/// $c = 1 - \gamma$.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsoPerplexityGrid {
    /// Accuracies $a_i$ (rows).
    pub accuracies: Vec<f64>,
    /// Confidences $c_j = 1 - \gamma_j$ (columns).
    pub confidences: Vec<f64>,
    /// `values[i][j]` $= \operatorname{pplx}(a_i, 1 - c_j)$ (nats).
    pub values: Vec<Vec<f64>>,
}

impl IsoPerplexityGrid {
    /// Tabulates the grid.
    ///
    /// # Errors
    /// [`PerplexityError::InvalidParameter`] if an accuracy or confidence is outside $[0, 1]$
    /// or a list is empty.
    pub fn new(accuracies: Vec<f64>, confidences: Vec<f64>) -> Result<Self> {
        if accuracies.is_empty() || confidences.is_empty() {
            return Err(PerplexityError::InvalidParameter {
                name: "grid",
                value: 0.0,
                reason: "needs at least one accuracy and one confidence",
            });
        }
        let values = accuracies
            .iter()
            .map(|&a| confidences.iter().map(|&c| pplx(a, 1.0 - c)).collect())
            .collect::<Result<Vec<Vec<f64>>>>()?;
        Ok(Self {
            accuracies,
            confidences,
            values,
        })
    }

    /// `n` evenly spaced points from `lo` to `hi` inclusive (`n >= 2`; `[lo]` for `n == 1`).
    pub fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
        match n {
            0 => Vec::new(),
            1 => vec![lo],
            _ => (0..n)
                .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
                .collect(),
        }
    }
}

/// One iso-perplexity curve: the (confidence, accuracy) points of log-perplexity `level`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsoCurve {
    /// Log-perplexity of the curve (nats).
    pub level: f64,
    /// `(confidence, accuracy)` points with accuracy in $[0, 1]$, in the order of the
    /// confidences given.
    pub points: Vec<(f64, f64)>,
}

/// The iso-perplexity curve of `level` sampled at `confidences` (points where the accuracy
/// would leave $[0, 1]$, or $c = \tfrac12$, are skipped).
///
/// # Errors
/// [`PerplexityError::InvalidParameter`] if `level` is not finite and non-negative, or a
/// confidence is `NaN` or outside $[0, 1]$.
pub fn iso_curve(level: f64, confidences: &[f64]) -> Result<IsoCurve> {
    for &c in confidences {
        if !(0.0..=1.0).contains(&c) {
            return Err(PerplexityError::InvalidParameter {
                name: "confidence",
                value: c,
                reason: "must be in [0, 1]",
            });
        }
    }
    let level = finite("level", level)?;
    if level < 0.0 {
        return Err(PerplexityError::InvalidParameter {
            name: "level",
            value: level,
            reason: "a log-perplexity is never negative",
        });
    }
    let points = confidences
        .iter()
        .filter_map(|&c| {
            iso_accuracy(level, 1.0 - c)
                .filter(|a| (0.0..=1.0).contains(a))
                .map(|a| (c, a))
        })
        .collect();
    Ok(IsoCurve { level, points })
}
