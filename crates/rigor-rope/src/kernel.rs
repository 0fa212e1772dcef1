//! The fused RoPE rotation for Flex, behind Burn 0.22's backend-extension mechanism.
//!
//! For every row $x$ of `head_dim` values (one token of one head) and its table row
//! `cos`, `sin` (`rotary_dim` values, from the [`Rope`](crate::Rope) cache), with $s_c = -1$ on
//! the first coordinate of a pair and $+1$ on the second and $p(c)$ the other coordinate of
//! $c$'s pair ([`Layout`]):
//!
//! $$y_c = x_c \cos_c + s_c\\, x_{p(c)} \sin_c \quad (c < r), \qquad y_c = x_c \quad (c \ge r).$$
//!
//! This is [`rotate`](crate::apply::rotate::rotate), the composed reference, in one pass:
//! one read of `x`, one write of `y`, the tables read from cache. The backward pass is the
//! transpose, $\bar x_c = \bar y_c \cos_c - s_c\\, \bar y_{p(c)} \sin_{p(c)}$; both
//! coordinates of a pair share one angle (one frequency slot, one attention factor, one xPos
//! scale), so $\sin_{p(c)} = \sin_c$ and the transpose is the same kernel with `sin` negated.
//!
//! **Where it runs.** [`RopeKernels`] is implemented for `Flex` (f32 and f64 queries and keys,
//! rows in parallel on rayon's pool, compiled for the widest of AVX-512 / AVX2 + FMA the CPU
//! has) and for `Autodiff<Flex>` (the same forward and the transposed rotation registered as
//! the backward). The tables are constants: no gradient flows into them (they are built from
//! `f64` angles on the host, never from a tracked tensor). Every other backend runs the
//! composed reference ([`Rope::apply_reference`](crate::Rope::apply_reference)).
//!
//! **Memory.** Queries and keys may be strided views (e.g. `[batch, seq, heads, d]` viewed as
//! `[batch, heads, seq, d]` after a `swap_dims`, as attention makes them) as long as each row
//! is contiguous. When the input's buffer is uniquely owned (nothing else holds it) and its
//! rows do not overlap, the rotation is written **in place**, in whatever layout the view
//! has, and no memory is allocated; otherwise the output is a new contiguous tensor.
//!
//! **NaN/Inf.** Elementwise: a `NaN` or `±∞` in a row reaches exactly the outputs whose
//! formula reads it (its own coordinate and its pair partner), as in the reference.

use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::{FlexTensor, Layout as FlexLayout};
use burn::backend::{
    Autodiff, Backend, DType, Dispatch, DispatchDevice, Flex, backend_extension,
    tensor::FloatTensor,
};
use burn::tensor::{Bytes, Tensor};
use rigor_cpu::{DisjointRows, Real, for_row_chunks};

use crate::apply::TensorLayout;
use crate::layout::Layout;

/// What a fused rotation needs besides the tensors: the pairing, the order of the
/// dimensions, and the width of the rotated prefix (the rest of each row passes through).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotateSpec {
    /// Which coordinates form a pair.
    pub pairing: Layout,
    /// `[batch, heads, seq, d]` or `[batch, seq, heads, d]`.
    pub layout: TensorLayout,
    /// Rotated prefix $r$ (even, at most the last dim).
    pub rotary_dim: usize,
}

/// The fused rotation as a Burn backend extension (see the [module docs](self)).
///
/// `x` is `[·, ·, ·, d]` in `spec.layout`; `cos` and `sin` are `[P, seq, r]` with `P = 1`
/// (every sequence at the same positions) or `P = batch`, in `x`'s dtype. The crate's
/// [`Rope::apply`](crate::Rope::apply) checks every shape before it calls these.
#[backend_extension(Flex, Autodiff)]
pub trait RopeKernels: Backend {
    /// One rotated tensor.
    fn rigor_rope(
        x: FloatTensor<Self>,
        cos: FloatTensor<Self>,
        sin: FloatTensor<Self>,
        spec: RotateSpec,
    ) -> FloatTensor<Self>;

