//! A set encoder with a single attention readout — the max-retrieval architecture of
//! *Softmax is not Enough (for Sharp Size Generalisation)*, Veličković et al., ICML 2025 (max-retrieval experiment, Fig. 2 and App. A):
//! items → deep MLP → one attention head with a learned query → deep MLP → class logits.
//!
//! For items $x_1..x_n$ (`[batch, n, d_input]`) and query $y$:
//!
//! $$ h_i = \mathrm{MLP}\_{enc}(x_i),\quad e_i = s\\,\langle q(y), W_K h_i\rangle,\quad
//!    \alpha = \mathcal N(e),\quad \mathrm{logits} = \mathrm{MLP}\_{head}\Big(\sum_i \alpha_i W_V h_i\Big) $$
//!
//! $q(y)$ is a learned vector ([`QuerySource::Learned`]) or a linear map of a per-example
//! query input ([`QuerySource::Input`]). Lemma 2.1 says that with bounded logits every
//! $\alpha_i$ is $\Theta(1/n)$: swap $\mathcal N$ on the trained model
//! ([`SetReadout::set_normalizer`], e.g. to `Normalizer::adaptive()`) and read
//! [`SetReadoutOutput::weights`] / [`SetReadoutOutput::scores`] to see it.

use burn::config::Config;
use burn::module::{Initializer, Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Bool, Device, Tensor};
use rigor_softmax::{Normalize, Normalizer};
use serde::{Deserialize, Serialize};

use crate::attention::mask_logits;
use crate::block::{Mlp, MlpConfig};
use crate::error::{NnError, Result as NnResult, nonzero, positive};

/// Where the readout's query comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuerySource {
    /// One learned query vector (the paper's setting); `forward` takes `query = None`.
    #[default]
    Learned,
    /// A per-example query `[batch, d_query]`, mapped to the key space by a Linear.
    Input {
        /// Width of the query input.
        d_query: usize,
    },
}

/// Configuration of a [`SetReadout`].
///
/// ```
/// use burn::tensor::{Device, Distribution, Tensor};
/// use rigor_nn::SetReadoutConfig;
/// use rigor_softmax::{Normalize, Normalizer};
///
/// let device = Device::flex();
/// let model = SetReadoutConfig::new(5, 16, 4).init(&device).unwrap();
/// let items = Tensor::<3>::random([2, 7, 5], Distribution::Uniform(0.0, 1.0), &device);
/// let out = model.forward(items.clone(), None, None).unwrap();
/// assert_eq!(out.logits.dims(), [2, 4]);
/// assert_eq!(out.weights.dims(), [2, 7]);
/// let sharp = model.with_normalizer(Normalizer::adaptive());
/// assert_eq!(sharp.forward(items, None, None).unwrap().logits.dims(), [2, 4]);
/// ```
#[derive(Config, Debug)]
pub struct SetReadoutConfig {
    /// Width of an item's features (e.g. priority + one-hot class).
    pub d_input: usize,
    /// Width of the item embeddings, keys, values and MLP hidden layers.
    pub d_model: usize,
    /// Number of output classes.
    pub n_classes: usize,
    /// Hidden layers of the item encoder MLP ($d_{input} \to d_{model}$).
    #[config(default = 2)]
    pub encoder_layers: usize,
    /// Hidden layers of the predictor MLP ($d_{model} \to$ classes).
    #[config(default = 2)]
    pub head_layers: usize,
    /// Learned query or per-example query input.
    #[config(default = "QuerySource::Learned")]
    pub query: QuerySource,
    /// The attention normalizer.
    #[config(default = "Normalizer::softmax()")]
    pub normalizer: Normalizer,
    /// Logit scale $s$; `None` is $1/\sqrt{d_{model}}$.
    pub scale: Option<f64>,
}

