//! Classification losses and accuracy for the training loops of the reproductions.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// Mean cross-entropy (nats) of `[n, classes]` logits against `[n]` integer targets:
///
/// $$ \mathcal L = -\frac{\sum_i w_i \log \operatorname{softmax}(z_i)_{y_i}}{\sum_i w_i} $$
///
/// with $w_i = 1$ unless `weight` (`[n]`, e.g. 0 for padding) is given. A zero total weight
/// gives 0, not `NaN`. Targets must be `< classes` (not checked on the host).
pub fn cross_entropy(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    weight: Option<Tensor<1>>,
) -> Tensor<1> {
    let picked: Tensor<1> = log_softmax(logits, 1)
        .gather(1, targets.unsqueeze_dim(1))
        .squeeze_dim(1);
    match weight {
        None => picked.mean().neg(),
        Some(w) => {
            let total = w.clone().sum().clamp_min(f32::MIN_POSITIVE);
            (picked * w).sum().neg() / total
        }
    }
}

/// Fraction of rows whose arg-max logit is the target (ties go to the first maximum), as a
/// one-element tensor on the logits' device.
pub fn accuracy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    logits
        .argmax(1)
        .squeeze_dim::<1>(1)
        .equal(targets)
        .float()
        .mean()
}
