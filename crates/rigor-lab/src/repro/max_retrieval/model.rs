//! The paper's max-retrieval architecture, as rigor-nn's [`SetReadout`].
//!
//! With items $x_i \in \mathbb R^{1+C}$, encoder $\varphi$ (an MLP: hidden
//! Linear + GELU layers, then a linear output — rigor-nn's `Mlp`), key/value maps
//! $W_K, W_V$, a learned query $q \in \mathbb R^d$, a normalizer $\mathcal N$
//! (softmax in training) and predictor $\psi$:
//!
//! $$ h_i = \varphi(x_i),\quad e_i = \frac{q^\top W_K h_i}{\sqrt d},\quad
//! \alpha = \mathcal N(e),\quad \hat y = \psi\Big(\sum_i \alpha_i W_V h_i\Big). $$
//!
//! The normalizer is not a weight: [`SetReadout::readout`] takes any
//! [`Normalizer`], so a model trained with softmax is evaluated
//! with every other normalizer on one shared [`SetReadout::encode`] pass.

use burn::tensor::Device;
use rigor_nn::{QuerySource, SetReadout, SetReadoutConfig};
use rigor_softmax::Normalizer;
use serde::{Deserialize, Serialize};

use crate::error::{LabError, Result};

/// The max-retrieval model: rigor-nn's set readout with a learned query.
pub type MaxRetrievalModel = SetReadout;

/// Sizes of a [`MaxRetrievalModel`] (written to `results.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxRetrievalModelConfig {
    /// Item width, `1 + classes`.
    pub item_dim: usize,
    /// Number of classes (output width).
    pub classes: usize,
    /// Hidden width d of every layer and of the attention head.
    pub hidden: usize,
    /// Hidden (Linear + GELU) layers of the encoder φ, before its linear output layer.
    pub encoder_layers: usize,
    /// Hidden (Linear + GELU) layers of the predictor ψ, before its linear output layer.
    pub predictor_layers: usize,
}

impl MaxRetrievalModelConfig {
    /// The equivalent [`SetReadoutConfig`]: learned query, softmax, scale $1/\sqrt d$.
    pub fn set_readout(&self) -> SetReadoutConfig {
        SetReadoutConfig::new(self.item_dim, self.hidden, self.classes)
            .with_encoder_layers(self.encoder_layers)
            .with_head_layers(self.predictor_layers)
            .with_query(QuerySource::Learned)
            .with_normalizer(Normalizer::softmax())
    }

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
        Ok(self.set_readout().init(device)?)
    }
}
