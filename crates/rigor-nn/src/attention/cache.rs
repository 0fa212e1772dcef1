//! KV cache for incremental decoding.
//!
//! Keys are stored **after** RoPE (each at its own absolute position), values as projected,
//! both `[batch, heads, len, head_dim]`. Feeding a sequence in chunks through
//! [`MultiHeadAttention::forward_cached`](super::MultiHeadAttention::forward_cached) gives the
//! same outputs as one causal [`forward`](super::MultiHeadAttention::forward): the query of a
//! new token at absolute position $t + i$ is rotated with `Positions::Offset(t)` and sees
//! exactly the keys $0..=t+i$ (see [`AttentionMask`](super::AttentionMask)).

use burn::tensor::{Bool, Tensor};

use super::mask::no_padding;
use crate::error::{NnError, Result};

/// Keys, values and key padding of the tokens seen so far by one attention layer.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    key: Option<Tensor<4>>,
    value: Option<Tensor<4>>,
    padding: Option<Tensor<2, Bool>>,
    len: usize,
}

impl KvCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of cached tokens (the RoPE / learned-position offset of the next token).
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` before the first token.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets every token.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Cached keys (RoPE applied), `[batch, heads, len, head_dim]`.
    pub fn keys(&self) -> Option<&Tensor<4>> {
        self.key.as_ref()
    }

    /// Cached values, `[batch, heads, len, head_dim]`.
    pub fn values(&self) -> Option<&Tensor<4>> {
        self.value.as_ref()
    }

    /// Cached key padding, `[batch, len]` (`None` while no padded token was fed).
    pub fn padding(&self) -> Option<&Tensor<2, Bool>> {
        self.padding.as_ref()
    }

    /// Appends `[batch, heads, s, head_dim]` keys/values (and optional `[batch, s]` padding) and
    /// returns everything cached, padding included when any token so far was padded.
    pub(crate) fn append(
        &mut self,
        key: Tensor<4>,
        value: Tensor<4>,
        padding: Option<Tensor<2, Bool>>,
    ) -> Result<(Tensor<4>, Tensor<4>, Option<Tensor<2, Bool>>)> {
        let [b, h, s, d] = key.dims();
        if let Some(old) = &self.key {
            let [ob, oh, _, od] = old.dims();
            if (ob, oh, od) != (b, h, d) {
                return Err(NnError::ShapeMismatch {
                    op: "KvCache::append",
                    detail: format!(
                        "cache holds [batch, heads, _, head_dim] = [{ob}, {oh}, _, {od}], new keys are {:?}; use a fresh cache for another batch",
                        key.dims()
                    ),
                });
            }
        }
        let device = key.device();
        let cat = |old: Option<Tensor<4>>, new: Tensor<4>| match old {
            None => new,
            Some(o) => Tensor::cat(vec![o, new], 2),
        };
        let key = cat(self.key.take(), key);
        let value = cat(self.value.take(), value);
        let padding = match (self.padding.take(), padding) {
            (None, None) => None,
            (old, new) => {
                let new = new.unwrap_or_else(|| no_padding(b, s, &device));
                Some(if self.len == 0 {
                    new
                } else {
                    let old = old.unwrap_or_else(|| no_padding(b, self.len, &device));
                    Tensor::cat(vec![old, new], 1)
                })
            }
        };
        self.key = Some(key.clone());
        self.value = Some(value.clone());
        self.padding = padding.clone();
        self.len += s;
        Ok((key, value, padding))
    }
}