impl SetReadoutConfig {
    /// Validates and builds the model.
    ///
    /// # Errors
    /// [`NnError::ZeroSize`] for a zero width, class count or `d_query`;
    /// [`NnError::InvalidParameter`] for a scale that is not finite and `> 0`.
    pub fn init(&self, device: &Device) -> NnResult<SetReadout> {
        nonzero("d_input", self.d_input)?;
        nonzero("d_model", self.d_model)?;
        nonzero("n_classes", self.n_classes)?;
        if let Some(s) = self.scale {
            positive("scale", s)?;
        }
        let (query, query_projection) = match self.query {
            QuerySource::Learned => (
                Some(
                    Initializer::Normal {
                        mean: 0.0,
                        std: 1.0,
                    }
                    .init([self.d_model], device),
                ),
                None,
            ),
            QuerySource::Input { d_query } => (
                None,
                Some(LinearConfig::new(nonzero("d_query", d_query)?, self.d_model).init(device)),
            ),
        };
        let linear = LinearConfig::new(self.d_model, self.d_model);
        Ok(SetReadout {
            encoder: MlpConfig::new(self.d_input, self.d_model, self.d_model)
                .with_hidden_layers(self.encoder_layers)
                .init(device)?,
            key: linear.init(device),
            value: linear.init(device),
            query,
            query_projection,
            head: MlpConfig::new(self.d_model, self.d_model, self.n_classes)
                .with_hidden_layers(self.head_layers)
                .init(device)?,
            normalizer: self.normalizer.clone(),
            scale: self
                .scale
                .unwrap_or_else(|| 1.0 / (self.d_model as f64).sqrt()),
        })
    }
}

/// Items → MLP → single-head attention readout → MLP → class logits. Build with
/// [`SetReadoutConfig`]; see the [module docs](self).
#[derive(Module, Debug)]
pub struct SetReadout {
    /// Item encoder $\mathrm{MLP}_{enc}$.
    pub encoder: Mlp,
    /// $W_K$.
    pub key: Linear,
    /// $W_V$.
    pub value: Linear,
    /// The learned query ([`QuerySource::Learned`]).
    pub query: Option<Param<Tensor<1>>>,
    /// Query-input map ([`QuerySource::Input`]).
    pub query_projection: Option<Linear>,
    /// Predictor $\mathrm{MLP}_{head}$.
    pub head: Mlp,
    #[module(skip)]
    normalizer: Normalizer,
    scale: f64,
}

/// What [`SetReadout::forward`] returns.
#[derive(Debug, Clone)]
pub struct SetReadoutOutput {
    /// Class logits, `[batch, n_classes]`.
    pub logits: Tensor<2>,
    /// Attention weights over the items, `[batch, n]` (padded items get 0).
    pub weights: Tensor<2>,
    /// Attention logits $e$, `[batch, n]`, padded items at $-\infty$.
    pub scores: Tensor<2>,
}

/// The normalizer-independent part of a [`SetReadout`] forward pass, from
/// [`SetReadout::encode`].
#[derive(Debug, Clone)]
pub struct SetReadoutEncoding {
    /// Attention logits $e$, `[batch, n]`, padded items at $-\infty$.
    pub scores: Tensor<2>,
    /// Values $v_i = W_V h_i$, `[batch, n, d_model]`.
    pub values: Tensor<3>,
}

impl SetReadout {
    /// The normalizer.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Replaces the normalizer; the weights are untouched.
    pub fn set_normalizer(&mut self, normalizer: Normalizer) {
        self.normalizer = normalizer;
    }

    /// Builder form of [`set_normalizer`](Self::set_normalizer).
    pub fn with_normalizer(mut self, normalizer: Normalizer) -> Self {
        self.normalizer = normalizer;
        self
    }

    /// Logit scale $s$.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The normalizer-independent part of a forward pass (encoder, keys, values, scores):
    /// item features `[batch, n, d_input]`, the query (`None` with a learned query,
    /// `[batch, d_query]` otherwise) and an optional item padding mask (`[batch, n]`,
    /// `true` = padded). Compute it once and [`readout`](Self::readout) it with several
    /// normalizers to compare them on the same sets at the cost of one encoder pass.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] for a wrong item width, an empty set, a query that does not
    /// match the [`QuerySource`], or a padding mask that is not `[batch, n]`.
    pub fn encode(
        &self,
        items: Tensor<3>,
        query: Option<Tensor<2>>,
        item_padding: Option<Tensor<2, Bool>>,
    ) -> NnResult<SetReadoutEncoding> {
        let [b, n, d_in] = items.dims();
        let want = self.encoder.d_input();
        if d_in != want || n == 0 || b == 0 {
            return Err(NnError::ShapeMismatch {
                op: "SetReadout::encode",
                detail: format!(
                    "items have shape {:?}, expected [batch >= 1, n >= 1, d_input = {want}]",
                    items.dims()
                ),
            });
        }
        let q: Tensor<2> = match (&self.query, &self.query_projection, query) {
            (Some(learned), _, None) => {
                let d = learned.val().dims()[0];
                learned.val().reshape([1, d]).expand([b, d])
            }
            (_, Some(proj), Some(y)) => {
                let d_q = proj.weight.val().dims()[0];
                if y.dims() != [b, d_q] {
                    return Err(NnError::ShapeMismatch {
                        op: "SetReadout::encode",
                        detail: format!(
                            "query has shape {:?}, expected [batch, d_query] = [{b}, {d_q}]",
                            y.dims()
                        ),
                    });
                }
                proj.forward(y)
            }
            (Some(_), _, Some(_)) => {
                return Err(NnError::ShapeMismatch {
                    op: "SetReadout::encode",
                    detail:
                        "this model has a learned query (QuerySource::Learned): pass query = None"
                            .into(),
                });
            }
            _ => {
                return Err(NnError::ShapeMismatch {
                    op: "SetReadout::encode",
                    detail: "this model reads a query input (QuerySource::Input): pass query = Some([batch, d_query])".into(),
                });
            }
        };
        let h = self.encoder.forward(items);
        let keys = self.key.forward(h.clone()); // [b, n, d]
        let values = self.value.forward(h);
        let d = keys.dims()[2];
        // [b, 1, 1, d] · [b, 1, d, n] → [b, 1, 1, n], so masking reuses the attention path.
        let scores = q
            .reshape([b, 1, 1, d])
            .matmul(keys.swap_dims(1, 2).reshape([b, 1, d, n]))
            .mul_scalar(self.scale);
        let scores = mask_logits(scores, false, item_padding)?.reshape([b, n]);
        Ok(SetReadoutEncoding { scores, values })
    }

