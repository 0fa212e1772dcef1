//! Shampoo — Gupta, Koren & Singer, *Shampoo: Preconditioned Stochastic Tensor Optimization*,
//! ICML 2018 (arXiv 1802.09568), with the practical additions of Anil et al., *Scalable Second
//! Order Optimization for Deep Learning* (arXiv 2002.09018): EMA statistics, roots recomputed
//! every k steps, grafting, blocking. The optimizer of S4's forgetting case study.
//!
//! For a parameter viewed as a matrix $G \in \mathbb{R}^{m\times n}$ (a rank-`D ≥ 2` tensor is
//! flattened to `[∏ leading dims, last dim]`) and split into blocks of at most `b × b`, each
//! block keeps
//!
//! $$ L \leftarrow \beta_2 L + (1-\beta_2)\\, G G^\top,\qquad
//!    R \leftarrow \beta_2 R + (1-\beta_2)\\, G^\top G $$
//!
//! ($\beta_2 = 1$ means the plain sums $L \mathrel{+}= GG^\top$, $R \mathrel{+}= G^\top G$ of the
//! original paper), and every `k` steps recomputes $\hat L = (L+\varepsilon I)^{-1/p}$,
//! $\hat R = (R+\varepsilon I)^{-1/p}$ **on the device** with the coupled Newton iteration
//! ([`crate::linalg::newton`]); `p = 4` gives the paper's $L^{-1/4} G R^{-1/4}$. The direction
//! $S = \hat L G \hat R$ is then
//!
//! - **grafted** (optional, [`Grafting::Adam`]): rescaled per block to the Frobenius norm of
//!   the Adam (RMSprop-normalised) direction $A = G / (\sqrt{\hat v} + \varepsilon_g)$,
//!   $S \leftarrow S\\,\lVert A\rVert_F / \lVert S\rVert_F$;
//! - smoothed by momentum $u \leftarrow \beta_1 u + (1-\beta_1) S$ ($\beta_1 = 0$: none);
//! - applied: $W \leftarrow W - \eta\lambda W - \eta u$ ($\lambda$: decoupled weight decay).
//!
//! **Fallback for rank-1 parameters** (biases, norms): they get the diagonal direction $A$ of
//! the grafting optimizer (Adam's second moment, no matrix factors), followed by the same
//! momentum — i.e. Adam with un-bias-corrected first moment. This holds whatever
//! [`ShampooConfig::grafting`] says.
//!
//! With $\beta_2 = 0$, no grafting, no momentum and $\varepsilon \to 0$, one step is
//! $(GG^\top)^{-1/4} G (G^\top G)^{-1/4} = UV^\top$ for $G = U\Sigma V^\top$: the orthogonal
//! direction Muon approximates with Newton–Schulz.

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Bool, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{Result, check_param};
use crate::linalg::blocks::BlockLayout;
use crate::linalg::newton::{NewtonSettings, inverse_pth_root};
use crate::optimizer::guard::{SelectState, SkipNonFiniteOnDevice, select_tensor, select_tensors};
use crate::optimizer::record::{
    move_all, put_tensor, put_tensors, put_usize, take_tensor, take_tensors, take_usize,
};

/// How the Shampoo direction's per-block norm is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grafting {
    /// No grafting: the raw $\hat L G \hat R$.
    None,
    /// Adam-norm grafting (Agarwal et al., *Disentangling Adaptive Gradient Methods from
    /// Learning Rates*, arXiv 2002.11803): each block takes the Frobenius norm of the
    /// RMSprop-normalised gradient.
    Adam,
}

