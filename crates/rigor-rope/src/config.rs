//! One validated configuration for every variant: [`RopeConfig`] → [`RopeConfig::init`] →
//! [`Rope`].

use serde::{Deserialize, Serialize};

use crate::apply::Rope;
use crate::error::{Result, RopeError, positive};
use crate::frequencies::{Frequencies, Rotation, inv_freq_unchecked};
use crate::layout::Layout;
use crate::scaling::Scaling;
use crate::xpos::XPosConfig;

/// Which position drives each frequency slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Axes {
    /// One position per token (text).
    Sequence,
    /// 2-D axial RoPE (e.g. Heo et al. 2024 for ViTs): the first half of the slots rotate with
    /// the row position, the second half with the column position, each half with
    /// $g_k = \theta^{-2k/(r/2)}$ (standard RoPE at half the width). Needs `rotary_dim % 4 == 0`.
    Axial2d,
    /// M-RoPE (Qwen2-VL, Wang et al. 2024): consecutive `sections` of the standard frequency
    /// slots are driven by the temporal, height and width position ids. With identical ids on
    /// every axis (text tokens) it is standard RoPE.
    MRope {
        /// Slots per axis, e.g. `[16, 24, 24]` for `head_dim = 128`; must sum to
        /// `rotary_dim / 2`.
        sections: Vec<usize>,
    },
    /// Interleaved M-RoPE (Qwen3-VL, HF `mrope_interleaved`): slot $k$ is driven by axis 1
    /// (height) when $k \bmod 3 = 1$ and $k < 3\\,s_1$, by axis 2 (width) when $k \bmod 3 = 2$
    /// and $k < 3\\,s_2$, and by axis 0 (time) otherwise — the `freqs[..., offset:3·s:3]`
    /// overwrite of HF's Qwen3-VL rotary embedding. `sections` still sums to `rotary_dim / 2`.
    MRopeInterleaved {
        /// Slots per axis `[t, h, w]`, e.g. `[24, 20, 20]`.
        sections: Vec<usize>,
    },
}

impl Axes {
    /// Number of position axes (1, 2, or `sections.len()`).
    pub fn count(&self) -> usize {
        match self {
            Axes::Sequence => 1,
            Axes::Axial2d => 2,
            Axes::MRope { sections } | Axes::MRopeInterleaved { sections } => sections.len(),
        }
    }

    /// The axis that drives each of `slots` frequency slots.
    pub fn slot_axes(&self, slots: usize) -> Vec<usize> {
        match self {
            Axes::Sequence => vec![0; slots],
            Axes::Axial2d => (0..slots).map(|k| usize::from(k >= slots / 2)).collect(),
            Axes::MRope { sections } => sections
                .iter()
                .enumerate()
                .flat_map(|(a, &n)| std::iter::repeat_n(a, n))
                .collect(),
            Axes::MRopeInterleaved { sections } => (0..slots)
                .map(|k| {
                    (1..sections.len())
                        .find(|&a| k % 3 == a && k < 3 * sections[a])
                        .unwrap_or(0)
                })
                .collect(),
        }
    }
}

/// Configuration of a rotary position encoding. Build with [`RopeConfig::new`] and the
/// `with_*` methods, then [`init`](RopeConfig::init), which validates everything once.
///
/// ```
/// use rigor_rope::{Layout, RopeConfig, Rotation, Scaling, scaling::Llama3Config};
///
/// let llama31 = RopeConfig::new(128)
///     .with_theta(500_000.0)
///     .with_scaling(Scaling::Llama3(Llama3Config::llama_3_1()))
///     .init()
///     .unwrap();
/// let gemma_like = RopeConfig::new(256).with_rotation(Rotation::Proportional { p: 0.25 }).init().unwrap();
/// assert_eq!(gemma_like.frequencies(1).inv_freq.iter().filter(|&&g| g > 0.0).count(), 32);
/// assert!(RopeConfig::new(127).init().is_err());
/// # let _ = (llama31, Layout::HalfSplit);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RopeConfig {
    /// Head dimension $d$ (even).
    pub head_dim: usize,
    /// Base $\theta$ (10 000 by default).
    pub theta: f64,
    /// Pairing of coordinates.
    pub layout: Layout,
    /// Which part rotates (full, p-RoPE, NeoX partial, NoPE).
    pub rotation: Rotation,
    /// Context extension.
    pub scaling: Scaling,
    /// Optional xPos decay.
    pub xpos: Option<XPosConfig>,
    /// Position axes (text, 2-D axial, M-RoPE).
    pub axes: Axes,
}

