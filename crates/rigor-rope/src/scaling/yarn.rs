//! YaRN (Peng, Quesnelle, Fan & Shippole 2023, arXiv 2309.00071).
//!
//! With $L_0$ the original context and $s$ the factor, the correction range is
//! $[\lfloor c(\beta_\text{fast})\rfloor, \lceil c(\beta_\text{slow})\rceil]$ where
//! $c(n) = \dfrac{d\\,\ln\bigl(L_0 / (2\pi n)\bigr)}{2\ln\theta}$ is the slot whose wavelength fits
//! $n$ times into $L_0$. A linear ramp $\gamma_k$ over the slots blends
//! $g_k^\prime = (1-\varepsilon_k)\\,g_k/s + \varepsilon_k\\,g_k$, $\varepsilon_k = 1 - \gamma_k$:
//! fast slots (many turns within $L_0$) are extrapolated, slow ones interpolated. Both `cos`
//! and `sin` are multiplied by the attention factor $0.1\ln s + 1$ (or DeepSeek's
//! $\mathrm{mscale}(s, m)/\mathrm{mscale}(s, m_\text{all})$), so logits scale by its square.

use serde::{Deserialize, Serialize};

use crate::error::{Result, RopeError, factor_at_least_one, positive};
use crate::frequencies::inv_freq_unchecked;

/// How YaRN's attention factor is chosen (HF: `attention_factor`, `mscale`, `mscale_all_dim`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum YarnAttention {
    /// $0.1 \ln s + 1$ (1 for $s \le 1$), the paper's default.
    Default,
    /// A stated value.
    Explicit {
        /// The factor, > 0.
        value: f64,
    },
    /// DeepSeek-style $\mathrm{mscale}(s, m)/\mathrm{mscale}(s, m_\text{all})$ with
    /// $\mathrm{mscale}(s, m) = 0.1\\,m\ln s + 1$.
    Mscale {
        /// `mscale`, > 0.
        mscale: f64,
        /// `mscale_all_dim`, > 0.
        mscale_all_dim: f64,
    },
}

/// YaRN parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YarnConfig {
    /// Scale factor $s \ge 1$.
    pub factor: f64,
    /// $L_0$, the pre-training context length.
    pub original_max_position_embeddings: usize,
    /// Rotations marking the extrapolated end of the ramp (default 32).
    pub beta_fast: f64,
    /// Rotations marking the interpolated end of the ramp (default 1).
    pub beta_slow: f64,
    /// Attention factor rule.
    pub attention: YarnAttention,
    /// Round the correction range to integers (HF `truncate`, default `true`; gpt-oss uses
    /// `false`).
    pub truncate: bool,
}

impl YarnConfig {
    /// YaRN with factor $s$ over an original context $L_0$ and the paper's defaults
    /// ($\beta_\text{fast} = 32$, $\beta_\text{slow} = 1$, default attention factor, truncation).
    pub fn new(factor: f64, original_max_position_embeddings: usize) -> Self {
        Self {
            factor,
            original_max_position_embeddings,
            beta_fast: 32.0,
            beta_slow: 1.0,
            attention: YarnAttention::Default,
            truncate: true,
        }
    }

    /// Sets `beta_fast` and `beta_slow`.
    pub fn with_betas(mut self, beta_fast: f64, beta_slow: f64) -> Self {
        self.beta_fast = beta_fast;
        self.beta_slow = beta_slow;
        self
    }

    /// Sets the attention factor rule.
    pub fn with_attention(mut self, attention: YarnAttention) -> Self {
        self.attention = attention;
        self
    }

