//! Pooled results: perplexity and its byte/word normalisations, calibration.
//!
//! Every quantity is a function of **pooled** sums — the NLL summed over every scored token of
//! every batch, divided by a pooled count — never an average of per-batch or per-text
//! perplexities (which is what Hugging Face evaluate's `mean_perplexity` reports).

use serde::{Deserialize, Serialize};

use crate::metrics::calibration::ReliabilityBin;

/// $\ln(\texttt{f64::MAX}) \approx 709.78$: `exp` of a larger mean NLL overflows `f64`.
pub const MAX_LOG_PERPLEXITY_F64: f64 = 709.782_712_893_384;

/// Text units a caller supplies for byte- and word-level normalisation: the number of UTF-8
/// bytes and of words of the text whose tokens were scored. lm-evaluation-harness counts
/// words with `re.split(r"\s+", doc)` and bytes with `len(doc.encode("utf-8"))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TextUnits {
    /// UTF-8 bytes.
    pub bytes: u64,
    /// Words.
    pub words: u64,
}

impl TextUnits {
    /// The counts lm-evaluation-harness uses: `bytes = len(text.encode("utf-8"))` and
    /// `words = len(re.split(r"\s+", text))`, i.e. one plus the number of maximal whitespace
    /// runs (a leading or trailing run adds an empty "word", as in Python). Whitespace is
    /// Rust's `char::is_whitespace` (Unicode `White_Space`), which agrees with Python's `\s`
    /// except on the ASCII separators U+001C..U+001F.
    pub fn from_text(text: &str) -> Self {
        let mut runs = 0u64;
        let mut in_run = false;
        for c in text.chars() {
            let ws = c.is_whitespace();
            if ws && !in_run {
                runs += 1;
            }
            in_run = ws;
        }
        Self {
            bytes: text.len() as u64,
            words: 1 + runs,
        }
    }
}

/// Calibration and accuracy of the scored tokens (all from the same pass as the NLL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// Fraction of scored tokens whose target attains the row maximum (ties count as correct).
    pub accuracy: f64,
    /// Mean over scored tokens of the confidence $\max_j p_j$.
    pub mean_confidence: f64,
    /// Mean over scored tokens of the predictive entropy $H(p)$ (nats).
    pub mean_entropy: f64,
    /// Mean over scored tokens of the multi-class Brier score $\sum_j (p_j - [j=t])^2 \in [0, 2]$
    /// (Brier, 1950; the sum over classes, not divided by the vocabulary size).
    pub brier: f64,
    /// ECE with equal-width bins.
    pub ece_equal_width: f64,
    /// ECE with equal-mass bins (`None` unless samples were kept).
    pub ece_equal_mass: Option<f64>,
    /// The equal-width reliability diagram.
    pub equal_width_bins: Vec<ReliabilityBin>,
    /// The equal-mass reliability diagram (empty unless samples were kept).
    pub equal_mass_bins: Vec<ReliabilityBin>,
}

/// Everything an accumulator knows, pooled over every scored token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerplexityReport {
    /// Number of scored tokens $N$ (> 0: a report of zero tokens is an error).
    pub tokens: u64,
    /// $\sum_i -\log p_{i,t_i}$ over scored tokens (nats), accumulated in `f64`.
    pub nll_sum: f64,
    /// Log-perplexity, the mean NLL $\ell = \frac1N\sum_i -\log p_{i,t_i}$ (nats per token).
    /// Finite for finite logits.
    pub log_perplexity: f64,
    /// Perplexity $e^{\ell}$ in `f64`; `+∞` only when it truly exceeds `f64::MAX`
    /// ($\ell > 709.78$) or some scored target has probability exactly 0.
    pub perplexity: f64,
    /// Bits per token $\ell / \ln 2$.
    pub bits_per_token: f64,
    /// Text units supplied with [`add_text_units`](crate::PerplexityAccumulator::add_text_units).
    pub units: TextUnits,
    /// Byte-perplexity $\exp(\sum \mathrm{NLL} / \sum \mathrm{bytes})$ (lm-evaluation-harness
    /// `byte_perplexity`); `None` without byte counts.
    pub byte_perplexity: Option<f64>,
    /// Bits per byte $\sum \mathrm{NLL} / (\sum \mathrm{bytes} \cdot \ln 2)$ (lm-evaluation-harness
    /// `bits_per_byte`); `None` without byte counts.
    pub bits_per_byte: Option<f64>,
    /// Word-perplexity $\exp(\sum \mathrm{NLL} / \sum \mathrm{words})$ (lm-evaluation-harness
    /// `word_perplexity`); `None` without word counts.
    pub word_perplexity: Option<f64>,
    /// Log word-perplexity $\sum \mathrm{NLL} / \sum \mathrm{words}$ (finite even when
    /// [`word_perplexity`](Self::word_perplexity) overflows); `None` without word counts.
    pub log_word_perplexity: Option<f64>,
    /// Accuracy and calibration.
    pub calibration: CalibrationReport,
}

/// Pooled NLL and token count of one sequence.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SequenceStats {
    /// $\sum -\log p$ over the sequence's scored tokens.
    pub nll_sum: f64,
    /// Its scored tokens.
    pub tokens: u64,
}

impl SequenceStats {
    /// Mean NLL (log-perplexity) of the sequence; `None` if none of its tokens was scored.
    pub fn log_perplexity(&self) -> Option<f64> {
        (self.tokens > 0).then(|| self.nll_sum / self.tokens as f64)
    }

    /// Perplexity of the sequence; `None` if none of its tokens was scored.
    pub fn perplexity(&self) -> Option<f64> {
        self.log_perplexity().map(f64::exp)
    }
}
