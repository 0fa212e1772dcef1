//! Powerpropagation — Schwarz, Jayakumar, Pascanu, Latham & Teh, *Powerpropagation: A
//! sparsity inducing weight reparameterisation*, NeurIPS 2021 (arXiv 2110.00296), §3; S4's
//! "reparameterisation seen as an optimizer" case study.
//!
//! **Reparameterisation.** The layer stores θ and uses
//! $w = \operatorname{sign}(\theta)\\,|\theta|^{\alpha}$, initialised so that `w` has the usual
//! distribution: $\theta = \operatorname{sign}(w)\\,|w|^{1/\alpha}$ ([`powerprop_weight`],
//! [`powerprop_theta`], [`PowerpropLinear`]).
//!
//! **Equivalent optimizer.** Gradient descent on θ with step η moves w, to first order, by
//! $\Delta w = \frac{dw}{d\theta}\Delta\theta = -\eta\\,\bigl(\frac{dw}{d\theta}\bigr)^2
//! \nabla_w \mathcal L$ with $\frac{dw}{d\theta} = \alpha|\theta|^{\alpha-1}
//! = \alpha |w|^{(\alpha-1)/\alpha}$, i.e. preconditioned descent on w with
//!
//! $$ P(w) = \alpha^2\\, |w|^{\\,2 - 2/\alpha}, \qquad w \leftarrow w - \eta\\, P(w)\\, \nabla_w\mathcal L $$
//!
//! ([`PowerpropSgd`]). For α > 1, `P(0) = 0`: zero is a fixed point and large weights move
//! fastest ("rich get richer"). Note the factor is **α²**, not α: one α comes from the chain
//! rule on the gradient, one from mapping the θ-step back to w.
//!
//! Only weights (rank ≥ 2) are reparameterised; biases keep plain SGD in both forms, so the
//! layer trained with SGD and a plain layer trained with [`PowerpropSgd`] agree to first order.

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{Result, check_param};

fn check_alpha(alpha: f64) -> Result<()> {
    check_param(
        "alpha",
        alpha,
        alpha >= 1.0,
        "must be >= 1 (alpha = 1 is the plain parameterisation)",
    )
}

/// $w = \operatorname{sign}(\theta)|\theta|^\alpha$ (differentiable through $\theta$).
pub fn powerprop_weight<const D: usize>(theta: Tensor<D>, alpha: f64) -> Tensor<D> {
    if alpha == 1.0 {
        return theta;
    }
    theta.clone().sign() * theta.abs().powf_scalar(alpha)
}

/// The matching initialisation $\theta = \operatorname{sign}(w)|w|^{1/\alpha}$, the inverse of
/// [`powerprop_weight`].
pub fn powerprop_theta<const D: usize>(w: Tensor<D>, alpha: f64) -> Tensor<D> {
    if alpha == 1.0 {
        return w;
    }
    w.clone().sign() * w.abs().powf_scalar(1.0 / alpha)
}

/// Configuration of a [`PowerpropLinear`] layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerpropLinearConfig {
    /// Input features.
    pub d_input: usize,
    /// Output features.
    pub d_output: usize,
    /// The exponent α ≥ 1 (the paper sweeps 1–5).
    pub alpha: f64,
    /// Whether the layer has a bias (not reparameterised). Default `true` via [`new`](Self::new).
    pub bias: bool,
}

impl PowerpropLinearConfig {
    /// `d_input → d_output` with exponent α and a bias.
    pub fn new(d_input: usize, d_output: usize, alpha: f64) -> Self {
        Self {
            d_input,
            d_output,
            alpha,
            bias: true,
        }
    }

    /// A layer whose effective weight `w` has Burn's default [`Linear`] initialisation
    /// (θ = sign(w)|w|^{1/α}); errors if α < 1 or not finite.
    pub fn init(&self, device: &Device) -> Result<PowerpropLinear> {
        let linear = LinearConfig::new(self.d_input, self.d_output)
            .with_bias(self.bias)
            .init(device);
        PowerpropLinear::from_linear(linear, self.alpha)
    }
}

