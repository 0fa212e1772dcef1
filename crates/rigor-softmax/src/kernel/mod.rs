//! Fused CPU kernels for the normalizers, behind Burn 0.22's backend-extension mechanism.
//!
//! | op | forward | backward |
//! |---|---|---|
//! | softmax with temperature, SSMax (fixed `s`), softmax1 | max+count, exp+sum, scale: 3 passes | $\beta\\,p\odot(g-\langle g,p\rangle)$, 2 passes |
//! | adaptive temperature (§4 of *Softmax is not Enough*) | max, exp+sum, entropy, then exp+sum, scale only where $\beta \ne 1$ | as softmax, plus the path through $\beta(H)$ unless `detach_beta` |
//! | sparsemax, α-entmax | max, gather the candidates $x_k > \max x - 1$, exact $\tau$ on them, scatter | $s\odot(g-\langle s,g\rangle/\textstyle\sum s)$, $s=p^{2-\alpha}$ |
//!
//! **Where they run.** [`NormalizerKernels`] is a backend extension implemented for
//! `Flex` (f32 and f64 rows, rayon over rows, the inner loops vectorised for the widest of
//! AVX-512 / AVX2 the CPU has, with a branch-free Cephes exp / ln in `f32`) and for `Autodiff<Flex>` (the
//! same forward with a fused backward registered on the graph). Every other backend
//! (NdArray, wgpu, and Flex tensors of other dtypes) runs the composed reference, which stays
//! public as the `*_reference` functions and is the oracle the kernels are tested against.
//! [`fused_available`] says which path a tensor takes.
//!
//! **Semantics.** The same as the references: `−∞` is a mask (weight exactly 0), a fully
//! masked row is all zeros, a row holding `NaN`/`+∞` is all `NaN`. Two deliberate
//! differences, both towards the exact value: the inverse temperature multiplies
//! $x - \max x$ rather than $x$ (so huge-but-finite logits cannot overflow to `NaN` under a
//! large $\beta$), and entmax's threshold is exact on the support rather than the end of a
//! 40-step bisection. The $\beta$ returned by the fused adaptive path is a diagnostic without
//! gradient (the weights' gradient does flow through $\beta$).

mod rows;

use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::{
    Autodiff, AutodiffBackend, Backend, DType, Dispatch, DispatchDevice, Flex, backend_extension,
    tensor::FloatTensor,
};
use burn::tensor::{Bytes, Shape, Tensor};

use rigor_cpu::{DisjointRows, for_row_chunks};
use rows::{
    AdaptiveRule, EntmaxScratch, entmax_row, entmax_row_backward, family_row, family_row_backward,
};

use crate::normalizer::adaptive::AdaptiveTemperature;
use crate::normalizer::entmax::Entmax;
use crate::normalizer::scalable::ScalableSoftmax;
use crate::normalizer::softmax::Temperature;

/// What one fused softmax-family row computes; built from the crate's validated parameter
/// types, so a kernel never meets an invalid temperature or scale.
#[derive(Debug, Clone, PartialEq)]
pub enum RowKind {
    /// $\operatorname{softmax}(x/\theta)$.
    Softmax(Temperature),
    /// SSMax, $\operatorname{softmax}((s\ln n)\\,x)$ with `n` the row's unmasked count.
    Scalable(ScalableSoftmax),
    /// Softmax1, $e^{x_k}/(1 + \sum_j e^{x_j})$.
    Softmax1,
    /// Adaptive-temperature softmax.
    Adaptive(AdaptiveKind),
}

/// The adaptive-temperature rule as a fused row sees it (from a validated
/// [`AdaptiveTemperature`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveKind(rows::AdaptiveRule);

impl From<&AdaptiveTemperature> for AdaptiveKind {
    fn from(rule: &AdaptiveTemperature) -> Self {
        Self(AdaptiveRule {
            polynomial: rule.polynomial().clone(),
            derivative: rule.polynomial().derivative(),
            threshold: rule.threshold(),
            epsilon: rule.entropy_epsilon(),
            detach_beta: rule.detach_beta(),
        })
    }
}

/// Fused normalizers as a Burn backend extension (see the [module docs](self)).
///
/// Both methods normalise along the **last** dimension of a tensor whose dtype is `f32` or
/// `f64`; the crate's public functions move the dimension and check [`fused_available`]
/// before calling it.
#[backend_extension(Flex, Autodiff)]
pub trait NormalizerKernels: Backend {
    /// The softmax family along the last dim: the weights, and β per row (last dim 1).
    fn rigor_family_last(
        x: FloatTensor<Self>,
        kind: RowKind,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
    /// α-entmax along the last dim.
    fn rigor_entmax_last(x: FloatTensor<Self>, entmax: Entmax) -> FloatTensor<Self>;
}

impl NormalizerKernels for Flex {
    fn rigor_family_last(x: FlexTensor, kind: RowKind) -> (FlexTensor, FlexTensor) {
        family_forward(x, &kind)
    }

