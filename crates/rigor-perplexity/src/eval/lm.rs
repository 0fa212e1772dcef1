//! The one thing rigor needs from a causal language model.

use burn::tensor::{Int, Tensor};

/// A causal (decoder-only) language model, seen as a function from token ids to next-token
/// logits.
///
/// `logits(tokens)` takes `[batch, len]` ids and returns `[batch, len, vocab]` logits where
/// **the logits at position $t$ are the model's distribution over the token at $t + 1$**,
/// computed from tokens $0..=t$ only. The evaluators in this crate do the label shift
/// themselves; implementations must not shift.
///
/// Anything that maps ids to logits works: a Burn `Module`, a closure-backed test model, a
/// wrapper around a remote model.
pub trait CausalLm {
    /// Next-token logits for every position: `[batch, len]` → `[batch, len, vocab]`.
    fn logits(&self, tokens: Tensor<2, Int>) -> Tensor<3>;
}

impl<M: CausalLm + ?Sized> CausalLm for &M {
    fn logits(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        (**self).logits(tokens)
    }
}

impl<F: Fn(Tensor<2, Int>) -> Tensor<3>> CausalLm for FnLm<F> {
    fn logits(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        (self.0)(tokens)
    }
}

/// A [`CausalLm`] from a closure `[batch, len]` ids → `[batch, len, vocab]` logits.
#[derive(Debug, Clone, Copy)]
pub struct FnLm<F>(pub F);