    /// The normalizer-dependent rest of a forward pass: normalizes `encoding.scores` with
    /// `normalizer` (not necessarily the model's own), pools the values and predicts.
    ///
    /// $$ \alpha = \mathcal N(e),\quad \mathrm{logits} = \mathrm{MLP}_{head}\Big(\sum_i \alpha_i v_i\Big) $$
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `encoding` is not `[batch, n]` scores with
    /// `[batch, n, d_model]` values (its fields are public; [`encode`](Self::encode) makes valid
    /// ones), or what `normalizer` reports (never for the built-in normalizers).
    pub fn readout(
        &self,
        encoding: &SetReadoutEncoding,
        normalizer: &Normalizer,
    ) -> NnResult<SetReadoutOutput> {
        self.readout_custom(encoding, normalizer)
    }

    /// [`readout`](Self::readout) with any [`Normalize`] implementor (a user's own, or one with
    /// per-head parameters fixed for evaluation, e.g. `rigor_softmax::Sinks`,
    /// `Llama4Temperature`, `AsEntmaxHeads`). The scores reach it as `[batch, 1, 1, n]`: one
    /// head, one query row over `n` keys, so a position-dependent normalizer sees the query at
    /// position `n − 1` (after the items).
    ///
    /// # Errors
    /// As [`readout`](Self::readout), and whatever `normalizer` reports.
    pub fn readout_custom(
        &self,
        encoding: &SetReadoutEncoding,
        normalizer: &dyn Normalize,
    ) -> NnResult<SetReadoutOutput> {
        let [b, n, d] = encoding.values.dims();
        let want_d = self.key.weight.val().dims()[1];
        if encoding.scores.dims() != [b, n] || d != want_d || b == 0 || n == 0 {
            return Err(NnError::ShapeMismatch {
                op: "SetReadout::readout",
                detail: format!(
                    "scores {:?} and values {:?} must be [batch, n] and [batch, n, d_model = {want_d}] \
                     (use SetReadout::encode)",
                    encoding.scores.dims(),
                    encoding.values.dims()
                ),
            });
        }
        let weights = normalizer
            .normalize(encoding.scores.clone().reshape([b, 1, 1, n]))?
            .reshape([b, n]);
        let pooled = weights
            .clone()
            .reshape([b, 1, n])
            .matmul(encoding.values.clone())
            .reshape([b, d]);
        Ok(SetReadoutOutput {
            logits: self.head.forward(pooled),
            weights,
            scores: encoding.scores.clone(),
        })
    }

    /// [`encode`](Self::encode) then [`readout`](Self::readout) with the model's own
    /// normalizer: item features `[batch, n, d_input]`, the query (`None` with a learned query,
    /// `[batch, d_query]` otherwise) and an optional item padding mask (`[batch, n]`,
    /// `true` = padded) → logits, weights and scores.
    ///
    /// # Errors
    /// As [`encode`](Self::encode).
    pub fn forward(
        &self,
        items: Tensor<3>,
        query: Option<Tensor<2>>,
        item_padding: Option<Tensor<2, Bool>>,
    ) -> NnResult<SetReadoutOutput> {
        let encoding = self.encode(items, query, item_padding)?;
        self.readout(&encoding, &self.normalizer)
    }
}
