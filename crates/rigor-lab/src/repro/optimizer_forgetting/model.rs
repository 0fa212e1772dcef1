//! The ReLU MLP of the forgetting case study, with its hidden representation exposed.
//!
//! $$ h_0 = x,\quad h_{l} = \operatorname{ReLU}(h_{l-1} W_l + b_l)\ (l = 1..L),\quad
//! z = h_L W_{\text{out}} + b_{\text{out}}, $$
//!
//! one shared 10-way head for every task. The "hidden representation" measured by the report
//! is $h_L$, the input of the head.

use burn::module::{Module, ParamId};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::error::{LabError, Result};

/// `inputs → hidden[0] → … → hidden[L−1] → classes`, ReLU between layers (Burn's default
/// `Linear` initialisation).
#[derive(Module, Debug)]
pub struct ForgettingMlp {
    /// The hidden layers.
    pub hidden: Vec<Linear>,
    /// The shared output head.
    pub head: Linear,
}

impl ForgettingMlp {
    /// A model on `device` (seed the device first for a reproducible initialisation).
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] for no hidden layer or a zero width.
    pub fn new(inputs: usize, hidden: &[usize], classes: usize, device: &Device) -> Result<Self> {
        if inputs == 0 || classes == 0 || hidden.is_empty() || hidden.contains(&0) {
            return Err(LabError::config(
                "ForgettingMlp widths",
                format!("{inputs} → {hidden:?} → {classes}"),
                "need ≥ 1 hidden layer and every width ≥ 1",
            ));
        }
        let mut layers = Vec::with_capacity(hidden.len());
        let mut d = inputs;
        for &h in hidden {
            layers.push(LinearConfig::new(d, h).init(device));
            d = h;
        }
        Ok(Self {
            hidden: layers,
            head: LinearConfig::new(d, classes).init(device),
        })
    }

    /// The last hidden representation $h_L$, `[batch, hidden[L−1]]`.
    pub fn features(&self, x: Tensor<2>) -> Tensor<2> {
        self.hidden
            .iter()
            .fold(x, |h, layer| relu(layer.forward(h)))
    }

    /// `(logits [batch, classes], h_L)`.
    pub fn forward_with_features(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let h = self.features(x);
        (self.head.forward(h.clone()), h)
    }

    /// Logits `[batch, classes]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.head.forward(self.features(x))
    }

    /// Ids of the weight matrices (not the biases), e.g. for an optimizer group.
    pub fn weight_ids(&self) -> Vec<ParamId> {
        self.hidden
            .iter()
            .chain(std::iter::once(&self.head))
            .map(|l| l.weight.id)
            .collect()
    }
}
