//! The per-token device pass: every statistic the metrics need, from one max-shift and one
//! log-sum-exp per row.
//!
//! For a row of logits $x \in \mathbb{R}^V$ and target $t$, with $m = \max_j x_j$ and
//! $S = \sum_j e^{x_j - m}$ (so $1 \le S \le V$):
//!
//! | statistic | formula |
//! |---|---|
//! | NLL | $-\log p_t = (m - x_t) + \ln S$ |
//! | correct | $[x_t = m]$ (the target attains the maximum; ties count as correct) |
//! | confidence | $\max_j p_j = 1/S$ |
//! | entropy | $H(p) = \ln S - \sum_j p_j (x_j - m)$ (nats) |
//! | Brier | $\sum_j (p_j - [j = t])^2 = \sum_j p_j^2 - 2p_t + 1$ |
//!
//! [`token_stats_reference`] computes the table in composed tensor ops; on Flex,
//! [`token_stats`] runs the fused pass of [`crate::kernel`] instead (no `[n, vocab]`
//! temporary), tested equal to it. [`token_nll_reference`] is the textbook NLL
//! (`log_softmax` + `gather`, exactly what burn-train's `PerplexityMetric` does), the
//! independent check of both.
//!
//! ## Overflow
//!
//! The NLL is returned **halved**, $\tfrac12(m - x_t) + \tfrac12 \ln S$, computed as
//! `0.5·m − 0.5·x_t + 0.5·ln S`: for any finite `f32` logits every intermediate stays finite
//! (`m − x_t` alone overflows `f32` once the logits span more than `f32::MAX`, e.g. ±2e38).
//! The host doubles it in `f64`. The shifted logits $x_j - m$ are clamped at `f32::MIN`
//! before they multiply $p_j$ in the entropy, so a shift that overflows to $-\infty$ (where
//! $p_j = 0$) adds $0$, not `NaN`.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

use crate::error::{PerplexityError, Result};

/// Number of statistics per token in the output of [`token_stats`].
pub const STATS: usize = 5;
/// Column of [`token_stats`]: half the negative log-likelihood, $\tfrac12(-\log p_t)$.
pub const HALF_NLL: usize = 0;
/// Column of [`token_stats`]: `1.0` if the target attains the row maximum, else `0.0`.
pub const CORRECT: usize = 1;
/// Column of [`token_stats`]: the confidence $\max_j p_j$.
pub const CONFIDENCE: usize = 2;
/// Column of [`token_stats`]: the entropy $H(p)$ in nats.
pub const ENTROPY: usize = 3;
/// Column of [`token_stats`]: the multi-class Brier score $\sum_j (p_j - [j=t])^2$.
pub const BRIER: usize = 4;

/// Per-token statistics of `logits` `[n, vocab]` against `targets` `[n]` (every target in
/// `0..vocab`, checked), as an `[n, STATS]` tensor with the columns
/// [`HALF_NLL`], [`CORRECT`], [`CONFIDENCE`], [`ENTROPY`], [`BRIER`] (see the module docs for
/// the formulas).
///
/// On Flex (f32/f64, with or without autodiff) this is the fused pass of [`crate::kernel`]:
/// `O(n)` extra memory, no gradient. Elsewhere it is [`token_stats_reference`].
///
/// `NaN`/`+∞` in a row, or a fully masked row, gives `NaN` statistics (the fused path makes
/// every column `NaN`; the reference leaves `correct` at 0).
///
/// # Errors
/// [`PerplexityError::ShapeMismatch`] unless `targets` has one id per row of `logits` and
/// the vocabulary is non-empty (when there are rows); [`PerplexityError::TargetOutOfRange`]
/// for an id outside `0..vocab` (checked on the host: one read of the ids' minimum and
/// maximum — out-of-range ids would panic inside Burn's `gather` on some backends and read
/// garbage on others); [`PerplexityError::Readback`].
pub fn token_stats(logits: Tensor<2>, targets: Tensor<1, Int>) -> Result<Tensor<2>> {
    check_token_inputs(&logits, &targets)?;
    Ok(token_stats_unchecked(logits, targets))
}

