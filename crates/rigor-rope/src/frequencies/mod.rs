//! Frequencies: the `d/2` inverse frequencies $g_k$ and the attention factor, in `f64` on the host.
//!
//! | what | formula | where |
//! |---|---|---|
//! | standard RoPE (Su et al. 2021; *Round and Round* §2) | $g_k = \theta^{-2k/d}$ | [`default_inv_freq`] |
//! | p-RoPE (*Round and Round* §5; Gemma `rope_proportion`, HF `"proportional"`) | keep $g_0..g_{\lfloor p d/2\rfloor - 1}$, zero the rest | [`rotation`] |
//! | NoPE | $g_k = 0$ | [`rotation`] |
//! | GPT-NeoX partial rotary | $g_i = \theta^{-2i/r}$ over the first $r$ dims | [`rotation`] |
//! | wavelength | $\lambda_k = 2\pi / g_k$ | [`wavelength`] |
//!
//! Everything here is computed in `f64`; device tables are built from these values (angles in
//! `f64`, then `cos`/`sin` stored as `f32`), so no angle is ever formed in reduced precision.

pub mod rotation;

use serde::{Deserialize, Serialize};

use crate::error::{Result, RopeError};

pub use rotation::Rotation;

/// The frequencies one RoPE configuration rotates with, at one sequence length.
///
/// `inv_freq[k]` is $g_k$ in radians per token for frequency slot `k` (`rotary_dim / 2`
/// slots); `attention_factor` multiplies both `cos` and `sin` (YaRN, LongRoPE), so a logit is
/// scaled by its square.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frequencies {
    /// $g_k$, one per frequency slot.
    pub inv_freq: Vec<f64>,
    /// Factor applied to `cos` and `sin` (1 for every variant but YaRN and LongRoPE).
    pub attention_factor: f64,
}

impl Frequencies {
    /// The wavelength $2\pi/g_k$ of every slot, in tokens ($+\infty$ for $g_k = 0$).
    pub fn wavelengths(&self) -> Vec<f64> {
        self.inv_freq.iter().map(|&g| wavelength(g)).collect()
    }
}

/// Standard RoPE inverse frequencies $g_k = \theta^{-2k/\text{dim}}$, $k = 0..\text{dim}/2$.
///
/// Mirrors HF transformers' `_compute_default_rope_parameters`
/// (`1 / base ** (arange(0, dim, 2) / dim)`), in `f64`.
///
/// # Errors
/// [`RopeError::InvalidHeadDim`] unless `dim` is even and `> 0`;
/// [`RopeError::InvalidParameter`] unless $\theta$ is finite and `> 1` (as
/// [`RopeConfig::validate`](crate::RopeConfig::validate)).
pub fn default_inv_freq(dim: usize, theta: f64) -> Result<Vec<f64>> {
    check_dim_theta(dim, theta)?;
    Ok(inv_freq_unchecked(dim, theta))
}

/// `dim` even and `> 0`, θ finite and `> 1`.
pub(crate) fn check_dim_theta(dim: usize, theta: f64) -> Result<()> {
    if dim == 0 || !dim.is_multiple_of(2) {
        return Err(RopeError::InvalidHeadDim { head_dim: dim });
    }
    if !(theta.is_finite() && theta > 1.0) {
        return Err(RopeError::InvalidParameter {
            name: "theta",
            value: theta,
            reason: "must be finite and > 1 (theta^(-2k/d) must decrease)",
        });
    }
    Ok(())
}

/// [`default_inv_freq`] on arguments already validated.
pub(crate) fn inv_freq_unchecked(dim: usize, theta: f64) -> Vec<f64> {
    (0..dim / 2)
        .map(|k| 1.0 / theta.powf((2 * k) as f64 / dim as f64))
        .collect()
}

/// Wavelength of a frequency: $\lambda = 2\pi / g$ tokens per full turn; $+\infty$ for $g = 0$
/// (a NoPE channel never turns). A scalar formula, not a check: a negative $g$ gives a negative
/// wavelength and `NaN` gives `NaN`.
///
/// *Round and Round We Go!* §4: a channel behaves like NoPE only while the distance $r$ stays
/// far below its wavelength (see [`theory::drift`](crate::theory::drift)).
pub fn wavelength(g: f64) -> f64 {
    if g == 0.0 {
        f64::INFINITY
    } else {
        2.0 * std::f64::consts::PI / g
    }
}