/// Hyper-parameters of [`Shampoo`]. Defaults follow common practice (Anil et al. 2020;
/// Shi et al., *Distributed Shampoo*, arXiv 2309.06497), except the block size, which is small
/// because the iteration runs on every step's host-checked Newton loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShampooConfig {
    /// Factor statistics decay β₂ ∈ [0, 1]; `1` = sums (original Shampoo), `0` = the current
    /// gradient only. Default 1.
    pub beta2: f64,
    /// Ridge ε > 0 added to each factor before the inverse root (absolute, `εI`). Default 1e-6.
    pub epsilon: f64,
    /// Root `p ≥ 1` of each side's inverse root; `4` gives $L^{-1/4} G R^{-1/4}$. Default 4.
    pub root: u32,
    /// Recompute the inverse roots every `k ≥ 1` steps (always at step 1). Default 10.
    pub precondition_every: usize,
    /// Largest block side `b ≥ 1`; larger dimensions are split. Default 256.
    pub block_size: usize,
    /// Grafting of the per-block norm. Default [`Grafting::Adam`].
    pub grafting: Grafting,
    /// β₂ of the grafting / rank-1 fallback second moment, in [0, 1). Default 0.999.
    pub graft_beta2: f64,
    /// ε of the grafting / rank-1 fallback direction, > 0. Default 1e-8.
    pub graft_epsilon: f64,
    /// Momentum β₁ ∈ [0, 1) on the final direction (EMA); 0 disables it. Default 0.9.
    pub momentum: f64,
    /// Decoupled weight decay λ ≥ 0. Default 0.
    pub weight_decay: f64,
    /// Newton iteration cap (≥ 1). Default 100.
    pub newton_max_iters: usize,
    /// Newton stopping tolerance on `max |M − I|`, > 0. Default 1e-6.
    pub newton_tolerance: f64,
}

impl Default for ShampooConfig {
    fn default() -> Self {
        Self {
            beta2: 1.0,
            epsilon: 1e-6,
            root: 4,
            precondition_every: 10,
            block_size: 256,
            grafting: Grafting::Adam,
            graft_beta2: 0.999,
            graft_epsilon: 1e-8,
            momentum: 0.9,
            weight_decay: 0.0,
            newton_max_iters: 100,
            newton_tolerance: 1e-6,
        }
    }
}

impl ShampooConfig {
    /// Validates the config into the bare per-tensor optimizer.
    pub fn build(&self) -> Result<Shampoo> {
        check_param(
            "beta2",
            self.beta2,
            (0.0..=1.0).contains(&self.beta2),
            "must be in [0, 1] (1 = sums)",
        )?;
        check_param("epsilon", self.epsilon, self.epsilon > 0.0, "must be > 0")?;
        check_param("root", self.root as f64, self.root >= 1, "must be >= 1")?;
        check_param(
            "precondition_every",
            self.precondition_every as f64,
            self.precondition_every >= 1,
            "must be >= 1",
        )?;
        check_param(
            "block_size",
            self.block_size as f64,
            self.block_size >= 1,
            "must be >= 1",
        )?;
        check_param(
            "graft_beta2",
            self.graft_beta2,
            (0.0..1.0).contains(&self.graft_beta2),
            "must be in [0, 1)",
        )?;
        check_param(
            "graft_epsilon",
            self.graft_epsilon,
            self.graft_epsilon > 0.0,
            "must be > 0",
        )?;
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
        check_param(
            "newton_max_iters",
            self.newton_max_iters as f64,
            self.newton_max_iters >= 1,
            "must be >= 1",
        )?;
        check_param(
            "newton_tolerance",
            self.newton_tolerance,
            self.newton_tolerance > 0.0,
            "must be > 0",
        )?;
        Ok(Shampoo {
            config: self.clone(),
        })
    }

    /// A whole-module optimizer that skips non-finite gradients, decided on the device
    /// ([`SkipNonFiniteOnDevice`]).
    pub fn init(&self) -> Result<ModuleOptimizer> {
        Ok(SkipNonFiniteOnDevice::new(self.build()?).into())
    }
}

/// Shampoo (see the [module docs](self)). Build with [`ShampooConfig::build`].
#[derive(Debug, Clone)]
pub struct Shampoo {
    config: ShampooConfig,
}

