//! Solution-property metrics: what kind of solution an optimizer found.
//!
//! Pure functions on tensors (values are read back to the host, where the statistics are
//! computed in f64) and modules:
//!
//! - [`sparsity`]: fraction of near-zero weights (absolute or relative τ), Hoyer sparsity.
//! - [`rank`]: singular spectrum → effective rank, stable rank, srank_δ, participation ratio.
//! - [`dormant`]: τ-dormant units.
//! - [`similarity`]: cross-class cosine similarity of per-class mean activations.
//! - [`pruning`]: global magnitude pruning of a module and the pruning curve.
//! - [`continual`]: the continual-learning accuracy matrix R and ACC, BWT, FWT, forgetting.

pub mod continual;
pub mod dormant;
pub mod pruning;
pub mod rank;
pub mod similarity;
pub mod sparsity;

use burn::tensor::Tensor;

use crate::error::{OptimError, Result};

/// Reads a tensor to the host as f64, failing on non-finite entries.
pub(crate) fn host_finite<const D: usize>(t: Tensor<D>, what: &'static str) -> Result<Vec<f64>> {
    let v = crate::linalg::host::to_host(t);
    let count = v.iter().filter(|x| !x.is_finite()).count();
    if count > 0 {
        return Err(OptimError::NonFinite { what, count });
    }
    Ok(v)
}
