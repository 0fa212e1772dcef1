//! Which coordinates rotate: full RoPE, p-RoPE, NoPE and GPT-NeoX partial rotary.
//!
//! **p-RoPE vs GPT-NeoX partial rotary** — both rotate "a fraction" of the head, but not the
//! same fraction:
//!
//! - *p-RoPE* (*Round and Round We Go!* §5; Gemma's `rope_proportion`; HF
//!   `rope_type="proportional"`) keeps the $\lfloor p\\,d/2 \rfloor$ **highest** frequencies at
//!   their **original** values $g_k = \theta^{-2k/d}$ (the exponent still runs over the full
//!   $d$) and sets the remaining **lowest** frequencies to exactly 0. The head keeps its
//!   positional (high-frequency) channels unchanged and turns its slowly drifting "semantic"
//!   channels into exact NoPE channels. With the half-split layout the rotated coordinates are
//!   $[0, R) \cup [d/2, d/2 + R)$, $R = \lfloor p\\,d/2\rfloor$ — not a contiguous prefix.
//! - *GPT-NeoX partial rotary* (`rotary_pct`, HF `partial_rotary_factor`) rotates only the
//!   first $r$ coordinates and **re-spaces** all frequencies over them,
//!   $g_i = \theta^{-2i/r}$, $i < r/2$; the tail $[r, d)$ passes through. Its lowest frequency
//!   $\theta^{-(r-2)/r}$ is nearly as low as full RoPE's, so it keeps drifting semantic
//!   channels, and its pairs are $(i, i + r/2)$ inside the prefix.
//!
//! Same budget of rotated channels, different spectra: p-RoPE removes the bottom of the
//! spectrum, NeoX partial thins the whole spectrum out.

use serde::{Deserialize, Serialize};

use crate::error::{Result, RopeError};

/// Which part of the head rotates, and at which frequencies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rotation {
    /// Every chunk rotates: standard RoPE.
    Full,
    /// p-RoPE: keep the highest $\lfloor p\\,d/2\rfloor$ frequencies, zero the rest.
    /// $p = 1$ is RoPE, $p = 0$ is NoPE.
    Proportional {
        /// $p \in [0, 1]$.
        p: f64,
    },
    /// GPT-NeoX partial rotary: rotate the first `rotary_dims` coordinates with frequencies
    /// re-spaced over them; pass the tail through.
    NeoxPartial {
        /// Even, `0 < rotary_dims <= head_dim`.
        rotary_dims: usize,
    },
    /// No positional encoding: every frequency is 0 (identity rotation).
    NoPE,
}

impl Rotation {
    /// GPT-NeoX's `rotary_pct` → `rotary_dims = int(head_dim · pct)` (HF's
    /// `partial_rotary_factor`), then validated like [`Rotation::NeoxPartial`].
    ///
    /// # Errors
    /// [`RopeError::InvalidParameter`] unless `0 < pct <= 1`; [`RopeError::InvalidRotaryDims`]
    /// if the resulting count is odd or zero.
    pub fn neox_from_pct(pct: f64, head_dim: usize) -> Result<Self> {
        if !(pct.is_finite() && pct > 0.0 && pct <= 1.0) {
            return Err(RopeError::InvalidParameter {
                name: "rotary_pct",
                value: pct,
                reason: "must lie in (0, 1]",
            });
        }
        let rotary_dims = (head_dim as f64 * pct).floor() as usize;
        let r = Rotation::NeoxPartial { rotary_dims };
        r.validate(head_dim)?;
        Ok(r)
    }

    /// Checks the rotation against `head_dim` (already known to be even).
    pub(crate) fn validate(&self, head_dim: usize) -> Result<()> {
        match *self {
            Rotation::Full | Rotation::NoPE => Ok(()),
            Rotation::Proportional { p } => {
                if p.is_finite() && (0.0..=1.0).contains(&p) {
                    Ok(())
                } else {
                    Err(RopeError::ProportionOutOfRange { p })
                }
            }
            Rotation::NeoxPartial { rotary_dims } => {
                let reason = if rotary_dims == 0 {
                    Some("must be > 0 (use Rotation::NoPE for no rotation)")
                } else if rotary_dims > head_dim {
                    Some("must be <= head_dim")
                } else if !rotary_dims.is_multiple_of(2) {
                    Some("must be even")
                } else {
                    None
                };
                match reason {
                    Some(reason) => Err(RopeError::InvalidRotaryDims {
                        rotary_dims,
                        head_dim,
                        reason,
                    }),
                    None => Ok(()),
                }
            }
        }
    }

    /// Number of leading coordinates that go through the rotation (`head_dim` except for
    /// NeoX partial rotary, where the tail passes through untouched).
    pub fn rotary_dim(&self, head_dim: usize) -> usize {
        match *self {
            Rotation::NeoxPartial { rotary_dims } => rotary_dims,
            _ => head_dim,
        }
    }

    /// Number of frequency slots that keep a non-zero frequency.
    ///
    /// p-RoPE: $\lfloor p\\,d/2 \rfloor$, exactly HF's `int(partial_rotary_factor * head_dim // 2)`
    /// (`p·d` rounded in `f64` first, as Python does).
    pub fn live_slots(&self, head_dim: usize) -> usize {
        match *self {
            Rotation::Full => head_dim / 2,
            Rotation::NoPE => 0,
            Rotation::Proportional { p } => ((p * head_dim as f64) / 2.0).floor() as usize,
            Rotation::NeoxPartial { rotary_dims } => rotary_dims / 2,
        }
    }

    /// Zeroes the slots this rotation switches off (p-RoPE, NoPE); the other rotations leave
    /// `inv_freq` as is. `inv_freq` holds one entry per slot of the rotated width.
    pub(crate) fn mask(&self, head_dim: usize, inv_freq: &mut [f64]) {
        let live = self.live_slots(head_dim);
        if matches!(self, Rotation::Proportional { .. } | Rotation::NoPE) {
            for g in inv_freq.iter_mut().skip(live) {
                *g = 0.0;
            }
        }
    }
}
