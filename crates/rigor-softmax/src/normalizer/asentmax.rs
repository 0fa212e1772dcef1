//! **ASEntmax**, adaptive-scalable α-entmax (Vasylenko, Treviso, Martins et al., ICLR 2026,
//! arXiv 2506.16640; code `deep-spin/asentmax`, `SparseGemma2Attention` with
//! `attn_scale_type="learn"`): α-entmax whose scores are multiplied by a learnable,
//! position-dependent temperature per head,
//!
//! $$ w_{h,i\cdot} = \alpha\text{-entmax}\big(s_{h,i}\\, z_{h,i\cdot}\big), \qquad
//!    s_{h,i} = \delta + \beta_h\\, \big(\ln(p_i + 2)\big)^{\gamma_h}, \qquad
//!    p_i = k_{\text{len}} - q_{\text{len}} + i , $$
//!
//! with $\delta = 1$ a constant, $\beta_h, \gamma_h$ one learnable scalar per head (the reference
//! initialises $\beta \sim U(0.1, 1)$, $\gamma \sim \mathcal N(0, 0.1)$) and $\alpha$ fixed (1.5 in
//! the authors' configs). $p_i$ is the **absolute position of query row $i$** (so $\ln(p_i + 2)$ is
//! $\ln(\text{visible keys} + 1)$ for a causal row), not the number of unmasked keys: the scale is
//! SSMax's $s \ln n$ generalised, and sparse α-entmax keeps the largest weight from dispersing as
//! $n$ grows (*Softmax is not Enough*, Lemma 2.1 does not apply to it).
//!
//! As the reference code does, the scale multiplies the scores (the query) **before** the mask is
//! added, so masked entries carry no scale and give no gradient to $\beta$ or $\gamma$. Golden
//! values, weights and the gradients of the scores, $\beta$ and $\gamma$ from the authors' module
//! run with `entmax==1.3`'s `entmax_bisect`: `tests/golden/new_normalizers/` (formulas as coded in
//! its README).
//!
//! Differences from the reference, all where it would give `NaN` or overflow:
//! - the row maximum (detached) is subtracted before the scale is applied (entmax is
//!   shift-invariant, in value and gradient), so a large $s$ cannot overflow huge finite
//!   scores to `±∞`;
//! - a fully masked row gives zeros (the reference: `NaN`), rigor's convention for masks.
//!
//! $s \le 0$ is not refused ($\beta$ and $\gamma$ are learned and may wander): $s = 0$ gives the
//! uniform distribution over the unmasked keys, $s < 0$ reverses the order of the scores. `NaN` in
//! a row of scores, in $\beta$ or in $\gamma$ makes the affected rows `NaN`; `+∞` scores make the
//! row `NaN`. On Flex α-entmax runs the fused exact-threshold kernel with its fused backward.

use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SoftmaxError};
use crate::normalize::Normalize;
use crate::normalizer::Normalizer;
use crate::normalizer::entmax::Entmax;
use crate::validate::scale_keeping_masks;

/// δ of the reference (`attn_scale_delta`, default 1).
pub const ASENTMAX_DEFAULT_DELTA: f64 = 1.0;

/// The fixed part of ASEntmax — α and δ — validated on construction (see the
/// [module docs](self)). The learnable β and γ are passed to [`AsEntmax::apply`]
/// (rigor-nn's attention holds them as `Param`s) or fixed with [`AsEntmax::with_heads`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "AsEntmaxConfig", into = "AsEntmaxConfig")]
pub struct AsEntmax {
    entmax: Entmax,
    delta: f64,
}

/// Serializable form of [`AsEntmax`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AsEntmaxConfig {
    /// α > 1 of α-entmax (fixed, not learned; the authors use 1.5).
    pub alpha: f64,
    /// The constant $\delta$ of $s = \delta + \beta \ell^\gamma$ (finite; the reference's
    /// default 1).
    pub delta: f64,
}

impl TryFrom<AsEntmaxConfig> for AsEntmax {
    type Error = SoftmaxError;
    fn try_from(c: AsEntmaxConfig) -> Result<Self> {
        AsEntmax::new(c.alpha)?.with_delta(c.delta)
    }
}

impl From<AsEntmax> for AsEntmaxConfig {
    fn from(a: AsEntmax) -> Self {
        Self {
            alpha: a.entmax.alpha(),
            delta: a.delta,
        }
    }
}

