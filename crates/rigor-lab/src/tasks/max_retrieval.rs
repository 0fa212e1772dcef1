//! Max retrieval (*Softmax is not Enough*, Veličković et al., ICML 2025, Fig. 2 / App. A;
//! `docs/paper-facts.md` S1).
//!
//! A set holds n items. Item i has a priority $p_i \sim \mathcal U(0,1)$ and a class
//! $c_i \sim \mathcal U\\{0,\dots,C-1\\}$ seen through class-dependent features
//! $f_i = \mathrm{onehot}(c_i) + \sigma\\,\varepsilon_i$, $\varepsilon_i \sim \mathcal N(0, I_C)$.
//! The item's input vector is $x_i = [p_i, f_i] \in \mathbb R^{1+C}$ and the target is
//! $y = c_{i^\star}$, $i^\star = \arg\max_i p_i$: the class of the max-priority item.
//!
//! Every item is drawn independently, so a trained model sees sets of 16 and can be tested on
//! sets of any size; the targets are uniform over the classes at every n.

use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::{float_tensor, int_tensor};
use crate::error::{LabError, Result};
use crate::rng::{self, LabRng};

/// The task's parameters (validated by [`MaxRetrievalTask::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MaxRetrievalTask {
    classes: usize,
    feature_noise: f32,
}

/// One batch of sets.
#[derive(Debug, Clone)]
pub struct MaxRetrievalBatch {
    /// Items `[batch, n, 1 + classes]`: priority in column 0, class features after it.
    pub items: Tensor<3>,
    /// Targets `[batch]`: the class of each set's max-priority item.
    pub targets: Tensor<1, Int>,
    /// The targets on the host.
    pub target_classes: Vec<usize>,
    /// The index of each set's max-priority item on the host.
    pub argmax: Vec<usize>,
}

impl MaxRetrievalTask {
    /// `classes ≥ 2` classes, features `onehot + feature_noise · N(0, I)` with
    /// `feature_noise ≥ 0` (0: plain one-hot features).
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] for `classes < 2` or a negative / non-finite noise.
    pub fn new(classes: usize, feature_noise: f32) -> Result<Self> {
        if classes < 2 {
            return Err(LabError::config(
                "MaxRetrievalTask::classes",
                classes,
                "need at least 2 classes",
            ));
        }
        if !(feature_noise.is_finite() && feature_noise >= 0.0) {
            return Err(LabError::config(
                "MaxRetrievalTask::feature_noise",
                feature_noise,
                "must be finite and ≥ 0",
            ));
        }
        Ok(Self {
            classes,
            feature_noise,
        })
    }

    /// Number of classes C.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Feature noise σ.
    pub fn feature_noise(&self) -> f32 {
        self.feature_noise
    }

    /// Width of an item's input vector, `1 + C`.
    pub fn item_dim(&self) -> usize {
        1 + self.classes
    }

    /// Draws `batch` sets of `n` items from `rng` and puts them on `device`.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] for `batch == 0` or `n == 0`.
    pub fn sample(
        &self,
        batch: usize,
        n: usize,
        rng: &mut LabRng,
        device: &Device,
    ) -> Result<MaxRetrievalBatch> {
        if batch == 0 || n == 0 {
            return Err(LabError::config(
                "MaxRetrievalTask::sample (batch, n)",
                format!("({batch}, {n})"),
                "both must be ≥ 1",
            ));
        }
        let dim = self.item_dim();
        let mut items = Vec::with_capacity(batch * n * dim);
        let mut target_classes = Vec::with_capacity(batch);
        let mut argmax = Vec::with_capacity(batch);
        for _ in 0..batch {
            let (mut best, mut best_p, mut best_c) = (0, f32::NEG_INFINITY, 0);
            for i in 0..n {
                let p = rng::uniform(rng);
                let c = rng::index(rng, self.classes);
                items.push(p);
                for k in 0..self.classes {
                    let onehot = if k == c { 1.0 } else { 0.0 };
                    let noise = if self.feature_noise > 0.0 {
                        self.feature_noise * rng::normal(rng)
                    } else {
                        0.0
                    };
                    items.push(onehot + noise);
                }
                if p > best_p {
                    (best, best_p, best_c) = (i, p, c);
                }
            }
            target_classes.push(best_c);
            argmax.push(best);
        }
        let targets = target_classes.iter().map(|&c| c as i64).collect();
        Ok(MaxRetrievalBatch {
            items: float_tensor(items, [batch, n, dim], device),
            targets: int_tensor(targets, [batch], device),
            target_classes,
            argmax,
        })
    }
}
