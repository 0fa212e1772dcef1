//! Calibration: reliability bins and the expected calibration error (ECE), with equal-width
//! and equal-mass binning.
//!
//! For bins $B_1..B_K$ of the scored tokens by confidence $c_i = \max_j p_{ij}$,
//! $$\mathrm{ECE} = \sum_{k} \frac{|B_k|}{N}\\,
//!   \bigl|\operatorname{acc}(B_k) - \operatorname{conf}(B_k)\bigr|,$$
//! with $\operatorname{acc}$ the fraction of tokens whose target attains the maximum and
//! $\operatorname{conf}$ the mean confidence in the bin (Guo et al., 2017, eq. 3).
//!
//! - **Equal width:** $K$ bins of $[0, 1]$; token $i$ goes to bin
//!   $\min(\lfloor c_i K \rfloor, K - 1)$ (so $c = 1$ is in the last bin). Mergeable from
//!   per-bin sums.
//! - **Equal mass** (adaptive; Nixon et al., 2019): the tokens sorted by (confidence,
//!   correct) are cut at ranks $\lfloor kN/K \rfloor$, $k = 0..K$; empty bins (when
//!   $N < K$) are dropped. Needs every (confidence, correct) pair, see
//!   [`EvalConfig::keep_samples`](crate::EvalConfig::keep_samples).

use serde::{Deserialize, Serialize};

use crate::error::{PerplexityError, Result};

/// One bin of a reliability diagram.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Lowest confidence the bin can hold (equal width) or holds (equal mass).
    pub lower: f64,
    /// Highest confidence the bin can hold (equal width) or holds (equal mass).
    pub upper: f64,
    /// Tokens in the bin.
    pub count: u64,
    /// Sum of their confidences.
    pub confidence_sum: f64,
    /// How many of them are correct.
    pub correct: u64,
}

impl ReliabilityBin {
    /// Fraction correct, `None` for an empty bin.
    pub fn accuracy(&self) -> Option<f64> {
        (self.count > 0).then(|| self.correct as f64 / self.count as f64)
    }

    /// Mean confidence, `None` for an empty bin.
    pub fn mean_confidence(&self) -> Option<f64> {
        (self.count > 0).then(|| self.confidence_sum / self.count as f64)
    }

    pub(crate) fn add(&mut self, confidence: f64, correct: bool) {
        self.count += 1;
        self.confidence_sum += confidence;
        self.correct += u64::from(correct);
    }

    pub(crate) fn merge(&mut self, other: &Self) {
        self.count += other.count;
        self.confidence_sum += other.confidence_sum;
        self.correct += other.correct;
    }
}

/// The empty equal-width bins $[k/K, (k+1)/K]$, $k = 0..K$.
pub fn equal_width_bins(bins: usize) -> Vec<ReliabilityBin> {
    (0..bins)
        .map(|k| ReliabilityBin {
            lower: k as f64 / bins as f64,
            upper: (k + 1) as f64 / bins as f64,
            ..ReliabilityBin::default()
        })
        .collect()
}

/// The equal-width bin of a confidence $c \in [0, 1]$: $\min(\lfloor cK \rfloor, K-1)$.
///
/// # Errors
/// [`PerplexityError::InvalidParameter`] if `bins == 0` or the confidence is `NaN` or outside
/// $[0, 1]$ (a `NaN` confidence used to land silently in bin 0 and make its mean `NaN`).
pub fn equal_width_index(confidence: f64, bins: usize) -> Result<usize> {
    check_bins(bins)?;
    check_confidence(confidence)?;
    let k = (confidence * bins as f64).floor();
    Ok((k as usize).min(bins - 1))
}

fn check_bins(bins: usize) -> Result<()> {
    if bins == 0 {
        return Err(PerplexityError::InvalidParameter {
            name: "bins",
            value: 0.0,
            reason: "must be at least 1",
        });
    }
    Ok(())
}

fn check_confidence(confidence: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&confidence) {
        return Err(PerplexityError::InvalidParameter {
            name: "confidence",
            value: confidence,
            reason: "must be in [0, 1]",
        });
    }
    Ok(())
}

/// Equal-mass bins of (confidence, correct) samples (sorted in place by (confidence,
/// correct) so the result does not depend on the order the samples arrived in). No samples
/// give no bins.
///
/// # Errors
/// [`PerplexityError::InvalidParameter`] if `bins == 0` or a confidence is `NaN` or outside
/// $[0, 1]$ (the samples are then left as they were).
pub fn equal_mass_bins(samples: &mut [(f32, bool)], bins: usize) -> Result<Vec<ReliabilityBin>> {
    check_bins(bins)?;
    for &(c, _) in samples.iter() {
        check_confidence(f64::from(c))?;
    }
    samples.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let n = samples.len();
    let mut out = Vec::with_capacity(bins);
    for k in 0..bins {
        let (lo, hi) = (k * n / bins, (k + 1) * n / bins);
        if lo == hi {
            continue;
        }
        let mut bin = ReliabilityBin {
            lower: f64::from(samples[lo].0),
            upper: f64::from(samples[hi - 1].0),
            ..ReliabilityBin::default()
        };
        for &(c, ok) in &samples[lo..hi] {
            bin.add(f64::from(c), ok);
        }
        out.push(bin);
    }
    Ok(out)
}

/// $\sum_k \frac{|B_k|}{N}|\operatorname{acc}(B_k) - \operatorname{conf}(B_k)|$; `None` if every
/// bin is empty.
pub fn expected_calibration_error(bins: &[ReliabilityBin]) -> Option<f64> {
    let n: u64 = bins.iter().map(|b| b.count).sum();
    if n == 0 {
        return None;
    }
    Some(
        bins.iter()
            .filter(|b| b.count > 0)
            .map(|b| (b.correct as f64 - b.confidence_sum).abs() / n as f64)
            .sum(),
    )
}
