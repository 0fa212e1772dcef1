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
//! The check costs one device→host read of a scalar per parameter per step.
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

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use burn::optim::{LearningRate, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};

use crate::error::{OptimError, Result};

/// A shared count of skipped (non-finite) parameter steps; clones share the count.
#[derive(Debug, Clone, Default)]
pub struct NonFiniteCounter(Arc<AtomicU64>);

impl NonFiniteCounter {
    /// Parameter steps skipped so far because the gradient was not finite.
    pub fn skipped(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Resets the count to zero.
    pub fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }

    fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
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
