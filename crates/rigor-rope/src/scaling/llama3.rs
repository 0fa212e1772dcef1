//! Llama 3.1 RoPE scaling (Meta 2024).
//!
//! With wavelength $\lambda_k = 2\pi/g_k$, $\lambda_\text{high} = L_0/f_\text{high}$,
//! $\lambda_\text{low} = L_0/f_\text{low}$:
//! $g_k^\prime = g_k$ if $\lambda_k < \lambda_\text{high}$; $g_k/s$ if
//! $\lambda_k > \lambda_\text{low}$; otherwise $(1-\mu)\\,g_k/s + \mu\\,g_k$ with
//! $\mu = (L_0/\lambda_k - f_\text{low})/(f_\text{high} - f_\text{low})$.

use serde::{Deserialize, Serialize};

use crate::error::{Result, RopeError, factor_at_least_one, positive};
use crate::frequencies::{inv_freq_unchecked, wavelength};

/// Llama-3 scaling parameters (Llama 3.1: 8, 1, 4, 8192).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Llama3Config {
    /// $s \ge 1$.
    pub factor: f64,
    /// $f_\text{low}$.
    pub low_freq_factor: f64,
    /// $f_\text{high} > f_\text{low}$.
    pub high_freq_factor: f64,
    /// $L_0$.
    pub original_max_position_embeddings: usize,
}

impl Llama3Config {
    /// Llama 3.1's values: factor 8, low 1, high 4, $L_0$ = 8192.
    pub fn llama_3_1() -> Self {
        Self {
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 8192,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        factor_at_least_one("llama3", self.factor)?;
        positive(
            "original_max_position_embeddings",
            self.original_max_position_embeddings as f64,
        )?;
        let ok = |f: f64| f.is_finite() && f > 0.0;
        if !(ok(self.low_freq_factor)
            && ok(self.high_freq_factor)
            && self.high_freq_factor >= self.low_freq_factor)
        {
            return Err(RopeError::FreqFactorOrder {
                low: self.low_freq_factor,
                high: self.high_freq_factor,
            });
        }
        Ok(())
    }

    /// Rescales one frequency. `low_freq_factor == high_freq_factor` is allowed (Llama 4
    /// Scout): the ramp collapses to one boundary.
    pub(crate) fn scale_one(&self, g: f64) -> f64 {
        let l0 = self.original_max_position_embeddings as f64;
        let low_wavelen = l0 / self.low_freq_factor;
        let high_wavelen = l0 / self.high_freq_factor;
        let wl = wavelength(g);
        if wl < high_wavelen {
            g
        } else if wl > low_wavelen {
            g / self.factor
        } else if self.high_freq_factor == self.low_freq_factor {
            // No ramp (Llama 4 Scout: low = high = 1): a wavelength exactly on the single
            // boundary keeps its frequency (HF's formula is 0/0 there).
            g
        } else {
            let mu =
                (l0 / wl - self.low_freq_factor) / (self.high_freq_factor - self.low_freq_factor);
            (1.0 - mu) * g / self.factor + mu * g
        }
    }

    /// Llama-3 inverse frequencies. Mirrors HF's `_compute_llama3_parameters`.
    pub(crate) fn inv_freq(&self, dim: usize, theta: f64) -> Vec<f64> {
        inv_freq_unchecked(dim, theta)
            .into_iter()
            .map(|g| self.scale_one(g))
            .collect()
    }
}
