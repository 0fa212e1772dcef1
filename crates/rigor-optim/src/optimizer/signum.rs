//! sign-SGD and Signum — Bernstein, Wang, Azizzadenesheli & Anandkumar, *signSGD: Compressed
//! Optimisation for Non-Convex Problems*, ICML 2018 (arXiv 1802.04434), Algorithms 1 and 2.
//!
//! $$ m_t = \beta m_{t-1} + (1-\beta) g_t,\quad m_0 = 0, \qquad
//!    w_{t+1} = w_t - \eta\\,\lambda\\,w_t - \eta \operatorname{sign}(m_t). $$
//!
//! `β = 0` is sign-SGD (`sign(g_t)`, no state). `sign(0) = 0`. λ is decoupled weight decay.

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Bool, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{Result, check_param};
use crate::optimizer::guard::{SelectState, SkipNonFiniteOnDevice, select_tensor};
use crate::optimizer::record::{put_tensor, take_tensor};

/// Hyper-parameters of [`Signum`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignumConfig {
    /// Momentum β ∈ [0, 1); `0` gives sign-SGD. Default 0.9 (the paper's Signum setting).
    pub momentum: f64,
    /// Decoupled weight decay λ ≥ 0 (`w ← w − ηλw`). Default 0.
    pub weight_decay: f64,
}

impl Default for SignumConfig {
    fn default() -> Self {
        Self {
            momentum: 0.9,
            weight_decay: 0.0,
        }
    }
}

impl SignumConfig {
    /// sign-SGD: `momentum = 0`.
    pub fn sign_sgd() -> Self {
        Self {
            momentum: 0.0,
            ..Self::default()
        }
    }

    /// Validates the config into the bare per-tensor optimizer.
    pub fn build(&self) -> Result<Signum> {
        check_param(
            "momentum",
            self.momentum,
            (0.0..1.0).contains(&self.momentum),
            "must be in [0, 1)",
        )?;
        check_param(
            "weight_decay",
            self.weight_decay,
            self.weight_decay >= 0.0,
            "must be >= 0",
        )?;
        Ok(Signum {
            momentum: self.momentum as f32,
            weight_decay: self.weight_decay,
        })
    }

    /// A whole-module optimizer that skips non-finite gradients, decided on the device
    /// ([`SkipNonFiniteOnDevice`]).
    pub fn init(&self) -> Result<ModuleOptimizer> {
        Ok(SkipNonFiniteOnDevice::new(self.build()?).into())
    }
}

/// sign-SGD / Signum (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Signum {
    momentum: f32,
    weight_decay: f64,
}

/// Per-parameter state of [`Signum`]: the momentum buffer `m`.
#[derive(Clone)]
pub struct SignumState<const D: usize> {
    /// The momentum `m_t`.
    pub momentum: Tensor<D>,
}

impl<const D: usize> RecordState for SignumState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        put_tensor(out, prefix, "momentum", &self.momentum);
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            momentum: take_tensor(src, prefix, "momentum", device)?,
        })
    }
}

impl SelectState for Signum {
    fn select_state<const D: usize>(
        keep_old: &Tensor<1, Bool>,
        new: SignumState<D>,
        old: SignumState<D>,
    ) -> SignumState<D> {
        SignumState {
            momentum: select_tensor(keep_old, new.momentum, old.momentum),
        }
    }
}

impl Optimizer for Signum {
    type State<const D: usize> = SignumState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (direction, state) = if self.momentum == 0.0 {
            (grad.sign(), None)
        } else {
            let b = self.momentum;
            let m = match state {
                Some(s) => s.momentum.mul_scalar(b) + grad.mul_scalar(1.0 - b),
                None => grad.mul_scalar(1.0 - b),
            };
            (m.clone().sign(), Some(SignumState { momentum: m }))
        };
        let decayed = if self.weight_decay > 0.0 {
            tensor.clone() - tensor.mul_scalar(lr * self.weight_decay)
        } else {
            tensor
        };
        (decayed - direction.mul_scalar(lr), state)
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        SignumState {
            momentum: state.momentum.to_device(device),
        }
    }
}
