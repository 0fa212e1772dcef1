//! The fused per-token statistics pass for Flex, behind Burn 0.22's backend-extension
//! mechanism.
//!
//! For every row $x \in \mathbb{R}^V$ of logits and its target $t$ it computes what
//! [`token_stats_reference`](crate::metrics::token::token_stats_reference) computes (the
//! formulas are in [`metrics::token`](crate::metrics::token)), with **no `[tokens, vocab]`
//! temporary**: one pass finds $m = \max_j x_j$, a second accumulates, in lanes,
//!
//! $$S = \sum_j e^{x_j - m},\qquad T = \sum_j e^{x_j - m}\max(x_j - m, \text{f32::MIN}),\qquad Q = \sum_j e^{2(x_j - m)},$$
//!
//! from which $\tfrac12(-\log p_t) = \tfrac12 m - \tfrac12 x_t + \tfrac12\ln S$,
//! correct $= [x_t \ge m]$, confidence $= 1/S$, entropy $= \ln S - T/S$ and
//! Brier $= Q/S^2 - 2e^{x_t - m}/S + 1$. A row of 32 000 `f32` logits (128 KB) stays in the
//! core's L2 cache between the two passes, so the logits are read from memory once. Extra
//! memory: the `[tokens, 5]` output and nothing else.
//!
//! **Where it runs.** [`TokenStatsKernels`] is implemented for `Flex` (f32 and f64 logits, rows
//! in parallel on rayon's pool, the `f32` exp vectorised for the widest of AVX-512 / AVX2 the CPU
//! has) and for `Autodiff<Flex>` (it reads the inner tensor; the statistics are a metric and
//! carry **no gradient** on this path). Every other backend runs the composed reference.
//!
//! **NaN/Inf.** As the reference: a row holding `NaN` or `+∞`, or fully masked (all `−∞`),
//! gives `NaN` in every column; a `−∞` target in a row with a finite maximum gives
//! $-\log p_t = +\infty$. A target outside `0..V` (which the accumulator never passes) gives
//! `NaN` in every column instead of reading out of bounds.

use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::{
    Autodiff, AutodiffBackend, Backend, DType, Dispatch, DispatchDevice, Flex, backend_extension,
    tensor::{FloatTensor, IntTensor},
};
use burn::tensor::{Bytes, Int, Shape, Tensor};
use rigor_cpu::{DisjointRows, LANES, Real, for_row_chunks_sized, max_and_count};

use crate::metrics::token::STATS;

