//! The theorem kit (feature `proptest`): `proptest` strategies for the inputs the lemmas talk
//! about and checkers that test a lemma on **your** normalizer, scores or projections and
//! return a [`Verdict`] instead of panicking — for your own property tests, or to ask of a
//! trained model which of the paper's statements its heads obey.
//!
//! | statement | checker | strategies |
//! |---|---|---|
//! | Lemma 2.1: $\tfrac1n e^{-\delta/\theta} \le w_k \le \tfrac1n e^{\delta/\theta}$, $\max_k w_k \le e^{\delta/\theta}/(e^{\delta/\theta}+n-1)$ | [`check_lemma_2_1`] | [`row_with_spread`], [`masked_row`], [`temperature`] |
//! | Prop. 3.1: $\delta \le 2\sigma_Q\sigma_K\lVert y\rVert\max_i\lVert x_i\rVert$ | [`check_prop_3_1`] | [`prop_3_1_case`] |
//!
//! Lemma 2.1 is a statement about softmax: checked on softmax it must hold (rigor's own
//! property tests do exactly that with these strategies); checked on sparsemax or entmax it
//! fails — that is the point of the paper's alternatives, and the verdict says by how much.
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use rigor_softmax::Normalizer;
//! use rigor_softmax::theorems::check_lemma_2_1;
//!
//! let scores = Tensor::<2>::from_floats([[0.0, 1.0, 2.0, f32::NEG_INFINITY]], &Device::flex());
//! let v = check_lemma_2_1(&Normalizer::softmax(), scores.clone(), 1.0, 1e-5).unwrap();
//! assert!(v.holds, "{v}");
//! let v = check_lemma_2_1(&Normalizer::sparsemax(), scores, 1.0, 1e-5).unwrap();
//! assert!(!v.holds, "sparsemax escapes the dispersion bound: {v}");
//! ```

use core::fmt;
use std::ops::Range;

use burn::tensor::{Device, Tensor, TensorData};
use proptest::prelude::*;
use serde::Serialize;

use crate::dispersion::bounds::{lemma_2_1, spread_resolved};
use crate::dispersion::spectral::{PowerIteration, prop_3_1};
use crate::error::{Result, SoftmaxError};
use crate::normalize::{Normalize, normalize_along};
use crate::normalizer::softmax::Temperature;
use crate::validate::{check_logits, unmasked_count};

/// The outcome of checking one statement on concrete inputs.
///
/// `worst_margin` is the smallest relative margin over the cases,
/// $(\text{bound} - \text{observed}) / \lvert\text{bound}\rvert$: positive when every case
/// holds, negative by how much the worst case exceeds its bound.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The statement, with paper and section.
    pub statement: &'static str,
    /// Whether every case satisfied it (within the tolerance given to the checker).
    pub holds: bool,
    /// Cases checked (rows, queries, …).
    pub cases: usize,
    /// Cases that violated it.
    pub violations: usize,
    /// Smallest relative margin over the cases (see above); `+∞` with no cases.
    pub worst_margin: f64,
    /// A one-line account of the worst case.
    pub detail: String,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({} of {} cases violate; worst margin {:+.3e}; {})",
            self.statement,
            if self.holds { "holds" } else { "does not hold" },
            self.violations,
            self.cases,
            self.worst_margin,
            self.detail
        )
    }
}

/// Statement of Lemma 2.1 as reported in [`Verdict::statement`].
pub const LEMMA_2_1: &str = "Softmax is not Enough, Lemma 2.1 (dispersion bounds)";
/// Statement of Proposition 3.1 as reported in [`Verdict::statement`].
pub const PROP_3_1: &str = "Softmax is not Enough, Prop. 3.1 (spread bound)";

fn readback<const D: usize>(t: Tensor<D>) -> Result<Vec<f64>> {
    t.try_into_vec_as::<f64>().map_err(SoftmaxError::from)
}

