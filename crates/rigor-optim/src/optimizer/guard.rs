//! Non-finite gradients: reported, never folded into the optimizer state.
//!
//! Burn's per-tensor [`Optimizer::step`] cannot return an error, so the policy is **skip and
//! count**: [`SkipNonFinite`] wraps any optimizer (this crate's or Burn's own SGD, AdamW, Muon,
//! Lion …); when a parameter's gradient holds a `NaN` or `±∞`, that parameter's step is
//! skipped — the weights and the state are returned unchanged — and a shared counter is
//! incremented. Read it through [`NonFiniteCounter`]. For a hard failure instead, call
//! [`check_finite`] on the loss or gradients before stepping, which returns
//! [`OptimError::NonFinite`].
//!
//! [`SkipNonFinite`] costs one device→host read of a scalar per parameter per step and
//! wraps any optimizer. [`SkipNonFiniteOnDevice`] decides **on the device** instead: the
//! step is computed on a zeroed gradient when the gradient is not finite and the old weights
//! and state tensors are selected back with `mask_where`, so no step waits for a host read;
//! the count is kept on the device too and read only when [`NonFiniteCounter::skipped`] is
//! called. It needs the optimizer to say how its state is selected ([`SelectState`],
//! implemented for this crate's optimizers and Burn's Adam and AdamW). Host-side step counters
//! in the state (Adam's `time`, Shampoo's and SOAP's `step`) still advance on a skipped step —
//! the one difference from [`SkipNonFinite`]; every tensor is left exactly as it was.
//! `init()` of this crate's configs uses the device form.
//!
//! ```
//! use burn::optim::{ModuleOptimizer, SgdConfig};
//! use rigor_optim::SkipNonFinite;
//!
//! let guarded = SkipNonFinite::new(SgdConfig::new().build());
//! let counter = guarded.counter();
//! let _opt: ModuleOptimizer = guarded.into();
//! assert_eq!(counter.skipped(), 0);
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use burn::optim::{
    Adam, AdamState, AdamW, AdamWState, AdaptiveMomentumState, LearningRate, Optimizer,
    RecordState, StateSink, StateSource,
};
use burn::tensor::{Bool, Device, Int, Tensor};

use crate::error::{OptimError, Result};

/// A shared count of skipped (non-finite) parameter steps; clones share the count.
///
/// Counts from [`SkipNonFiniteOnDevice`] stay on the device (one `[1]` integer tensor per
/// device) until [`skipped`](Self::skipped) reads them: one host read per device per call.
#[derive(Debug, Clone, Default)]
pub struct NonFiniteCounter {
    host: Arc<AtomicU64>,
    on_device: Arc<Mutex<Vec<Tensor<1, Int>>>>,
}

impl NonFiniteCounter {
    /// Parameter steps skipped so far because the gradient was not finite.
    pub fn skipped(&self) -> u64 {
        let mut pending = self
            .on_device
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for t in pending.drain(..) {
            let n = t.into_scalar::<i64>().max(0) as u64;
            self.host.fetch_add(n, Ordering::Relaxed);
        }
        self.host.load(Ordering::Relaxed)
    }

    /// Resets the count to zero.
    pub fn reset(&self) {
        self.on_device
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.host.store(0, Ordering::Relaxed);
    }

    fn bump(&self) {
        self.host.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `bad` (`[1]`, 1 if the step was skipped) to the running count on its device.
    fn add_on_device(&self, bad: Tensor<1, Int>) {
        let mut pending = self
            .on_device
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let device = bad.device();
        match pending.iter_mut().find(|t| t.device() == device) {
            Some(t) => *t = t.clone() + bad,
            None => pending.push(bad),
        }
    }
}

/// Wraps an optimizer so that a parameter whose gradient is not finite is left untouched (see
/// the [module docs](self)).
#[derive(Debug, Clone)]
pub struct SkipNonFinite<O> {
    inner: O,
    counter: NonFiniteCounter,
}

impl<O: Optimizer> SkipNonFinite<O> {
    /// Wraps `inner` with a fresh counter.
    pub fn new(inner: O) -> Self {
        Self {
            inner,
            counter: NonFiniteCounter::default(),
        }
    }

    /// A handle on the skip counter (shared with every clone of this optimizer).
    pub fn counter(&self) -> NonFiniteCounter {
        self.counter.clone()
    }

    /// The wrapped optimizer.
    pub fn inner(&self) -> &O {
        &self.inner
    }
}

/// The state of [`SkipNonFinite`]: the inner optimizer's state, flattened under the same
/// names (so a record saved from the wrapped optimizer is read by the bare one and back).
pub struct GuardState<S>(pub S);

impl<S: Clone> Clone for GuardState<S> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<S: RecordState> RecordState for GuardState<S> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        self.0.state_flatten(prefix, out)
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        S::state_unflatten(prefix, src, device).map(GuardState)
    }
}

impl<O: Optimizer> Optimizer for SkipNonFinite<O> {
    type State<const D: usize> = GuardState<O::State<D>>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if count_non_finite(&grad) > 0 {
            self.counter.bump();
            return (tensor, state);
        }
        let (tensor, state) = self.inner.step(lr, tensor, grad, state.map(|s| s.0));
        (tensor, state.map(GuardState))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        GuardState(O::to_device(state.0, device))
    }
}