    /// Queries and keys in one call (their tables differ only under xPos).
    #[allow(clippy::too_many_arguments)]
    fn rigor_rope_qk(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        cos_q: FloatTensor<Self>,
        sin_q: FloatTensor<Self>,
        cos_k: FloatTensor<Self>,
        sin_k: FloatTensor<Self>,
        spec: RotateSpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

impl RopeKernels for Flex {
    fn rigor_rope(x: FlexTensor, cos: FlexTensor, sin: FlexTensor, spec: RotateSpec) -> FlexTensor {
        rotate_flex(x, &cos, &sin, spec, false)
    }

    fn rigor_rope_qk(
        q: FlexTensor,
        k: FlexTensor,
        cos_q: FlexTensor,
        sin_q: FlexTensor,
        cos_k: FlexTensor,
        sin_k: FlexTensor,
        spec: RotateSpec,
    ) -> (FlexTensor, FlexTensor) {
        (
            rotate_flex(q, &cos_q, &sin_q, spec, false),
            rotate_flex(k, &cos_k, &sin_k, spec, false),
        )
    }
}

#[derive(Debug)]
struct RopeBackward;

impl Backward<Flex, 1> for RopeBackward {
    type State = (FlexTensor, FlexTensor, RotateSpec);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (cos, sin, spec) = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |g| {
            rotate_flex(g, &cos, &sin, spec, true)
        });
    }
}

/// The tracked rotation of one autodiff tensor.
fn rope_autodiff<C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<Flex, C>>,
    cos: FloatTensor<Autodiff<Flex, C>>,
    sin: FloatTensor<Autodiff<Flex, C>>,
    spec: RotateSpec,
) -> FloatTensor<Autodiff<Flex, C>> {
    let (cos, sin) = (cos.primitive().clone(), sin.primitive().clone());
    match RopeBackward
        .prepare::<C>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let y = rotate_flex(x.into_primitive(), &cos, &sin, spec, false);
            prep.finish((cos, sin, spec), y)
        }
        OpsKind::UnTracked(prep) => {
            prep.finish(rotate_flex(x.into_primitive(), &cos, &sin, spec, false))
        }
    }
}

impl<C: CheckpointStrategy> RopeKernels for Autodiff<Flex, C> {
    fn rigor_rope(
        x: FloatTensor<Self>,
        cos: FloatTensor<Self>,
        sin: FloatTensor<Self>,
        spec: RotateSpec,
    ) -> FloatTensor<Self> {
        rope_autodiff::<C>(x, cos, sin, spec)
    }

    fn rigor_rope_qk(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        cos_q: FloatTensor<Self>,
        sin_q: FloatTensor<Self>,
        cos_k: FloatTensor<Self>,
        sin_k: FloatTensor<Self>,
        spec: RotateSpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        (
            rope_autodiff::<C>(q, cos_q, sin_q, spec),
            rope_autodiff::<C>(k, cos_k, sin_k, spec),
        )
    }
}

/// Whether [`Rope::apply`](crate::Rope::apply) takes the fused path for `x`: a Flex device
/// (with or without autodiff) and an `f32` or `f64` dtype. Everything else runs the reference.
pub fn fused_available(x: &Tensor<4>) -> bool {
    let on_flex = match x.device().as_dispatch() {
        DispatchDevice::Flex(_) => true,
        DispatchDevice::Autodiff(inner) => matches!(**inner, DispatchDevice::Flex(_)),
        #[allow(unreachable_patterns)]
        _ => false,
    };
    on_flex && matches!(x.dtype(), DType::F32 | DType::F64)
}

/// `x` rotated by the fused kernel (the caller checked [`fused_available`] and the shapes).
pub(crate) fn fused_rotate(
    x: Tensor<4>,
    cos: Tensor<3>,
    sin: Tensor<3>,
    spec: RotateSpec,
) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as RopeKernels>::rigor_rope(
        x.into_dispatch(),
        cos.into_dispatch(),
        sin.into_dispatch(),
        spec,
    ))
}

/// Queries and keys rotated by the fused kernel in one call.
pub(crate) fn fused_rotate_qk(
    (q, k): (Tensor<4>, Tensor<4>),
    (cos_q, sin_q): (Tensor<3>, Tensor<3>),
    (cos_k, sin_k): (Tensor<3>, Tensor<3>),
    spec: RotateSpec,
) -> (Tensor<4>, Tensor<4>) {
    let (q, k) = <Dispatch as RopeKernels>::rigor_rope_qk(
        q.into_dispatch(),
        k.into_dispatch(),
        cos_q.into_dispatch(),
        sin_q.into_dispatch(),
        cos_k.into_dispatch(),
        sin_k.into_dispatch(),
        spec,
    );
    (Tensor::from_dispatch(q), Tensor::from_dispatch(k))
}

// ---------------------------------------------------------------------------------------------
// Flex: rows of contiguous memory.

