//! τ-dormant units — Sokar, Agarwal, Castro & Evci, *The Dormant Neuron Phenomenon in Deep
//! Reinforcement Learning*, ICML 2023, Definition 3.1.
//!
//! For activations $h_i(x)$ of a layer with `H` units over a batch,
//!
//! $$ s_i = \frac{\mathbb E_x |h_i(x)|}{\frac1H\sum_k \mathbb E_x |h_k(x)|}, $$
//!
//! and unit `i` is τ-dormant when $s_i \le \tau$ (τ = 0: exactly dead units).

use burn::tensor::Tensor;

use crate::error::{OptimError, Result, check_param};
use crate::metrics::host_finite;

/// Per-unit scores and the dormant set of one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct DormantReport {
    /// The normalised score $s_i$ of every unit.
    pub scores: Vec<f64>,
    /// Whether each unit is τ-dormant.
    pub dormant: Vec<bool>,
    /// Fraction of dormant units.
    pub fraction: f64,
}

/// τ-dormant units of `activations` (`[samples, units]`). A layer whose units are all exactly
/// zero has every unit dormant (scores 0).
///
/// Errors: τ < 0 or not finite, no samples or no units, non-finite activations.
pub fn dormant_units(activations: Tensor<2>, tau: f64) -> Result<DormantReport> {
    check_param("tau", tau, tau >= 0.0, "must be >= 0")?;
    let [n, h] = activations.dims();
    if n == 0 || h == 0 {
        return Err(OptimError::Undefined {
            what: "dormant units",
            reason: "needs at least one sample and one unit",
        });
    }
    let v = host_finite(activations, "activations")?;
    let means: Vec<f64> = (0..h)
        .map(|j| (0..n).map(|i| v[i * h + j].abs()).sum::<f64>() / n as f64)
        .collect();
    let layer_mean = means.iter().sum::<f64>() / h as f64;
    let scores: Vec<f64> = if layer_mean > 0.0 {
        means.iter().map(|m| m / layer_mean).collect()
    } else {
        vec![0.0; h]
    };
    let dormant: Vec<bool> = scores.iter().map(|&s| s <= tau).collect();
    let fraction = dormant.iter().filter(|&&d| d).count() as f64 / h as f64;
    Ok(DormantReport {
        scores,
        dormant,
        fraction,
    })
}