/// Checks Lemma 2.1 on every row of `scores` (`[rows, n]`, `−∞` = masked key) normalised by
/// `normalizer` at temperature $\theta$: every unmasked weight in
/// $[\tfrac1n e^{-\delta/\theta}, \tfrac1n e^{\delta/\theta}]$ and the largest at most
/// $e^{\delta/\theta}/(e^{\delta/\theta} + n - 1)$, with $n$ the row's unmasked keys and $\delta$
/// their spread; `rel_tol` allows for f32 round-off (1e-5 is ample for f32 softmax). $\theta$ is
/// the temperature the normalizer applies (1 for `Normalizer::softmax()`; the lemma with a $\theta$
/// larger than the normalizer's is weaker, smaller is stronger). Fully masked rows are not cases.
/// A lower bound $e^{-\delta/\theta}/n$ below `f32::MIN_POSITIVE` (≈ 1.2e-38, i.e.
/// $\delta/\theta \gtrsim 87$) is not checked: f32 weights underflow to 0 there.
///
/// # Errors
/// [`SoftmaxError::NonFiniteLogits`] for `NaN`/`+∞` scores; [`SoftmaxError::InvalidTemperature`]
/// for a bad $\theta$; [`SoftmaxError::InvalidParameter`] for a negative or non-finite `rel_tol`;
/// the normalizer's own errors.
pub fn check_lemma_2_1<N: Normalize + ?Sized>(
    normalizer: &N,
    scores: Tensor<2>,
    theta: f64,
    rel_tol: f64,
) -> Result<Verdict> {
    let t = Temperature::new(theta)?;
    tolerance(rel_tol)?;
    check_logits(&scores)?;
    let [rows, n] = scores.dims();
    let weights = readback(normalize_along(normalizer, scores.clone(), -1)?)?;
    let counts = readback(unmasked_count(&scores, 1))?;
    let spreads = readback(spread_resolved(scores.clone(), 1))?;
    let mask = readback(scores.equal_elem(f32::NEG_INFINITY).float())?;
    let mut verdict = Verdict {
        statement: LEMMA_2_1,
        holds: true,
        cases: 0,
        violations: 0,
        worst_margin: f64::INFINITY,
        detail: "no unmasked rows".into(),
    };
    for r in 0..rows {
        let count = counts[r] as usize;
        if count == 0 {
            continue;
        }
        let b = lemma_2_1(count, spreads[r], t)?;
        let row = &weights[r * n..(r + 1) * n];
        let unmasked = row
            .iter()
            .zip(&mask[r * n..(r + 1) * n])
            .filter(|(_, m)| **m == 0.0)
            .map(|(w, _)| *w);
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for w in unmasked {
            lo = lo.min(w);
            hi = hi.max(w);
        }
        // Relative margins of the three inequalities; the smallest decides the row. A lower
        // bound below f32's smallest normal number is not observable in f32 weights (they
        // underflow to 0 there), so it is not checked.
        let lower = if b.lower >= f64::from(f32::MIN_POSITIVE) {
            (lo - b.lower) / b.lower
        } else {
            f64::INFINITY
        };
        let margins = [
            (
                (b.tight_max - hi) / b.tight_max,
                "max weight",
                hi,
                b.tight_max,
            ),
            (
                (b.upper - hi) / b.upper,
                "max weight vs e^{δ/θ}/n",
                hi,
                b.upper,
            ),
            (lower, "min weight", lo, b.lower),
        ];
        let (m, what, observed, bound) = margins
            .into_iter()
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .expect("three margins");
        verdict.cases += 1;
        if m < -rel_tol {
            verdict.violations += 1;
        }
        if m < verdict.worst_margin {
            verdict.worst_margin = m;
            verdict.detail = format!(
                "row {r}: {what} {observed:.6e} vs bound {bound:.6e} (n = {count}, δ = {:.4})",
                spreads[r]
            );
        }
    }
    verdict.holds = verdict.violations == 0;
    Ok(verdict)
}

/// Checks Proposition 3.1 for projections `w_q`, `w_k` (`[d_model, d_head]`), a query `y`
/// (`[d_model]`) and keys `x` (`[n, d_model]`): the spread of $e_i = (yW_Q)\cdot(x_iW_K)$ is at
/// most $2\sigma_Q\sigma_K\lVert y\rVert\max_i\lVert x_i\rVert$. One case; $\sigma$ by power
/// iteration (`rel_tol` absorbs its error, 1e-4 is ample).
///
/// # Errors
/// As [`prop_3_1`]; [`SoftmaxError::InvalidParameter`] for a bad `rel_tol`.
pub fn check_prop_3_1(
    w_q: Tensor<2>,
    w_k: Tensor<2>,
    y: Tensor<1>,
    x: Tensor<2>,
    rel_tol: f64,
) -> Result<Verdict> {
    tolerance(rel_tol)?;
    let r = prop_3_1(w_q, w_k, y, x, &PowerIteration::default())?;
    let margin = if r.bound > 0.0 {
        (r.bound - r.spread) / r.bound
    } else if r.spread == 0.0 {
        0.0
    } else {
        f64::NEG_INFINITY
    };
    let violated = margin < -rel_tol;
    Ok(Verdict {
        statement: PROP_3_1,
        holds: !violated,
        cases: 1,
        violations: usize::from(violated),
        worst_margin: margin,
        detail: format!(
            "spread {:.6e} vs 2·σ_Q·σ_K·‖y‖·max‖x‖ = 2·{:.4}·{:.4}·{:.4}·{:.4} = {:.6e}",
            r.spread, r.sigma_q, r.sigma_k, r.query_norm, r.max_key_norm, r.bound
        ),
    })
}

