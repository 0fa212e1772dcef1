//! Change-of-mind rates (paper S5: 13.1% Shown vs 32.5–34% Hidden for Gemma 3 12B).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::design::condition::{AdviceType, AnswerDisplay, Cell};
use crate::design::trial::CompletedTrial;
use crate::error::{ConfidenceError, Result};

/// A proportion with its Wilson 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// Trials.
    pub n: usize,
    /// Trials with the event.
    pub events: usize,
    /// $\hat p = \text{events} / n$.
    pub rate: f64,
    /// Wilson score interval at 95%:
    /// $\frac{\hat p + z^2/2n \pm z\sqrt{\hat p(1-\hat p)/n + z^2/4n^2}}{1 + z^2/n}$, $z = 1.96$.
    pub ci95: (f64, f64),
}

impl Rate {
    /// The rate of `events` in `n` trials; an error for `n = 0` or `events > n`.
    pub fn new(events: usize, n: usize) -> Result<Self> {
        if n == 0 {
            return Err(ConfidenceError::EmptyInput { what: "rate" });
        }
        if events > n {
            return Err(ConfidenceError::LengthMismatch {
                what: "rate (events > trials)",
                left: events,
                right: n,
            });
        }
        let (nf, p, z) = (n as f64, events as f64 / n as f64, 1.96_f64);
        let centre = p + z * z / (2.0 * nf);
        let half = z * (p * (1.0 - p) / nf + z * z / (4.0 * nf * nf)).sqrt();
        let den = 1.0 + z * z / nf;
        Ok(Self {
            n,
            events,
            rate: p,
            ci95: (
                ((centre - half) / den).max(0.0),
                ((centre + half) / den).min(1.0),
            ),
        })
    }
}

/// A rate in one design cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellRate {
    /// The cell.
    pub cell: Cell,
    /// Its change-of-mind rate.
    pub rate: Rate,
}

fn rate_of<'a>(trials: impl Iterator<Item = &'a CompletedTrial>) -> Option<Rate> {
    let (mut n, mut k) = (0, 0);
    for t in trials {
        n += 1;
        k += usize::from(t.changed_mind());
    }
    Rate::new(k, n).ok()
}

/// Change-of-mind rate of every cell that has trials, in cell order.
pub fn change_of_mind_by_cell(trials: &[CompletedTrial]) -> Vec<CellRate> {
    let mut groups: BTreeMap<Cell, Vec<&CompletedTrial>> = BTreeMap::new();
    for t in trials {
        groups.entry(t.cell).or_default().push(t);
    }
    groups
        .into_iter()
        .filter_map(|(cell, ts)| rate_of(ts.into_iter()).map(|rate| CellRate { cell, rate }))
        .collect()
}

/// Change-of-mind rate per display, pooled over all advice types and accuracies (or only
/// over `advice` when given). Displays without trials are left out.
///
/// docs/paper-facts.md S5 does not say over which conditions the paper's 13.1% / 32.5–34%
/// are pooled; the reproduction reports both the all-advice pool and the per-advice rates.
pub fn change_of_mind_by_display(
    trials: &[CompletedTrial],
    advice: Option<AdviceType>,
) -> Vec<(AnswerDisplay, Rate)> {
    AnswerDisplay::ALL
        .into_iter()
        .filter_map(|d| {
            rate_of(
                trials
                    .iter()
                    .filter(|t| t.cell.display == d && advice.is_none_or(|a| t.cell.advice == a)),
            )
            .map(|r| (d, r))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_matches_a_hand_computed_case() {
        // 13 of 100: Wilson 95% ≈ (0.0777, 0.2099).
        let r = Rate::new(13, 100).unwrap();
        assert!((r.ci95.0 - 0.0777).abs() < 1e-3 && (r.ci95.1 - 0.2099).abs() < 1e-3);
        assert!(Rate::new(0, 0).is_err());
        assert!(Rate::new(3, 2).is_err());
    }
}