    fn rigor_entmax_last(x: FlexTensor, entmax: Entmax) -> FlexTensor {
        entmax_forward(x, entmax.alpha())
    }
}

impl<C: CheckpointStrategy> NormalizerKernels for Autodiff<Flex, C> {
    fn rigor_family_last(
        x: FloatTensor<Self>,
        kind: RowKind,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        #[derive(Debug)]
        struct FamilyBackward;

        impl Backward<Flex, 1> for FamilyBackward {
            type State = (FlexTensor, FlexTensor, FlexTensor, RowKind);

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let (x, p, beta, kind) = ops.state;
                unary::<Flex, _>(ops.parents, ops.node, grads, |g| {
                    family_backward(&kind, &x, &p, &beta, g)
                });
            }
        }

        let (p, beta) = family_forward(x.primitive().clone(), &kind);
        let weights = match FamilyBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                prep.finish((x.into_primitive(), p.clone(), beta.clone(), kind), p)
            }
            OpsKind::UnTracked(prep) => prep.finish(p),
        };
        (weights, <Self as AutodiffBackend>::from_inner(beta))
    }

    fn rigor_entmax_last(x: FloatTensor<Self>, entmax: Entmax) -> FloatTensor<Self> {
        let alpha = entmax.alpha();
        #[derive(Debug)]
        struct EntmaxBackward;

        impl Backward<Flex, 1> for EntmaxBackward {
            type State = (FlexTensor, f64);

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let (p, alpha) = ops.state;
                unary::<Flex, _>(ops.parents, ops.node, grads, |g| {
                    entmax_backward(alpha, &p, g)
                });
            }
        }

        let p = entmax_forward(x.primitive().clone(), alpha);
        match EntmaxBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((p.clone(), alpha), p),
            OpsKind::UnTracked(prep) => prep.finish(p),
        }
    }
}

/// Whether a tensor's normalizer calls take the fused path: a Flex device (with or without
/// autodiff) and an `f32` or `f64` dtype. Everything else runs the composed reference.
pub fn fused_available<const D: usize>(x: &Tensor<D>) -> bool {
    let device = x.device();
    let on_flex = match device.as_dispatch() {
        DispatchDevice::Flex(_) => true,
        DispatchDevice::Autodiff(inner) => matches!(**inner, DispatchDevice::Flex(_)),
        #[allow(unreachable_patterns)]
        _ => false,
    };
    on_flex && matches!(x.dtype(), DType::F32 | DType::F64) && D > 0
}

/// The softmax family along a resolved `dim` through the fused kernel: weights and β (with
/// `dim` of size 1). Callers check [`fused_available`] first.
pub(crate) fn fused_family<const D: usize>(
    x: Tensor<D>,
    dim: usize,
    kind: RowKind,
) -> (Tensor<D>, Tensor<D>) {
    let last = D - 1;
    let x = if dim == last {
        x
    } else {
        x.swap_dims(dim, last)
    };
    let (p, beta) = <Dispatch as NormalizerKernels>::rigor_family_last(x.into_dispatch(), kind);
    let p = Tensor::<D>::from_dispatch(p);
    let beta = Tensor::<D>::from_dispatch(beta);
    if dim == last {
        (p, beta)
    } else {
        (p.swap_dims(dim, last), beta.swap_dims(dim, last))
    }
}

/// α-entmax along a resolved `dim` through the fused kernel. Callers check
/// [`fused_available`] first.
pub(crate) fn fused_entmax<const D: usize>(x: Tensor<D>, dim: usize, entmax: Entmax) -> Tensor<D> {
    let last = D - 1;
    let x = if dim == last {
        x
    } else {
        x.swap_dims(dim, last)
    };
    let p = <Dispatch as NormalizerKernels>::rigor_entmax_last(x.into_dispatch(), entmax);
    let p = Tensor::<D>::from_dispatch(p);
    if dim == last {
        p
    } else {
        p.swap_dims(dim, last)
    }
}

// ---------------------------------------------------------------------------------------------
// Flex: rows of contiguous memory.

fn shape_of(x: &FlexTensor) -> (Shape, usize) {
    let shape = x.shape();
    let n = shape.as_slice().last().copied().unwrap_or(1);
    (shape, n)
}

fn beta_shape(shape: &Shape) -> Shape {
    let mut shape = shape.clone();
    if let Some(last) = shape.as_mut_slice().last_mut() {
        *last = 1;
    }
    shape
}

/// Rows of a contiguous tensor of the given element type, read without a copy when the
/// tensor already is contiguous.
fn contiguous(x: &FlexTensor) -> FlexTensor {
    if x.is_contiguous() {
        x.clone()
    } else {
        x.to_contiguous()
    }
}

