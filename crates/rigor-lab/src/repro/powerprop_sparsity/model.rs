//! The Powerprop MLP: every weight matrix reparameterised as
//! $w = \operatorname{sign}(\theta)|\theta|^\alpha$ (rigor-optim's [`PowerpropLinear`]),
//! ReLU between layers; and its plain twin carrying the effective weights, for pruning.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use rigor_optim::{PowerpropLinear, PowerpropLinearConfig};

use crate::error::{LabError, Result};

/// `inputs → hidden[0] → … → classes` with Powerprop layers (biases not reparameterised).
#[derive(Module, Debug)]
pub struct PowerpropMlp {
    /// The layers, the last one the output head.
    pub layers: Vec<PowerpropLinear>,
}

/// The same network with plain [`Linear`] layers holding the effective weights $w$.
#[derive(Module, Debug)]
pub struct PlainMlp {
    /// The layers, the last one the output head.
    pub layers: Vec<Linear>,
}

fn forward_layers<L>(
    layers: &[L],
    x: Tensor<2>,
    f: impl Fn(&L, Tensor<2>) -> Tensor<2>,
) -> Tensor<2> {
    let last = layers.len().saturating_sub(1);
    layers.iter().enumerate().fold(x, |h, (i, layer)| {
        let z = f(layer, h);
        if i < last { relu(z) } else { z }
    })
}

impl PowerpropMlp {
    /// A model with exponent α on `device` whose effective weights have Burn's default
    /// `Linear` initialisation (so every α starts from the same function under the same
    /// device seed: $\theta = \operatorname{sign}(w)|w|^{1/\alpha}$).
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] for a zero width; [`LabError::Optim`] for α < 1.
    pub fn new(
        inputs: usize,
        hidden: &[usize],
        classes: usize,
        alpha: f64,
        device: &Device,
    ) -> Result<Self> {
        if inputs == 0 || classes == 0 || hidden.contains(&0) {
            return Err(LabError::config(
                "PowerpropMlp widths",
                format!("{inputs} → {hidden:?} → {classes}"),
                "every width must be ≥ 1",
            ));
        }
        let widths: Vec<usize> = std::iter::once(inputs)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(classes))
            .collect();
        let layers = widths
            .windows(2)
            .map(|w| PowerpropLinearConfig::new(w[0], w[1], alpha).init(device))
            .collect::<rigor_optim::Result<Vec<_>>>()?;
        Ok(Self { layers })
    }

    /// Logits `[batch, classes]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        forward_layers(&self.layers, x, |l, h| l.forward(h))
    }

    /// The plain network with the effective weights $w$ (detached).
    pub fn to_plain(&self) -> PlainMlp {
        PlainMlp {
            layers: self.layers.iter().map(PowerpropLinear::to_linear).collect(),
        }
    }
}

impl PlainMlp {
    /// Logits `[batch, classes]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        forward_layers(&self.layers, x, |l, h| l.forward(h))
    }

    /// Every weight-matrix entry (not the biases), on the host.
    ///
    /// # Errors
    /// [`LabError::Readback`].
    pub fn weights_host(&self) -> Result<Vec<f64>> {
        let mut out = Vec::new();
        for l in &self.layers {
            let data = l
                .weight
                .val()
                .try_into_data()
                .map_err(|e| LabError::Readback {
                    what: "weights",
                    source: e.into(),
                })?;
            out.extend(data.iter::<f32>().map(f64::from));
        }
        Ok(out)
    }
}
