//! Masks: which keys each query may see.
//!
//! Masked logits are set to $-\infty$ before the normalizer, which every
//! [`Normalizer`](rigor_softmax::Normalizer) treats as "weight exactly 0". A query whose keys
//! are all masked gets an all-zero weight row (rigor-softmax's convention), so its attention
//! output is the output projection's bias — finite, never `NaN`.

use burn::tensor::{Bool, Device, Int, Tensor};

use crate::error::{NnError, Result};

/// Which keys each query may see. `Default` is "everything visible".
///
/// - `causal`: query $i$ sees key $j$ iff $j \le i + (s_k - s_q)$ — the usual lower triangle
///   when $s_q = s_k$, aligned bottom-right otherwise, so that with a KV cache of length
///   $t$ the $s$ new queries (absolute positions $t..t+s$) see keys $0..=t+i$.
/// - `key_padding`: `[batch, seq]`, `true` marks a **padded** token whose key must be ignored.
///   It describes the tokens passed to the call: the new tokens for self-attention (the KV
///   cache remembers earlier ones), the context tokens for cross-attention.
#[derive(Debug, Clone, Default)]
pub struct AttentionMask {
    /// Hide future keys.
    pub causal: bool,
    /// `[batch, seq]`, `true` = padded (ignored as a key).
    pub key_padding: Option<Tensor<2, Bool>>,
}

impl AttentionMask {
    /// Every key visible.
    pub fn none() -> Self {
        Self::default()
    }

    /// Causal (decoder) mask.
    pub fn causal() -> Self {
        Self {
            causal: true,
            key_padding: None,
        }
    }

    /// Adds a key-padding mask (`[batch, seq]`, `true` = padded).
    pub fn with_key_padding(mut self, key_padding: Tensor<2, Bool>) -> Self {
        self.key_padding = Some(key_padding);
        self
    }

    /// Adds an optional key-padding mask.
    pub fn with_key_padding_opt(mut self, key_padding: Option<Tensor<2, Bool>>) -> Self {
        self.key_padding = key_padding;
        self
    }
}

/// `[s_q, s_k]`, `true` where query $i$ must **not** see key $j$: $j > i + (s_k - s_q)$.
///
/// Built on the device from two `arange`s (Burn's [`Tensor::tril_mask`] with offset
/// $s_k - s_q$); nothing is assembled on the host.
pub fn causal_mask(s_q: usize, s_k: usize, device: &Device) -> Tensor<2, Bool> {
    let shift = s_k as i64 - s_q as i64;
    Tensor::<2, Bool>::tril_mask([s_q, s_k], shift, device)
}

/// Sets masked entries of `logits` (`[batch, heads, s_q, s_k]`) to $-\infty$.
///
/// `key_padding` must be `[batch, s_k]` (`true` = padded).
///
/// # Errors
/// [`NnError::ShapeMismatch`] if `key_padding` is not `[batch, s_k]`.
pub fn mask_logits(
    logits: Tensor<4>,
    causal: bool,
    key_padding: Option<Tensor<2, Bool>>,
) -> Result<Tensor<4>> {
    let [b, h, s_q, s_k] = logits.dims();
    let mut mask: Option<Tensor<4, Bool>> = None;
    if causal {
        let m = causal_mask(s_q, s_k, &logits.device())
            .reshape([1, 1, s_q, s_k])
            .expand([b, h, s_q, s_k]);
        mask = Some(m);
    }
    if let Some(pad) = key_padding {
        if pad.dims() != [b, s_k] {
            return Err(NnError::ShapeMismatch {
                op: "attention key padding",
                detail: format!(
                    "key_padding has shape {:?}, expected [batch, keys] = [{b}, {s_k}]",
                    pad.dims()
                ),
            });
        }
        let m = pad.reshape([b, 1, 1, s_k]).expand([b, h, s_q, s_k]);
        mask = Some(match mask {
            None => m,
            Some(c) => c.bool_or(m),
        });
    }
    Ok(match mask {
        None => logits,
        Some(m) => logits.mask_fill(m, f32::NEG_INFINITY),
    })
}

/// An all-`false` `[batch, len]` padding mask, made on the device.
pub(crate) fn no_padding(batch: usize, len: usize, device: &Device) -> Tensor<2, Bool> {
    Tensor::<2, Int>::zeros([batch, len], device).bool()
}
