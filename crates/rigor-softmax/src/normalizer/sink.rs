//! Softmax with a learnable **attention-sink logit** (OpenAI's gpt-oss, 2025; HF transformers'
//! `GptOssAttention.sinks`): an extra logit $b$ per head that enters the denominator only,
//!
//! $$ w_k = \frac{e^{z_k}}{e^{b} + \sum_j e^{z_j}} , $$
//!
//! so a head can put mass $e^b/(e^b + \sum_j e^{z_j})$ on "nothing". $b = 0$ is softmax1
//! ([`super::quiet`]); $b \to -\infty$ is softmax. transformers computes it by appending $b$
//! as a last column, subtracting the row maximum, taking softmax and dropping the column —
//! the same numbers; rigor never forms the extra column. The weights of a row sum to
//! $1 - e^b/(e^b + \sum_j e^{z_j}) < 1$.

use burn::tensor::Tensor;

use crate::error::{Result, SoftmaxError};
use crate::validate::resolve_dim;

/// Softmax with a sink logit along `dim`: $w_k = e^{z_k} / (e^{b} + \sum_j e^{z_j})$,
/// computed as $e^{z_k - m} / (e^{b - m} + \sum_j e^{z_j - m})$ with
/// $m = \max(b, \max_j z_j)$, so huge finite logits and sinks do not overflow.
///
/// `sink` broadcasts against `logits` and has size 1 along `dim` — e.g. `[1, heads, 1, 1]`
/// for one learnable sink per head of `[batch, heads, s_q, s_k]` scores. Gradients flow to
/// both (`∂w_k/∂b = −w_k · p_sink`, `p_sink = e^b/(e^b + Σ_j e^{z_j})`).
///
/// Masked (`−∞`) logits get weight 0; a fully masked row gives zeros (all mass on the sink;
/// with a `−∞` sink too, nothing is left to normalise and the row is `NaN`);
/// a `NaN` or `+∞` logit, or a `NaN` / `+∞` sink, makes the row `NaN` (`+∞` sink: `0/∞`
/// would be a silent 0, so rigor returns `NaN` there as the reference code's softmax does).
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist; [`SoftmaxError::ShapeMismatch`] if
/// `sink` does not broadcast or is not of size 1 along `dim`.
pub fn softmax_with_sink<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    sink: Tensor<D>,
) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    let ls = logits.dims();
    let ss = sink.dims();
    if ss[dim] != 1 || ls.iter().zip(ss.iter()).any(|(&l, &s)| s != 1 && s != l) {
        return Err(SoftmaxError::ShapeMismatch {
            op: "softmax_with_sink",
            detail: format!(
                "sink {ss:?} must broadcast against logits {ls:?} with size 1 along dim {dim}"
            ),
        });
    }
    if logits.shape().num_elements() == 0 {
        return Ok(logits);
    }
    let mut row_shape = ls;
    row_shape[dim] = 1;
    let sink = sink.expand(row_shape);
    // m = max(b, row max): −∞ rows (fully masked) take b; the shift is detached (the weights
    // do not depend on it).
    let m = logits
        .clone()
        .detach()
        .max_dim(dim)
        .max_pair(sink.clone().detach());
    // A +∞ sink: make the row NaN rather than 0/∞ = 0.
    let m = m
        .clone()
        .mask_fill(m.clone().equal_elem(f32::INFINITY), f32::NAN);
    let e = (logits - m.clone()).exp();
    let denominator = e.clone().sum_dim(dim) + (sink - m).exp();
    Ok(e / denominator)
}

/// Fixed sink logits, one per head (or one for all), as a [`Normalize`](crate::Normalize):
/// [`softmax_with_sink`] over scores `[batch, heads, s_q, s_k]` with $b_h$ = `sinks[h]`. For
/// learned sinks, keep them as a parameter of the attention (rigor-nn's
/// `LearnedNormalizer::Sinks`) and call [`softmax_with_sink`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sinks {
    sinks: Vec<f64>,
}

impl Sinks {
    /// Sink logits per head (`[b]` for one shared by every head).
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidParameter`] if the list is empty or a value is not finite.
    pub fn new(sinks: Vec<f64>) -> Result<Self> {
        if sinks.is_empty() {
            return Err(SoftmaxError::InvalidParameter {
                name: "sinks",
                value: 0.0,
                reason: "need at least one sink logit",
            });
        }
        for &b in &sinks {
            crate::error::finite("sink", b)?;
        }
        Ok(Self { sinks })
    }

    /// The sink logits.
    pub fn sinks(&self) -> &[f64] {
        &self.sinks
    }
}

impl crate::normalize::Normalize for Sinks {
    /// `sinks(b=…)`.
    fn name(&self) -> String {
        format!("sinks(b={:?})", self.sinks)
    }

    fn normalize(&self, scores: Tensor<4>) -> Result<Tensor<4>> {
        let h = self.sinks.len();
        let heads = scores.dims()[1];
        if h != 1 && h != heads {
            return Err(SoftmaxError::ShapeMismatch {
                op: "Sinks::normalize",
                detail: format!("{h} sink logits for {heads} heads; need 1 or one per head"),
            });
        }
        let v: Vec<f32> = self.sinks.iter().map(|&b| b as f32).collect();
        let sink = Tensor::<1>::from_data(burn::tensor::TensorData::new(v, [h]), &scores.device())
            .reshape([1, h, 1, 1]);
        softmax_with_sink(scores, -1, sink)
    }

    fn sums_to_one(&self) -> bool {
        false
    }
}