impl RopeConfig {
    /// Standard RoPE: $\theta = 10^4$, half-split layout, full rotation, no scaling, no xPos.
    pub fn new(head_dim: usize) -> Self {
        Self {
            head_dim,
            theta: 10_000.0,
            layout: Layout::HalfSplit,
            rotation: Rotation::Full,
            scaling: Scaling::None,
            xpos: None,
            axes: Axes::Sequence,
        }
    }

    /// Sets $\theta$.
    pub fn with_theta(mut self, theta: f64) -> Self {
        self.theta = theta;
        self
    }

    /// Sets the layout.
    pub fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Sets the rotation (p-RoPE, NoPE, NeoX partial).
    pub fn with_rotation(mut self, rotation: Rotation) -> Self {
        self.rotation = rotation;
        self
    }

    /// Sets the context-extension method.
    pub fn with_scaling(mut self, scaling: Scaling) -> Self {
        self.scaling = scaling;
        self
    }

    /// Enables xPos.
    pub fn with_xpos(mut self, xpos: XPosConfig) -> Self {
        self.xpos = Some(xpos);
        self
    }

    /// Sets the position axes (2-D axial, M-RoPE).
    pub fn with_axes(mut self, axes: Axes) -> Self {
        self.axes = axes;
        self
    }

    /// Width of the rotated prefix ($d$, or NeoX's `rotary_dims`).
    pub fn rotary_dim(&self) -> usize {
        self.rotation.rotary_dim(self.head_dim)
    }

    /// Validates every parameter.
    ///
    /// # Errors
    /// [`RopeError::InvalidHeadDim`] (odd or zero `head_dim`), [`RopeError::InvalidParameter`]
    /// ($\theta$ not finite or $\le 1$), [`RopeError::ProportionOutOfRange`],
    /// [`RopeError::InvalidRotaryDims`], [`RopeError::FactorBelowOne`],
    /// [`RopeError::BetaOrder`], [`RopeError::FreqFactorOrder`],
    /// [`RopeError::LongRopeFactorLength`], [`RopeError::MropeSections`],
    /// [`RopeError::Unsupported`].
    pub fn validate(&self) -> Result<()> {
        if self.head_dim == 0 || !self.head_dim.is_multiple_of(2) {
            return Err(RopeError::InvalidHeadDim {
                head_dim: self.head_dim,
            });
        }
        positive("theta", self.theta)?;
        if self.theta <= 1.0 {
            return Err(RopeError::InvalidParameter {
                name: "theta",
                value: self.theta,
                reason: "must be > 1 (theta^(-2k/d) must decrease)",
            });
        }
        self.rotation.validate(self.head_dim)?;
        let r = self.rotary_dim();
        self.scaling.validate(r)?;
        if let Some(x) = &self.xpos {
            x.validate()?;
        }
        match &self.axes {
            Axes::Sequence => {}
            Axes::Axial2d => {
                if !r.is_multiple_of(4) {
                    return Err(RopeError::Unsupported {
                        what: format!("2-D axial RoPE needs rotary_dim % 4 == 0, got {r}"),
                    });
                }
                let mut probe = vec![1.0];
                self.scaling.rescale_per_frequency(&mut probe)?;
            }
            Axes::MRope { sections } | Axes::MRopeInterleaved { sections } => {
                let sum: usize = sections.iter().sum();
                if sum != r / 2 || sections.is_empty() {
                    return Err(RopeError::MropeSections {
                        sections: sections.clone(),
                        sum,
                        expected: r / 2,
                    });
                }
                if matches!(self.axes, Axes::MRopeInterleaved { .. }) && sections.len() != 3 {
                    return Err(RopeError::Unsupported {
                        what: format!(
                            "interleaved M-RoPE needs three sections [t, h, w], got {sections:?}"
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Validates and builds the encoding.
    ///
    /// # Errors
    /// See [`RopeConfig::validate`].
    pub fn init(self) -> Result<Rope> {
        self.validate()?;
        Ok(Rope::from_validated(self))
    }

    /// Frequencies of every slot at sequence length `seq_len` (p-RoPE/NoPE zeroing applied).
    /// Only call on a validated config (the [`Rope`] does).
    pub(crate) fn frequencies_unchecked(&self, seq_len: usize) -> Frequencies {
        let r = self.rotary_dim();
        let mut f = match self.axes {
            Axes::Axial2d => {
                let half = inv_freq_unchecked(r / 2, self.theta);
                let mut inv_freq: Vec<f64> = half.iter().chain(half.iter()).copied().collect();
                // validated: only per-frequency scalings reach this point
                let attention_factor = self
                    .scaling
                    .rescale_per_frequency(&mut inv_freq)
                    .unwrap_or(1.0);
                Frequencies {
                    inv_freq,
                    attention_factor,
                }
            }
            _ => self.scaling.frequencies_unchecked(r, self.theta, seq_len),
        };
        self.rotation.mask(self.head_dim, &mut f.inv_freq);
        f
    }
}
