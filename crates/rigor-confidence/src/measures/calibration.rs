//! Calibration and discrimination of stage-1 confidence (confidence = probability of the
//! chosen option, paper S5).
//!
//! - **ECE** with $B$ equal-width bins on $[0, 1]$ (confidence $c$ goes to bin
//!   $\min(\lfloor cB \rfloor, B-1)$): $\mathrm{ECE} = \sum_b \frac{n_b}{n}\\,\lvert \mathrm{acc}_b - \mathrm{conf}_b \rvert$.
//! - **Brier score** of the top-label confidence: $\frac1n \sum (c - \mathbb 1[\text{correct}])^2$.
//! - **AUROC** of confidence for telling correct from incorrect answers, rank-based
//!   (Mann–Whitney, tied scores get their average rank):
//!   $\mathrm{AUROC} = \frac{R_+ - n_+(n_+ + 1)/2}{n_+ n_-}$.

use serde::{Deserialize, Serialize};

use crate::agent::OptionProbs;
use crate::error::{ConfidenceError, Result};

fn check(confidences: &[f64], correct: &[bool], what: &'static str) -> Result<()> {
    if confidences.len() != correct.len() {
        return Err(ConfidenceError::LengthMismatch {
            what,
            left: confidences.len(),
            right: correct.len(),
        });
    }
    if confidences.is_empty() {
        return Err(ConfidenceError::EmptyInput { what });
    }
    if let Some(&c) = confidences.iter().find(|c| !(0.0..=1.0).contains(*c)) {
        return Err(ConfidenceError::InvalidParameter {
            name: "confidence",
            value: c,
            reason: "must be a probability in [0, 1]",
        });
    }
    Ok(())
}

/// Expected calibration error with `bins` equal-width bins (formula in the module docs).
pub fn expected_calibration_error(
    confidences: &[f64],
    correct: &[bool],
    bins: usize,
) -> Result<f64> {
    check(confidences, correct, "ECE")?;
    if bins == 0 {
        return Err(ConfidenceError::InvalidParameter {
            name: "bins",
            value: 0.0,
            reason: "need at least one bin",
        });
    }
    let mut n = vec![0usize; bins];
    let mut conf = vec![0.0; bins];
    let mut acc = vec![0.0; bins];
    for (&c, &y) in confidences.iter().zip(correct) {
        let b = ((c * bins as f64).floor() as usize).min(bins - 1);
        n[b] += 1;
        conf[b] += c;
        acc[b] += f64::from(u8::from(y));
    }
    let total = confidences.len() as f64;
    Ok((0..bins)
        .filter(|&b| n[b] > 0)
        .map(|b| (acc[b] - conf[b]).abs() / total)
        .sum())
}

/// Brier score of the top-label confidence.
pub fn brier_score(confidences: &[f64], correct: &[bool]) -> Result<f64> {
    check(confidences, correct, "Brier score")?;
    Ok(confidences
        .iter()
        .zip(correct)
        .map(|(&c, &y)| (c - f64::from(u8::from(y))).powi(2))
        .sum::<f64>()
        / confidences.len() as f64)
}

/// Rank-based AUROC of `scores` for `labels` (true = positive); ties get average ranks.
/// [`ConfidenceError::SingleClass`] when either class is empty.
pub fn auroc(scores: &[f64], labels: &[bool]) -> Result<f64> {
    if scores.len() != labels.len() {
        return Err(ConfidenceError::LengthMismatch {
            what: "AUROC",
            left: scores.len(),
            right: labels.len(),
        });
    }
    if let Some(&s) = scores.iter().find(|s| s.is_nan()) {
        return Err(ConfidenceError::InvalidParameter {
            name: "score",
            value: s,
            reason: "must not be NaN",
        });
    }
    let pos = labels.iter().filter(|&&l| l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return Err(ConfidenceError::SingleClass {
            what: "AUROC",
            positives: pos,
            negatives: neg,
        });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_pos += order[i..=j].iter().filter(|&&k| labels[k]).count() as f64 * avg_rank;
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    Ok((rank_sum_pos - p * (p + 1.0) / 2.0) / (p * n))
}

/// Calibration of a set of answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// Answers.
    pub n: usize,
    /// Fraction correct.
    pub accuracy: f64,
    /// Mean confidence.
    pub mean_confidence: f64,
    /// ECE.
    pub ece: f64,
    /// Number of ECE bins.
    pub bins: usize,
    /// Brier score.
    pub brier: f64,
    /// AUROC (`None` when all answers are correct or all wrong).
    pub auroc: Option<f64>,
}

impl CalibrationReport {
    /// Calibration of the answers $\arg\max p$ with confidence $\max p$ against `correct`.
    pub fn new(probs: &[OptionProbs], correct: &[usize], bins: usize) -> Result<Self> {
        if probs.len() != correct.len() {
            return Err(ConfidenceError::LengthMismatch {
                what: "calibration",
                left: probs.len(),
                right: correct.len(),
            });
        }
        let conf: Vec<f64> = probs.iter().map(OptionProbs::confidence).collect();
        let right: Vec<bool> = probs
            .iter()
            .zip(correct)
            .map(|(p, &k)| p.answer() == k)
            .collect();
        let n = conf.len();
        let ece = expected_calibration_error(&conf, &right, bins)?;
        Ok(Self {
            n,
            accuracy: right.iter().filter(|&&r| r).count() as f64 / n as f64,
            mean_confidence: conf.iter().sum::<f64>() / n as f64,
            ece,
            bins,
            brier: brier_score(&conf, &right)?,
            auroc: auroc(&conf, &right).ok(),
        })
    }
}
