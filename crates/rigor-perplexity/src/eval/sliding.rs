//! Strided sliding-window evaluation of a fixed-context causal LM — the semantics of Hugging
//! Face's "Perplexity of fixed-length models" recipe, with its edge cases made exact.
//!
//! A sequence $x_0..x_{n-1}$ longer than the model's context is cut into windows that start
//! every `stride` tokens. Each window is fed to the model whole, but only the tokens that no
//! earlier window scored are scored, so:
//!
//! - **every token is scored exactly once** — $x_1..x_{n-1}$ without BOS ($x_0$ has no
//!   context), $x_0..x_{n-1}$ with a BOS token prepended to every window;
//! - a scored token at position $i$ sees $\min(i, \text{max\\_len} - \text{stride})$ tokens of
//!   context or more (without BOS; with BOS, $\min(i, \text{max\\_len} - 1 - \text{stride})$
//!   real tokens plus BOS);
//! - the NLL is pooled over tokens (the HF recipe averages per-window mean losses weighted
//!   by `trg_len`, which over-counts by one the first window, whose first label has no
//!   prediction; here the counts are exact).
//!
//! Window $k$: `begin = k·stride`, `end = min(begin + W, n)` with $W$ = `max_len` (no BOS) or
//! `max_len − 1` (BOS takes a slot); it scores `[max(prev_end, begin + 1), end)` without BOS
//! and `[prev_end, end)` with BOS; the loop stops at the first window with `end == n`.
//! `stride = max_len − 1` (no BOS) gives disjoint scoring with one token of overlap;
//! `stride = 1` gives every token its full context (slowest).

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{PerplexityError, Result};
use crate::eval::lm::CausalLm;
use crate::metrics::accumulator::PerplexityAccumulator;
use crate::metrics::config::LabelShift;

/// Configuration of [`SlidingWindow`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlidingWindowConfig {
    /// The model's context length: tokens per model call, BOS included.
    pub max_len: usize,
    /// Tokens between window starts.
    pub stride: usize,
    /// Token id prepended to every window, if any.
    pub bos: Option<i64>,
}

impl SlidingWindowConfig {
    /// `max_len` and `stride`, no BOS.
    pub fn new(max_len: usize, stride: usize) -> Self {
        Self {
            max_len,
            stride,
            bos: None,
        }
    }

    /// Prepends `bos` to every window.
    pub fn with_bos(mut self, bos: i64) -> Self {
        self.bos = Some(bos);
        self
    }

    /// Validates and builds the evaluator.
    ///
    /// # Errors
    /// [`PerplexityError::InvalidParameter`] unless `1 <= stride <= max_len − 1` and
    /// `max_len >= 2` (so every window's first scored token has context inside the window;
    /// with BOS, the real tokens of a window are `max_len − 1 >= stride`).
    pub fn init(self) -> Result<SlidingWindow> {
        if self.max_len < 2 {
            return Err(PerplexityError::InvalidParameter {
                name: "max_len",
                value: self.max_len as f64,
                reason: "must be at least 2",
            });
        }
        if self.stride == 0 || self.stride > self.max_len - 1 {
            return Err(PerplexityError::InvalidParameter {
                name: "stride",
                value: self.stride as f64,
                reason: "must be in 1..=max_len-1, or some token would be scored without context or never",
            });
        }
        Ok(SlidingWindow { config: self })
    }
}

/// One model call of a sliding-window evaluation: real tokens `begin..end` (BOS, if any, is
/// prepended), of which `score_from..end` are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// First real token of the window.
    pub begin: usize,
    /// One past the last real token.
    pub end: usize,
    /// First scored token.
    pub score_from: usize,
}

/// What a sliding-window evaluation did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlidingSummary {
    /// The windows, in order.
    pub windows: Vec<Window>,
    /// Tokens scored (ignore-index targets excluded).
    pub tokens_scored: u64,
    /// Their summed NLL.
    pub nll_sum: f64,
}

/// A validated sliding-window evaluator (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlidingWindow {
    config: SlidingWindowConfig,
}

impl SlidingWindow {
    /// The configuration.
    pub fn config(&self) -> &SlidingWindowConfig {
        &self.config
    }

    /// The windows for a sequence of `n` tokens (pure arithmetic, no model call).
    pub fn plan(&self, n: usize) -> Vec<Window> {
        let bos = self.config.bos.is_some();
        let width = if bos {
            self.config.max_len - 1
        } else {
            self.config.max_len
        };
        let first_scored = usize::from(!bos);
        let mut out = Vec::new();
        if n <= first_scored {
            return out;
        }
        let mut prev_end = 0;
        let mut begin = 0;
        loop {
            let end = (begin + width).min(n);
            let score_from = if bos {
                prev_end
            } else {
                prev_end.max(begin + 1)
            };
            out.push(Window {
                begin,
                end,
                score_from,
            });
            if end == n {
                return out;
            }
            prev_end = end;
            begin += self.config.stride;
        }
    }

    /// Scores `tokens` with `model` window by window into `acc`, one model call per window.
    ///
    /// `acc` must use [`LabelShift::None`] (the evaluator aligns logits and targets itself);
    /// its ignore index applies to the targets as usual. Each window is one entry of
    /// [`PerplexityAccumulator::sequences`].
    ///
    /// # Errors
    /// [`PerplexityError::ConfigMismatch`] if `acc` shifts labels; [`PerplexityError::ShapeMismatch`]
    /// if the model returns logits of the wrong shape; anything
    /// [`PerplexityAccumulator::update`] returns.
    pub fn evaluate<M: CausalLm + ?Sized>(
        &self,
        model: &M,
        tokens: &[i64],
        device: &Device,
        acc: &mut PerplexityAccumulator,
    ) -> Result<SlidingSummary> {
        if acc.config().label_shift != LabelShift::None {
            return Err(PerplexityError::ConfigMismatch {
                detail: "sliding-window evaluation shifts labels itself: use LabelShift::None"
                    .into(),
            });
        }
        let windows = self.plan(tokens.len());
        let mut summary = SlidingSummary {
            windows: windows.clone(),
            tokens_scored: 0,
            nll_sum: 0.0,
        };
        for w in windows {
            let mut input: Vec<i64> = Vec::with_capacity(w.end - w.begin + 1);
            input.extend(self.config.bos);
            input.extend_from_slice(&tokens[w.begin..w.end]);
            let len = input.len();
            // position j of the model input predicts input[j + 1]
            let offset = usize::from(self.config.bos.is_some()); // index of tokens[begin] in input
            let targets: Vec<i64> = input[1..].to_vec();
            let scored: Vec<bool> = (1..len)
                .map(|j| j - offset + w.begin >= w.score_from)
                .collect();
            let ids = Tensor::<2, Int>::from_data(TensorData::new(input, [1, len]), device);
            let logits = model.logits(ids)?;
            let [b, l, v] = logits.dims();
            if b != 1 || l != len {
                return Err(PerplexityError::ShapeMismatch {
                    op: "SlidingWindow::evaluate",
                    detail: format!("model returned logits {:?} for input [1, {len}]", [b, l, v]),
                });
            }
            let logits = logits.narrow(1, 0, len - 1);
            let targets =
                Tensor::<2, Int>::from_data(TensorData::new(targets, [1, len - 1]), device);
            let mask = Tensor::<2, Bool>::from_data(TensorData::new(scored, [1, len - 1]), device);
            let batch = acc.update(logits, targets, Some(mask))?;
            summary.tokens_scored += batch.tokens;
            summary.nll_sum += batch.nll_sum;
        }
        Ok(summary)
    }
}
