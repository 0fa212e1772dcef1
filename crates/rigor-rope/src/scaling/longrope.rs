//! LongRoPE (Ding et al. 2024, arXiv 2402.13753), as used by Phi-3 / Phi-3.5 ("su" scaling).
//!
//! Per-slot rescale factors $\lambda_k$: $g_k^\prime = 1/(\lambda_k\\,\theta^{2k/d})$, with the
//! `short_factor` list while the sequence fits in $L_0$ and the `long_factor` list beyond it.
//! `cos` and `sin` are multiplied by $\sqrt{1 + \ln s / \ln L_0}$, $s = L_{\max} / L_0$ (1 for
//! $s \le 1$) unless an attention factor is stated.
//!
//! Switching lists at $L_0$ changes the rotation of every position: keys cached under the short
//! list are not re-rotated when a sequence crosses $L_0$ (HF behaves the same way).

use serde::{Deserialize, Serialize};

use crate::error::{Result, RopeError, positive};

/// LongRoPE parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LongRopeConfig {
    /// $\lambda_k$ used while `seq_len <= original_max_position_embeddings`.
    pub short_factor: Vec<f64>,
    /// $\lambda_k$ used beyond.
    pub long_factor: Vec<f64>,
    /// $L_0$.
    pub original_max_position_embeddings: usize,
    /// $L_{\max}$ (the extended context); $s = L_{\max} / L_0$.
    pub max_position_embeddings: usize,
    /// A stated attention factor overrides the formula.
    pub attention_factor: Option<f64>,
}

impl LongRopeConfig {
    pub(crate) fn validate(&self, dim: usize) -> Result<()> {
        for (which, list) in [
            ("short_factor", &self.short_factor),
            ("long_factor", &self.long_factor),
        ] {
            if list.len() != dim / 2 {
                return Err(RopeError::LongRopeFactorLength {
                    which,
                    got: list.len(),
                    expected: dim / 2,
                });
            }
            for &f in list.iter() {
                positive(which, f)?;
            }
        }
        positive(
            "original_max_position_embeddings",
            self.original_max_position_embeddings as f64,
        )?;
        positive(
            "max_position_embeddings",
            self.max_position_embeddings as f64,
        )?;
        if let Some(a) = self.attention_factor {
            positive("attention_factor", a)?;
        }
        Ok(())
    }

    /// $s = L_{\max} / L_0$.
    pub fn factor(&self) -> f64 {
        self.max_position_embeddings as f64 / self.original_max_position_embeddings as f64
    }

    /// Attention factor; mirrors HF's `_compute_longrope_parameters`.
    pub(crate) fn attention_factor(&self) -> f64 {
        if let Some(a) = self.attention_factor {
            return a;
        }
        let s = self.factor();
        if s <= 1.0 {
            1.0
        } else {
            (1.0 + s.ln() / (self.original_max_position_embeddings as f64).ln()).sqrt()
        }
    }

    /// Inverse frequencies at sequence length `seq_len` (short list up to $L_0$, long beyond).
    /// Mirrors HF's `_compute_longrope_parameters` with its `dynamic_rope_update` switch.
    pub(crate) fn inv_freq(&self, dim: usize, theta: f64, seq_len: usize) -> Vec<f64> {
        let ext = if seq_len > self.original_max_position_embeddings {
            &self.long_factor
        } else {
            &self.short_factor
        };
        ext.iter()
            .enumerate()
            .map(|(k, &lambda)| 1.0 / (lambda * theta.powf((2 * k) as f64 / dim as f64)))
            .collect()
    }
}
