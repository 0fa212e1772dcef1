//! Copy of bit strings with a separator, as a next-token-prediction task.
//!
//! A sequence is $s = (b_1,\dots,b_L,\ \mathrm{SEP},\ b_1,\dots,b_L)$ with
//! $b_j \sim \mathcal U\\{0,1\\}$, token ids `0`, `1` and [`SEP`]` = 2` (vocabulary
//! [`VOCAB`]` = 3`). A decoder-only model reads `inputs = s[..2L]` and predicts
//! `targets = s[1..]`; only the L positions after the separator are scored (`loss_mask`), since
//! the bits before it are random.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::int_tensor;
use crate::error::{LabError, Result};
use crate::rng::{self, LabRng};

/// Separator token id.
pub const SEP: usize = 2;
/// Vocabulary size (`0`, `1`, separator).
pub const VOCAB: usize = 3;

/// The copy task for bit strings of length `len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyTask {
    len: usize,
}

/// One batch of copy sequences.
#[derive(Debug, Clone)]
pub struct CopyBatch {
    /// Model inputs `[batch, 2L]`: the full sequence without its last token.
    pub inputs: Tensor<2, Int>,
    /// Next-token targets `[batch, 2L]`: the full sequence without its first token.
    pub targets: Tensor<2, Int>,
    /// `[batch, 2L]`, `true` where the target is a copied bit (the last L positions).
    pub loss_mask: Tensor<2, Bool>,
    /// The source bits on the host, `[batch][L]`.
    pub bits: Vec<Vec<u8>>,
}

impl CopyTask {
    /// Bit strings of length `len ≥ 1`.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] for `len == 0`.
    pub fn new(len: usize) -> Result<Self> {
        if len == 0 {
            return Err(LabError::config("CopyTask::len", len, "must be ≥ 1"));
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

    /// Model sequence length, `2L`.
    pub fn seq_len(&self) -> usize {
        2 * self.len
    }

    /// The full token sequence for `bits`: bits, separator, bits.
    pub fn sequence(bits: &[u8]) -> Vec<usize> {
        let mut s: Vec<usize> = bits.iter().map(|&b| usize::from(b)).collect();
        s.push(SEP);
        s.extend(bits.iter().map(|&b| usize::from(b)));
        s
    }

    /// Draws `batch` sequences.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] for `batch == 0`.
    pub fn sample(&self, batch: usize, rng: &mut LabRng, device: &Device) -> Result<CopyBatch> {
        if batch == 0 {
            return Err(LabError::config(
                "CopyTask::sample batch",
                batch,
                "must be ≥ 1",
            ));
        }
        let t = self.seq_len();
        let (mut inputs, mut targets, mut mask) = (
            Vec::with_capacity(batch * t),
            Vec::with_capacity(batch * t),
            Vec::with_capacity(batch * t),
        );
        let mut all_bits = Vec::with_capacity(batch);
        for _ in 0..batch {
            let bits: Vec<u8> = (0..self.len).map(|_| rng::index(rng, 2) as u8).collect();
            let seq = Self::sequence(&bits);
            inputs.extend(seq[..t].iter().map(|&x| x as i64));
            targets.extend(seq[1..].iter().map(|&x| x as i64));
            mask.extend((0..t).map(|j| j >= self.len));
            all_bits.push(bits);
        }
        Ok(CopyBatch {
            inputs: int_tensor(inputs, [batch, t], device),
            targets: int_tensor(targets, [batch, t], device),
            loss_mask: Tensor::from_data(TensorData::new(mask, [batch, t]), device),
            bits: all_bits,
        })
    }
}