impl AsEntmax {
    /// ASEntmax with α-entmax of this α and δ = [`ASENTMAX_DEFAULT_DELTA`].
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidAlpha`] unless α is finite and `> 1`.
    pub fn new(alpha: f64) -> Result<Self> {
        Ok(Self {
            entmax: Entmax::new(alpha)?,
            delta: ASENTMAX_DEFAULT_DELTA,
        })
    }

    /// Sets the constant δ.
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidParameter`] if δ is not finite.
    pub fn with_delta(mut self, delta: f64) -> Result<Self> {
        self.delta = crate::error::finite("delta", delta)?;
        Ok(self)
    }

    /// α.
    pub fn alpha(self) -> f64 {
        self.entmax.alpha()
    }

    /// δ.
    pub fn delta(self) -> f64 {
        self.delta
    }

    /// The α-entmax it applies after scaling.
    pub fn entmax(self) -> Entmax {
        self.entmax
    }

    /// $\ell_i = \ln(p_i + 2)$ for the query rows of `[.., s_q, s_k]` scores, with
    /// $p_i = s_k - s_q + i$ (the reference's `log(arange(2, max_pos + 2))` indexed by
    /// position).
    ///
    /// # Errors
    /// [`SoftmaxError::ShapeMismatch`] if `s_q > s_k` (a query row would sit before position 0).
    pub fn log_positions(s_q: usize, s_k: usize) -> Result<Vec<f64>> {
        if s_q > s_k {
            return Err(SoftmaxError::ShapeMismatch {
                op: "asentmax",
                detail: format!(
                    "{s_q} query rows but {s_k} keys: the rows' absolute positions s_k - s_q + i would be negative"
                ),
            });
        }
        let first = s_k - s_q;
        Ok((0..s_q).map(|i| ((first + i) as f64 + 2.0).ln()).collect())
    }

    /// The scales $s_{h,i} = \delta + \beta_h \ell_i^{\gamma_h}$ as a `[1, heads, s_q, 1]`
    /// tensor, differentiable in `beta` and `gamma` (`[heads]`, or `[1]` for one value shared
    /// by every head). $\ell^\gamma$ is computed as $e^{\gamma \ln \ell}$ ($\ell \ge \ln 2 > 0$).
    ///
    /// # Errors
    /// [`SoftmaxError::ShapeMismatch`] if `beta` / `gamma` have neither 1 nor `heads` entries,
    /// or `s_q > s_k`.
    pub fn scales(
        self,
        beta: Tensor<1>,
        gamma: Tensor<1>,
        heads: usize,
        s_q: usize,
        s_k: usize,
    ) -> Result<Tensor<4>> {
        for (name, t) in [("beta", &beta), ("gamma", &gamma)] {
            let n = t.dims()[0];
            if n != 1 && n != heads {
                return Err(SoftmaxError::ShapeMismatch {
                    op: "asentmax",
                    detail: format!("{name} has {n} entries; need 1 or one per head ({heads})"),
                });
            }
        }
        let ell = Self::log_positions(s_q, s_k)?;
        let device = beta.device();
        let ln_ell: Vec<f32> = ell.iter().map(|l| l.ln() as f32).collect();
        let ln_ell = Tensor::<4>::from_data(TensorData::new(ln_ell, [1, 1, s_q, 1]), &device);
        let hb = beta.dims()[0];
        let hg = gamma.dims()[0];
        let beta = beta.reshape([1, hb, 1, 1]);
        let gamma = gamma.reshape([1, hg, 1, 1]);
        let powered = (gamma * ln_ell).exp(); // [1, hg, s_q, 1]
        Ok(beta * powered + self.delta)
    }

    /// ASEntmax weights of `scores` `[batch, heads, s_q, s_k]` along the last dimension with
    /// per-head `beta` and `gamma` (`[heads]` or `[1]`; gradients flow to them and to the
    /// scores). See the [module docs](self) for masks, `NaN` and the shift.
    ///
    /// # Errors
    /// [`SoftmaxError::ShapeMismatch`] for `beta`/`gamma` of the wrong length or `s_q > s_k`.
    pub fn apply(self, scores: Tensor<4>, beta: Tensor<1>, gamma: Tensor<1>) -> Result<Tensor<4>> {
        let [_, heads, s_q, s_k] = scores.dims();
        let s = self.scales(beta, gamma, heads, s_q, s_k)?;
        if scores.shape().num_elements() == 0 {
            return Ok(scores);
        }
        let scaled = scale_keeping_masks(scores, s, 3);
        Normalizer::Entmax(self.entmax).apply(scaled, -1)
    }

    /// Fixes β and γ per head (e.g. read from a trained model), giving a [`Normalize`].
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidParameter`] for a non-finite β or γ;
    /// [`SoftmaxError::ShapeMismatch`] if the two lists differ in length or are empty.
    pub fn with_heads(self, beta: Vec<f64>, gamma: Vec<f64>) -> Result<AsEntmaxHeads> {
        if beta.is_empty() || beta.len() != gamma.len() {
            return Err(SoftmaxError::ShapeMismatch {
                op: "asentmax",
                detail: format!(
                    "{} β and {} γ values; need the same non-zero number (1, or one per head)",
                    beta.len(),
                    gamma.len()
                ),
            });
        }
        for &b in &beta {
            crate::error::finite("beta", b)?;
        }
        for &g in &gamma {
            crate::error::finite("gamma", g)?;
        }
        Ok(AsEntmaxHeads {
            config: self,
            beta,
            gamma,
        })
    }
}

/// ASEntmax with fixed per-head β and γ ([`AsEntmax::with_heads`]): a [`Normalize`] for
/// attention code that takes any normalizer. `beta.len()` must be 1 or the scores' number of
/// heads, as for [`AsEntmax::apply`].
#[derive(Debug, Clone, PartialEq)]
pub struct AsEntmaxHeads {
    config: AsEntmax,
    beta: Vec<f64>,
    gamma: Vec<f64>,
}

impl AsEntmaxHeads {
    /// α and δ.
    pub fn config(&self) -> AsEntmax {
        self.config
    }

    /// β per head.
    pub fn beta(&self) -> &[f64] {
        &self.beta
    }

    /// γ per head.
    pub fn gamma(&self) -> &[f64] {
        &self.gamma
    }
}

impl Normalize for AsEntmaxHeads {
    /// `asentmax(α=…)`.
    fn name(&self) -> String {
        format!("asentmax(α={})", self.config.alpha())
    }

    fn normalize(&self, scores: Tensor<4>) -> Result<Tensor<4>> {
        let device = scores.device();
        let f = |v: &[f64]| {
            let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            let n = v.len();
            Tensor::<1>::from_data(TensorData::new(v, [n]), &device)
        };
        self.config.apply(scores, f(&self.beta), f(&self.gamma))
    }
}
