//! Positions: a scalar offset (KV cache) or per-token ids, for one or several axes.

use burn::tensor::{Int, Tensor};

use crate::error::{Result, RopeError};

/// Where the tokens of a `[.., seq, ..]` tensor sit.
#[derive(Debug, Clone, Copy)]
pub enum Positions<'a> {
    /// Token `s` of every sequence sits at `offset + s` (on every axis): prefill with
    /// `Offset(0)`, decoding with a KV cache of length `n` with `Offset(n)`.
    Offset(usize),
    /// Per-token ids (packed sequences, left padding, M-RoPE / axial grids).
    Ids(&'a PositionIds),
}

/// Host-side position ids of shape `[axes, batch, seq]` (`axes = 1` for text).
///
/// Ids live on the host so that the encoding knows the largest position without reading the
/// device back; [`PositionIds::from_tensor`] does that read once for ids that are on a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionIds {
    ids: Vec<usize>,
    shape: [usize; 3],
}

impl PositionIds {
    /// One axis, `[batch, seq]`, row-major.
    ///
    /// # Errors
    /// [`RopeError::PositionIdsShape`] if `ids.len() != batch · seq`.
    pub fn new(ids: Vec<usize>, batch: usize, seq: usize) -> Result<Self> {
        Self::multi_axis(ids, 1, batch, seq)
    }

    /// `[axes, batch, seq]`, row-major (M-RoPE: axes = temporal, height, width).
    ///
    /// # Errors
    /// [`RopeError::PositionIdsShape`] if `ids.len() != axes · batch · seq`.
    pub fn multi_axis(ids: Vec<usize>, axes: usize, batch: usize, seq: usize) -> Result<Self> {
        let count = axes.checked_mul(batch).and_then(|n| n.checked_mul(seq));
        if count != Some(ids.len()) || axes == 0 {
            return Err(RopeError::PositionIdsShape {
                got: vec![ids.len()],
                expected: vec![axes, batch, seq],
                axes,
            });
        }
        Ok(Self {
            ids,
            shape: [axes, batch, seq],
        })
    }

    /// `0..seq` for every sequence of the batch (what `Offset(0)` means).
    pub fn arange(batch: usize, seq: usize) -> Self {
        Self {
            ids: (0..batch).flat_map(|_| 0..seq).collect(),
            shape: [1, batch, seq],
        }
    }

    /// Reads `[batch, seq]` integer ids back from a device (one synchronisation).
    ///
    /// # Errors
    /// [`RopeError::Readback`], or [`RopeError::NegativePosition`].
    pub fn from_tensor(ids: Tensor<2, Int>) -> Result<Self> {
        let [b, s] = ids.dims();
        Self::from_host(ids.try_into_vec_as::<i64>(), 1, b, s)
    }

    /// Reads `[axes, batch, seq]` integer ids back from a device (one synchronisation).
    ///
    /// # Errors
    /// [`RopeError::Readback`], or [`RopeError::NegativePosition`].
    pub fn from_tensor_axes(ids: Tensor<3, Int>) -> Result<Self> {
        let [a, b, s] = ids.dims();
        Self::from_host(ids.try_into_vec_as::<i64>(), a, b, s)
    }

    fn from_host(
        data: core::result::Result<Vec<i64>, burn::tensor::TensorReadError>,
        axes: usize,
        batch: usize,
        seq: usize,
    ) -> Result<Self> {
        let data = data.map_err(RopeError::from)?;
        let ids = data
            .iter()
            .enumerate()
            .map(|(index, &value)| {
                usize::try_from(value).map_err(|_| RopeError::NegativePosition { value, index })
            })
            .collect::<Result<Vec<_>>>()?;
        Self::multi_axis(ids, axes, batch, seq)
    }

    /// `[axes, batch, seq]`.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// The ids of one axis, `[batch · seq]` row-major.
    pub fn axis(&self, a: usize) -> &[usize] {
        let n = self.shape[1] * self.shape[2];
        &self.ids[a * n..(a + 1) * n]
    }

    /// The largest id (0 when empty).
    pub fn max(&self) -> usize {
        self.ids.iter().copied().max().unwrap_or(0)
    }
}