    /// Sets HF's `truncate`.
    pub fn with_truncate(mut self, truncate: bool) -> Self {
        self.truncate = truncate;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        factor_at_least_one("yarn", self.factor)?;
        positive(
            "original_max_position_embeddings",
            self.original_max_position_embeddings as f64,
        )?;
        let ok = |b: f64| b.is_finite() && b > 0.0;
        if !(ok(self.beta_fast) && ok(self.beta_slow) && self.beta_fast > self.beta_slow) {
            return Err(RopeError::BetaOrder {
                beta_fast: self.beta_fast,
                beta_slow: self.beta_slow,
            });
        }
        match self.attention {
            YarnAttention::Default => {}
            YarnAttention::Explicit { value } => {
                positive("attention_factor", value)?;
            }
            YarnAttention::Mscale {
                mscale,
                mscale_all_dim,
            } => {
                positive("mscale", mscale)?;
                positive("mscale_all_dim", mscale_all_dim)?;
            }
        }
        Ok(())
    }

    /// The attention factor (multiplies `cos` and `sin`). Mirrors the `get_mscale` logic of
    /// HF's `_compute_yarn_parameters`.
    pub(crate) fn attention_factor(&self) -> f64 {
        match self.attention {
            YarnAttention::Default => get_mscale(self.factor, 1.0),
            YarnAttention::Explicit { value } => value,
            YarnAttention::Mscale {
                mscale,
                mscale_all_dim,
            } => get_mscale(self.factor, mscale) / get_mscale(self.factor, mscale_all_dim),
        }
    }

    /// The correction range `(low, high)` in slot units (HF `find_correction_range`).
    ///
    /// # Errors
    /// As [`YarnConfig`]'s validation in [`RopeConfig::validate`](crate::RopeConfig::validate),
    /// and [`default_inv_freq`](crate::default_inv_freq)'s for `dim` and $\theta$.
    pub fn correction_range(&self, dim: usize, theta: f64) -> Result<(f64, f64)> {
        crate::frequencies::check_dim_theta(dim, theta)?;
        self.validate()?;
        Ok(self.correction_range_unchecked(dim, theta))
    }

    /// [`YarnConfig::correction_range`] on a validated configuration.
    pub(crate) fn correction_range_unchecked(&self, dim: usize, theta: f64) -> (f64, f64) {
        let l0 = self.original_max_position_embeddings as f64;
        let mut low = find_correction_dim(self.beta_fast, dim, theta, l0);
        let mut high = find_correction_dim(self.beta_slow, dim, theta, l0);
        if self.truncate {
            low = low.floor();
            high = high.ceil();
        }
        (low.max(0.0), high.min(dim as f64 - 1.0))
    }

    /// YaRN inverse frequencies. Mirrors HF's `_compute_yarn_parameters`.
    pub(crate) fn inv_freq(&self, dim: usize, theta: f64) -> Vec<f64> {
        let (low, mut high) = self.correction_range_unchecked(dim, theta);
        if low == high {
            high += 0.001; // HF: prevent singularity
        }
        inv_freq_unchecked(dim, theta)
            .into_iter()
            .enumerate()
            .map(|(k, g)| {
                let ramp = ((k as f64 - low) / (high - low)).clamp(0.0, 1.0);
                let extrapolation = 1.0 - ramp;
                (g / self.factor) * (1.0 - extrapolation) + g * extrapolation
            })
            .collect()
    }
}

/// $\mathrm{mscale}(s, m) = 0.1\\,m\ln s + 1$ for $s > 1$, else 1 (HF/DeepSeek `get_mscale`).
pub(crate) fn get_mscale(scale: f64, mscale: f64) -> f64 {
    if scale <= 1.0 {
        1.0
    } else {
        0.1 * mscale * scale.ln() + 1.0
    }
}

/// The (fractional) slot whose wavelength fits `num_rotations` times into $L_0$:
/// $\dfrac{d\\,\ln(L_0 / (2\pi n))}{2\ln\theta}$ (HF `find_correction_dim`).
pub(crate) fn find_correction_dim(num_rotations: f64, dim: usize, theta: f64, l0: f64) -> f64 {
    (dim as f64 * (l0 / (num_rotations * 2.0 * std::f64::consts::PI)).ln()) / (2.0 * theta.ln())
}
