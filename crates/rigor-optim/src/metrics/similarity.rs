//! Cross-class similarity of representations (S4's forgetting case study: Shampoo gives lower
//! cross-class similarity of per-class mean hidden activations).
//!
//! With $\mu_c$ the mean activation vector of class `c`,
//! $C_{ab} = \frac{\mu_a\cdot\mu_b}{\lVert\mu_a\rVert\\,\lVert\mu_b\rVert}$; the summary is the
//! mean of the off-diagonal entries.

use burn::tensor::Tensor;

use crate::error::{OptimError, Result};
use crate::metrics::host_finite;

/// The class-mean cosine-similarity matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSimilarity {
    /// The classes present, ascending; row/column `i` of [`matrix`](Self::matrix) is
    /// `classes[i]`.
    pub classes: Vec<usize>,
    /// Cosine similarities; a zero mean vector has similarity 0 with every class (and itself).
    pub matrix: Vec<Vec<f64>>,
    /// Mean of the off-diagonal entries (0 with a single class).
    pub mean_off_diagonal: f64,
}

/// Cosine similarity of per-class mean activations. `features`: `[samples, units]`,
/// `labels[i]` the class of sample `i`.
///
/// Errors: `labels.len()` ≠ samples, no samples, non-finite features.
pub fn class_mean_cosine(features: Tensor<2>, labels: &[usize]) -> Result<ClassSimilarity> {
    let [n, d] = features.dims();
    if labels.len() != n {
        return Err(OptimError::ShapeMismatch {
            what: "class_mean_cosine labels",
            expected: format!("{n} labels (one per sample)"),
            got: format!("{} labels", labels.len()),
        });
    }
    if n == 0 {
        return Err(OptimError::Undefined {
            what: "class similarity",
            reason: "no samples",
        });
    }
    let v = host_finite(features, "features")?;
    let mut classes: Vec<usize> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let means: Vec<Vec<f64>> = classes
        .iter()
        .map(|&c| {
            let mut mu = vec![0.0; d];
            let mut count = 0usize;
            for (i, _) in labels.iter().enumerate().filter(|(_, l)| **l == c) {
                count += 1;
                for j in 0..d {
                    mu[j] += v[i * d + j];
                }
            }
            mu.iter_mut().for_each(|x| *x /= count as f64);
            mu
        })
        .collect();
    let norms: Vec<f64> = means
        .iter()
        .map(|m| m.iter().map(|x| x * x).sum::<f64>().sqrt())
        .collect();
    let k = classes.len();
    let mut matrix = vec![vec![0.0; k]; k];
    let mut off = 0.0;
    for a in 0..k {
        for b in 0..k {
            let denom = norms[a] * norms[b];
            let cos = if denom > 0.0 {
                means[a]
                    .iter()
                    .zip(&means[b])
                    .map(|(x, y)| x * y)
                    .sum::<f64>()
                    / denom
            } else {
                0.0
            };
            matrix[a][b] = cos;
            if a != b {
                off += cos;
            }
        }
    }
    let mean_off_diagonal = if k > 1 {
        off / (k * (k - 1)) as f64
    } else {
        0.0
    };
    Ok(ClassSimilarity {
        classes,
        matrix,
        mean_off_diagonal,
    })
}
