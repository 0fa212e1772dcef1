//! Layer normalisation, picked at configuration time.

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, RmsNorm, RmsNormConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Which normalisation a block uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormKind {
    /// LayerNorm (Ba et al., 2016): $\gamma \odot (x - \mu)/\sqrt{\sigma^2 + \epsilon} + \beta$.
    #[default]
    LayerNorm,
    /// RMSNorm (Zhang & Sennrich, 2019): $\gamma \odot x / \sqrt{\overline{x^2} + \epsilon}$.
    RmsNorm,
}

impl NormKind {
    /// Builds the layer for width `d_model`.
    pub fn init(self, d_model: usize, epsilon: f64, device: &Device) -> Norm {
        match self {
            NormKind::LayerNorm => Norm::Layer(
                LayerNormConfig::new(d_model)
                    .with_epsilon(epsilon)
                    .init(device),
            ),
            NormKind::RmsNorm => Norm::Rms(
                RmsNormConfig::new(d_model)
                    .with_epsilon(epsilon)
                    .init(device),
            ),
        }
    }
}

/// A LayerNorm or an RMSNorm over the last dimension.
#[derive(Module, Debug)]
pub enum Norm {
    /// LayerNorm.
    Layer(LayerNorm),
    /// RMSNorm.
    Rms(RmsNorm),
}

impl Norm {
    /// Normalises over the last dimension.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Norm::Layer(n) => n.forward(x),
            Norm::Rms(n) => n.forward(x),
        }
    }
}
