//! Lemma 2.1 and Proposition 3.1 of *Softmax is not Enough* (Veličković et al., ICML 2025).
//!
//! **Lemma 2.1.** For logits $e_1, \dots, e_n$ with $m \le e_k \le M$, spread
//! $\delta = M - m$ and temperature $\theta > 0$, every weight satisfies
//! $$\frac{1}{n} e^{-\delta/\theta} \\;\le\\; \operatorname{softmax}\_\theta(e)\_k
//!   \\;\le\\; \frac{1}{n} e^{\delta/\theta},$$
//! and the largest weight satisfies the tighter
//! $$\max_k \operatorname{softmax}_\theta(e)_k \le \frac{e^{\delta/\theta}}{e^{\delta/\theta} + n - 1},$$
//! attained by one logit at $M$ and $n-1$ at $m$. With $\delta$ bounded, every weight $\to 0$ as
//! $n \to \infty$.
//!
//! **Proposition 3.1.** For a query $y$, keys $x_i$ and logits
//! $e_i = (y W_Q) \cdot (x_i W_K)$:
//! $\delta \le 2\\,\sigma_{\max}(W_Q)\\,\sigma_{\max}(W_K)\\,
//! \lVert y\rVert \max_i \lVert x_i\rVert$.

use burn::tensor::Tensor;
use serde::Serialize;

use crate::error::{Result, SoftmaxError, finite};
use crate::normalizer::softmax::Temperature;
use crate::validate::{masked, resolve_dim};

/// The Lemma 2.1 bounds for one `(n, δ, θ)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DispersionBounds {
    /// $e^{-\delta/\theta}/n$: no weight is smaller.
    pub lower: f64,
    /// $e^{\delta/\theta}/n$: no weight is larger (can exceed 1, i.e. be vacuous, for small n).
    pub upper: f64,
    /// $e^{\delta/\theta}/(e^{\delta/\theta} + n - 1)$: the largest weight is at most this,
    /// and the extremal row attains it.
    pub tight_max: f64,
}

fn check_n_spread(n: usize, spread: f64) -> Result<()> {
    if n == 0 {
        return Err(SoftmaxError::InvalidParameter {
            name: "n",
            value: 0.0,
            reason: "must be >= 1",
        });
    }
    if !(spread.is_finite() && spread >= 0.0) {
        return Err(SoftmaxError::InvalidParameter {
            name: "spread",
            value: spread,
            reason: "must be finite and >= 0",
        });
    }
    Ok(())
}

/// Lemma 2.1's bounds for `n` items of spread `spread` (= δ) at temperature θ.
///
/// # Errors
/// [`SoftmaxError::InvalidParameter`] if `n == 0` or δ is negative or not finite.
pub fn lemma_2_1(n: usize, spread: f64, temperature: Temperature) -> Result<DispersionBounds> {
    check_n_spread(n, spread)?;
    let r = spread / temperature.theta();
    let nf = n as f64;
    Ok(DispersionBounds {
        lower: (-r).exp() / nf,
        upper: r.exp() / nf,
        // 1 / (1 + (n − 1) e^{−r}) is the same quantity without overflow for large r.
        tight_max: 1.0 / (1.0 + (nf - 1.0) * (-r).exp()),
    })
}

/// The spread $\delta$ a row of `n` items needs so that its largest softmax weight can reach
/// `max_weight` at temperature $\theta$ (the inverse of the tight bound):
/// $\delta = \theta \ln\bigl((n-1)\\,w/(1-w)\bigr)$, and `0` when $w \le 1/n$.
///
/// It grows like $\theta \ln n$: keeping a head sharp on ever larger inputs needs ever larger
/// logits, which bounded Transformers cannot supply (Theorem 2.2).
///
/// # Errors
/// [`SoftmaxError::InvalidParameter`] if `n == 0` or `max_weight ∉ (0, 1)`.
pub fn spread_needed(n: usize, max_weight: f64, temperature: Temperature) -> Result<f64> {
    check_n_spread(n, 0.0)?;
    if !(max_weight > 0.0 && max_weight < 1.0) {
        return Err(SoftmaxError::InvalidParameter {
            name: "max_weight",
            value: max_weight,
            reason: "must be in (0, 1)",
        });
    }
    if n == 1 || max_weight <= 1.0 / n as f64 {
        return Ok(0.0);
    }
    Ok(temperature.theta() * (((n - 1) as f64) * max_weight / (1.0 - max_weight)).ln())
}

/// Proposition 3.1: $2\\,\sigma_Q\\,\sigma_K\\,\lVert y\rVert\\,\max_i\lVert x_i\rVert$, an upper
/// bound on the spread of the logits $e_i = (yW_Q)\cdot(x_iW_K)$.
///
/// Logits scaled by $1/\sqrt{d_k}$ have their spread (and this bound) scaled the same way.
///
/// # Errors
/// [`SoftmaxError::InvalidParameter`] if an argument is negative or not finite, or the bound
/// overflows `f64`.
pub fn prop_3_1_spread_bound(
    sigma_q: f64,
    sigma_k: f64,
    query_norm: f64,
    max_key_norm: f64,
) -> Result<f64> {
    for (name, v) in [
        ("sigma_q", sigma_q),
        ("sigma_k", sigma_k),
        ("query_norm", query_norm),
        ("max_key_norm", max_key_norm),
    ] {
        finite(name, v)?;
        if v < 0.0 {
            return Err(SoftmaxError::InvalidParameter {
                name,
                value: v,
                reason: "must be >= 0",
            });
        }
    }
    let bound = 2.0 * sigma_q * sigma_k * query_norm * max_key_norm;
    if !bound.is_finite() {
        return Err(SoftmaxError::InvalidParameter {
            name: "spread bound",
            value: bound,
            reason: "the product 2 σ_Q σ_K ‖y‖ max‖x‖ overflows f64",
        });
    }
    Ok(bound)
}

/// The spread $\delta = \max_k e_k - \min_k e_k$ of each row along `dim`, over **unmasked**
/// entries (size-1 `dim`). A fully masked row and a row of no items have spread 0; a row with
/// `NaN` gives `NaN`, one with `+∞` (and no `NaN`) `+∞`, and a spread beyond `f32::MAX` (e.g.
/// `±3e38`) is `+∞`.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn spread<const D: usize>(logits: Tensor<D>, dim: isize) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(spread_resolved(logits, dim))
}

pub(crate) fn spread_resolved<const D: usize>(logits: Tensor<D>, dim: usize) -> Tensor<D> {
    if logits.dims()[dim] == 0 {
        return crate::validate::reduced_zeros(&logits, dim);
    }
    let mask = masked(&logits);
    let max = logits.clone().max_dim(dim);
    let min = logits.mask_fill(mask, f32::INFINITY).min_dim(dim);
    let empty = max.clone().equal_elem(f32::NEG_INFINITY);
    (max - min).mask_fill(empty, 0.0)
}