fn tolerance(rel_tol: f64) -> Result<()> {
    if rel_tol.is_finite() && rel_tol >= 0.0 {
        Ok(())
    } else {
        Err(SoftmaxError::InvalidParameter {
            name: "rel_tol",
            value: rel_tol,
            reason: "must be finite and >= 0",
        })
    }
}

/// Rows of `n ∈ len` logits drawn uniformly from $[-\text{spread}/2, \text{spread}/2]$, so the
/// row's spread $\delta$ is at most `spread` (Lemma 2.1's setting: bounded logits).
pub fn row_with_spread(len: Range<usize>, spread: f32) -> impl Strategy<Value = Vec<f32>> {
    let h = (spread / 2.0).abs();
    proptest::collection::vec(-h..=h, len)
}

/// Rows of `n ∈ len` logits of magnitude up to a scale drawn from `scale`, about one in five
/// masked (`−∞`) but never the first, so a row always has an unmasked key.
pub fn masked_row(len: Range<usize>, scale: Range<f32>) -> impl Strategy<Value = Vec<f32>> {
    (len, scale).prop_flat_map(|(n, scale)| {
        (
            proptest::collection::vec(-1.0f32..1.0, n),
            proptest::collection::vec(proptest::bool::weighted(0.2), n),
        )
            .prop_map(move |(v, m)| {
                v.iter()
                    .zip(&m)
                    .enumerate()
                    .map(|(i, (x, masked))| {
                        if *masked && i != 0 {
                            f32::NEG_INFINITY
                        } else {
                            x * scale
                        }
                    })
                    .collect()
            })
    })
}

/// Temperatures $\theta$ in $[0.2, 5]$.
pub fn temperature() -> impl Strategy<Value = f64> {
    0.2f64..5.0
}

/// One Proposition 3.1 problem: projections, a query and keys, entries normal-ish in
/// $[-1, 1]$ (see [`Prop31Case::tensors`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Prop31Case {
    /// $d_{model}$.
    pub d_model: usize,
    /// $d_{head}$.
    pub d_head: usize,
    /// Number of keys.
    pub n: usize,
    /// $W_Q$, row-major `[d_model, d_head]`.
    pub w_q: Vec<f32>,
    /// $W_K$, row-major `[d_model, d_head]`.
    pub w_k: Vec<f32>,
    /// The query `[d_model]`.
    pub y: Vec<f32>,
    /// The keys, row-major `[n, d_model]`.
    pub x: Vec<f32>,
}

impl Prop31Case {
    /// `(w_q, w_k, y, x)` on `device`, ready for [`check_prop_3_1`].
    pub fn tensors(&self, device: &Device) -> (Tensor<2>, Tensor<2>, Tensor<1>, Tensor<2>) {
        let t2 = |v: &[f32], s: [usize; 2]| {
            Tensor::<2>::from_data(TensorData::new(v.to_vec(), s), device)
        };
        (
            t2(&self.w_q, [self.d_model, self.d_head]),
            t2(&self.w_k, [self.d_model, self.d_head]),
            Tensor::<1>::from_data(TensorData::new(self.y.clone(), [self.d_model]), device),
            t2(&self.x, [self.n, self.d_model]),
        )
    }
}

/// [`Prop31Case`]s with $d_{model} \in$ `d_model`, $d_{head} \in$ `d_head`, $n \in$ `n`.
pub fn prop_3_1_case(
    d_model: Range<usize>,
    d_head: Range<usize>,
    n: Range<usize>,
) -> impl Strategy<Value = Prop31Case> {
    (d_model, d_head, n).prop_flat_map(|(dm, dh, n)| {
        let v = |len: usize| proptest::collection::vec(-1.0f32..1.0, len);
        (v(dm * dh), v(dm * dh), v(dm), v(n * dm)).prop_map(move |(w_q, w_k, y, x)| Prop31Case {
            d_model: dm,
            d_head: dh,
            n,
            w_q,
            w_k,
            y,
            x,
        })
    })
}
