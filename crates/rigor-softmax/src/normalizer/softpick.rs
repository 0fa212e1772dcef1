//! Softpick, the rectified softmax of Zuhri, Fuadi & Aji (2025, arXiv 2504.20966, "Softpick:
//! No Attention Sink, No Massive Activations with Rectified Softmax"):
//!
//! $$ \operatorname{softpick}(x)_i = \frac{\operatorname{ReLU}(e^{x_i} - 1)}{\sum_j |e^{x_j} - 1| + \varepsilon} ,
//!    \qquad \varepsilon = 10^{-8} , $$
//!
//! computed as the authors' reference (`naive_softpick_attn.py`, `softpick(x, dim, eps=1e-8)`)
//! computes it, after a shift by $m$: $u_j = e^{x_j - m} - e^{-m}$,
//! $w_i = \operatorname{ReLU}(u_i) / (\sum_j |u_j| + \varepsilon)$ (so $\varepsilon$ acts as
//! $\varepsilon e^{m}$ unshifted). Entries with $x_i \le 0$ get weight exactly 0 and rows sum to
//! less than one whenever some entry is negative. Golden values from that reference:
//! `tests/golden/new_normalizers/`.
//!
//! Differences from the reference, all where it would give `NaN`:
//! - the shift is $m = \max(0, \max_j x_j)$ rather than $\max_j x_j$; equal whenever any
//!   weight is non-zero (a row whose maximum is below 0 has all-zero weights either way), and
//!   rows of very negative logits do not overflow $e^{-m}$;
//! - a fully masked row gives zeros (the reference: `NaN`), rigor's convention for masks.
//!
//! Masked (`−∞`) entries are left out of the denominator (as in the reference) and get weight
//! and gradient 0. `NaN` or `+∞` makes the row `NaN`. The gradient is autodiff's through these
//! ops (max detached; an entry exactly at 0 gets gradient 0, as with torch's ReLU).

use burn::tensor::Tensor;

/// ε of the authors' naive reference (their Triton kernel hard-codes `1e-6`).
pub const SOFTPICK_EPS: f64 = 1e-8;

/// $e^y - 1$ without cancellation near 0: the degree-7 Taylor polynomial for $|y| < 0.1$
/// (relative error below $3 \\cdot 10^{-12}$), `exp(y) − 1` elsewhere. The polynomial branch sees `y`
/// clamped to that range, so neither branch's gradient is `NaN` at `y = −∞`.
fn expm1<const D: usize>(y: Tensor<D>) -> Tensor<D> {
    let small = y.clone().abs().lower_elem(0.1);
    let t = y.clone().clamp(-0.1, 0.1);
    // t (1 + t/2 (1 + t/3 (1 + t/4 (1 + t/5 (1 + t/6 (1 + t/7))))))
    let mut p = t.clone().div_scalar(7.0).add_scalar(1.0);
    for k in [6.0, 5.0, 4.0, 3.0, 2.0] {
        p = (t.clone().div_scalar(k) * p).add_scalar(1.0);
    }
    let taylor = t * p;
    y.exp().sub_scalar(1.0).mask_where(small, taylor)
}

/// Softpick along a resolved `dim` in composed ops (every backend; no fused kernel).
pub(crate) fn softpick_resolved<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    let masked = x.clone().equal_elem(f32::NEG_INFINITY);
    // max(0, row max); −∞ rows give 0, a +∞ entry gives +∞ (then ∞ − ∞ = NaN below).
    let m = x.clone().detach().max_dim(dim).clamp_min(0.0);
    // u = e^{x−m} − e^{−m} = expm1(x − m) − expm1(−m): for x near 0 the plain difference of
    // two exponentials near 1 cancels, and one ulp of an approximate exp (a GPU's) became a
    // weight of 0.86 for a row of 1e-30 logits.
    let u = expm1(x - m.clone()) - expm1(m.neg());
    let u = u.mask_fill(masked, 0.0);
    let denominator = u.clone().abs().sum_dim(dim).add_scalar(SOFTPICK_EPS);
    let positive = u.clone().mask_fill(u.lower_equal_elem(0.0), 0.0);
    positive / denominator
}
