//! Row kernels on raw slices: the softmax family (temperature, SSMax, softmax1, adaptive
//! temperature) and α-entmax with an exact threshold, forward and backward.
//!
//! Every function takes `rows × n` contiguous values and works one row at a time; the caller
//! splits the rows over threads. The math of each is that of its composed reference in
//! [`crate::normalizer`]; where the two differ the kernel is the more exact one (noted at the
//! function).

use super::{AdaptiveKind, RowKind};
use crate::polynomial::Polynomial;
use rigor_cpu::{Real, lane_sum, lane_sum2, max_and_count};

/// The scalar rule behind [`RowKind::Adaptive`], evaluated in `f64`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AdaptiveRule {
    pub(crate) polynomial: Polynomial,
    pub(crate) derivative: Polynomial,
    pub(crate) threshold: f64,
    pub(crate) epsilon: f64,
    pub(crate) detach_beta: bool,
}

impl AdaptiveRule {
    /// β(H) and dβ/dH (0 where β is clamped to 1 or the row is left alone).
    fn beta(&self, h: f64) -> (f64, f64) {
        if h > self.threshold {
            let p = self.polynomial.eval(h);
            if p > 1.0 {
                (p, self.derivative.eval(h))
            } else {
                (1.0, 0.0)
            }
        } else if h.is_nan() {
            // A NaN row's entropy fails every comparison; keep the row NaN.
            (f64::NAN, 0.0)
        } else {
            (1.0, 0.0)
        }
    }
}

/// The shift every softmax-family row uses: the row maximum, or 0 for a fully masked row (so
/// that `x − m` stays `−∞`, never `NaN`).
#[inline(always)]
fn safe_max<T: Real>(m: T) -> T {
    if m == T::NEG_INFINITY { T::ZERO } else { m }
}

/// `out = exp(β (x − m))`, returning the sum (entries at `−∞` give exactly 0).
#[inline(always)]
fn exp_shifted<T: Real>(x: &[T], out: &mut [T], m: T, beta: T) -> T {
    for (o, &v) in out.iter_mut().zip(x) {
        let e = (beta * (v - m)).exp();
        // A mask stays a mask even at β = 0 (SSMax with one unmasked entry), where the
        // product would be 0 · (−∞) = NaN.
        *o = if v == T::NEG_INFINITY { T::ZERO } else { e };
    }
    lane_sum(out, |v| v)
}

#[inline(always)]
fn scale_in_place<T: Real>(out: &mut [T], s: T) {
    for o in out.iter_mut() {
        *o = *o * s;
    }
}

/// One softmax-family row: writes the weights into `out` and returns β.
///
/// Unlike the reference, the inverse temperature multiplies `x − max` rather than `x`, so a
/// large β or SSMax scale cannot overflow huge-but-finite logits (`tests/hostile.rs` holds
/// such rows).
#[inline(always)]
pub(crate) fn family_row<T: Real>(kind: &RowKind, x: &[T], out: &mut [T]) -> T {
    let (m, n) = max_and_count(x);
    let m = safe_max(m);
    match kind {
        RowKind::Softmax(t) => {
            let beta = T::from_f64(t.beta());
            let s = exp_shifted(x, out, m, beta);
            scale_in_place(out, T::ONE / nonzero(s));
            beta
        }
        RowKind::Scalable(s) => {
            let beta = T::from_f64(s.s() * (n.max(1) as f64).ln());
            let sum = exp_shifted(x, out, m, beta);
            scale_in_place(out, T::ONE / nonzero(sum));
            beta
        }
        RowKind::Softmax1 => {
            let m = if m > T::ZERO { m } else { T::ZERO };
            let s = exp_shifted(x, out, m, T::ONE) + (-m).exp();
            scale_in_place(out, T::ONE / s);
            T::ONE
        }
        RowKind::Adaptive(AdaptiveKind(rule)) => {
            let s = exp_shifted(x, out, m, T::ONE);
            let s = nonzero(s);
            let h = entropy_of_exps(out, s, rule.epsilon);
            let (beta, _) = rule.beta(h.to_f64());
            let beta_t = T::from_f64(beta);
            if beta == 1.0 {
                scale_in_place(out, T::ONE / s);
            } else {
                let s2 = exp_shifted(x, out, m, beta_t);
                scale_in_place(out, T::ONE / nonzero(s2));
            }
            beta_t
        }
    }
}

