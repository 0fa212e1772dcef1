//! Llama 4's attention **temperature tuning** (Meta, 2025; HF transformers'
//! `Llama4TextAttention`, on its NoPE layers): the query at position $p$ is scaled by
//!
//! $$ \tau(p) = 1 + a \\,\ln\\!\big(1 + \lfloor (p + 1) / f \rfloor\big) , $$
//!
//! ($f$ = `floor_scale`, 8192 in the released models; $a$ = `attn_scale`, 0.1), so the
//! attention to far-away context sharpens as the position grows — a step-wise cousin of SSMax's
//! $s \ln n$ (the comment in transformers cites arXiv 2501.19399). Scores are linear in the query,
//! so scaling the query is scaling row $p$ of the scores: weights
//! $\operatorname{softmax}(\tau(p)\\, e_{p\cdot})$. As a [`Normalize`] it sees scores
//! `[batch, heads, s_q, s_k]` whose query rows sit at positions `offset..offset + s_q`.

use burn::tensor::{Tensor, TensorData};

use crate::error::{Result, SoftmaxError};
use crate::normalize::Normalize;
use crate::normalizer::Normalizer;
use crate::normalizer::softmax::safe_row_max;

/// Llama 4's position-dependent query temperature as an attention normalizer (see the
/// [module docs](self)). Build with [`Llama4Temperature::new`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Llama4Temperature {
    floor_scale: f64,
    attn_scale: f64,
    offset: usize,
}

impl Default for Llama4Temperature {
    /// The released Llama 4 models' values: `floor_scale` 8192, `attn_scale` 0.1.
    fn default() -> Self {
        Self {
            floor_scale: 8192.0,
            attn_scale: 0.1,
            offset: 0,
        }
    }
}

impl Llama4Temperature {
    /// `floor_scale` $f$ (finite, `> 0`) and `attn_scale` $a$ (finite, `≥ 0`, so
    /// $\tau \ge 1$ and the scaling cannot flip the scores).
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidParameter`] otherwise.
    pub fn new(floor_scale: f64, attn_scale: f64) -> Result<Self> {
        if !(floor_scale.is_finite() && floor_scale > 0.0) {
            return Err(SoftmaxError::InvalidParameter {
                name: "floor_scale",
                value: floor_scale,
                reason: "must be finite and > 0",
            });
        }
        if !(attn_scale.is_finite() && attn_scale >= 0.0) {
            return Err(SoftmaxError::InvalidParameter {
                name: "attn_scale",
                value: attn_scale,
                reason: "must be finite and >= 0",
            });
        }
        Ok(Self {
            floor_scale,
            attn_scale,
            offset: 0,
        })
    }

    /// The position of the first query row (the number of cached tokens when decoding).
    pub fn with_offset(mut self, offset: usize) -> Self {
        self.offset = offset;
        self
    }

    /// The first query row's position.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// $\tau(p) = 1 + a \ln(1 + \lfloor (p + 1)/f \rfloor)$, in `f64` (exact for every
    /// `usize` position; the floor is taken in `f64` as transformers takes it in `f32`, which
    /// differs only for positions past $2^{24}$).
    pub fn scale(&self, position: usize) -> f64 {
        ((position as f64 + 1.0) / self.floor_scale).floor().ln_1p() * self.attn_scale + 1.0
    }

    /// $\operatorname{softmax}(\tau(p)\\,e_{p\cdot})$ along `dim = -1` of scores whose rows
    /// (`dim = -2`) are query positions `offset..`. The row maximum is subtracted before the
    /// scaling, so huge finite scores cannot overflow ($\tau \ge 1$ only pushes the others
    /// further below 0); masked (`−∞`) keys get 0, fully masked rows zeros, `NaN`/`+∞` rows
    /// `NaN`. Fused softmax on Flex; differentiable everywhere.
    fn apply4(&self, scores: Tensor<4>) -> Result<Tensor<4>> {
        let s_q = scores.dims()[2];
        if scores.shape().num_elements() == 0 {
            return Ok(scores);
        }
        let tau: Vec<f32> = (0..s_q)
            .map(|i| self.scale(self.offset + i) as f32)
            .collect();
        let tau = Tensor::<4>::from_data(TensorData::new(tau, [1, 1, s_q, 1]), &scores.device());
        let shifted = scores.clone() - safe_row_max(&scores, 3);
        Normalizer::softmax().apply(shifted * tau, -1)
    }
}

impl Normalize for Llama4Temperature {
    /// `llama4-τ(f=…, a=…)`.
    fn name(&self) -> String {
        format!("llama4-τ(f={}, a={})", self.floor_scale, self.attn_scale)
    }

    fn normalize(&self, scores: Tensor<4>) -> Result<Tensor<4>> {
        self.apply4(scores)
    }
}
