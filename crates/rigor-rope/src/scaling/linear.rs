//! Linear position interpolation (Chen et al. 2023, "Extending Context Window of Large Language
//! Models via Positional Interpolation"; kaiokendev 2023).
//!
//! $g_k^\prime = g_k / s$: position $m$ is rotated as if it were $m/s$.

use crate::frequencies::inv_freq_unchecked;

/// $g_k / s$ for `dim` rotated coordinates. Mirrors HF's
/// `_compute_linear_scaling_rope_parameters` (`inv_freq /= factor`).
pub(crate) fn inv_freq(dim: usize, theta: f64, factor: f64) -> Vec<f64> {
    inv_freq_unchecked(dim, theta)
        .into_iter()
        .map(|g| g / factor)
        .collect()
}
