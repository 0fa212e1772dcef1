//! The theorem kit (feature `proptest`): `proptest` strategies for RoPE's inputs and checkers
//! that test a statement of *Round and Round We Go!* (Barbero et al., ICLR 2025) — or RoPE's
//! defining property — on **your** [`Rope`] and vectors, returning a [`Verdict`].
//!
//! | statement | checker | strategies |
//! |---|---|---|
//! | RoFormer §3.4; *Round and Round* §2: $\langle R_m q, R_n k\rangle = \langle R_{m+s} q, R_{n+s} k\rangle$ | [`check_relative_position`] | [`qk_pair`], [`position_pairs`], [`relative_config`] |
//! | Claim 3 (§4): the top frequency builds diagonal / previous-token heads | [`check_positional_head`] | [`content`] |
//! | Claim 4 (§5): $\lvert a_k(r) - a_k(0)\rvert \le 2\lvert\sin(r g_k/2)\rvert\lVert q_k\rVert\lVert k_k\rVert$ | [`check_drift_bound`] | [`qk_pair`] |
//!
//! The relative-position property holds for every variant whose tables are fixed for the call
//! (RoPE, p-RoPE, NoPE, partial, linear / NTK / Llama 3 scaling; dynamic NTK and LongRoPE
//! within one sequence length; YaRN's attention factor multiplies both sides alike; xPos's
//! decay depends on $m - n$ only). A position-dependent model around the encoding (absolute
//! embeddings, a cache that skips positions) is what the check catches.
//!
//! ```
//! use burn::tensor::Device;
//! use rigor_rope::RopeConfig;
//! use rigor_rope::theorems::check_relative_position;
//!
//! let rope = RopeConfig::new(8).init().unwrap();
//! let q = [0.3, -1.0, 0.5, 2.0, 0.1, 0.0, -0.7, 1.2];
//! let k = [1.0, 0.2, -0.4, 0.9, -1.1, 0.5, 0.3, 0.0];
//! let v = check_relative_position(&rope, &q, &k, &[(5, 2), (40, 40)], 1000, 1e-4, &Device::flex())
//!     .unwrap();
//! assert!(v.holds, "{v}");
//! ```

use core::fmt;
use std::ops::Range;

use burn::tensor::{Device, Tensor, TensorData};
use proptest::prelude::*;
use serde::Serialize;

use crate::apply::{PositionIds, Positions, Rope, TensorLayout};
use crate::config::RopeConfig;
use crate::error::{Result, RopeError};
use crate::frequencies::Rotation;
use crate::scaling::{Llama3Config, Scaling};
use crate::theory::constructions::{HeadKind, PositionalHead};
use crate::theory::drift::{drift, drift_bound};

/// The outcome of checking one statement on concrete inputs.
///
/// `worst_margin` is the smallest margin over the cases, relative to the scale named in each
/// checker's docs: positive when every case holds, negative by how much the worst case fails.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The statement, with paper and section.
    pub statement: &'static str,
    /// Whether every case satisfied it (within the checker's tolerance).
    pub holds: bool,
    /// Cases checked.
    pub cases: usize,
    /// Cases that violated it.
    pub violations: usize,
    /// Smallest relative margin over the cases; `+∞` with no cases.
    pub worst_margin: f64,
    /// A one-line account of the worst case.
    pub detail: String,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.holds { "holds" } else { "does not hold" };
        write!(f, "{}: {state} ", self.statement)?;
        write!(
            f,
            "({} of {} cases violate; worst margin {:+.3e}; {})",
            self.violations, self.cases, self.worst_margin, self.detail
        )
    }
}

/// Statement of the relative-position property as reported in [`Verdict::statement`].
pub const RELATIVE_POSITION: &str = "RoPE relative-position property (RoFormer §3.4)";
/// Statement of claim 3 as reported in [`Verdict::statement`].
pub const CLAIM_3: &str = "Round and Round, claim 3 (positional heads from the top frequency)";
/// Statement of claim 4 as reported in [`Verdict::statement`].
pub const CLAIM_4: &str = "Round and Round, claim 4 (drift bound)";

impl Verdict {
    fn new(statement: &'static str) -> Self {
        Self {
            statement,
            holds: true,
            cases: 0,
            violations: 0,
            worst_margin: f64::INFINITY,
            detail: "no cases".into(),
        }
    }