/// A linear layer `y = x w + b` with the Powerprop parameterisation `w = sign(θ)|θ|^α`.
///
/// The weight layout is Burn's (`[d_input, d_output]`).
#[derive(Module, Debug)]
pub struct PowerpropLinear {
    /// The trainable θ, `[d_input, d_output]`.
    pub theta: Param<Tensor<2>>,
    /// The bias (not reparameterised), `[d_output]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// The exponent α.
    pub alpha: f64,
}

impl PowerpropLinear {
    /// Reparameterises an existing layer: same function, θ = sign(w)|w|^{1/α}.
    pub fn from_linear(linear: Linear, alpha: f64) -> Result<Self> {
        check_alpha(alpha)?;
        // Detach the result too: an op output is not a leaf, and an optimizer step would
        // panic when it marks the new parameter as requiring a gradient.
        let theta = powerprop_theta(linear.weight.val().detach(), alpha).detach();
        Ok(Self {
            theta: Param::from_tensor(theta),
            bias: linear.bias,
            alpha,
        })
    }

    /// The effective weight $w = \operatorname{sign}(\theta)|\theta|^\alpha$.
    pub fn weight(&self) -> Tensor<2> {
        powerprop_weight(self.theta.val(), self.alpha)
    }

    /// `x w + b` for `x` of shape `[…, d_input]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let w = self.weight().unsqueeze::<D>();
        let y = x.matmul(w);
        match &self.bias {
            Some(b) => y + b.val().unsqueeze::<D>(),
            None => y,
        }
    }

    /// A plain [`Linear`] with the effective weight (for pruning and evaluation).
    pub fn to_linear(&self) -> Linear {
        Linear {
            weight: Param::from_tensor(self.weight().detach()),
            bias: self.bias.clone(),
        }
    }
}

/// Hyper-parameters of [`PowerpropSgd`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerpropSgdConfig {
    /// The exponent α ≥ 1; `1` is plain SGD.
    pub alpha: f64,
}

impl PowerpropSgdConfig {
    /// The config for exponent α.
    pub fn new(alpha: f64) -> Self {
        Self { alpha }
    }

    /// Validates the config into the bare per-tensor optimizer.
    pub fn build(&self) -> Result<PowerpropSgd> {
        check_alpha(self.alpha)?;
        Ok(PowerpropSgd { alpha: self.alpha })
    }

    /// A whole-module optimizer that skips non-finite gradients, decided on the device
    /// ([`SkipNonFiniteOnDevice`](crate::SkipNonFiniteOnDevice)).
    pub fn init(&self) -> Result<ModuleOptimizer> {
        Ok(crate::optimizer::guard::SkipNonFiniteOnDevice::new(self.build()?).into())
    }
}

/// Preconditioned SGD on $w$ with $P(w) = \alpha^2 |w|^{2-2/\alpha}$ for rank ≥ 2 parameters,
/// plain SGD for rank-1 ones (see the [module docs](self)). Stateless.
#[derive(Debug, Clone)]
pub struct PowerpropSgd {
    alpha: f64,
}

impl PowerpropSgd {
    /// $P(w) = \alpha^2|w|^{2-2/\alpha}$, elementwise.
    pub fn preconditioner<const D: usize>(&self, w: Tensor<D>) -> Tensor<D> {
        let a = self.alpha;
        if a == 1.0 {
            return w.ones_like();
        }
        w.abs().powf_scalar(2.0 - 2.0 / a).mul_scalar(a * a)
    }
}

impl crate::optimizer::guard::SelectState for PowerpropSgd {
    fn select_state<const D: usize>(
        _keep_old: &burn::tensor::Tensor<1, burn::tensor::Bool>,
        _new: (),
        _old: (),
    ) {
    }
}

impl Optimizer for PowerpropSgd {
    type State<const D: usize> = ();

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        _state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let scaled = if D >= 2 {
            grad * self.preconditioner(tensor.clone())
        } else {
            grad
        };
        (tensor - scaled.mul_scalar(lr), None)
    }

    fn to_device<const D: usize>(state: Self::State<D>, _device: &Device) -> Self::State<D> {
        state
    }
}
