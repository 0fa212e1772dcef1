//! The cos/sin cache: built in `f64` on the host, stored as `f32` on the device, grown on
//! demand.
//!
//! **Design.** One table row per position, one column per rotated coordinate (already
//! expanded to the layout, and already multiplied by the attention factor and, for xPos, by
//! the query/key scales). Offsets slice rows; per-token ids gather rows (`select`), so the
//! angles of arbitrary ids are still computed in `f64`. The cache sits behind a `Mutex`
//! (interior mutability: `Rope::apply` takes `&self`). It is rebuilt when
//!
//! - a position beyond its length is requested — it grows to the next power of two (at least
//!   twice its length), so a decoding loop rebuilds `O(log n)` times and never panics;
//! - the frequencies change with the sequence length (dynamic NTK: every new length beyond
//!   $L_0$; LongRoPE: crossing $L_0$) — exactly when HF's `dynamic_rope_update` recomputes;
//! - the device changes.
//!
//! The cache holds at most [`MAX_CACHED_ELEMENTS`] values per table (64 MiB of `f32`; 131 072
//! positions at rotary width 128). Positions beyond it are not cached: the rows a call needs
//! are computed for that call alone (same `f64` angles, so the same values), so a huge offset
//! or id costs `O(seq · rotary_dim)`, never a table up to the largest position. Positions
//! above [`MAX_POSITION`] are an error.

use burn::tensor::{Device, Tensor, TensorData};

use crate::config::RopeConfig;

/// Largest position accepted: $2^{32} - 1$. The angle $t\\,g_k$ is formed in `f64`, whose rounding
/// at $t\\,g_k \approx 2^{32}$ ($\approx 5\cdot 10^{-7}$ rad) is already that of the `f32` tables;
/// beyond it the cos/sin values would no longer be the rotation of that position.
pub const MAX_POSITION: usize = (1 << 32) - 1;

/// Most values one cached table holds (`rows × rotary_dim`): $2^{24}$.
pub const MAX_CACHED_ELEMENTS: usize = 1 << 24;

/// Rows (positions `0..rows`) the cache may hold at rotary width `r`.
pub(crate) fn max_cached_rows(r: usize) -> usize {
    MAX_CACHED_ELEMENTS / r.max(1)
}

/// Tables for one (device, frequency key): row `i` is position `positions[i]` — `0..len` for
/// the cache, the requested positions for an uncached call.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    pub device: Device,
    pub key: usize,
    pub len: usize,
    /// `[len, rotary_dim]`: query cos/sin (with attention factor and xPos up-scale).
    pub cos_q: Tensor<2>,
    pub sin_q: Tensor<2>,
    /// `[len, rotary_dim]`: key cos/sin (equal to the query tables without xPos).
    pub cos_k: Tensor<2>,
    pub sin_k: Tensor<2>,
}

/// Builds tables with one row per position of `positions` (`len` of them), for sequence
/// length `seq_len` (dynamic variants).
pub(crate) fn build(
    config: &RopeConfig,
    col_slot: &[usize],
    positions: impl ExactSizeIterator<Item = usize>,
    seq_len: usize,
    key: usize,
    device: &Device,
) -> Tables {
    let r = col_slot.len();
    let len = positions.len();
    let f = config.frequencies_unchecked(seq_len);
    let zeta = config.xpos.map(|x| (x, x.zeta(r)));
    let mut cos_q = Vec::with_capacity(len * r);
    let mut sin_q = Vec::with_capacity(len * r);
    let mut cos_k = Vec::with_capacity(if zeta.is_some() { len * r } else { 0 });
    let mut sin_k = Vec::with_capacity(cos_k.capacity());
    for t in positions {
        let tf = t as f64;
        for &slot in col_slot {
            let angle = tf * f.inv_freq[slot];
            let (s, c) = angle.sin_cos();
            let (c, s) = (c * f.attention_factor, s * f.attention_factor);
            match &zeta {
                None => {
                    cos_q.push(c as f32);
                    sin_q.push(s as f32);
                }
                Some((x, z)) => {
                    let up = x.query_scale(z[slot], tf);
                    cos_q.push((c * up) as f32);
                    sin_q.push((s * up) as f32);
                    cos_k.push((c / up) as f32);
                    sin_k.push((s / up) as f32);
                }
            }
        }
    }
    let t = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [len, r]), device);
    let (cos_q, sin_q) = (t(cos_q), t(sin_q));
    let (cos_k, sin_k) = if zeta.is_some() {
        (t(cos_k), t(sin_k))
    } else {
        (cos_q.clone(), sin_q.clone())
    };
    Tables {
        device: device.clone(),
        key,
        len,
        cos_q,
        sin_q,
        cos_k,
        sin_k,
    }
}

/// The capacity to allocate when `needed` rows are required and `old` exist.
pub(crate) fn grow(needed: usize, old: usize) -> usize {
    needed.next_power_of_two().max(2 * old).max(16)
}
