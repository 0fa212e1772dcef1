//! The feed-forward block: Linear–GELU–…–Linear.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Gelu, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use crate::error::{Result as NnResult, nonzero, probability};

/// Configuration of an [`Mlp`]:
/// `hidden_layers` hidden layers of width `d_hidden`, GELU after each, then a linear output.
/// `hidden_layers = 1` is the Transformer's Linear–GELU–Linear; `0` is a single Linear.
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Input width.
    pub d_input: usize,
    /// Hidden width.
    pub d_hidden: usize,
    /// Output width.
    pub d_output: usize,
    /// Number of hidden (Linear + GELU) layers before the output Linear.
    #[config(default = 1)]
    pub hidden_layers: usize,
    /// Biases on every Linear.
    #[config(default = true)]
    pub bias: bool,
    /// Dropout after every GELU (training on an autodiff device only).
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl MlpConfig {
    /// Validates and builds the block.
    ///
    /// # Errors
    /// [`NnError::ZeroSize`](crate::NnError::ZeroSize) for a zero width;
    /// [`NnError::InvalidParameter`](crate::NnError::InvalidParameter) for dropout outside
    /// `[0, 1)`.
    pub fn init(&self, device: &Device) -> NnResult<Mlp> {
        nonzero("d_input", self.d_input)?;
        nonzero("d_output", self.d_output)?;
        if self.hidden_layers > 0 {
            nonzero("d_hidden", self.d_hidden)?;
        }
        probability("dropout", self.dropout)?;
        let mut layers = Vec::with_capacity(self.hidden_layers + 1);
        let mut d_in = self.d_input;
        for _ in 0..self.hidden_layers {
            layers.push(
                LinearConfig::new(d_in, self.d_hidden)
                    .with_bias(self.bias)
                    .init(device),
            );
            d_in = self.d_hidden;
        }
        layers.push(
            LinearConfig::new(d_in, self.d_output)
                .with_bias(self.bias)
                .init(device),
        );
        Ok(Mlp {
            layers,
            activation: Gelu::new(),
            dropout: DropoutConfig::new(self.dropout).init(),
        })
    }
}

/// A multi-layer perceptron $W_L\\,\mathrm{GELU}(\cdots \mathrm{GELU}(W_1 x + b_1) \cdots) + b_L$
/// over the last dimension. Build with [`MlpConfig`].
#[derive(Module, Debug)]
pub struct Mlp {
    /// The Linears, input first.
    pub layers: Vec<Linear>,
    /// GELU (exact, erf form). On Flex (`f32`) the forward runs rigor's fused kernel
    /// ([`crate::kernel::gelu`], same function, vectorised); elsewhere this module.
    pub activation: Gelu,
    /// Dropout after each GELU.
    pub dropout: Dropout,
}

impl Mlp {
    /// `[..., d_input]` → `[..., d_output]`.
    ///
    /// # Panics
    /// If the last dimension is not `d_input` (as [`Linear::forward`]).
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let last = self.layers.len() - 1;
        let mut x = x;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = self.dropout.forward(self.gelu(x));
            }
        }
        x
    }

    #[cfg(feature = "flex")]
    fn gelu<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        if crate::kernel::fused_available(&x) {
            crate::kernel::gelu(x)
        } else {
            self.activation.forward(x)
        }
    }

    #[cfg(not(feature = "flex"))]
    fn gelu<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.activation.forward(x)
    }

    /// Input width.
    pub fn d_input(&self) -> usize {
        self.layers[0].weight.val().dims()[0]
    }

    /// Output width.
    pub fn d_output(&self) -> usize {
        self.layers[self.layers.len() - 1].weight.val().dims()[1]
    }
}