    /// Records one case with relative margin `margin` (violated below `-tol`).
    fn record(&mut self, margin: f64, tol: f64, detail: impl FnOnce() -> String) {
        self.cases += 1;
        if margin < -tol || margin.is_nan() {
            self.violations += 1;
            self.holds = false;
        }
        if margin < self.worst_margin || margin.is_nan() {
            self.worst_margin = margin;
            self.detail = detail();
        }
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn readback<const D: usize>(t: Tensor<D>) -> Result<Vec<f64>> {
    t.try_into_vec_as::<f64>().map_err(RopeError::from)
}

fn tolerance(tol: f64) -> Result<f64> {
    if tol.is_finite() && tol >= 0.0 {
        Ok(tol)
    } else {
        Err(RopeError::InvalidParameter {
            name: "tol",
            value: tol,
            reason: "must be finite and >= 0",
        })
    }
}

/// Checks $\langle R_m q, R_n k\rangle = \langle R_{m+s} q, R_{n+s} k\rangle$ through `rope`
/// (the fused kernel on Flex, the composed reference elsewhere) for every `(m, n)` in `pairs`
/// and the shift `s`, all positions in one call (so dynamic variants see one length). A case
/// violates it when the two logits differ by more than `tol · ‖q‖‖k‖` (1e-4 suits f32 at
/// positions up to ~10⁴; f32 angles lose digits as positions grow); the margin is
/// `−|difference| / (‖q‖‖k‖)` (0 for an exact match, a small negative number from f32
/// round-off).
///
/// # Errors
/// [`RopeError::ShapeMismatch`] unless `q` and `k` have `rope.head_dim()` entries;
/// [`RopeError::InvalidParameter`] for a bad `tol`; position errors of [`Rope::apply_qk`]
/// (e.g. beyond [`crate::MAX_POSITION`]).
pub fn check_relative_position(
    rope: &Rope,
    q: &[f64],
    k: &[f64],
    pairs: &[(usize, usize)],
    shift: usize,
    tol: f64,
    device: &Device,
) -> Result<Verdict> {
    let tol = tolerance(tol)?;
    let d = rope.head_dim();
    if q.len() != d || k.len() != d {
        return Err(RopeError::ShapeMismatch {
            op: "check_relative_position",
            detail: format!(
                "q has {}, k has {} entries; head_dim is {d}",
                q.len(),
                k.len()
            ),
        });
    }
    let mut verdict = Verdict::new(RELATIVE_POSITION);
    if pairs.is_empty() {
        return Ok(verdict);
    }
    // Batch row 2i: (m, n); row 2i + 1: (m + s, n + s); token 0 is q, token 1 is k.
    let shifted = |p: usize| {
        p.checked_add(shift).ok_or(RopeError::InvalidParameter {
            name: "shift",
            value: shift as f64,
            reason: "position + shift overflows usize",
        })
    };
    let mut ids = Vec::with_capacity(pairs.len() * 4);
    for &(m, n) in pairs {
        ids.extend([m, n, shifted(m)?, shifted(n)?]);
    }
    let b = 2 * pairs.len();
    let ids = PositionIds::new(ids, b, 2)?;
    let both = |first: &[f64], second: &[f64]| {
        let row: Vec<f32> = first.iter().chain(second).map(|&x| x as f32).collect();
        let flat: Vec<f32> = (0..b).flat_map(|_| row.iter().copied()).collect();
        Tensor::<4>::from_data(TensorData::new(flat, [b, 1, 2, d]), device)
    };
    // q at token 0 of every row, k at token 1 (the other token of each is unused).
    let (rq, rk) = rope.apply_qk(
        both(q, k),
        both(q, k),
        TensorLayout::Bhsd,
        Positions::Ids(&ids),
    )?;
    let (rq, rk) = (readback(rq)?, readback(rk)?);
    let logit = |row: usize| -> f64 {
        let qv = &rq[row * 2 * d..row * 2 * d + d];
        let kv = &rk[row * 2 * d + d..(row + 1) * 2 * d];
        qv.iter().zip(kv).map(|(a, b)| a * b).sum()
    };
    let scale = (norm(q) * norm(k)).max(f64::MIN_POSITIVE);
    for (i, &(m, n)) in pairs.iter().enumerate() {
        let (a, b) = (logit(2 * i), logit(2 * i + 1));
        let margin = -(a - b).abs() / scale;
        verdict.record(margin, tol, || {
            format!("(m, n) = ({m}, {n}), shift {shift}: {a:.6e} vs {b:.6e}")
        });
    }
    Ok(verdict)
}

/// Checks claim 3 on `rope`: the head built by [`PositionalHead`] with
/// [`PositionalHead::scale_for`]`(kind, window, B)` — $B = \max_i\lVert q_i\rVert
/// \max_j\lVert k_j\rVert$ of the content `[seq, head_dim]` — and rotated by `rope` attends,
/// from every query $i \ge r^\*$, to key $i - r^\*$ among the keys $i - W..=i$. The margin of
/// a query is $(\text{peak logit} - \text{best other logit}) / c$.
///
/// # Errors
/// [`RopeError::InvalidParameter`] unless `rope`'s top frequency is $g_0 = 1$ (the
/// construction's premise: standard RoPE, p-RoPE and partial RoPE have it; linear scaling does
/// not); [`RopeError::ShapeMismatch`] if the contents differ in shape or do not match
/// `rope.head_dim()`.
pub fn check_positional_head(
    rope: &Rope,
    kind: HeadKind,
    window: usize,
    q_content: Tensor<2>,
    k_content: Tensor<2>,
) -> Result<Verdict> {
    let [s, d] = q_content.dims();
    if d != rope.head_dim() || k_content.dims() != [s, d] {
        return Err(RopeError::ShapeMismatch {
            op: "check_positional_head",
            detail: format!(
                "content {:?} and {:?} must both be [seq, head_dim = {}]",
                q_content.dims(),
                k_content.dims(),
                rope.head_dim()
            ),
        });
    }
    let g0 = rope
        .frequencies(s.max(1))
        .inv_freq
        .first()
        .copied()
        .unwrap_or(0.0);
    if (g0 - 1.0).abs() > 1e-12 {
        return Err(RopeError::InvalidParameter {
            name: "top frequency g_0",
            value: g0,
            reason: "claim 3's construction needs g_0 = 1 (standard, p- or partial RoPE)",
        });
    }
    let max_norm =
        |t: Tensor<2>| -> Result<f64> { Ok(readback(t.square().sum_dim(1).sqrt().max())?[0]) };
    let bound = max_norm(q_content.clone())? * max_norm(k_content.clone())?;
    let c = PositionalHead::scale_for(kind, window, bound)?;
    let head = PositionalHead::new(kind, c)?;
    let (q, k) = head.embed(q_content, k_content, rope.layout())?;
    let (q, k) = rope.apply_qk(
        q.reshape([1, 1, s, d]),
        k.reshape([1, 1, s, d]),
        TensorLayout::Bhsd,
        Positions::Offset(0),
    )?;
    let logits = readback(q.matmul(k.swap_dims(2, 3)))?;
    let mut verdict = Verdict::new(CLAIM_3);
    for i in kind.peak()..s {
        let target = i - kind.peak();
        let row = &logits[i * s..(i + 1) * s];
        let best_other = (i.saturating_sub(window)..=i)
            .filter(|&j| j != target)
            .map(|j| row[j])
            .fold(f64::NEG_INFINITY, f64::max);
        let margin = (row[target] - best_other) / c;
        verdict.record(margin, 0.0, || {
            format!(
                "{kind:?}, query {i}: key {target} scores {:.4e}, best other {best_other:.4e} (c = {c:.4})",
                row[target]
            )
        });
    }
    Ok(verdict)
}

/// Checks claim 4 for every rotating chunk of `rope` on the unrotated vectors `q`, `k`
/// (`head_dim` entries each, e.g. one head's query and key from your model) at each
/// distance in `distances`: $\lvert a_k(r) - a_k(0)\rvert \le 2\lvert\sin(r g_k/2)\rvert
/// \lVert q_k\rVert\lVert k_k\rVert$, computed in f64 on the host. The margin is
/// $(\text{bound} - \text{drift}) / \lVert q_k\rVert\lVert k_k\rVert$, violated below −1e-12.
///
/// # Errors
/// [`RopeError::ShapeMismatch`] for vectors of the wrong length;
/// [`RopeError::InvalidParameter`] for a non-finite distance.
pub fn check_drift_bound(rope: &Rope, q: &[f64], k: &[f64], distances: &[f64]) -> Result<Verdict> {
    let d = rope.head_dim();
    if q.len() != d || k.len() != d {
        return Err(RopeError::ShapeMismatch {
            op: "check_drift_bound",
            detail: format!(
                "q has {}, k has {} entries; head_dim is {d}",
                q.len(),
                k.len()
            ),
        });
    }
    if let Some(&r) = distances.iter().find(|r| !r.is_finite()) {
        return Err(RopeError::InvalidParameter {
            name: "distance",
            value: r,
            reason: "must be finite",
        });
    }
    let longest = distances.iter().fold(0.0f64, |a, r| a.max(r.abs()));
    let seq_len = (longest as usize).saturating_add(1);
    let f = rope.frequencies(seq_len);
    let rd = rope.rotary_dim();
    let mut verdict = Verdict::new(CLAIM_4);
    for (slot, &g) in f.inv_freq.iter().enumerate() {
        let (a, b) = rope.layout().chunk_coords(slot, rd);
        let (qk, kk) = ([q[a], q[b]], [k[a], k[b]]);
        let scale = (norm(&qk) * norm(&kk)).max(f64::MIN_POSITIVE);
        for &r in distances {
            let observed = drift(qk, kk, r, g);
            let (tight, _) = drift_bound(r, g, norm(&qk), norm(&kk));
            verdict.record((tight - observed) / scale, 1e-12, || {
                format!(
                    "chunk {slot} (g = {g:.4e}), r = {r}: drift {observed:.6e} vs bound {tight:.6e}"
                )
            });
        }
    }
    Ok(verdict)
}

/// Pairs of vectors of `d` entries in $[-\text{scale}, \text{scale}]$ (queries and keys).
pub fn qk_pair(d: usize, scale: f64) -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    let s = scale.abs().max(f64::MIN_POSITIVE);
    (
        proptest::collection::vec(-s..s, d),
        proptest::collection::vec(-s..s, d),
    )
}

/// `count ∈ count` position pairs $(m, n)$ with entries below `max`.
pub fn position_pairs(
    max: usize,
    count: Range<usize>,
) -> impl Strategy<Value = Vec<(usize, usize)>> {
    let max = max.max(1);
    proptest::collection::vec((0..max, 0..max), count)
}

/// Content `[seq, d]` for [`check_positional_head`]: entries in $[-\text{scale},
/// \text{scale}]$, row-major.
pub fn content(seq: usize, d: usize, scale: f64) -> impl Strategy<Value = Vec<f64>> {
    let s = scale.abs().max(f64::MIN_POSITIVE);
    proptest::collection::vec(-s..s, seq * d)
}

/// RoPE configurations of head dim `d` (even, ≥ 8) whose rotation is orthogonal and fixed, so
/// the relative-position property must hold: standard (either layout), p-RoPE with
/// $p \in (0, 1]$, NoPE, NeoX-partial, linear / NTK scaling, Llama 3.
pub fn relative_config(d: usize) -> impl Strategy<Value = RopeConfig> {
    let base = move || RopeConfig::new(d);
    prop_oneof![
        Just(base()),
        Just(base().with_layout(crate::Layout::Interleaved)),
        (0.05f64..=1.0).prop_map(move |p| base().with_rotation(Rotation::Proportional { p })),
        Just(base().with_rotation(Rotation::NoPE)),
        Just(base().with_rotation(Rotation::NeoxPartial {
            rotary_dims: d / 2 - (d / 2) % 2
        })),
        (1.0f64..8.0).prop_map(move |factor| base().with_scaling(Scaling::Linear { factor })),
        (1.0f64..8.0).prop_map(move |factor| base().with_scaling(Scaling::Ntk { factor })),
        Just(base().with_scaling(Scaling::Llama3(Llama3Config {
            factor: 4.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 32,
        }))),
    ]
}

/// `HeadKind`s.
pub fn head_kind() -> impl Strategy<Value = HeadKind> {
    prop_oneof![Just(HeadKind::Diagonal), Just(HeadKind::PreviousToken)]
}

/// A `[seq, d]` tensor from [`content`]'s row-major values.
pub fn content_tensor(values: &[f64], seq: usize, d: usize, device: &Device) -> Tensor<2> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(v, [seq, d]), device)
}
