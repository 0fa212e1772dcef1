//! NTK-aware base change (bloc97 2023) and its dynamic form (emozilla 2023).
//!
//! Static: $\theta^\prime = \theta\\,s^{d/(d-2)}$, so the lowest frequency is divided by exactly
//! $s$ while the highest stays at 1.
//!
//! Dynamic: with $L = \max(\text{seq\\_len}, L_0)$,
//! $\theta^\prime = \theta\\,\bigl(sL/L_0 - (s - 1)\bigr)^{d/(d-2)}$ — plain RoPE up to $L_0$, then
//! recomputed as the sequence grows. Keys cached at an earlier length were rotated with the
//! earlier base; HF (and this crate) do not re-rotate them. Unlike the other variants, factor
//! $s = 1$ is *not* plain RoPE beyond $L_0$: the base still grows as $\theta\\,(L/L_0)^{d/(d-2)}$.

use crate::frequencies::inv_freq_unchecked;

/// Static NTK-aware frequencies. Mirrors the `base * factor ** (dim / (dim - 2))` of HF's NTK
/// helpers.
pub(crate) fn inv_freq(dim: usize, theta: f64, factor: f64) -> Vec<f64> {
    let base = theta * factor.powf(dim as f64 / (dim as f64 - 2.0));
    inv_freq_unchecked(dim, base)
}

/// Dynamic NTK frequencies at sequence length `seq_len`. Mirrors HF's
/// `_compute_dynamic_ntk_parameters` (`seq_len = max(seq_len, max_position_embeddings)`).
pub(crate) fn dynamic_inv_freq(
    dim: usize,
    theta: f64,
    factor: f64,
    original_max_position_embeddings: usize,
    seq_len: usize,
) -> Vec<f64> {
    let l0 = original_max_position_embeddings as f64;
    let l = (seq_len as f64).max(l0);
    let base = theta * (factor * l / l0 - (factor - 1.0)).powf(dim as f64 / (dim as f64 - 2.0));
    inv_freq_unchecked(dim, base)
}
