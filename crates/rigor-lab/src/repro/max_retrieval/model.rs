//! The paper's max-retrieval architecture.
//!
//! With items \\(x_i \in \mathbb R^{1+C}\\), encoder \\(\varphi\\) (an MLP, ReLU after every
//! layer), key/value maps \\(W_K, W_V\\), a learned query \\(q \in \mathbb R^d\\), a normalizer
//! \\(\mathcal N\\) (softmax in training) and predictor \\(\psi\\):
//!
//! \\[ h_i = \varphi(x_i),\quad e_i = \frac{q^\top W_K h_i}{\sqrt d},\quad
//! \alpha = \mathcal N(e),\quad \hat y = \psi\Big(\sum_i \alpha_i W_V h_i\Big). \\]
//!
//! The normalizer is an argument of [`MaxRetrievalModel::forward`], not a weight, so a model
//! trained with softmax is evaluated with any other normalizer unchanged.

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Tensor};
use rigor_softmax::Normalizer;
use serde::{Deserialize, Serialize};

use crate::error::{LabError, Result};

/// A stack of linear layers with ReLU after each one.
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    /// `layers ≥ 1` layers: `d_in → hidden → … → hidden`.
    pub fn new(d_in: usize, hidden: usize, layers: usize, device: &Device) -> Self {
        let layers = (0..layers)
            .map(|i| LinearConfig::new(if i == 0 { d_in } else { hidden }, hidden).init(device))
            .collect();
        Self { layers }
    }

    /// Applies every layer, each followed by ReLU, on the last dimension.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.layers
            .iter()
            .fold(x, |x, layer| relu(layer.forward(x)))
    }
}

/// Sizes of a [`MaxRetrievalModel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxRetrievalModelConfig {
    /// Item width, `1 + classes`.
    pub item_dim: usize,
    /// Number of classes (output width).
    pub classes: usize,
    /// Hidden width d of every layer and of the attention head.
    pub hidden: usize,
    /// Encoder depth (layers of φ).
    pub encoder_layers: usize,
    /// Predictor depth (hidden layers of ψ before the output layer).
    pub predictor_layers: usize,
}

impl MaxRetrievalModelConfig {
    /// Validates the sizes and initialises a model on `device` (seed the device first for a
    /// reproducible initialisation).
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] if a width or depth is 0 or `classes < 2`.
    pub fn init(&self, device: &Device) -> Result<MaxRetrievalModel> {
        for (what, v) in [
            ("MaxRetrievalModelConfig::item_dim", self.item_dim),
            ("MaxRetrievalModelConfig::hidden", self.hidden),
            (
                "MaxRetrievalModelConfig::encoder_layers",
                self.encoder_layers,
            ),
            (
                "MaxRetrievalModelConfig::predictor_layers",
                self.predictor_layers,
            ),
        ] {
            if v == 0 {
                return Err(LabError::config(what, v, "must be ≥ 1"));
            }
        }
        if self.classes < 2 {
            return Err(LabError::config(
                "MaxRetrievalModelConfig::classes",
                self.classes,
                "must be ≥ 2",
            ));
        }
        let d = self.hidden;
        let std = (1.0 / d as f64).sqrt();
        Ok(MaxRetrievalModel {
            encoder: Mlp::new(self.item_dim, d, self.encoder_layers, device),
            key: LinearConfig::new(d, d).init(device),
            value: LinearConfig::new(d, d).init(device),
            query: Param::from_tensor(Tensor::random([d], Distribution::Normal(0.0, std), device)),
            predictor: Mlp::new(d, d, self.predictor_layers, device),
            head: LinearConfig::new(d, self.classes).init(device),
        })
    }
}

/// Items → MLP → one attention head with a learned query → MLP → class logits.
#[derive(Module, Debug)]
pub struct MaxRetrievalModel {
    encoder: Mlp,
    key: Linear,
    value: Linear,
    query: Param<Tensor<1>>,
    predictor: Mlp,
    head: Linear,
}

/// What [`MaxRetrievalModel::forward`] returns.
#[derive(Debug, Clone)]
pub struct MaxRetrievalOutput {
    /// Class logits `[batch, classes]`.
    pub class_logits: Tensor<2>,
    /// Attention weights `[batch, n]`.
    pub weights: Tensor<2>,
}

impl MaxRetrievalModel {
    /// Attention logits \\(e\\) `[batch, n]` and values \\(W_V h\\) `[batch, n, d]` of the items
    /// `[batch, n, 1 + C]` — the expensive part, shared by every normalizer.
    pub fn attention_logits(&self, items: Tensor<3>) -> (Tensor<2>, Tensor<3>) {
        let [b, n, _] = items.dims();
        let h = self.encoder.forward(items);
        let keys = self.key.forward(h.clone());
        let values = self.value.forward(h);
        let d = keys.dims()[2];
        let q = self.query.val().reshape([1, 1, d]);
        let logits = (keys * q)
            .sum_dim(2)
            .reshape([b, n])
            .div_scalar((d as f64).sqrt());
        (logits, values)
    }

    /// Normalizes `logits` with `normalizer`, pools `values` and predicts the class.
    ///
    /// # Errors
    /// Only if `normalizer` rejects the logits (never for the built-in normalizers on `[b, n]`).
    pub fn readout(
        &self,
        logits: Tensor<2>,
        values: Tensor<3>,
        normalizer: &Normalizer,
    ) -> Result<MaxRetrievalOutput> {
        let [b, _, d] = values.dims();
        let weights = normalizer.apply(logits, -1)?;
        let pooled = weights
            .clone()
            .unsqueeze_dim::<3>(1)
            .matmul(values)
            .reshape([b, d]);
        let class_logits = self.head.forward(self.predictor.forward(pooled));
        Ok(MaxRetrievalOutput {
            class_logits,
            weights,
        })
    }

    /// [`attention_logits`](Self::attention_logits) then [`readout`](Self::readout).
    ///
    /// # Errors
    /// As [`readout`](Self::readout).
    pub fn forward(&self, items: Tensor<3>, normalizer: &Normalizer) -> Result<MaxRetrievalOutput> {
        let (logits, values) = self.attention_logits(items);
        self.readout(logits, values, normalizer)
    }
}

/// Mean cross-entropy of `class_logits` `[batch, C]` against integer `targets` `[batch]`:
/// \\(-\tfrac1B\sum_b \log \mathrm{softmax}(z_b)_{y_b}\\).
pub fn cross_entropy(class_logits: Tensor<2>, targets: Tensor<1, burn::tensor::Int>) -> Tensor<1> {
    let [b] = targets.dims();
    let logp = burn::tensor::activation::log_softmax(class_logits, 1);
    logp.gather(1, targets.reshape([b, 1])).mean().neg()
}