/// Per-parameter state of [`Shampoo`]. The factor lists hold one matrix per block (row-major
/// block order) and are empty for rank-1 parameters.
#[derive(Clone)]
pub struct ShampooState<const D: usize> {
    /// Steps taken.
    pub step: usize,
    /// Left statistics $L$ per block.
    pub left: Vec<Tensor<2>>,
    /// Right statistics $R$ per block.
    pub right: Vec<Tensor<2>>,
    /// $(L+\varepsilon I)^{-1/p}$ per block, as of the last recomputation.
    pub left_root: Vec<Tensor<2>>,
    /// $(R+\varepsilon I)^{-1/p}$ per block, as of the last recomputation.
    pub right_root: Vec<Tensor<2>>,
    /// Second moment of the grafting / fallback direction (parameter shape).
    pub graft_second_moment: Tensor<D>,
    /// Momentum buffer (absent when momentum is 0).
    pub momentum: Option<Tensor<D>>,
}

impl<const D: usize> RecordState for ShampooState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        put_usize(out, prefix, "step", self.step);
        put_tensors(out, prefix, "left", &self.left);
        put_tensors(out, prefix, "right", &self.right);
        put_tensors(out, prefix, "left_root", &self.left_root);
        put_tensors(out, prefix, "right_root", &self.right_root);
        put_tensor(
            out,
            prefix,
            "graft_second_moment",
            &self.graft_second_moment,
        );
        if let Some(m) = &self.momentum {
            put_tensor(out, prefix, "momentum", m);
        }
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            step: take_usize(src, prefix, "step")?,
            left: take_tensors(src, prefix, "left", device)?,
            right: take_tensors(src, prefix, "right", device)?,
            left_root: take_tensors(src, prefix, "left_root", device)?,
            right_root: take_tensors(src, prefix, "right_root", device)?,
            graft_second_moment: take_tensor(src, prefix, "graft_second_moment", device)?,
            momentum: take_tensor(src, prefix, "momentum", device),
        })
    }
}

/// `[∏ leading dims, last dim]` of a rank ≥ 2 shape.
pub(crate) fn matrix_dims(dims: &[usize]) -> (usize, usize) {
    let n = *dims.last().expect("rank >= 1");
    (dims[..dims.len() - 1].iter().product(), n)
}

/// `β·acc + (1−β)·x`, or `acc + x` when β = 1.
pub(crate) fn accumulate(acc: Tensor<2>, x: Tensor<2>, beta: f64) -> Tensor<2> {
    if beta >= 1.0 {
        acc + x
    } else if beta == 0.0 {
        x
    } else {
        acc.mul_scalar(beta) + x.mul_scalar(1.0 - beta)
    }
}

impl Shampoo {
    /// The config this optimizer was built from.
    pub fn config(&self) -> &ShampooConfig {
        &self.config
    }

    fn newton(&self) -> NewtonSettings {
        NewtonSettings {
            max_iters: self.config.newton_max_iters,
            tolerance: self.config.newton_tolerance,
            ..NewtonSettings::default()
        }
    }

    fn fresh_state<const D: usize>(&self, grad: &Tensor<D>) -> ShampooState<D> {
        let device = grad.device();
        let (left, right, left_root, right_root) = if D >= 2 {
            let (m, n) = matrix_dims(&grad.dims());
            let layout = BlockLayout::new(m, n, self.config.block_size);
            let mut l = Vec::new();
            let mut r = Vec::new();
            for (bm, bn) in layout.shapes() {
                l.push(Tensor::<2>::zeros([bm, bm], &device));
                r.push(Tensor::<2>::zeros([bn, bn], &device));
            }
            (l.clone(), r.clone(), l, r)
        } else {
            (vec![], vec![], vec![], vec![])
        };
        ShampooState {
            step: 0,
            left,
            right,
            left_root,
            right_root,
            graft_second_moment: grad.zeros_like(),
            momentum: None,
        }
    }
}

