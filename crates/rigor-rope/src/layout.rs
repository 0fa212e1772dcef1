//! Layouts: which coordinates of a head form a rotated pair, and the permutation between them.
//!
//! - [`Layout::HalfSplit`] — HF / GPT-NeoX `rotate_half`: chunk $k$ is $(x_k, x_{k+r/2})$.
//! - [`Layout::Interleaved`] — GPT-J / Meta / burn's `RotaryEncoding`: chunk $k$ is
//!   $(x_{2k}, x_{2k+1})$.
//!
//! Both apply the same rotation to chunk $k$; they only disagree on where chunk $k$ lives. A
//! model trained with one layout therefore runs with the other after permuting the *output*
//! columns of its query and key projections per head ([`permute_projection`]): the logits are
//! unchanged (*Round and Round We Go!* §2 notes the two are "equal up to a fixed permutation").

use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{Result, RopeError};

/// Where the two coordinates of a rotated chunk live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Chunk $k$ = $(x_k, x_{k + r/2})$ (HF `rotate_half`, GPT-NeoX, Llama in HF format).
    HalfSplit,
    /// Chunk $k$ = $(x_{2k}, x_{2k+1})$ (GPT-J, Meta's Llama checkpoints, burn `RotaryEncoding`).
    Interleaved,
}

impl Layout {
    /// The two coordinates of chunk `k` when `rotary_dim` coordinates rotate.
    pub fn chunk_coords(&self, k: usize, rotary_dim: usize) -> (usize, usize) {
        match self {
            Layout::HalfSplit => (k, k + rotary_dim / 2),
            Layout::Interleaved => (2 * k, 2 * k + 1),
        }
    }

    /// The chunk (frequency slot) that coordinate `c < rotary_dim` belongs to.
    pub fn slot_of(&self, c: usize, rotary_dim: usize) -> usize {
        match self {
            Layout::HalfSplit => c % (rotary_dim / 2),
            Layout::Interleaved => c / 2,
        }
    }
}

/// The coordinate permutation from layout `from` to layout `to`: `perm[j]` is the index, in
/// `from`'s order, of the coordinate that lands at position `j` in `to`'s order. Coordinates at
/// or beyond `rotary_dim` (a NeoX pass-through tail) stay in place.
///
/// # Errors
/// [`RopeError::InvalidRotaryDims`] unless `rotary_dim` is even and `<= head_dim`.
pub fn layout_permutation(
    head_dim: usize,
    rotary_dim: usize,
    from: Layout,
    to: Layout,
) -> Result<Vec<usize>> {
    if !rotary_dim.is_multiple_of(2) || rotary_dim > head_dim {
        return Err(RopeError::InvalidRotaryDims {
            rotary_dims: rotary_dim,
            head_dim,
            reason: "must be even and <= head_dim",
        });
    }
    let mut perm: Vec<usize> = (0..head_dim).collect();
    for k in 0..rotary_dim / 2 {
        let (t0, t1) = to.chunk_coords(k, rotary_dim);
        let (f0, f1) = from.chunk_coords(k, rotary_dim);
        perm[t0] = f0;
        perm[t1] = f1;
    }
    Ok(perm)
}

/// Permutes the output columns of a q or k projection weight, head by head.
///
/// `weight` is burn's `Linear` layout `[d_input, heads · head_dim]`; `perm` is a
/// [`layout_permutation`]. The result `W'` satisfies `x W' = permute(x W)` per head, so RoPE
/// with layout `to` on `x W'` gives the same logits as RoPE with layout `from` on `x W`.
/// (For a PyTorch-style `[out, in]` weight, transpose first.)
///
/// # Errors
/// [`RopeError::ShapeMismatch`] if the output width is not `heads · perm.len()`.
pub fn permute_projection(weight: Tensor<2>, heads: usize, perm: &[usize]) -> Result<Tensor<2>> {
    let [_, out] = weight.dims();
    let head_dim = perm.len();
    if heads == 0 || out != heads * head_dim {
        return Err(RopeError::ShapeMismatch {
            op: "permute_projection",
            detail: format!(
                "weight has {out} output columns, expected heads ({heads}) x head_dim ({head_dim})"
            ),
        });
    }
    let idx = head_index(heads, perm, &weight.device());
    Ok(weight.select(1, idx))
}

/// Permutes the last dimension of any tensor whose last dimension is `heads · perm.len()`
/// (activations, biases): the activation-side counterpart of [`permute_projection`].
///
/// # Errors
/// [`RopeError::ShapeMismatch`] if the last dimension is not `heads · perm.len()`.
pub fn permute_last_dim<const D: usize>(
    x: Tensor<D>,
    heads: usize,
    perm: &[usize],
) -> Result<Tensor<D>> {
    let last = x.dims()[D - 1];
    if heads == 0 || last != heads * perm.len() {
        return Err(RopeError::ShapeMismatch {
            op: "permute_last_dim",
            detail: format!(
                "last dimension is {last}, expected heads ({heads}) x head_dim ({})",
                perm.len()
            ),
        });
    }
    let idx = head_index(heads, perm, &x.device());
    Ok(x.select(D - 1, idx))
}

fn head_index(heads: usize, perm: &[usize], device: &burn::tensor::Device) -> Tensor<1, Int> {
    let d = perm.len();
    let flat: Vec<i64> = (0..heads)
        .flat_map(|h| perm.iter().map(move |&p| (h * d + p) as i64))
        .collect();
    let n = flat.len();
    Tensor::from_data(TensorData::new(flat, [n]), device)
}