/// A row sum of exponentials is 0 only for a fully masked row; divide by 1 there.
#[inline(always)]
fn nonzero<T: Real>(s: T) -> T {
    if s == T::ZERO { T::ONE } else { s }
}

/// The paper's entropy estimate $-\sum_k q_k \ln(q_k + \varepsilon)$ of $q = e/s$, with
/// $0 \ln 0 = 0$.
#[inline(always)]
fn entropy_of_exps<T: Real>(e: &[T], s: T, epsilon: f64) -> T {
    let inv = T::ONE / s;
    let eps = T::from_f64(epsilon);
    -lane_sum(e, |v| {
        let q = v * inv;
        let t = q * (q + eps).ln();
        if q > T::ZERO { t } else { T::ZERO }
    })
}

/// Gradient of one softmax-family row: `dx` from the input `x`, the weights `p`, the row's $\beta$
/// and the upstream gradient `g`.
///
/// For every member $\partial L/\partial y = p \odot (g - \langle g, p\rangle)$ with
/// $y = \beta x$ (softmax1's weights need not sum to one; the formula is the same). Adaptive
/// temperature without `detach_beta` adds the path through $\beta(H(x))$:
/// $\beta^\prime(H)\\,\langle \partial L/\partial y, x\rangle\\,
/// q \odot (a - \langle q, a\rangle)$,
/// $q = \operatorname{softmax}(x)$, $a_k = -\ln(q_k+\varepsilon) - q_k/(q_k+\varepsilon)$.
#[inline(always)]
pub(crate) fn family_row_backward<T: Real>(
    kind: &RowKind,
    x: &[T],
    p: &[T],
    beta: T,
    g: &[T],
    dx: &mut [T],
) {
    let gp = lane_sum2(g, p, |a, b| a * b);
    for ((d, &pk), &gk) in dx.iter_mut().zip(p).zip(g) {
        *d = pk * (gk - gp);
    }
    let through_beta = match kind {
        RowKind::Adaptive(AdaptiveKind(rule)) if !rule.detach_beta => Some(rule),
        _ => None,
    };
    if let Some(rule) = through_beta {
        let (m, _) = max_and_count(x);
        let m = safe_max(m);
        // ⟨∂L/∂y, x − m⟩ over unmasked entries (∂L/∂y sums to 0, so the shift is free).
        let c = lane_sum2(dx, x, |d, v| {
            // Only entries with weight > 0 contribute (d = 0 elsewhere); skipping the rest also
            // keeps 0 · (−∞) out where x − max overflows (a −3e38 entry beside a 3e38 one).
            let t = d * (v - m);
            if d != T::ZERO { t } else { T::ZERO }
        });
        // Recompute q = softmax(x) and H as the forward did, into a scratch row.
        let mut q = vec![T::ZERO; x.len()];
        let s = nonzero(exp_shifted(x, &mut q, m, T::ONE));
        let h = entropy_of_exps(&q, s, rule.epsilon);
        scale_in_place(&mut q, T::ONE / s);
        let (_, dbeta) = rule.beta(h.to_f64());
        let eps = T::from_f64(rule.epsilon);
        let a = |qk: T| {
            if qk > T::ZERO {
                -(qk + eps).ln() - qk / (qk + eps)
            } else {
                T::ZERO
            }
        };
        let qa = lane_sum(&q, |qk| qk * a(qk));
        let coef = T::from_f64(dbeta) * c;
        for (d, &qk) in dx.iter_mut().zip(&q) {
            *d = *d * beta + coef * qk * (a(qk) - qa);
        }
    } else {
        scale_in_place(dx, beta);
    }
}

/// Scratch for one entmax row: the indices and values (in `f64`) of the support's
/// candidates.
#[derive(Default)]
pub(crate) struct EntmaxScratch {
    idx: Vec<usize>,
    val: Vec<f64>,
    sorted: Vec<f64>,
}

/// `t^p` for the exponents entmax meets: `p = 1` (sparsemax) and `p = 2` (1.5-entmax) exactly.
#[inline(always)]
fn pow_p(t: f64, p: f64) -> f64 {
    if p == 1.0 {
        t
    } else if p == 2.0 {
        t * t
    } else {
        t.powf(p)
    }
}

