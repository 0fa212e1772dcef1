//! Parameter uncertainty by the nonparametric bootstrap: resample trials with replacement
//! (seeded), refit, and report the bootstrap standard error and the percentile 95% interval
//! $[q_{0.025}, q_{0.975}]$ of each parameter (quantiles by linear interpolation).

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::beta::BetaFitConfig;
use super::models::{ModelSpec, RegressionData, fit_model};
use crate::error::{ConfidenceError, Result};
use crate::seed;

/// One parameter with its bootstrap uncertainty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterEstimate {
    /// Parameter name.
    pub name: String,
    /// Maximum-likelihood estimate on the full data.
    pub estimate: f64,
    /// Standard deviation over bootstrap refits.
    pub std_error: f64,
    /// Percentile 95% interval.
    pub ci95: (f64, f64),
}

/// Bootstrap result for one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapResult {
    /// The model.
    pub model: ModelSpec,
    /// Per parameter.
    pub parameters: Vec<ParameterEstimate>,
    /// Resamples that were refitted.
    pub replicates: usize,
    /// Resamples whose fit failed (e.g. a resample without any Shown trial); they are
    /// left out of the intervals.
    pub failed: usize,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Bootstraps `model` on `data` with `replicates` resamples.
pub fn bootstrap(
    data: &RegressionData,
    model: ModelSpec,
    replicates: usize,
    seed: u64,
    config: &BetaFitConfig,
) -> Result<BootstrapResult> {
    if replicates < 20 {
        return Err(ConfidenceError::InvalidParameter {
            name: "replicates",
            value: replicates as f64,
            reason: "need at least 20 resamples for a 95% interval",
        });
    }
    let full = fit_model(data, model, config)?;
    let k = full.parameters.len();
    let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(replicates); k];
    let mut failed = 0;
    let n = data.len();
    for b in 0..replicates {
        let mut rng = seed::rng(seed, &["bootstrap", &b.to_string()]);
        let idx: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
        match fit_model(&data.subset(&idx), model, config) {
            Ok(f) => {
                for (j, p) in f.parameters.iter().enumerate() {
                    draws[j].push(p.value);
                }
            }
            Err(_) => failed += 1,
        }
    }
    let ok = replicates - failed;
    if ok < replicates / 2 {
        return Err(ConfidenceError::FitFailed {
            model: model.to_string(),
            reason: format!("{failed} of {replicates} bootstrap refits failed"),
        });
    }
    let parameters = full
        .parameters
        .iter()
        .zip(draws)
        .map(|(p, mut d)| {
            d.sort_by(f64::total_cmp);
            let mean = d.iter().sum::<f64>() / d.len() as f64;
            let var = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (d.len() - 1) as f64;
            ParameterEstimate {
                name: p.name.clone(),
                estimate: p.value,
                std_error: var.sqrt(),
                ci95: (quantile(&d, 0.025), quantile(&d, 0.975)),
            }
        })
        .collect();
    Ok(BootstrapResult {
        model,
        parameters,
        replicates: ok,
        failed,
    })
}