impl SelectState for Shampoo {
    fn select_state<const D: usize>(
        keep_old: &Tensor<1, Bool>,
        new: ShampooState<D>,
        old: ShampooState<D>,
    ) -> ShampooState<D> {
        ShampooState {
            step: new.step,
            left: select_tensors(keep_old, new.left, old.left),
            right: select_tensors(keep_old, new.right, old.right),
            left_root: select_tensors(keep_old, new.left_root, old.left_root),
            right_root: select_tensors(keep_old, new.right_root, old.right_root),
            graft_second_moment: select_tensor(
                keep_old,
                new.graft_second_moment,
                old.graft_second_moment,
            ),
            momentum: match (new.momentum, old.momentum) {
                (Some(n), Some(o)) => Some(select_tensor(keep_old, n, o)),
                (n, _) => n,
            },
        }
    }
}

impl Optimizer for Shampoo {
    type State<const D: usize> = ShampooState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let c = &self.config;
        let mut state = state.unwrap_or_else(|| self.fresh_state(&grad));
        state.step += 1;
        let t = state.step as i32;

        // Grafting / fallback direction A = g / (sqrt(v̂) + ε_g).
        let gb2 = c.graft_beta2;
        state.graft_second_moment =
            state.graft_second_moment.mul_scalar(gb2) + grad.clone().square().mul_scalar(1.0 - gb2);
        let v_hat = state
            .graft_second_moment
            .clone()
            .div_scalar(1.0 - gb2.powi(t));
        let adam_dir = grad.clone() / (v_hat.sqrt().add_scalar(c.graft_epsilon));

        let direction = if D >= 2 {
            let shape = grad.shape();
            let (m, n) = matrix_dims(&grad.dims());
            let layout = BlockLayout::new(m, n, c.block_size);
            let g_blocks = layout.split(&grad.clone().reshape([m, n]));
            let a_blocks = match c.grafting {
                Grafting::Adam => Some(layout.split(&adam_dir.reshape([m, n]))),
                Grafting::None => None,
            };
            let recompute = (state.step - 1) % c.precondition_every == 0;
            let mut out = Vec::with_capacity(g_blocks.len());
            for (i, g) in g_blocks.into_iter().enumerate() {
                let gt = g.clone().transpose();
                state.left[i] =
                    accumulate(state.left[i].clone(), g.clone().matmul(gt.clone()), c.beta2);
                state.right[i] = accumulate(state.right[i].clone(), gt.matmul(g.clone()), c.beta2);
                if recompute {
                    state.left_root[i] =
                        inverse_pth_root(state.left[i].clone(), c.root, c.epsilon, self.newton()).0;
                    state.right_root[i] =
                        inverse_pth_root(state.right[i].clone(), c.root, c.epsilon, self.newton())
                            .0;
                }
                let mut s = state.left_root[i]
                    .clone()
                    .matmul(g)
                    .matmul(state.right_root[i].clone());
                if let Some(a) = &a_blocks {
                    let a_norm = a[i].clone().square().sum().sqrt();
                    let s_norm = s.clone().square().sum().sqrt().clamp_min(1e-30);
                    s = s * (a_norm / s_norm).unsqueeze::<2>();
                }
                out.push(s);
            }
            layout.merge(out).reshape(shape)
        } else {
            adam_dir
        };

        let update = if c.momentum > 0.0 {
            let b1 = c.momentum;
            let u = match state.momentum.take() {
                Some(u) => u.mul_scalar(b1) + direction.mul_scalar(1.0 - b1),
                None => direction.mul_scalar(1.0 - b1),
            };
            state.momentum = Some(u.clone());
            u
        } else {
            direction
        };
        let tensor = if c.weight_decay > 0.0 {
            tensor.clone() - tensor.mul_scalar(lr * c.weight_decay)
        } else {
            tensor
        };
        (tensor - update.mul_scalar(lr), Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        ShampooState {
            step: state.step,
            left: move_all(state.left, device),
            right: move_all(state.right, device),
            left_root: move_all(state.left_root, device),
            right_root: move_all(state.right_root, device),
            graft_second_moment: state.graft_second_moment.to_device(device),
            momentum: state.momentum.map(|m| m.to_device(device)),
        }
    }
}
