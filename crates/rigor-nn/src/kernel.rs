//! The fused GELU for Flex, behind Burn 0.22's backend-extension mechanism.
//!
//! $$\operatorname{gelu}(x) = x\\,\Phi(x), \qquad
//!   \operatorname{gelu}^\prime(x) = \Phi(x) + x\\,\varphi(x),$$
//!
//! the exact (erf) GELU of Hendrycks & Gimpel (2016) that [`burn::nn::Gelu`] computes — the
//! composed reference, [`gelu_reference`]. burn-flex evaluates it with a scalar `erf` per
//! element, which was 8 % of the decoder LM's training step (`perf`, `benches/lm_step.rs`);
//! this kernel uses rigor-cpu's vectorisable $\Phi$ (one `exp` forward, two backward, compiled
//! for the widest of AVX-512 / AVX2 + FMA) over the elements in parallel.
//!
//! **Where it runs.** [`GeluKernels`] is implemented for `Flex` and `Autodiff<Flex>` (the
//! backward is fused too: one pass computing $\bar y\\,\operatorname{gelu}^\prime(x)$ from the saved
//! input). `f32` only; other dtypes and every other backend run the reference. When the
//! input buffer is uniquely owned and contiguous the forward writes in place.
//!
//! **Accuracy.** Relative error ≲ 2e-6 against an f64 oracle (absolute ≲ 2e-13 where
//! $|\operatorname{gelu}(x)| < 10^{-7}$); gradient absolute error ≲ 1e-6 (rigor-cpu's unit
//! tests). **NaN/Inf:** NaN stays NaN; the limits are used at the infinities —
//! `gelu(−∞) = 0`, `gelu(∞) = ∞`, `gelu'(−∞) = 0`, `gelu'(∞) = 1` — where the reference's
//! `x·Φ(x)` gives `NaN` for `−∞` and its derivative `NaN` for both.

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
use rigor_cpu::{DisjointRows, for_row_chunks_sized, gelu_f32, gelu_grad_f32};

/// Elements handed to one rayon task.
const ELEMENTS_PER_TASK: usize = 1 << 14;

/// The fused GELU as a Burn backend extension (see the [module docs](self)).
#[backend_extension(Flex, Autodiff)]
pub trait GeluKernels: Backend {
    /// `x Φ(x)` element-wise (`f32`).
    fn rigor_gelu(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl GeluKernels for Flex {
    fn rigor_gelu(x: FlexTensor) -> FlexTensor {
        gelu_flex(x)
    }
}

#[derive(Debug)]
struct GeluBackward;

impl Backward<Flex, 1> for GeluBackward {
    type State = FlexTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let x = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |g| gelu_backward_flex(&x, g));
    }
}

impl<C: CheckpointStrategy> GeluKernels for Autodiff<Flex, C> {
    fn rigor_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match GeluBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let input = x.primitive().clone();
                let y = gelu_flex(x.into_primitive());
                prep.finish(input, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(gelu_flex(x.into_primitive())),
        }
    }
}

/// Whether [`gelu`] takes the fused path for `x`: a Flex device (with or without autodiff)
/// and `f32`.
pub fn fused_available<const D: usize>(x: &Tensor<D>) -> bool {
    let on_flex = match x.device().as_dispatch() {
        DispatchDevice::Flex(_) => true,
        DispatchDevice::Autodiff(inner) => matches!(**inner, DispatchDevice::Flex(_)),
        #[allow(unreachable_patterns)]
        _ => false,
    };
    on_flex && x.dtype() == DType::F32
}

/// GELU, $x\\,\Phi(x)$: the fused kernel where [`fused_available`], else [`gelu_reference`].
/// See the [module docs](self) for accuracy and the infinities.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if !fused_available(&x) {
        return gelu_reference(x);
    }
    Tensor::from_dispatch(<Dispatch as GeluKernels>::rigor_gelu(x.into_dispatch()))
}

/// The composed reference: Burn's own [`burn::tensor::activation::gelu`] (what
/// [`burn::nn::Gelu`] runs), on every backend and dtype.
pub fn gelu_reference<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    burn::tensor::activation::gelu(x)
}

