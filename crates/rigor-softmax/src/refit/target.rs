//! The inverse temperature a row *needed*: the sample the β(H) fit is made of.

use burn::tensor::Tensor;
use serde::Serialize;

use crate::error::{Result, SoftmaxError};

/// What "the β a row needed" means: the smallest β ≥ 1 at which the target item's weight
/// reaches `target_weight`, capped at `max_beta`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaCriterion {
    target_weight: f64,
    max_beta: f64,
}

impl Default for BetaCriterion {
    /// Target weight 0.9, β at most 100.
    fn default() -> Self {
        Self {
            target_weight: 0.9,
            max_beta: 100.0,
        }
    }
}

impl BetaCriterion {
    /// A criterion.
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidParameter`] unless `0 < target_weight < 1` and
    /// `1 <= max_beta < ∞`.
    pub fn new(target_weight: f64, max_beta: f64) -> Result<Self> {
        if !(target_weight > 0.0 && target_weight < 1.0) {
            return Err(SoftmaxError::InvalidParameter {
                name: "target_weight",
                value: target_weight,
                reason: "must be in (0, 1)",
            });
        }
        if !(max_beta.is_finite() && max_beta >= 1.0) {
            return Err(SoftmaxError::InvalidParameter {
                name: "max_beta",
                value: max_beta,
                reason: "must be finite and >= 1",
            });
        }
        Ok(Self {
            target_weight,
            max_beta,
        })
    }

    /// The weight the target must reach.
    pub fn target_weight(&self) -> f64 {
        self.target_weight
    }

    /// The cap on β.
    pub fn max_beta(&self) -> f64 {
        self.max_beta
    }
}

/// Softmax weight of `target` at inverse temperature β, in f64 (masked entries skipped).
fn target_weight(row: &[f64], target: usize, beta: f64) -> f64 {
    let zt = row[target];
    let denom: f64 = row
        .iter()
        .filter(|z| **z != f64::NEG_INFINITY)
        .map(|&z| (beta * (z - zt)).exp())
        .sum();
    1.0 / denom
}

/// The smallest $\beta \ge 1$, at most `max_beta`, at which item `target` of `row` gets softmax
/// weight at least `target_weight` ($\beta =$ `max_beta` if even that is not enough). `−∞` entries
/// are masks.
///
/// The target's weight $1/\sum_j e^{\beta(z_j - z_t)}$ increases with $\beta$ exactly when the
/// target is the row's strict maximum, so the answer is found by bisection (to 1e-12).
///
/// # Errors
/// [`SoftmaxError::IndexOutOfRange`] for a bad `target`,
/// [`SoftmaxError::NonFiniteLogits`] for `NaN`/`+∞` entries, and
/// [`SoftmaxError::TargetNotArgmax`] if the target is masked or not the strict maximum.
pub fn optimal_beta(row: &[f32], target: usize, criterion: &BetaCriterion) -> Result<f64> {
    if target >= row.len() {
        return Err(SoftmaxError::IndexOutOfRange {
            what: "target",
            index: target,
            len: row.len(),
        });
    }
    let nan = row.iter().filter(|z| z.is_nan()).count();
    let pos_inf = row.iter().filter(|z| **z == f32::INFINITY).count();
    if nan + pos_inf > 0 {
        return Err(SoftmaxError::NonFiniteLogits { nan, pos_inf });
    }
    let row: Vec<f64> = row.iter().map(|&z| f64::from(z)).collect();
    let zt = row[target];
    let row_max = row
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != target)
        .fold(f64::NEG_INFINITY, |a, (_, &z)| a.max(z));
    if zt == f64::NEG_INFINITY || row_max >= zt {
        return Err(SoftmaxError::TargetNotArgmax {
            target,
            target_logit: zt,
            row_max: row_max.max(zt),
        });
    }
    let w = criterion.target_weight;
    if target_weight(&row, target, 1.0) >= w {
        return Ok(1.0);
    }
    let (mut lo, mut hi) = (1.0, criterion.max_beta);
    if target_weight(&row, target, hi) < w {
        return Ok(hi);
    }
    while hi - lo > 1e-12 * hi {
        let mid = 0.5 * (lo + hi);
        if target_weight(&row, target, mid) >= w {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}

/// One (entropy, needed β) pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BetaSample {
    /// Entropy estimate of softmax(row), nats.
    pub entropy: f64,
    /// β★ from [`optimal_beta`].
    pub beta: f64,
}

/// Samples collected from a batch, and the rows that could not give one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSet {
    /// The usable samples.
    pub samples: Vec<BetaSample>,
    /// Indices of rows whose target was not the strict maximum (the model's mistakes).
    pub skipped: Vec<usize>,
}

/// Builds (H, β★) samples from a batch of logits rows `[rows, n]` (read back to the host) and
/// the index each row should attend to. `entropy_epsilon` is the ε of the entropy estimate
/// (1e-9 for the paper's rule).
///
/// # Errors
/// [`SoftmaxError::ShapeMismatch`] if `targets.len()` differs from the number of rows,
/// [`SoftmaxError::IndexOutOfRange`] / [`SoftmaxError::NonFiniteLogits`] as in
/// [`optimal_beta`], [`SoftmaxError::Readback`] if the device could not be read.
pub fn collect_samples(
    logits: Tensor<2>,
    targets: &[usize],
    entropy_epsilon: f64,
    criterion: &BetaCriterion,
) -> Result<SampleSet> {
    let [rows, n] = logits.dims();
    if targets.len() != rows {
        return Err(SoftmaxError::ShapeMismatch {
            op: "collect_samples",
            detail: format!("{} targets for {rows} rows", targets.len()),
        });
    }
    let data: Vec<f32> = logits
        .try_into_vec_as::<f32>()
        .map_err(SoftmaxError::from)?;
    let mut set = SampleSet {
        samples: Vec::with_capacity(rows),
        skipped: Vec::new(),
    };
    for (r, &t) in targets.iter().enumerate() {
        let row = &data[r * n..(r + 1) * n];
        match optimal_beta(row, t, criterion) {
            Ok(beta) => set.samples.push(BetaSample {
                entropy: entropy_estimate(row, entropy_epsilon),
                beta,
            }),
            Err(SoftmaxError::TargetNotArgmax { .. }) => set.skipped.push(r),
            Err(e) => return Err(e),
        }
    }
    Ok(set)
}

/// $\sum_k -p_k \log(p_k + \varepsilon)$ of softmax(row) in f64, masks skipped.
fn entropy_estimate(row: &[f32], eps: f64) -> f64 {
    let m = row
        .iter()
        .fold(f64::NEG_INFINITY, |a, &z| a.max(f64::from(z)));
    if m == f64::NEG_INFINITY {
        return 0.0;
    }
    let s: f64 = row.iter().map(|&z| (f64::from(z) - m).exp()).sum();
    row.iter()
        .map(|&z| (f64::from(z) - m).exp() / s)
        .filter(|&p| p > 0.0)
        .map(|p| -p * (p + eps).ln())
        .sum()
}
