//! How much the agent updates, against the ideal observer.
//!
//! For a completed trial with initial answer $i$, prior $c = p_i$, observed final confidence
//! in the same option $c^\prime_\text{obs} = p^\prime_i$ and Bayesian $c^\prime_\text{Bayes}$
//! ([`crate::observer`]):
//!
//! - **confidence change** $c^\prime_\text{obs} - c$ (and the Bayes curve $c^\prime_\text{Bayes} - c$);
//! - **over/underconfidence gap** (the paper's OUCS, sign convention of this crate):
//!   $g = c^\prime_\text{obs} - c^\prime_\text{Bayes}$ — **positive = overconfident** in the initial answer
//!   relative to Bayes (too little updating away from it), negative = underconfident;
//! - **overweighting ratio** on the log-odds scale,
//!   $r = \sum \Delta_\text{obs} / \sum \Delta_\text{Bayes}$ over the trials of a group, with
//!   $\Delta_\text{obs} = \operatorname{logit}\operatorname{clamp}(c^\prime_\text{obs}) - \operatorname{logit}\operatorname{clamp}(c)$
//!   (clamp $\varepsilon$ of [`crate::logodds`]) and $\Delta_\text{Bayes}$ the exact observer
//!   update. $r = 1$ is Bayesian, $r > 1$ overweights the advice (paper: ≈2.2–2.6 for
//!   opposing, ≈1.1–1.3 for supporting advice). It is **undefined** when
//!   $\sum\Delta_\text{Bayes} = 0$ (Neutral advice, $a = 50\\%$ for two options) and when the
//!   Bayesian update is infinite ($a = 100\\%$); see [`WeightRatio`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::design::condition::{AdviceType, AnswerDisplay, Cell};
use crate::design::trial::CompletedTrial;
use crate::error::{ConfidenceError, Result};
use crate::logodds::{check_epsilon, clamped_logit};

/// Why an overweighting ratio has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UndefinedReason {
    /// The Bayesian update is zero (Neutral advice, or $a = 1/K$, e.g. 50% for two options):
    /// there is nothing to divide by.
    NoBayesianUpdate,
    /// The Bayesian update is infinite ($a = 100\\%$ or $0\\%$): any finite update is
    /// "infinitely under-weighted", which is not a ratio.
    InfiniteBayesianUpdate,
    /// The group has no trials.
    NoTrials,
}

/// An overweighting ratio, or the reason it is undefined.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WeightRatio {
    /// $r = \sum\Delta_\text{obs} / \sum\Delta_\text{Bayes}$.
    Defined {
        /// The ratio.
        ratio: f64,
    },
    /// No ratio.
    Undefined {
        /// Why.
        reason: UndefinedReason,
    },
}

impl WeightRatio {
    /// The ratio, if defined.
    pub fn value(&self) -> Option<f64> {
        match self {
            WeightRatio::Defined { ratio } => Some(*ratio),
            WeightRatio::Undefined { .. } => None,
        }
    }
}

/// The over/underconfidence gap $g = c^\prime_\text{obs} - c^\prime_\text{Bayes}$ of one trial
/// (positive = overconfident in the initial answer relative to Bayes).
pub fn confidence_gap(t: &CompletedTrial) -> Result<f64> {
    Ok(t.final_confidence() - t.bayes_final_confidence()?)
}

/// The observed log-odds update $\Delta_\text{obs}$ of one trial (clamped with `epsilon`).
pub fn observed_log_odds_update(t: &CompletedTrial, epsilon: f64) -> f64 {
    clamped_logit(t.final_confidence(), epsilon) - clamped_logit(t.initial_confidence(), epsilon)
}

/// Overweighting ratio over a group of trials. Trials with an infinite Bayesian update are
/// skipped when others remain (pooled groups); if all are infinite the ratio is
/// [`UndefinedReason::InfiniteBayesianUpdate`].
pub fn overweighting<'a>(
    trials: impl IntoIterator<Item = &'a CompletedTrial>,
    epsilon: f64,
) -> Result<WeightRatio> {
    check_epsilon(epsilon)?;
    let (mut obs, mut bayes, mut n, mut infinite) = (0.0, 0.0, 0usize, 0usize);
    for t in trials {
        let b = t.bayes_log_odds_update()?;
        if !b.is_finite() {
            infinite += 1;
            continue;
        }
        n += 1;
        bayes += b;
        obs += observed_log_odds_update(t, epsilon);
    }
    let undefined = |reason| Ok(WeightRatio::Undefined { reason });
    if n == 0 && infinite == 0 {
        return undefined(UndefinedReason::NoTrials);
    }
    if n == 0 {
        return undefined(UndefinedReason::InfiniteBayesianUpdate);
    }
    // Sums of exactly-zero updates (Neutral, a = 1/K) are zero up to rounding of logits.
    if bayes.abs() <= 1e-12 * n as f64 {
        return undefined(UndefinedReason::NoBayesianUpdate);
    }
    Ok(WeightRatio::Defined { ratio: obs / bayes })
}

/// Overweighting ratio of one advice type pooled over accuracies (and over displays, or
/// only `display` when given).
pub fn pooled_overweighting(
    trials: &[CompletedTrial],
    advice: AdviceType,
    display: Option<AnswerDisplay>,
    epsilon: f64,
) -> Result<WeightRatio> {
    overweighting(
        trials
            .iter()
            .filter(|t| t.cell.advice == advice && display.is_none_or(|d| t.cell.display == d)),
        epsilon,
    )
}

/// The update measures of one design cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateSummary {
    /// The cell.
    pub cell: Cell,
    /// Completed trials.
    pub n: usize,
    /// Mean prior confidence $\bar c$.
    pub mean_prior: f64,
    /// Mean confidence change $\overline{c^\prime_\text{obs} - c}$.
    pub mean_change: f64,
    /// Mean Bayesian change $\overline{c^\prime_\text{Bayes} - c}$.
    pub mean_bayes_change: f64,
    /// Mean gap $\overline{c^\prime_\text{obs} - c^\prime_\text{Bayes}}$ (positive = overconfident).
    pub mean_gap: f64,
    /// Overweighting ratio of the cell.
    pub overweighting: WeightRatio,
}

/// [`UpdateSummary`] of every cell with trials, in cell order.
pub fn updates_by_cell(trials: &[CompletedTrial], epsilon: f64) -> Result<Vec<UpdateSummary>> {
    check_epsilon(epsilon)?;
    let mut groups: BTreeMap<Cell, Vec<&CompletedTrial>> = BTreeMap::new();
    for t in trials {
        groups.entry(t.cell).or_default().push(t);
    }
    groups
        .into_iter()
        .map(|(cell, ts)| {
            let n = ts.len();
            if n == 0 {
                return Err(ConfidenceError::EmptyInput { what: "cell" });
            }
            let nf = n as f64;
            let (mut prior, mut change, mut bchange, mut gap) = (0.0, 0.0, 0.0, 0.0);
            for t in &ts {
                let b = t.bayes_final_confidence()?;
                prior += t.initial_confidence();
                change += t.final_confidence() - t.initial_confidence();
                bchange += b - t.initial_confidence();
                gap += t.final_confidence() - b;
            }
            Ok(UpdateSummary {
                cell,
                n,
                mean_prior: prior / nf,
                mean_change: change / nf,
                mean_bayes_change: bchange / nf,
                mean_gap: gap / nf,
                overweighting: overweighting(ts.iter().copied(), epsilon)?,
            })
        })
        .collect()
}