/// [`token_stats`] on inputs the caller has validated (the accumulator reads the ids anyway).
pub(crate) fn token_stats_unchecked(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<2> {
    #[cfg(feature = "flex")]
    if crate::kernel::fused_available(&logits) {
        return crate::kernel::fused_token_stats(logits, targets);
    }
    stats_reference(logits, targets)
}

/// Shapes and target range of a per-token call.
fn check_token_inputs(logits: &Tensor<2>, targets: &Tensor<1, Int>) -> Result<()> {
    let [n, vocab] = logits.dims();
    let [len] = targets.dims();
    if len != n {
        return Err(PerplexityError::ShapeMismatch {
            op: "token_stats",
            detail: format!("logits are [{n}, {vocab}] but targets are [{len}]"),
        });
    }
    if n == 0 {
        return Ok(());
    }
    if vocab == 0 {
        return Err(PerplexityError::ShapeMismatch {
            op: "token_stats",
            detail: "the vocabulary (last dim of logits) is empty".into(),
        });
    }
    let ids: Vec<i64> = targets
        .clone()
        .try_into_vec_as::<i64>()
        .map_err(PerplexityError::from)?;
    if let Some((position, &id)) = ids
        .iter()
        .enumerate()
        .find(|(_, id)| **id < 0 || **id as u64 >= vocab as u64)
    {
        return Err(PerplexityError::TargetOutOfRange {
            id,
            position,
            vocab,
            ignore_index: None,
        });
    }
    Ok(())
}

/// [`token_stats`] in composed tensor ops: one max, one exp, one sum over the vocabulary plus
/// three cheap reductions, with several `[n, vocab]` temporaries alive during the call. The
/// oracle of the fused pass and the path of every backend without it.
///
/// # Errors
/// As [`token_stats`].
pub fn token_stats_reference(logits: Tensor<2>, targets: Tensor<1, Int>) -> Result<Tensor<2>> {
    check_token_inputs(&logits, &targets)?;
    Ok(stats_reference(logits, targets))
}

fn stats_reference(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<2> {
    if logits.dims()[0] == 0 {
        return Tensor::zeros([0, STATS], &logits.device());
    }
    let t = targets.unsqueeze_dim::<2>(1); // [n, 1]
    let m = logits.clone().max_dim(1); // [n, 1]
    let x_t = logits.clone().gather(1, t); // [n, 1]
    let shifted = logits - m.clone(); // x − m ≤ 0 (may overflow to −∞: exp gives 0)
    let e = shifted.clone().exp();
    let s = e.clone().sum_dim(1); // [n, 1], in [1, V]
    let ln_s = s.clone().log();
    let p = e / s.clone();
    let half_nll =
        m.clone().mul_scalar(0.5) - x_t.clone().mul_scalar(0.5) + ln_s.clone().mul_scalar(0.5);
    let correct = x_t.clone().greater_equal(m.clone()).float();
    let confidence = s.clone().recip();
    let entropy = ln_s - (p.clone() * shifted.clamp_min(f32::MIN)).sum_dim(1);
    let p_t = (x_t - m).exp() / s;
    let brier = p.square().sum_dim(1) - p_t.mul_scalar(2.0) + 1.0;
    Tensor::cat(vec![half_nll, correct, confidence, entropy, brier], 1)
}

/// The composed reference for the per-token NLL: $-\log\operatorname{softmax}(x)_t$ via Burn's
/// `log_softmax` then `gather`, shape `[n]`. This is the computation of burn-train's
/// `PerplexityMetric`; it is kept public so the fused [`token_stats`] can be checked against
/// it (it overflows to `+∞` where [`token_stats`] does not, see the module docs).
///
/// # Errors
/// As [`token_stats`].
pub fn token_nll_reference(logits: Tensor<2>, targets: Tensor<1, Int>) -> Result<Tensor<1>> {
    check_token_inputs(&logits, &targets)?;
    if logits.dims()[0] == 0 {
        return Ok(Tensor::zeros([0], &logits.device()));
    }
    Ok(log_softmax(logits, 1)
        .gather(1, targets.unsqueeze_dim::<2>(1))
        .squeeze_dim::<1>(1)
        .neg())
}
