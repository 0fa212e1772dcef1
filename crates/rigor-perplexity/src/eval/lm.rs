//! The one thing rigor needs from a causal language model.

use burn::tensor::{Int, Tensor};

use crate::error::Result;

/// A causal (decoder-only) language model, seen as a function from token ids to next-token
/// logits.
///
/// `logits(tokens)` takes `[batch, len]` ids and returns `[batch, len, vocab]` logits where
/// **the logits at position $t$ are the model's distribution over the token at $t + 1$**,
/// computed from tokens $0..=t$ only. The evaluators in this crate do the label shift
/// themselves; implementations must not shift.
///
/// A model that can fail (a sequence longer than it supports, ids it cannot embed) returns
/// [`PerplexityError::Model`](crate::PerplexityError::Model) — build one with
/// [`PerplexityError::model`](crate::PerplexityError::model) — and the evaluators pass it on
/// unchanged, with nothing accumulated from the failed call.
///
/// Anything that maps ids to logits works: a Burn `Module` (rigor-nn's `DecoderLm`
/// implements it), a closure-backed test model ([`FnLm`]), a wrapper around a remote model.
pub trait CausalLm {
    /// Next-token logits for every position: `[batch, len]` → `[batch, len, vocab]`.
    ///
    /// # Errors
    /// Whatever the model reports, as [`PerplexityError::Model`](crate::PerplexityError::Model).
    fn logits(&self, tokens: Tensor<2, Int>) -> Result<Tensor<3>>;
}

impl<M: CausalLm + ?Sized> CausalLm for &M {
    fn logits(&self, tokens: Tensor<2, Int>) -> Result<Tensor<3>> {
        (**self).logits(tokens)
    }
}

impl<F: Fn(Tensor<2, Int>) -> Tensor<3>> CausalLm for FnLm<F> {
    fn logits(&self, tokens: Tensor<2, Int>) -> Result<Tensor<3>> {
        Ok((self.0)(tokens))
    }
}

/// An infallible [`CausalLm`] from a closure `[batch, len]` ids → `[batch, len, vocab]`
/// logits.
#[derive(Debug, Clone, Copy)]
pub struct FnLm<F>(pub F);