/// An optimizer whose per-parameter state can be chosen between two versions on the device,
/// which [`SkipNonFiniteOnDevice`] needs.
pub trait SelectState: Optimizer {
    /// `old` where `keep_old` (a `[1]` bool tensor) is true, else `new`, tensor by tensor (see
    /// [`select_tensor`]). Host-side counters are taken from `new`.
    fn select_state<const D: usize>(
        keep_old: &Tensor<1, Bool>,
        new: Self::State<D>,
        old: Self::State<D>,
    ) -> Self::State<D>;
}

/// `old` where `keep_old` (a `[1]` bool tensor) is true, else `new` — on the device, no read.
///
/// # Panics
/// If `new` and `old` differ in shape (they are two versions of one parameter's tensor).
pub fn select_tensor<const D: usize>(
    keep_old: &Tensor<1, Bool>,
    new: Tensor<D>,
    old: Tensor<D>,
) -> Tensor<D> {
    let mask = keep_old.clone().reshape([1; D]).expand(new.shape());
    new.mask_where(mask, old)
}

/// [`select_tensor`] over two equally long lists.
pub fn select_tensors<const D: usize>(
    keep_old: &Tensor<1, Bool>,
    new: Vec<Tensor<D>>,
    old: Vec<Tensor<D>>,
) -> Vec<Tensor<D>> {
    new.into_iter()
        .zip(old)
        .map(|(n, o)| select_tensor(keep_old, n, o))
        .collect()
}

fn select_momentum<const D: usize>(
    keep_old: &Tensor<1, Bool>,
    new: AdaptiveMomentumState<D>,
    old: AdaptiveMomentumState<D>,
) -> AdaptiveMomentumState<D> {
    AdaptiveMomentumState {
        time: new.time,
        moment_1: select_tensor(keep_old, new.moment_1, old.moment_1),
        moment_2: select_tensor(keep_old, new.moment_2, old.moment_2),
        max_moment_2: match (new.max_moment_2, old.max_moment_2) {
            (Some(n), Some(o)) => Some(select_tensor(keep_old, n, o)),
            (n, _) => n,
        },
    }
}

impl SelectState for Adam {
    fn select_state<const D: usize>(
        keep_old: &Tensor<1, Bool>,
        new: AdamState<D>,
        old: AdamState<D>,
    ) -> AdamState<D> {
        AdamState {
            momentum: select_momentum(keep_old, new.momentum, old.momentum),
        }
    }
}

impl SelectState for AdamW {
    fn select_state<const D: usize>(
        keep_old: &Tensor<1, Bool>,
        new: AdamWState<D>,
        old: AdamWState<D>,
    ) -> AdamWState<D> {
        AdamWState {
            momentum: select_momentum(keep_old, new.momentum, old.momentum),
        }
    }
}

/// Wraps an optimizer so that a parameter whose gradient is not finite keeps its weights and
/// state tensors, decided on the device (see the [module docs](self)).
///
/// A skipped step with no earlier state (the parameter's first step) leaves the weights as
/// they were and stores the state a zero gradient produces.
#[derive(Debug, Clone)]
pub struct SkipNonFiniteOnDevice<O> {
    inner: O,
    counter: NonFiniteCounter,
}

impl<O: SelectState> SkipNonFiniteOnDevice<O> {
    /// Wraps `inner` with a fresh counter.
    pub fn new(inner: O) -> Self {
        Self {
            inner,
            counter: NonFiniteCounter::default(),
        }
    }

    /// A handle on the skip counter (shared with every clone of this optimizer).
    pub fn counter(&self) -> NonFiniteCounter {
        self.counter.clone()
    }

    /// The wrapped optimizer.
    pub fn inner(&self) -> &O {
        &self.inner
    }
}

impl<O: SelectState> Optimizer for SkipNonFiniteOnDevice<O> {
    type State<const D: usize> = GuardState<O::State<D>>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let shape = grad.shape();
        let bad = grad.clone().is_finite().bool_not().any(); // [1], no host read
        self.counter.add_on_device(bad.clone().int());
        let everywhere = bad.clone().reshape([1; D]).expand(shape);
        let grad = grad.mask_fill(everywhere, 0.0);
        let old_state = state.clone();
        let (new_tensor, new_state) = self
            .inner
            .step(lr, tensor.clone(), grad, state.map(|s| s.0));
        let tensor = select_tensor(&bad, new_tensor, tensor);
        let state = match (new_state, old_state) {
            (Some(new), Some(old)) => Some(O::select_state(&bad, new, old.0)),
            (new, _) => new,
        };
        (tensor, state.map(GuardState))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        GuardState(O::to_device(state.0, device))
    }
}

/// Number of `NaN`/`±∞` entries of `t` (one host read).
pub fn count_non_finite<const D: usize>(t: &Tensor<D>) -> usize {
    let finite = t.clone().is_finite().int().sum().into_scalar::<i64>();
    t.shape().num_elements() - finite as usize
}

/// `Ok(())` if every entry of `t` is finite, else [`OptimError::NonFinite`] naming `what`.
pub fn check_finite<const D: usize>(t: &Tensor<D>, what: &'static str) -> Result<()> {
    match count_non_finite(t) {
        0 => Ok(()),
        count => Err(OptimError::NonFinite { what, count }),
    }
}