/// One α-entmax row with an exact threshold.
///
/// With $x = (\alpha-1)z$ the weights are $[x_k - \tau]_+^{p}$, $p = 1/(\alpha-1)$, and
/// $\tau \ge \max x - 1$ (the largest entry alone must not exceed mass 1), so only entries with
/// $x_k > \max x - 1$ can be in the support. Those candidates are gathered in one pass, in `f64` (a
/// weight $(x_k - \tau)^p$ with $p < 1$ at the support's edge amplifies any rounding of
/// $x_k - \tau$; the candidates are few, so the wider type costs nothing measurable). On them:
/// - sparsemax ($\alpha = 2$): Michelot's projection — $\tau = (\sum_S x - 1)/|S|$ over the current
///   support, drop entries $\le \tau$, repeat until nothing drops (exact, finite);
/// - $\alpha = 1.5$: the candidates sorted, then for each prefix of size $k$ the closed form
///   $\tau_k = \mu_k - \sqrt{(1 - k \sigma_k^2)/k}$ of $\sum_{i \le k} (x_{(i)} - \tau)^2 = 1$; the
///   support is the largest $k$ with $\tau_k \le x_{(k)}$ (Peters et al. 2019, Alg. 2);
/// - other $\alpha$: safeguarded Newton on $f(\tau) = \sum_S [x_k - \tau]_+^p - 1$ inside the
///   bisection bracket, then renormalised.
///
/// Exact zeros elsewhere. Masked (`−∞`) entries are never candidates; a fully masked row is
/// all zeros; a row with `NaN`/`+∞` is all `NaN`.
#[inline(always)]
pub(crate) fn entmax_row<T: Real>(alpha: f64, z: &[T], out: &mut [T], scratch: &mut EntmaxScratch) {
    for o in out.iter_mut() {
        *o = T::ZERO;
    }
    // NaN / +∞ first: an all-NaN row has no entry above −∞ and must not pass for a fully
    // masked one (it did, giving zeros, until ASEntmax's NaN-γ test caught it).
    let poisoned = lane_sum(z, |v| {
        if v == T::NEG_INFINITY {
            T::ZERO
        } else {
            v * T::ZERO
        }
    })
    .is_nan();
    if poisoned {
        for o in out.iter_mut() {
            *o = T::from_f64(f64::NAN);
        }
        return;
    }
    let (zmax, n) = max_and_count(z);
    if n == 0 {
        return;
    }
    let am1 = alpha - 1.0;
    let p = 1.0 / am1;
    // Work in x − max x (shift invariance, and no overflow at ±3e38):
    // x_k − x_max = (α−1)(z_k − z_max), exact in f64 for f32 logits.
    let zmax = zmax.to_f64();
    scratch.idx.clear();
    scratch.val.clear();
    for (k, &v) in z.iter().enumerate() {
        let d = am1 * (v.to_f64() - zmax);
        if d > -1.0 {
            scratch.idx.push(k);
            scratch.val.push(d);
        }
    }
    let xs = &scratch.val;
    let tau = if alpha == 2.0 {
        sparsemax_tau(xs)
    } else if alpha == 1.5 {
        entmax15_tau(xs, &mut scratch.sorted)
    } else {
        entmax_tau(xs, p, n)
    };
    let mut total = 0.0;
    for &d in xs {
        let t = d - tau;
        if t > 0.0 {
            total += pow_p(t, p);
        }
    }
    // Sparsemax's weights sum to one by construction; the others are renormalised.
    let scale = if alpha != 2.0 && total > 0.0 {
        1.0 / total
    } else {
        1.0
    };
    for (&k, &d) in scratch.idx.iter().zip(xs.iter()) {
        let t = d - tau;
        out[k] = if t > 0.0 {
            T::from_f64(pow_p(t, p) * scale)
        } else {
            T::ZERO
        };
    }
}

/// Michelot's exact simplex projection threshold on the candidates (all `> −1`, max `0`):
/// the support only shrinks and τ only grows, so it ends after at most `xs.len()` passes.
fn sparsemax_tau(xs: &[f64]) -> f64 {
    let mut tau = -1.0;
    loop {
        let mut sum = 0.0;
        let mut count = 0usize;
        for &v in xs {
            if v > tau {
                sum += v;
                count += 1;
            }
        }
        // The maximum (0) is always in: count ≥ 1 and next ≤ −1/count < 0.
        let next = (sum - 1.0) / count as f64;
        let dropped = xs.iter().any(|&v| v > tau && v <= next);
        if !dropped {
            return next;
        }
        tau = next;
    }
}

