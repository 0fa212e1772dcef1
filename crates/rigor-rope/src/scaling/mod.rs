//! Context extension: how each variant rescales the inverse frequencies, as in HF
//! transformers' `modeling_rope_utils` (every function names the HF function it mirrors).
//!
//! | variant | inv_freq | attention factor | module |
//! |---|---|---|---|
//! | linear PI (Chen et al. 2023) | $g_k / s$ | 1 | [`linear`] |
//! | NTK-aware (bloc97 2023) | $\theta^\prime = \theta\\, s^{d/(d-2)}$ | 1 | [`ntk`] |
//! | dynamic NTK (emozilla 2023) | $\theta^\prime = \theta\\,(sL/L_0 - (s-1))^{d/(d-2)}$, $L = \max(L, L_0)$ | 1 | [`ntk`] |
//! | YaRN (Peng et al. 2023) | ramp between $g_k$ and $g_k/s$ | $0.1\ln s + 1$ | [`yarn`] |
//! | LongRoPE (Ding et al. 2024) | $g_k / \lambda_k$, short/long lists | $\sqrt{1 + \ln s / \ln L_0}$ | [`longrope`] |
//! | Llama 3.1 | smooth ramp by wavelength | 1 | [`llama3`] |
//!
//! Dynamic NTK and LongRoPE depend on the current sequence length $L$ (the largest position
//! + 1); [`Scaling::frequencies`] takes it.

pub mod linear;
pub mod llama3;
pub mod longrope;
pub mod ntk;
pub mod yarn;

use serde::{Deserialize, Serialize};

use crate::error::{Result, RopeError, factor_at_least_one, positive};
use crate::frequencies::{Frequencies, inv_freq_unchecked};

pub use llama3::Llama3Config;
pub use longrope::LongRopeConfig;
pub use yarn::{YarnAttention, YarnConfig};

/// A context-extension method (or none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scaling {
    /// Plain RoPE.
    None,
    /// Linear position interpolation: positions divided by `factor`.
    Linear {
        /// $s \ge 1$.
        factor: f64,
    },
    /// Static NTK-aware base change.
    Ntk {
        /// $s \ge 1$.
        factor: f64,
    },
    /// Dynamic NTK: the base grows with the sequence length once it passes
    /// `original_max_position_embeddings`.
    DynamicNtk {
        /// $s \ge 1$.
        factor: f64,
        /// $L_0$, the pre-training context length (HF: `max_position_embeddings`).
        original_max_position_embeddings: usize,
    },
    /// YaRN.
    Yarn(YarnConfig),
    /// LongRoPE / Phi-3 "su" scaling.
    LongRope(LongRopeConfig),
    /// Llama 3.1 frequency-dependent interpolation.
    Llama3(Llama3Config),
}

impl Scaling {
    /// Checks the parameters for a rotated width of `rotary_dim` coordinates.
    pub(crate) fn validate(&self, rotary_dim: usize) -> Result<()> {
        match self {
            Scaling::None => Ok(()),
            Scaling::Linear { factor } => factor_at_least_one("linear", *factor).map(|_| ()),
            Scaling::Ntk { factor } => {
                factor_at_least_one("ntk", *factor)?;
                ntk_dim_ok(rotary_dim)
            }
            Scaling::DynamicNtk {
                factor,
                original_max_position_embeddings,
            } => {
                factor_at_least_one("dynamic", *factor)?;
                positive(
                    "original_max_position_embeddings",
                    *original_max_position_embeddings as f64,
                )?;
                ntk_dim_ok(rotary_dim)
            }
            Scaling::Yarn(c) => c.validate(),
            Scaling::LongRope(c) => c.validate(rotary_dim),
            Scaling::Llama3(c) => c.validate(),
        }
    }

    /// `true` when the frequencies depend on the sequence length (dynamic NTK, LongRoPE).
    pub fn is_dynamic(&self) -> bool {
        matches!(self, Scaling::DynamicNtk { .. } | Scaling::LongRope(_))
    }

    /// The key that decides when cached tables must be recomputed: the effective sequence
    /// length for dynamic NTK, short/long for LongRoPE, 0 otherwise.
    pub(crate) fn length_key(&self, seq_len: usize) -> usize {
        match self {
            Scaling::DynamicNtk {
                original_max_position_embeddings,
                ..
            } => seq_len.max(*original_max_position_embeddings),
            Scaling::LongRope(c) => usize::from(seq_len > c.original_max_position_embeddings),
            _ => 0,
        }
    }