/// Rotates one row in place: `row[c] ← row[c] cos[c] + s_c row[p(c)] sin[c]` for `c < r`
/// (`sign = −1` gives the transpose). Written as two straight loops over the halves (or the
/// pairs) so that they vectorise.
#[inline(always)]
fn rotate_row_in_place<T: Real>(row: &mut [T], cos: &[T], sin: &[T], pairing: Layout, sign: T) {
    let r = cos.len();
    let n = r / 2;
    match pairing {
        Layout::HalfSplit => {
            let (a, rest) = row.split_at_mut(n);
            let b = &mut rest[..n];
            let (ca, cb) = cos.split_at(n);
            let (sa, sb) = sin.split_at(n);
            for i in 0..n {
                let (xa, xb) = (a[i], b[i]);
                a[i] = xa * ca[i] - sign * xb * sa[i];
                b[i] = xb * cb[i] + sign * xa * sb[i];
            }
        }
        Layout::Interleaved => {
            for ((p, c), s) in row[..r]
                .chunks_exact_mut(2)
                .zip(cos.chunks_exact(2))
                .zip(sin.chunks_exact(2))
            {
                let (xa, xb) = (p[0], p[1]);
                p[0] = xa * c[0] - sign * xb * s[0];
                p[1] = xb * c[1] + sign * xa * s[1];
            }
        }
    }
}

/// Where the rows of a 4-D tensor whose last dim is contiguous start, and which table row
/// each one uses.
struct Rows {
    /// Sizes of the three outer dims.
    outer: [usize; 3],
    /// Strides (elements) of the three outer dims in the input.
    strides: [usize; 3],
    start: usize,
    /// Table rows: `P` (1 or batch) and `seq`.
    table_batch: usize,
    seq: usize,
    layout: TensorLayout,
}

impl Rows {
    /// `(input offset, table row)` of row `i` (row-major over the outer dims).
    #[inline(always)]
    fn locate(&self, i: usize) -> (usize, usize) {
        let i2 = i % self.outer[2];
        let i1 = (i / self.outer[2]) % self.outer[1];
        let i0 = i / (self.outer[2] * self.outer[1]);
        let off = self.start + i0 * self.strides[0] + i1 * self.strides[1] + i2 * self.strides[2];
        let s = match self.layout {
            TensorLayout::Bhsd => i2,
            TensorLayout::Bshd => i1,
        };
        let b = if self.table_batch == 1 { 0 } else { i0 };
        (off, b * self.seq + s)
    }
}

macro_rules! rotate_chunk_fns {
    ($t:ty, $in_place:ident, $copy:ident) => {
        rigor_cpu::with_widest_simd! {
            /// Rotates rows `first..first + count` in place, wherever the layout puts them.
            fn $in_place(
                buf: &DisjointRows<$t>, first: usize, count: usize, cos: &[$t], sin: &[$t],
                rows: &Rows, d: usize, pairing: Layout, sign: $t,
            ) {
                let r = cos.len() / (rows.table_batch * rows.seq);
                for i in first..first + count {
                    let (off, tr) = rows.locate(i);
                    // SAFETY: `rows_disjoint` held, so distinct rows are disjoint ranges, and
                    // each task owns its rows.
                    let row = unsafe { buf.rows_mut(off, d) };
                    let t = tr * r..(tr + 1) * r;
                    rotate_row_in_place(row, &cos[t.clone()], &sin[t], pairing, sign);
                }
            }
        }
        rigor_cpu::with_widest_simd! {
            /// Copies rows `first..first + rows` of a strided input into `out` and rotates them.
            fn $copy(
                input: &[$t], out: &mut [$t], first: usize, cos: &[$t], sin: &[$t], rows: &Rows,
                d: usize, pairing: Layout, sign: $t,
            ) {
                let r = cos.len() / (rows.table_batch * rows.seq);
                for (j, row) in out.chunks_exact_mut(d).enumerate() {
                    let (off, tr) = rows.locate(first + j);
                    row.copy_from_slice(&input[off..off + d]);
                    let t = tr * r..(tr + 1) * r;
                    rotate_row_in_place(row, &cos[t.clone()], &sin[t], pairing, sign);
                }
            }
        }
    };
}

rotate_chunk_fns!(f32, rotate_in_place_f32, rotate_copy_f32);
rotate_chunk_fns!(f64, rotate_in_place_f64, rotate_copy_f64);