rigor_cpu::with_widest_simd! {
    /// `gelu` over a slice, in place.
    fn gelu_in_place(xs: &mut [f32]) {
        for v in xs.iter_mut() {
            *v = gelu_f32(*v);
        }
    }
}

rigor_cpu::with_widest_simd! {
    /// `out[i] = gelu(xs[i])`.
    fn gelu_into(xs: &[f32], out: &mut [f32]) {
        for (o, &v) in out.iter_mut().zip(xs) {
            *o = gelu_f32(v);
        }
    }
}

rigor_cpu::with_widest_simd! {
    /// `gs[i] ← gs[i] · gelu'(xs[i])`, in place.
    fn gelu_backward_in_place(xs: &[f32], gs: &mut [f32]) {
        for (g, &v) in gs.iter_mut().zip(xs) {
            *g *= gelu_grad_f32(v);
        }
    }
}

rigor_cpu::with_widest_simd! {
    /// `out[i] = gs[i] · gelu'(xs[i])`.
    fn gelu_backward_into(xs: &[f32], gs: &[f32], out: &mut [f32]) {
        for ((o, &g), &v) in out.iter_mut().zip(gs).zip(xs) {
            *o = g * gelu_grad_f32(v);
        }
    }
}

/// Runs `f(start, end)` over `total` elements in tasks of [`ELEMENTS_PER_TASK`].
fn for_element_chunks(total: usize, f: impl Fn(usize, usize) + Sync) {
    for_row_chunks_sized(total, 1, ELEMENTS_PER_TASK, |first, count| {
        f(first, first + count)
    });
}

fn contiguous(x: FlexTensor) -> FlexTensor {
    if x.is_contiguous() && x.layout().start_offset() == 0 {
        x
    } else {
        x.to_contiguous()
    }
}

fn gelu_flex(x: FlexTensor) -> FlexTensor {
    let mut x = contiguous(x);
    let total = x.shape().num_elements();
    if let Some(storage) = x.try_storage_mut::<f32>() {
        let buf = DisjointRows::new(&mut storage[..total]);
        for_element_chunks(total, |a, b| {
            // SAFETY: each task owns elements a..b.
            gelu_in_place(unsafe { buf.rows_mut(a, b - a) });
        });
        return x;
    }
    let input: &[f32] = &x.storage::<f32>()[..total];
    let mut out = vec![0.0f32; total];
    let o = DisjointRows::new(&mut out);
    for_element_chunks(total, |a, b| {
        // SAFETY: each task owns elements a..b.
        gelu_into(&input[a..b], unsafe { o.rows_mut(a, b - a) });
    });
    FlexTensor::new(
        Bytes::from_elems(out),
        FlexLayout::contiguous(x.shape()),
        DType::F32,
    )
}

fn gelu_backward_flex(x: &FlexTensor, g: FlexTensor) -> FlexTensor {
    let x = contiguous(x.clone());
    let mut g = contiguous(g);
    let total = x.shape().num_elements();
    let xs: &[f32] = &x.storage::<f32>()[..total];
    if let Some(storage) = g.try_storage_mut::<f32>() {
        let buf = DisjointRows::new(&mut storage[..total]);
        for_element_chunks(total, |a, b| {
            // SAFETY: each task owns elements a..b.
            gelu_backward_in_place(&xs[a..b], unsafe { buf.rows_mut(a, b - a) });
        });
        return g;
    }
    let gs: &[f32] = &g.storage::<f32>()[..total];
    let mut out = vec![0.0f32; total];
    let o = DisjointRows::new(&mut out);
    for_element_chunks(total, |a, b| {
        // SAFETY: each task owns elements a..b.
        gelu_backward_into(&xs[a..b], &gs[a..b], unsafe { o.rows_mut(a, b - a) });
    });
    FlexTensor::new(
        Bytes::from_elems(out),
        FlexLayout::contiguous(x.shape()),
        DType::F32,
    )
}
