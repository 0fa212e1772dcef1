//! Claim 2 (*Round and Round We Go!* §4): without positional encoding, a first layer cannot
//! single out a position.
//!
//! With identical tokens $x_i = x$, NoPE gives $q_i = W_q x$ and $k_j = W_k x$ for all $i, j$,
//! so every logit of a row is $x^\top W_q^\top W_k x$: the causal softmax is uniform and no
//! diagonal or previous-token pattern exists, whatever $W_q, W_k$. With RoPE the same tokens
//! give $a_{ij} = q^\top R^{j-i} k$, which depends on $i - j$ (see
//! [`constructions`](super::constructions)).

use burn::tensor::Tensor;

use crate::apply::{Positions, Rope, TensorLayout};
use crate::error::{Result, RopeError};

/// First-layer logits $a_{ij} = (R_i W_q^\top x_i)^\top (R_j W_k^\top x_j)$ for tokens
/// `[seq, d_model]` and projections `[d_model, head_dim]` (burn `Linear` layout), encoded with
/// `rope` at positions `0..seq`: `[seq, seq]`.
///
/// # Errors
/// [`RopeError::ShapeMismatch`] if the shapes do not chain; errors of [`Rope::apply_qk`].
pub fn first_layer_logits(
    tokens: Tensor<2>,
    w_q: Tensor<2>,
    w_k: Tensor<2>,
    rope: &Rope,
) -> Result<Tensor<2>> {
    let [s, m] = tokens.dims();
    let d = rope.head_dim();
    if w_q.dims() != [m, d] || w_k.dims() != [m, d] {
        return Err(RopeError::ShapeMismatch {
            op: "first_layer_logits",
            detail: format!(
                "tokens {:?}, w_q {:?}, w_k {:?}: projections must be [d_model = {m}, head_dim = {d}]",
                tokens.dims(),
                w_q.dims(),
                w_k.dims()
            ),
        });
    }
    let q: Tensor<4> = tokens.clone().matmul(w_q).reshape([1, 1, s, d]);
    let k: Tensor<4> = tokens.matmul(w_k).reshape([1, 1, s, d]);
    let (q, k) = rope.apply_qk(q, k, TensorLayout::Bhsd, Positions::Offset(0))?;
    let logits = q.matmul(k.swap_dims(2, 3));
    Ok(logits.reshape([s, s]))
}

/// For each row $i$ of `[seq, seq]` logits, $\max_{j \le i} a_{ij} - \min_{j \le i} a_{ij}$
/// over the causal part: all zeros means no causal head built on these logits can prefer one
/// position over another.
///
/// # Errors
/// [`RopeError::Readback`].
pub fn causal_row_ranges(logits: Tensor<2>) -> Result<Vec<f64>> {
    let [s, n] = logits.dims();
    let v = logits.try_into_vec_as::<f32>().map_err(RopeError::from)?;
    Ok((0..s)
        .map(|i| {
            let row = &v[i * n..i * n + (i + 1).min(n)];
            let (lo, hi) = row
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(f64::from(x)), hi.max(f64::from(x)))
                });
            hi - lo
        })
        .collect())
}