/// 1.5-entmax's exact threshold on the candidates by sorting (see [`entmax_row`]).
fn entmax15_tau(xs: &[f64], sorted: &mut Vec<f64>) -> f64 {
    sorted.clear();
    sorted.extend_from_slice(xs);
    sorted.sort_unstable_by(|a, b| b.total_cmp(a));
    let (mut s1, mut s2) = (0.0, 0.0);
    // One candidate (the maximum, 0) alone has τ = −1.
    let mut tau = sorted[0] - 1.0;
    for (k, &v) in sorted.iter().enumerate() {
        let kf = (k + 1) as f64;
        s1 += v;
        s2 += v * v;
        let mean = s1 / kf;
        let delta = (1.0 - (s2 - kf * mean * mean)) / kf;
        if delta >= 0.0 {
            let t = mean - delta.sqrt();
            if t <= v {
                tau = t;
            }
        }
    }
    tau
}

/// α-entmax threshold on the candidates (all `> −1`, max `0`), `n` unmasked entries in all:
/// bisection until the support is fixed, then safeguarded Newton (α ∉ {1.5, 2}).
fn entmax_tau(xs: &[f64], p: f64, n: usize) -> f64 {
    let mass = |tau: f64| {
        let mut s = 0.0;
        for &v in xs {
            let t = v - tau;
            if t > 0.0 {
                s += pow_p(t, p);
            }
        }
        s
    };
    // f(lo) ≥ 0 ≥ f(hi): lo = max − 1, hi = max − n^{−1/p}.
    let mut lo = -1.0;
    let mut hi = -(n as f64).powf(-1.0 / p);
    if hi <= lo {
        hi = 0.0;
    }
    let two = 2.0;
    // Bisection until the support inside the bracket is one set (no candidate strictly
    // between lo and hi), at most 200 halvings.
    for _ in 0..200 {
        let inside = xs.iter().any(|&v| v > lo && v < hi);
        if !inside {
            break;
        }
        let mid = (lo + hi) / two;
        if mid <= lo || mid >= hi {
            break;
        }
        if mass(mid) >= 1.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // The support is {x > lo} (τ ∈ [lo, hi) and no candidate lies strictly between).
    let cut = lo;
    let support = |v: f64| v > cut;
    // Safeguarded Newton on f(τ) = Σ_S (x − τ)^p − 1, f'(τ) = −p Σ_S (x − τ)^{p−1}.
    let mut tau = lo;
    for _ in 0..60 {
        let mut f = -1.0;
        let mut df = 0.0;
        for &v in xs.iter().filter(|&&v| support(v)) {
            let t = v - tau;
            if t > 0.0 {
                let tp1 = pow_p(t, p - 1.0);
                f += tp1 * t;
                df -= p * tp1;
            }
        }
        if f == 0.0 || df == 0.0 {
            break;
        }
        // Shrink the bracket first, so a rejected Newton step bisects the new one.
        if f > 0.0 {
            lo = tau;
        } else {
            hi = tau;
        }
        let next = tau - f / df;
        let next = if next > lo && next < hi {
            next
        } else {
            (lo + hi) / two
        };
        if next == tau || hi <= lo {
            break;
        }
        tau = next;
    }
    tau
}

/// Gradient of one entmax row: $s \odot (g - \langle s, g\rangle / \sum s)$ with
/// $s_k = p_k^{2-\alpha}$ on the support and 0 off it (Peters et al. 2019, Prop. 2).
#[inline(always)]
pub(crate) fn entmax_row_backward<T: Real>(alpha: f64, p: &[T], g: &[T], dx: &mut [T]) {
    let e = T::from_f64(2.0 - alpha);
    for (d, &pk) in dx.iter_mut().zip(p) {
        *d = if pk > T::ZERO {
            if alpha == 2.0 { T::ONE } else { pk.powf(e) }
        } else {
            T::ZERO
        };
    }
    let ss = lane_sum(dx, |v| v);
    let sg = lane_sum2(dx, g, |a, b| a * b);
    let mean = if ss > T::ZERO { sg / ss } else { T::ZERO };
    for (d, &gk) in dx.iter_mut().zip(g) {
        *d = *d * (gk - mean);
    }
}