    /// Frequencies for `dim` rotated coordinates with base `theta`, at sequence length
    /// `seq_len` (only dynamic NTK and LongRoPE read it).
    ///
    /// # Errors
    /// [`RopeError::InvalidHeadDim`] / [`RopeError::InvalidParameter`] for `dim` and $\theta$
    /// (see [`default_inv_freq`](crate::default_inv_freq)), and whatever
    /// [`RopeConfig::validate`](crate::RopeConfig::validate) refuses in this scaling.
    pub fn frequencies(&self, dim: usize, theta: f64, seq_len: usize) -> Result<Frequencies> {
        crate::frequencies::check_dim_theta(dim, theta)?;
        self.validate(dim)?;
        Ok(self.frequencies_unchecked(dim, theta, seq_len))
    }

    /// [`Scaling::frequencies`] on validated arguments.
    pub(crate) fn frequencies_unchecked(
        &self,
        dim: usize,
        theta: f64,
        seq_len: usize,
    ) -> Frequencies {
        match self {
            Scaling::None => Frequencies {
                inv_freq: inv_freq_unchecked(dim, theta),
                attention_factor: 1.0,
            },
            Scaling::Linear { factor } => Frequencies {
                inv_freq: linear::inv_freq(dim, theta, *factor),
                attention_factor: 1.0,
            },
            Scaling::Ntk { factor } => Frequencies {
                inv_freq: ntk::inv_freq(dim, theta, *factor),
                attention_factor: 1.0,
            },
            Scaling::DynamicNtk {
                factor,
                original_max_position_embeddings,
            } => Frequencies {
                inv_freq: ntk::dynamic_inv_freq(
                    dim,
                    theta,
                    *factor,
                    *original_max_position_embeddings,
                    seq_len,
                ),
                attention_factor: 1.0,
            },
            Scaling::Yarn(c) => Frequencies {
                inv_freq: c.inv_freq(dim, theta),
                attention_factor: c.attention_factor(),
            },
            Scaling::LongRope(c) => Frequencies {
                inv_freq: c.inv_freq(dim, theta, seq_len),
                attention_factor: c.attention_factor(),
            },
            Scaling::Llama3(c) => Frequencies {
                inv_freq: c.inv_freq(dim, theta),
                attention_factor: 1.0,
            },
        }
    }

    /// Rescales an already computed frequency vector, for layouts whose base frequencies are
    /// not $\theta^{-2k/d}$ (2-D axial). Only the variants that act per frequency without
    /// reference to the slot index are allowed there.
    pub(crate) fn rescale_per_frequency(&self, inv_freq: &mut [f64]) -> Result<f64> {
        match self {
            Scaling::None => Ok(1.0),
            Scaling::Linear { factor } => {
                for g in inv_freq.iter_mut() {
                    *g /= factor;
                }
                Ok(1.0)
            }
            Scaling::Llama3(c) => {
                for g in inv_freq.iter_mut() {
                    *g = c.scale_one(*g);
                }
                Ok(1.0)
            }
            other => Err(RopeError::Unsupported {
                what: format!(
                    "2-D axial RoPE with {} scaling (defined per slot index, not per frequency); use none, linear or llama3",
                    other.name()
                ),
            }),
        }
    }

    /// Short name, as HF's `rope_type`.
    pub fn name(&self) -> &'static str {
        match self {
            Scaling::None => "default",
            Scaling::Linear { .. } => "linear",
            Scaling::Ntk { .. } => "ntk",
            Scaling::DynamicNtk { .. } => "dynamic",
            Scaling::Yarn(_) => "yarn",
            Scaling::LongRope(_) => "longrope",
            Scaling::Llama3(_) => "llama3",
        }
    }
}

fn ntk_dim_ok(dim: usize) -> Result<()> {
    if dim > 2 {
        Ok(())
    } else {
        Err(RopeError::Unsupported {
            what: format!("NTK scaling needs rotary_dim > 2 (exponent d/(d-2)), got {dim}"),
        })
    }
}
