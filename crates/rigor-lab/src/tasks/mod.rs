//! Seeded synthetic tasks. Each generator draws on the host from a [`LabRng`](crate::LabRng)
//! (so a seed fixes the data on every backend) and returns tensors on the device it is given,
//! together with host copies of the labels for scoring.
//!
//! | task | input | target | used by |
//! |---|---|---|---|
//! | [`max_retrieval`] | a set of n items `[priority, class features]` | class of the max-priority item | *Softmax is not Enough*, App. A (S1) |
//! | [`copy`] | bits, separator, bits again (LM sequence) | the copied bits | length generalisation (S2/S3) |
//! | [`parity`] | a bit string | XOR of the bits | a hard sharp-attention task |

pub mod copy;
pub mod max_retrieval;
pub mod parity;

use burn::tensor::{Device, Int, Tensor, TensorData};

pub(crate) fn int_tensor<const D: usize>(
    values: Vec<i64>,
    shape: [usize; D],
    device: &Device,
) -> Tensor<D, Int> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

pub(crate) fn float_tensor<const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &Device,
) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}