macro_rules! flex_paths {
    ($t:ty, $dtype:expr, $family_chunk:ident, $family_back_chunk:ident, $entmax_chunk:ident,
     $entmax_back_chunk:ident) => {
        rigor_cpu::with_widest_simd! {
            /// Forward of the softmax family on a chunk of rows.
            fn $family_chunk(kind: &RowKind, x: &[$t], out: &mut [$t], beta: &mut [$t], n: usize) {
                for ((xr, or), b) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)).zip(beta.iter_mut()) {
                    *b = family_row(kind, xr, or);
                }
            }
        }
        rigor_cpu::with_widest_simd! {
            /// Backward of the softmax family on a chunk of rows.
            fn $family_back_chunk(
                kind: &RowKind, x: &[$t], p: &[$t], beta: &[$t], g: &[$t], dx: &mut [$t], n: usize,
            ) {
                for ((((xr, pr), &b), gr), dr) in x
                    .chunks_exact(n)
                    .zip(p.chunks_exact(n))
                    .zip(beta)
                    .zip(g.chunks_exact(n))
                    .zip(dx.chunks_exact_mut(n))
                {
                    family_row_backward(kind, xr, pr, b, gr, dr);
                }
            }
        }
        rigor_cpu::with_widest_simd! {
            /// Forward of α-entmax on a chunk of rows.
            fn $entmax_chunk(alpha: f64, x: &[$t], out: &mut [$t], n: usize) {
                let mut scratch = EntmaxScratch::default();
                for (xr, or) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
                    entmax_row(alpha, xr, or, &mut scratch);
                }
            }
        }
        rigor_cpu::with_widest_simd! {
            /// Backward of α-entmax on a chunk of rows.
            fn $entmax_back_chunk(alpha: f64, p: &[$t], g: &[$t], dx: &mut [$t], n: usize) {
                for ((pr, gr), dr) in p.chunks_exact(n).zip(g.chunks_exact(n)).zip(dx.chunks_exact_mut(n)) {
                    entmax_row_backward(alpha, pr, gr, dr);
                }
            }
        }
    };
}

flex_paths!(
    f32,
    DType::F32,
    family_chunk_f32,
    family_back_chunk_f32,
    entmax_chunk_f32,
    entmax_back_chunk_f32
);
flex_paths!(
    f64,
    DType::F64,
    family_chunk_f64,
    family_back_chunk_f64,
    entmax_chunk_f64,
    entmax_back_chunk_f64
);

macro_rules! family_forward_typed {
    ($t:ty, $dtype:expr, $chunk:ident, $x:expr, $kind:expr, $shape:expr, $n:expr) => {{
        let input: &[$t] = $x.as_slice().expect("contiguous rows");
        let mut out = vec![0.0 as $t; input.len()];
        let mut beta = vec![0.0 as $t; input.len() / $n.max(1)];
        if $n > 0 && !input.is_empty() {
            let (o, b) = (DisjointRows::new(&mut out), DisjointRows::new(&mut beta));
            for_row_chunks(input.len(), $n, |first, rows| {
                // SAFETY: each task owns rows first..first + rows.
                let (os, bs) =
                    unsafe { (o.rows_mut(first * $n, rows * $n), b.rows_mut(first, rows)) };
                $chunk($kind, &input[first * $n..(first + rows) * $n], os, bs, $n);
            });
        }
        (
            FlexTensor::new(
                Bytes::from_elems(out),
                Layout::contiguous($shape.clone()),
                $dtype,
            ),
            FlexTensor::new(
                Bytes::from_elems(beta),
                Layout::contiguous(beta_shape(&$shape)),
                $dtype,
            ),
        )
    }};
}

/// Fused forward of the softmax family on a Flex tensor (last dim).
fn family_forward(x: FlexTensor, kind: &RowKind) -> (FlexTensor, FlexTensor) {
    let x = contiguous(&x);
    let (shape, n) = shape_of(&x);
    match x.dtype() {
        DType::F32 => family_forward_typed!(f32, DType::F32, family_chunk_f32, x, kind, shape, n),
        DType::F64 => family_forward_typed!(f64, DType::F64, family_chunk_f64, x, kind, shape, n),
        other => unreachable!("fused_available admits f32 and f64 only, got {other:?}"),
    }
}

