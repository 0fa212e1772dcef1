//! Parity: the XOR of a bit string, \\(y = \bigoplus_{j=1}^{L} b_j\\), \\(b_j \sim \mathcal U\\{0,1\\}\\).
//!
//! Every bit flips the answer, so a model must attend to all of them — the opposite of max
//! retrieval's single sharp item.

use burn::tensor::{Device, Int, Tensor};

use super::{float_tensor, int_tensor};
use crate::error::{LabError, Result};
use crate::rng::{self, LabRng};

/// The parity task for bit strings of length `len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParityTask {
    len: usize,
}

/// One batch of parity examples.
#[derive(Debug, Clone)]
pub struct ParityBatch {
    /// Bits as token ids `[batch, L]` (0 or 1).
    pub tokens: Tensor<2, Int>,
    /// The same bits as floats `[batch, L]`, for models without an embedding.
    pub bits: Tensor<2>,
    /// Targets `[batch]`: the parity (0 or 1).
    pub targets: Tensor<1, Int>,
    /// The targets on the host.
    pub target_bits: Vec<u8>,
}

impl ParityTask {
    /// Bit strings of length `len ≥ 1`.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] for `len == 0`.
    pub fn new(len: usize) -> Result<Self> {
        if len == 0 {
            return Err(LabError::config("ParityTask::len", len, "must be ≥ 1"));
        }
        Ok(Self { len })
    }

    /// Bit-string length L.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false` (L ≥ 1); present for symmetry with [`len`](Self::len).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Draws `batch` bit strings.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] for `batch == 0`.
    pub fn sample(&self, batch: usize, rng: &mut LabRng, device: &Device) -> Result<ParityBatch> {
        if batch == 0 {
            return Err(LabError::config(
                "ParityTask::sample batch",
                batch,
                "must be ≥ 1",
            ));
        }
        let mut bits = Vec::with_capacity(batch * self.len);
        let mut target_bits = Vec::with_capacity(batch);
        for _ in 0..batch {
            let mut parity = 0u8;
            for _ in 0..self.len {
                let b = rng::index(rng, 2) as u8;
                parity ^= b;
                bits.push(b);
            }
            target_bits.push(parity);
        }
        let shape = [batch, self.len];
        Ok(ParityBatch {
            tokens: int_tensor(bits.iter().map(|&b| i64::from(b)).collect(), shape, device),
            bits: float_tensor(bits.iter().map(|&b| f32::from(b)).collect(), shape, device),
            targets: int_tensor(
                target_bits.iter().map(|&b| i64::from(b)).collect(),
                [batch],
                device,
            ),
            target_bits,
        })
    }
}
