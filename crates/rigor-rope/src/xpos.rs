//! xPos (Sun et al. 2023, "A Length-Extrapolatable Transformer", arXiv 2212.10554).
//!
//! Slot $k$ of a rotated width $r$ decays at $\zeta_k = \dfrac{2k/r + \gamma}{1 + \gamma}$
//! ($\gamma = 0.4$: $\zeta_k = (2k + 0.4r)/(1.4r)$). The query at position $t$ is multiplied by
//! $\zeta_k^{t/B}$ and the key by $\zeta_k^{-t/B}$ ($B$ = `scale_base`, 512), so chunk $k$'s
//! logit carries $\zeta_k^{(m-n)/B}$: it decays with the distance $m - n > 0$.
//!
//! xPos is **not** a pure rotation: norms are not preserved and
//! $\langle R_m q, R_n k\rangle = \langle q, R_{n-m} k\rangle$ only holds after removing the
//! factor $\zeta_k^{(m-n)/B}$ per chunk. The scales grow like $\zeta_0^{-t/B}$, so positions far
//! from 0 leave the `f32` range; [`XPosConfig::max_position`] gives the limit (an error, never
//! `inf`/`NaN`). Only differences matter, so callers can shift positions (torchscale centres
//! them around the middle of the sequence).

use serde::{Deserialize, Serialize};

use crate::error::{Result, positive};

/// xPos parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct XPosConfig {
    /// $B$ (512 in the paper).
    pub scale_base: f64,
    /// $\gamma$ (0.4 in the paper).
    pub gamma: f64,
}

impl Default for XPosConfig {
    fn default() -> Self {
        Self {
            scale_base: 512.0,
            gamma: 0.4,
        }
    }
}

/// $|\ln|$ of the largest scale kept in `f32` tables: $e^{\pm 80}$ stays well inside `f32`.
const MAX_LOG_SCALE: f64 = 80.0;

impl XPosConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        positive("xpos.scale_base", self.scale_base)?;
        positive("xpos.gamma", self.gamma)?;
        Ok(())
    }

    /// $\zeta_k$ for every slot of a rotated width `rotary_dim`.
    pub fn zeta(&self, rotary_dim: usize) -> Vec<f64> {
        (0..rotary_dim / 2)
            .map(|k| ((2 * k) as f64 / rotary_dim as f64 + self.gamma) / (1.0 + self.gamma))
            .collect()
    }

    /// The query scale $\zeta^{t/B}$ at position `t` for one slot.
    pub fn query_scale(&self, zeta: f64, t: f64) -> f64 {
        zeta.powf(t / self.scale_base)
    }

    /// Largest position whose scales stay within $e^{\pm 80}$.
    pub fn max_position(&self, rotary_dim: usize) -> usize {
        let z0 = self.zeta(rotary_dim).first().copied().unwrap_or(1.0);
        let l = z0.ln().abs();
        if l == 0.0 {
            usize::MAX
        } else {
            (MAX_LOG_SCALE * self.scale_base / l).floor() as usize
        }
    }
}