/// Whether distinct rows of the layout occupy disjoint ranges of the buffer (so they may be
/// written in place from several tasks): sorted by stride, each outer dim of size > 1 must
/// step past everything the smaller ones span, starting from one row of `d` values. True
/// for every view Flex makes by reshape, permute, swap or narrow; false for broadcasts
/// (stride 0) and overlapping windows.
fn rows_disjoint(rows: &Rows, d: usize) -> bool {
    let mut dims: Vec<(usize, usize)> = rows
        .outer
        .iter()
        .zip(&rows.strides)
        .filter(|(n, _)| **n > 1)
        .map(|(&n, &s)| (s, n))
        .collect();
    dims.sort_unstable();
    let mut span = d;
    for (stride, n) in dims {
        if stride < span {
            return false;
        }
        span = stride.saturating_mul(n);
    }
    true
}

fn contiguous(x: &FlexTensor) -> FlexTensor {
    if x.is_contiguous() {
        x.clone()
    } else {
        x.to_contiguous()
    }
}

macro_rules! rotate_typed {
    ($t:ty, $dtype:expr, $in_place:ident, $copy:ident, $x:expr, $cos:expr, $sin:expr, $rows:expr,
     $d:expr, $pairing:expr, $sign:expr) => {{
        let (cos, sin): (&[$t], &[$t]) = (
            $cos.as_slice().expect("contiguous table"),
            $sin.as_slice().expect("contiguous table"),
        );
        let total = $rows.outer.iter().product::<usize>() * $d;
        let mut x = $x;
        let disjoint = rows_disjoint(&$rows, $d);
        if let Some(storage) = x.try_storage_mut::<$t>().filter(|_| disjoint) {
            // Nothing else holds the buffer: rotate it where it lies (any row layout).
            let buf = DisjointRows::new(storage);
            for_row_chunks(total, $d, |first, count| {
                $in_place(&buf, first, count, cos, sin, &$rows, $d, $pairing, $sign);
            });
            x
        } else {
            let input: &[$t] = x.storage::<$t>();
            let mut out = vec![0.0 as $t; total];
            let o = DisjointRows::new(&mut out);
            for_row_chunks(total, $d, |first, rows| {
                // SAFETY: each task owns rows first..first + rows.
                let b = unsafe { o.rows_mut(first * $d, rows * $d) };
                $copy(input, b, first, cos, sin, &$rows, $d, $pairing, $sign);
            });
            FlexTensor::new(
                Bytes::from_elems(out),
                FlexLayout::contiguous(x.shape()),
                $dtype,
            )
        }
    }};
}

/// The fused rotation of a Flex tensor (`transpose`: the backward pass, `sin` negated).
fn rotate_flex(
    x: FlexTensor,
    cos: &FlexTensor,
    sin: &FlexTensor,
    spec: RotateSpec,
    transpose: bool,
) -> FlexTensor {
    let shape = x.shape();
    let dims = shape.as_slice();
    let d = dims[3];
    if shape.num_elements() == 0 || spec.rotary_dim == 0 {
        return x;
    }
    // Rows must be contiguous with non-negative outer strides; anything else is copied first.
    let strides = x.layout().strides();
    let row_ok = (d == 1 || strides[3] == 1) && strides[..3].iter().all(|&s| s >= 0);
    let x = if row_ok { x } else { x.to_contiguous() };
    let layout = x.layout();
    let strides = layout.strides();
    let table_dims = cos.shape();
    let rows = Rows {
        outer: [dims[0], dims[1], dims[2]],
        strides: [
            strides[0] as usize,
            strides[1] as usize,
            strides[2] as usize,
        ],
        start: layout.start_offset(),
        table_batch: table_dims.as_slice()[0],
        seq: table_dims.as_slice()[1],
        layout: spec.layout,
    };
    let (cos, sin) = (contiguous(cos), contiguous(sin));
    let pairing = spec.pairing;
    match x.dtype() {
        DType::F32 => {
            let sign = if transpose { -1.0f32 } else { 1.0 };
            rotate_typed!(
                f32,
                DType::F32,
                rotate_in_place_f32,
                rotate_copy_f32,
                x,
                cos,
                sin,
                rows,
                d,
                pairing,
                sign
            )
        }
        DType::F64 => {
            let sign = if transpose { -1.0f64 } else { 1.0 };
            rotate_typed!(
                f64,
                DType::F64,
                rotate_in_place_f64,
                rotate_copy_f64,
                x,
                cos,
                sin,
                rows,
                d,
                pairing,
                sign
            )
        }
        other => unreachable!("fused_available admits f32 and f64 only, got {other:?}"),
    }
}
