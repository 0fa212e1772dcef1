//! Parity: the XOR of a bit string, $y = \bigoplus_{j=1}^{L} b_j$, $b_j \sim \mathcal U\\{0,1\\}$.
//!
//! Every bit flips the answer, so a model must attend to all of them — the opposite of max
//! retrieval's single sharp item.
//!
//! Two forms: [`ParityTask::sample`] gives bits and their parity (a classifier's task);
//! [`ParityTask::sample_prefix`] gives the **language-model form** over the copy task's
//! alphabet — bits, separator, then every prefix parity
//! $p_k = b_1 \oplus \dots \oplus b_k$, $k = 1..L$:
//! $s = (b_1..b_L,\ \mathrm{SEP},\ p_1..p_L)$, scored on the $L$ parities. Position
//! $L + k$ must combine the bit $L + 1$ places back with the previous parity, so the
//! task needs the same positional look-up as copying.

use burn::tensor::{Device, Int, Tensor};

use burn::tensor::{Bool, TensorData};

use super::copy::SEP;
use super::{float_tensor, int_tensor};
use crate::error::{LabError, Result};
use crate::rng::{self, LabRng};

/// The parity task for bit strings of length `len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParityTask {
    len: usize,
}

/// One batch of the language-model form ([`ParityTask::sample_prefix`]).
#[derive(Debug, Clone)]
pub struct PrefixParityBatch {
    /// Model inputs `[batch, 2L]`: the full sequence without its last token.
    pub inputs: Tensor<2, Int>,
    /// Next-token targets `[batch, 2L]`: the full sequence without its first token.
    pub targets: Tensor<2, Int>,
    /// `[batch, 2L]`, `true` where the target is a prefix parity (the last L positions).
    pub loss_mask: Tensor<2, Bool>,
    /// The targets on the host, row-major `[batch · 2L]`.
    pub host_targets: Vec<i64>,
    /// The mask on the host, row-major `[batch · 2L]`.
    pub host_mask: Vec<bool>,
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

    /// The full language-model sequence for `bits`: bits, separator, prefix parities.
    pub fn prefix_sequence(bits: &[u8]) -> Vec<usize> {
        let mut s: Vec<usize> = bits.iter().map(|&b| usize::from(b)).collect();
        s.push(SEP);
        let mut p = 0u8;
        for &b in bits {
            p ^= b & 1;
            s.push(usize::from(p));
        }
        s
    }

    /// Draws `batch` sequences of the language-model form (module docs): inputs
    /// `s[..2L]`, targets `s[1..]`, scored on the last L targets.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] for `batch == 0`.
    pub fn sample_prefix(
        &self,
        batch: usize,
        rng: &mut LabRng,
        device: &Device,
    ) -> Result<PrefixParityBatch> {
        if batch == 0 {
            return Err(LabError::config(
                "ParityTask::sample_prefix batch",
                batch,
                "must be ≥ 1",
            ));
        }
        let t = 2 * self.len;
        let (mut inputs, mut targets, mut mask) = (
            Vec::with_capacity(batch * t),
            Vec::with_capacity(batch * t),
            Vec::with_capacity(batch * t),
        );
        for _ in 0..batch {
            let bits: Vec<u8> = (0..self.len).map(|_| rng::index(rng, 2) as u8).collect();
            let seq = Self::prefix_sequence(&bits);
            inputs.extend(seq[..t].iter().map(|&x| x as i64));
            targets.extend(seq[1..].iter().map(|&x| x as i64));
            mask.extend((0..t).map(|j| j >= self.len));
        }
        Ok(PrefixParityBatch {
            inputs: int_tensor(inputs, [batch, t], device),
            targets: int_tensor(targets.clone(), [batch, t], device),
            loss_mask: Tensor::from_data(TensorData::new(mask.clone(), [batch, t]), device),
            host_targets: targets,
            host_mask: mask,
        })
    }
}