/// Fused token statistics as a Burn backend extension (see the [module docs](self)).
#[backend_extension(Flex, Autodiff)]
pub trait TokenStatsKernels: Backend {
    /// `[n, STATS]` statistics of `logits` `[n, vocab]` against `targets` `[n]`.
    fn rigor_token_stats(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self>;
}

impl TokenStatsKernels for Flex {
    fn rigor_token_stats(logits: FlexTensor, targets: FlexTensor) -> FlexTensor {
        token_stats_flex(&logits, &targets)
    }
}

impl<C: CheckpointStrategy> TokenStatsKernels for Autodiff<Flex, C> {
    fn rigor_token_stats(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self> {
        <Self as AutodiffBackend>::from_inner(token_stats_flex(logits.primitive(), &targets))
    }
}

/// Whether [`token_stats`](crate::metrics::token::token_stats) takes the fused path: a Flex
/// device (with or without autodiff) and `f32` or `f64` logits.
pub fn fused_available(logits: &Tensor<2>) -> bool {
    let on_flex = match logits.device().as_dispatch() {
        DispatchDevice::Flex(_) => true,
        DispatchDevice::Autodiff(inner) => matches!(**inner, DispatchDevice::Flex(_)),
        #[allow(unreachable_patterns)]
        _ => false,
    };
    on_flex && matches!(logits.dtype(), DType::F32 | DType::F64)
}

/// The fused statistics (the caller checked [`fused_available`]).
pub(crate) fn fused_token_stats(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as TokenStatsKernels>::rigor_token_stats(
        logits.into_dispatch(),
        targets.into_dispatch(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Flex

/// Rows per rayon task: a row is a whole vocabulary, so tasks are a few rows each.
const ROWS_PER_TASK: usize = 4;

/// The statistics of one row (see the module docs); `t` is the target, already checked.
#[inline(always)]
fn row_stats<T: Real>(x: &[T], t: Option<usize>, out: &mut [T]) {
    let nan = T::from_f64(f64::NAN);
    let Some(t) = t else {
        out.fill(nan);
        return;
    };
    let (m, _) = max_and_count(x);
    let floor = T::from_f64(f32::MIN as f64);
    let mut s = [T::ZERO; LANES];
    let mut e_z = [T::ZERO; LANES];
    let mut q = [T::ZERO; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for j in 0..LANES {
            let z = c[j] - m;
            let e = z.exp();
            let zc = if z > floor { z } else { floor };
            s[j] = s[j] + e;
            e_z[j] = e_z[j] + e * zc;
            q[j] = q[j] + e * e;
        }
    }
    let (mut s1, mut t1, mut q1) = (T::ZERO, T::ZERO, T::ZERO);
    for &v in chunks.remainder() {
        let z = v - m;
        let e = z.exp();
        let zc = if z > floor { z } else { floor };
        s1 = s1 + e;
        t1 = t1 + e * zc;
        q1 = q1 + e * e;
    }
    let sum = |a: [T; LANES], tail: T| a.iter().fold(tail, |acc, &v| acc + v);
    let (s, e_z, q) = (sum(s, s1), sum(e_z, t1), sum(q, q1));
    let half = T::from_f64(0.5);
    let two = T::from_f64(2.0);
    let ln_s = s.ln();
    let x_t = x[t];
    let p_t = (x_t - m).exp() / s;
    out[0] = half * m - half * x_t + half * ln_s;
    out[1] = if x_t >= m { T::ONE } else { T::ZERO };
    out[2] = T::ONE / s;
    out[3] = ln_s - e_z / s;
    out[4] = q / (s * s) - two * p_t + T::ONE;
    // NaN/+∞ in the row, or a fully masked row, make S NaN: every column is NaN (the
    // reference leaves `correct` at 0 there; the accumulator rejects the row on its NLL).
    if s.is_nan() {
        out.fill(nan);
    }
}

macro_rules! stats_chunk_fn {
    ($t:ty, $name:ident) => {
        rigor_cpu::with_widest_simd! {
            /// Statistics of rows `first..first + rows`.
            fn $name(x: &[$t], targets: &[Option<usize>], out: &mut [$t], v: usize) {
                for ((row, &t), o) in x.chunks_exact(v).zip(targets).zip(out.chunks_exact_mut(STATS)) {
                    row_stats(row, t, o);
                }
            }
        }
    };
}

stats_chunk_fn!(f32, stats_chunk_f32);
stats_chunk_fn!(f64, stats_chunk_f64);

/// Targets as checked indices (`None` outside `0..vocab`).
fn read_targets(targets: &FlexTensor, vocab: usize) -> Vec<Option<usize>> {
    let targets = if targets.is_contiguous() {
        targets.clone()
    } else {
        targets.to_contiguous()
    };
    let check = |id: i64| usize::try_from(id).ok().filter(|&i| i < vocab);
    match targets.dtype() {
        DType::I64 => targets
            .as_slice::<i64>()
            .expect("contiguous")
            .iter()
            .map(|&i| check(i))
            .collect(),
        DType::I32 => targets
            .as_slice::<i32>()
            .expect("contiguous")
            .iter()
            .map(|&i| check(i64::from(i)))
            .collect(),
        DType::U32 => targets
            .as_slice::<u32>()
            .expect("contiguous")
            .iter()
            .map(|&i| check(i64::from(i)))
            .collect(),
        other => {
            // Other integer widths: read through TensorData's conversion.
            let data = targets.into_data();
            match data.convert::<i64>().try_into_vec::<i64>() {
                Ok(v) => v.into_iter().map(check).collect(),
                Err(_) => unreachable!("integer targets of dtype {other:?} convert to i64"),
            }
        }
    }
}

macro_rules! stats_typed {
    ($t:ty, $dtype:expr, $chunk:ident, $x:expr, $targets:expr, $n:expr, $v:expr) => {{
        let x: &[$t] = $x.as_slice().expect("contiguous rows");
        let mut out = vec![0.0 as $t; $n * STATS];
        if $v == 0 {
            // No vocabulary: no target is in range.
            out.fill(<$t>::NAN);
        }
        let o = DisjointRows::new(&mut out);
        for_row_chunks_sized($n * $v, $v, ROWS_PER_TASK, |first, rows| {
            // SAFETY: each task owns rows first..first + rows.
            let os = unsafe { o.rows_mut(first * STATS, rows * STATS) };
            $chunk(
                &x[first * $v..(first + rows) * $v],
                &$targets[first..first + rows],
                os,
                $v,
            );
        });
        FlexTensor::new(
            Bytes::from_elems(out),
            Layout::contiguous(Shape::new([$n, STATS])),
            $dtype,
        )
    }};
}

fn token_stats_flex(logits: &FlexTensor, targets: &FlexTensor) -> FlexTensor {
    let logits = if logits.is_contiguous() {
        logits.clone()
    } else {
        logits.to_contiguous()
    };
    let dims = logits.shape();
    let (n, v) = (dims.as_slice()[0], dims.as_slice()[1]);
    let targets = read_targets(targets, v);
    match logits.dtype() {
        DType::F32 => stats_typed!(f32, DType::F32, stats_chunk_f32, logits, targets, n, v),
        DType::F64 => stats_typed!(f64, DType::F64, stats_chunk_f64, logits, targets, n, v),
        other => unreachable!("fused_available admits f32 and f64 only, got {other:?}"),
    }
}