macro_rules! family_backward_typed {
    ($t:ty, $dtype:expr, $chunk:ident, $kind:expr, $x:expr, $p:expr, $beta:expr, $g:expr, $shape:expr, $n:expr) => {{
        let (x, p, beta, g): (&[$t], &[$t], &[$t], &[$t]) = (
            $x.as_slice().expect("contiguous rows"),
            $p.as_slice().expect("contiguous rows"),
            $beta.as_slice().expect("contiguous rows"),
            $g.as_slice().expect("contiguous rows"),
        );
        let mut dx = vec![0.0 as $t; x.len()];
        if $n > 0 && !x.is_empty() {
            let d = DisjointRows::new(&mut dx);
            for_row_chunks(x.len(), $n, |first, rows| {
                let r = first * $n..(first + rows) * $n;
                // SAFETY: each task owns rows first..first + rows.
                let ds = unsafe { d.rows_mut(r.start, r.len()) };
                $chunk(
                    $kind,
                    &x[r.clone()],
                    &p[r.clone()],
                    &beta[first..first + rows],
                    &g[r],
                    ds,
                    $n,
                );
            });
        }
        FlexTensor::new(Bytes::from_elems(dx), Layout::contiguous($shape), $dtype)
    }};
}

/// Fused backward of the softmax family.
fn family_backward(
    kind: &RowKind,
    x: &FlexTensor,
    p: &FlexTensor,
    beta: &FlexTensor,
    g: FlexTensor,
) -> FlexTensor {
    let g = contiguous(&g);
    let x = contiguous(x);
    let x = &x;
    let (shape, n) = shape_of(x);
    match x.dtype() {
        DType::F32 => family_backward_typed!(
            f32,
            DType::F32,
            family_back_chunk_f32,
            kind,
            x,
            p,
            beta,
            g,
            shape,
            n
        ),
        DType::F64 => family_backward_typed!(
            f64,
            DType::F64,
            family_back_chunk_f64,
            kind,
            x,
            p,
            beta,
            g,
            shape,
            n
        ),
        other => unreachable!("fused_available admits f32 and f64 only, got {other:?}"),
    }
}

macro_rules! entmax_forward_typed {
    ($t:ty, $dtype:expr, $chunk:ident, $x:expr, $alpha:expr, $shape:expr, $n:expr) => {{
        let input: &[$t] = $x.as_slice().expect("contiguous rows");
        let mut out = vec![0.0 as $t; input.len()];
        if $n > 0 && !input.is_empty() {
            let o = DisjointRows::new(&mut out);
            for_row_chunks(input.len(), $n, |first, rows| {
                // SAFETY: each task owns rows first..first + rows.
                let os = unsafe { o.rows_mut(first * $n, rows * $n) };
                $chunk($alpha, &input[first * $n..(first + rows) * $n], os, $n);
            });
        }
        FlexTensor::new(Bytes::from_elems(out), Layout::contiguous($shape), $dtype)
    }};
}

/// Fused forward of α-entmax on a Flex tensor (last dim).
fn entmax_forward(x: FlexTensor, alpha: f64) -> FlexTensor {
    let x = contiguous(&x);
    let (shape, n) = shape_of(&x);
    match x.dtype() {
        DType::F32 => entmax_forward_typed!(f32, DType::F32, entmax_chunk_f32, x, alpha, shape, n),
        DType::F64 => entmax_forward_typed!(f64, DType::F64, entmax_chunk_f64, x, alpha, shape, n),
        other => unreachable!("fused_available admits f32 and f64 only, got {other:?}"),
    }
}

macro_rules! entmax_backward_typed {
    ($t:ty, $dtype:expr, $chunk:ident, $alpha:expr, $p:expr, $g:expr, $shape:expr, $n:expr) => {{
        let (p, g): (&[$t], &[$t]) = (
            $p.as_slice().expect("contiguous rows"),
            $g.as_slice().expect("contiguous rows"),
        );
        let mut dx = vec![0.0 as $t; p.len()];
        if $n > 0 && !p.is_empty() {
            let d = DisjointRows::new(&mut dx);
            for_row_chunks(p.len(), $n, |first, rows| {
                let r = first * $n..(first + rows) * $n;
                // SAFETY: each task owns rows first..first + rows.
                let ds = unsafe { d.rows_mut(r.start, r.len()) };
                $chunk($alpha, &p[r.clone()], &g[r], ds, $n);
            });
        }
        FlexTensor::new(Bytes::from_elems(dx), Layout::contiguous($shape), $dtype)
    }};
}

/// Fused backward of α-entmax.
fn entmax_backward(alpha: f64, p: &FlexTensor, g: FlexTensor) -> FlexTensor {
    let g = contiguous(&g);
    let (shape, n) = shape_of(p);
    match p.dtype() {
        DType::F32 => entmax_backward_typed!(
            f32,
            DType::F32,
            entmax_back_chunk_f32,
            alpha,
            p,
            g,
            shape,
            n
        ),
        DType::F64 => entmax_backward_typed!(
            f64,
            DType::F64,
            entmax_back_chunk_f64,
            alpha,
            p,
            g,
            shape,
            n
        ),
        other => unreachable!("fused_available admits f32 and f64 only, got {other:?}"),
    }
}
