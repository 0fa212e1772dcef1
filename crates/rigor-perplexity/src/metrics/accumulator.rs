//! The streaming, mergeable accumulator.
//!
//! Per batch: the targets (and mask) are read back and checked on the host, the per-token pass
//! [`token_stats`](crate::token_stats) runs on the device, and its `[n, 5]` result (5 floats a
//! token — tiny next to the `[n, vocab]` logits) is read back in **one** transfer. Everything after that is
//! `f64` arithmetic on the host: pooled sums, bins, per-sequence values. Reading per-token
//! values rather than per-batch sums costs $O(n)$ extra transfer and buys exact masking, the
//! equal-mass ECE, per-sequence values, and an `f64` sum that cannot overflow.

use burn::tensor::{Bool, Int, Tensor, TensorData};

use crate::error::{PerplexityError, Result, readback};
use crate::metrics::calibration::{
    ReliabilityBin, equal_mass_bins, equal_width_bins, equal_width_index,
    expected_calibration_error,
};
use crate::metrics::config::{EvalConfig, LabelShift};
use crate::metrics::report::{CalibrationReport, PerplexityReport, SequenceStats, TextUnits};
use crate::metrics::token::{
    BRIER, CONFIDENCE, CORRECT, ENTROPY, HALF_NLL, STATS, token_stats_unchecked,
};

/// Pooled sums over scored tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Pooled {
    nll_sum: f64,
    tokens: u64,
    correct: u64,
    confidence_sum: f64,
    entropy_sum: f64,
    brier_sum: f64,
}

impl Pooled {
    fn merge(&mut self, o: &Self) {
        self.nll_sum += o.nll_sum;
        self.tokens += o.tokens;
        self.correct += o.correct;
        self.confidence_sum += o.confidence_sum;
        self.entropy_sum += o.entropy_sum;
        self.brier_sum += o.brier_sum;
    }
}

/// What one call of [`PerplexityAccumulator::update`] added.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchSummary {
    /// Scored tokens in this batch (0 for a fully masked batch).
    pub tokens: u64,
    /// Their summed NLL (nats).
    pub nll_sum: f64,
}

/// A streaming perplexity / calibration accumulator.
///
/// Feed it batches of logits and targets with [`update`](Self::update) (`[batch, seq, vocab]`)
/// or [`update_flat`](Self::update_flat) (`[tokens, vocab]`); combine accumulators filled on
/// different threads or shards with [`merge`](Self::merge); read the pooled result with
/// [`report`](Self::report). The result depends only on the multiset of scored tokens (up to
/// `f64` rounding of the sums), never on how they were split into batches.
///
/// The accumulator holds no tensors, so it is `Send + Sync` and can be merged across threads.
///
/// ```
/// use burn::tensor::{Device, Int, Tensor};
/// use rigor_perplexity::{EvalConfig, LabelShift};
///
/// let device = Device::flex();
/// let mut acc = EvalConfig::new().with_label_shift(LabelShift::Causal).init().unwrap();
/// // uniform logits over 4 tokens: perplexity 4
/// let logits = Tensor::<3>::zeros([2, 5, 4], &device);
/// let ids = Tensor::<2, Int>::from_ints([[0, 1, 2, 3, 0], [3, 2, 1, -100, -100]], &device);
/// acc.update(logits, ids, None).unwrap();
/// let report = acc.report().unwrap();
/// assert_eq!(report.tokens, 4 + 2);
/// assert!((report.perplexity - 4.0).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PerplexityAccumulator {
    config: EvalConfig,
    pooled: Pooled,
    bins: Vec<ReliabilityBin>,
    samples: Vec<(f32, bool)>,
    sequences: Vec<SequenceStats>,
    units: TextUnits,
}

impl PerplexityAccumulator {
    /// An empty accumulator.
    ///
    /// # Errors
    /// [`PerplexityError::InvalidParameter`] if the configuration is invalid
    /// ([`EvalConfig::validate`]).
    pub fn new(config: EvalConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            bins: equal_width_bins(config.ece_bins),
            config,
            pooled: Pooled::default(),
            samples: Vec::new(),
            sequences: Vec::new(),
            units: TextUnits::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EvalConfig {
        &self.config
    }

    /// Scored tokens so far.
    pub fn tokens(&self) -> u64 {
        self.pooled.tokens
    }

    /// Summed NLL so far (nats).
    pub fn nll_sum(&self) -> f64 {
        self.pooled.nll_sum
    }

    /// Per-sequence values, in the order the sequences were fed (empty if
    /// [`EvalConfig::per_sequence`] is off). A sequence with no scored token is kept, with
    /// `tokens == 0`.
    pub fn sequences(&self) -> &[SequenceStats] {
        &self.sequences
    }

    /// Adds the byte and word counts of the text that was (or will be) scored, for
    /// byte-perplexity, bits-per-byte and word-perplexity.
    pub fn add_text_units(&mut self, units: TextUnits) {
        self.units.bytes += units.bytes;
        self.units.words += units.words;
    }

    /// Scores a batch of sequences.
    ///
    /// - `logits`: `[batch, seq, vocab]`, `f32` or `f64` (tested; the statistics are read back
    ///   as `f32`), any device.
    /// - `targets`: `[batch, seq]` token ids (with [`LabelShift::Causal`]: the input ids).
    /// - `mask`: optional `[batch, seq]`, aligned with `targets`; `false` = not scored.
    ///
    /// Each batch row is one sequence for [`sequences`](Self::sequences).
    ///
    /// # Errors
    /// - [`PerplexityError::ShapeMismatch`] if the shapes disagree or `vocab == 0`;
    /// - [`PerplexityError::TargetOutOfRange`] for a scored target outside `0..vocab`;
    /// - [`PerplexityError::NonFiniteLogits`] if a scored token's NLL is `NaN` (a `NaN` or
    ///   `+∞` logit in its row, or a row that is entirely `−∞`);
    /// - [`PerplexityError::ZeroProbabilityTarget`] if a scored target's logit is `−∞` in a
    ///   row with a finite maximum (NLL `+∞`; refused so the pooled perplexity stays usable);
    /// - [`PerplexityError::Readback`] if the device cannot be read.
    ///
    /// On error the accumulator is unchanged.
    pub fn update(
        &mut self,
        logits: Tensor<3>,
        targets: Tensor<2, Int>,
        mask: Option<Tensor<2, Bool>>,
    ) -> Result<BatchSummary> {
        let [b, s, v] = logits.dims();
        if targets.dims() != [b, s] {
            return Err(shape(format!(
                "logits are {:?} but targets are {:?} (want [{b}, {s}])",
                [b, s, v],
                targets.dims()
            )));
        }
        if let Some(m) = &mask
            && m.dims() != [b, s]
        {
            return Err(shape(format!(
                "mask is {:?} but targets are [{b}, {s}]",
                m.dims()
            )));
        }
        if v == 0 {
            return Err(shape("the vocabulary (last dim of logits) is empty".into()));
        }
        let (logits, targets, mask, s) = match self.config.label_shift {
            LabelShift::None => (logits, targets, mask, s),
            LabelShift::Causal if s < 2 => {
                // nothing left to score after the shift: every row is an empty sequence
                let empty = BatchSummary {
                    tokens: 0,
                    nll_sum: 0.0,
                };
                if self.config.per_sequence {
                    self.sequences
                        .extend((0..b).map(|_| SequenceStats::default()));
                }
                return Ok(empty);
            }
            LabelShift::Causal => (
                logits.narrow(1, 0, s - 1),
                targets.narrow(1, 1, s - 1),
                mask.map(|m| m.narrow(1, 1, s - 1)),
                s - 1,
            ),
        };
        let n = b * s;
        if n == 0 {
            // Burn's reshape reads a 0 in the target shape as "keep this dim", so an empty
            // batch must not reach it.
            if self.config.per_sequence {
                self.sequences
                    .extend((0..b).map(|_| SequenceStats::default()));
            }
            return Ok(BatchSummary {
                tokens: 0,
                nll_sum: 0.0,
            });
        }
        let flat_logits = logits.reshape([n, v]);
        let flat_targets = targets.reshape([n]);
        let flat_mask = mask.map(|m| m.reshape([n]));
        self.score(flat_logits, flat_targets, flat_mask, b, s)
    }

    /// Scores `[tokens, vocab]` logits against `[tokens]` targets as **one** sequence (the label
    /// shift, if configured, shifts within it).
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub fn update_flat(
        &mut self,
        logits: Tensor<2>,
        targets: Tensor<1, Int>,
        mask: Option<Tensor<1, Bool>>,
    ) -> Result<BatchSummary> {
        let [n, v] = logits.dims();
        let [len] = targets.dims();
        if let Some(m) = &mask
            && m.dims() != [len]
        {
            return Err(shape(format!(
                "mask is {:?} but targets are [{len}]",
                m.dims()
            )));
        }
        if len != n {
            return Err(shape(format!(
                "logits are [{n}, {v}] but targets are [{len}]"
            )));
        }
        if v == 0 {
            return Err(shape("the vocabulary (last dim of logits) is empty".into()));
        }
        if n == 0 {
            // One empty sequence (and no reshape: Burn reads a 0 as "keep this dim").
            if self.config.per_sequence {
                self.sequences.push(SequenceStats::default());
            }
            return Ok(BatchSummary {
                tokens: 0,
                nll_sum: 0.0,
            });
        }
        self.update(
            logits.reshape([1, n, v]),
            targets.reshape([1, len]),
            mask.map(|m| {
                let len = m.dims()[0];
                m.reshape([1, len])
            }),
        )
    }

    fn score(
        &mut self,
        logits: Tensor<2>,
        targets: Tensor<1, Int>,
        mask: Option<Tensor<1, Bool>>,
        rows: usize,
        row_len: usize,
    ) -> Result<BatchSummary> {
        let [n, vocab] = logits.dims();
        if n == 0 {
            if self.config.per_sequence {
                self.sequences
                    .extend((0..rows).map(|_| SequenceStats::default()));
            }
            return Ok(BatchSummary {
                tokens: 0,
                nll_sum: 0.0,
            });
        }
        let device = logits.device();
        let ids: Vec<i64> = targets.try_into_vec_as::<i64>().map_err(readback)?;
        let keep: Vec<bool> = match mask {
            Some(m) => m
                .int()
                .try_into_vec_as::<i64>()
                .map_err(readback)?
                .into_iter()
                .map(|k| k != 0)
                .collect(),
            None => vec![true; n],
        };
        let mut scored = Vec::with_capacity(n);
        let mut clean = Vec::with_capacity(n);
        for (i, (&id, &k)) in ids.iter().zip(&keep).enumerate() {
            let is_scored = k && Some(id) != self.config.ignore_index;
            if is_scored && (id < 0 || id as u64 >= vocab as u64) {
                return Err(PerplexityError::TargetOutOfRange {
                    id,
                    position: i,
                    vocab,
                    ignore_index: self.config.ignore_index,
                });
            }
            scored.push(is_scored);
            clean.push(if is_scored { id } else { 0 });
        }
        let mut batch = Pooled::default();
        let mut per_seq = vec![SequenceStats::default(); rows];
        let mut bins = self.bins.clone();
        let mut samples = Vec::new();
        if scored.iter().any(|&s| s) {
            let clean = Tensor::<1, Int>::from_data(TensorData::new(clean, [n]), &device);
            let stats: Vec<f32> = token_stats_unchecked(logits, clean)
                .try_into_vec_as::<f32>()
                .map_err(readback)?;
            for (i, row) in stats.chunks_exact(STATS).enumerate() {
                if !scored[i] {
                    continue;
                }
                let nll = 2.0 * f64::from(row[HALF_NLL]);
                if nll.is_nan() {
                    return Err(PerplexityError::NonFiniteLogits {
                        position: i,
                        value: nll,
                    });
                }
                if nll == f64::INFINITY {
                    return Err(PerplexityError::ZeroProbabilityTarget { position: i });
                }
                let correct = row[CORRECT] > 0.5;
                let confidence = f64::from(row[CONFIDENCE]);
                batch.nll_sum += nll;
                batch.tokens += 1;
                batch.correct += u64::from(correct);
                batch.confidence_sum += confidence;
                batch.entropy_sum += f64::from(row[ENTROPY]);
                batch.brier_sum += f64::from(row[BRIER]);
                // 1/S is in (0, 1] in exact arithmetic; an approximate exp (a GPU's) may put it
                // an ulp above 1, so clamp before binning (a NaN confidence cannot get here:
                // its NLL is NaN and was refused above).
                let confidence = confidence.clamp(0.0, 1.0);
                let k = equal_width_index(confidence, bins.len()).unwrap_or(bins.len() - 1);
                bins[k].add(confidence, correct);
                if self.config.keep_samples {
                    samples.push((confidence as f32, correct));
                }
                let seq = &mut per_seq[i / row_len];
                seq.nll_sum += nll;
                seq.tokens += 1;
            }
        }
        // commit only after every check passed
        self.pooled.merge(&batch);
        self.bins = bins;
        self.samples.extend(samples);
        if self.config.per_sequence {
            self.sequences.extend(per_seq);
        }
        Ok(BatchSummary {
            tokens: batch.tokens,
            nll_sum: batch.nll_sum,
        })
    }

    /// Adds everything `other` accumulated (pooled sums, bins, samples, text units; its
    /// sequences are appended after this one's).
    ///
    /// # Errors
    /// [`PerplexityError::ConfigMismatch`] if the two configurations differ.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        if self.config != other.config {
            return Err(PerplexityError::ConfigMismatch {
                detail: format!("{:?} vs {:?}", self.config, other.config),
            });
        }
        self.pooled.merge(&other.pooled);
        for (a, b) in self.bins.iter_mut().zip(&other.bins) {
            a.merge(b);
        }
        self.samples.extend_from_slice(&other.samples);
        self.sequences.extend_from_slice(&other.sequences);
        self.units.bytes += other.units.bytes;
        self.units.words += other.units.words;
        Ok(())
    }

    /// Empties the accumulator (keeps the configuration).
    pub fn reset(&mut self) {
        self.pooled = Pooled::default();
        self.bins = equal_width_bins(self.config.ece_bins);
        self.samples.clear();
        self.sequences.clear();
        self.units = TextUnits::default();
    }

    /// The pooled log-perplexity $\frac1N \sum_i -\log p_{i,t_i}$.
    ///
    /// # Errors
    /// [`PerplexityError::NoTokens`] if nothing was scored.
    pub fn log_perplexity(&self) -> Result<f64> {
        if self.pooled.tokens == 0 {
            return Err(PerplexityError::NoTokens {
                what: "log-perplexity",
            });
        }
        Ok(self.pooled.nll_sum / self.pooled.tokens as f64)
    }

    /// The pooled perplexity $\exp\bigl(\frac1N \sum_i -\log p_{i,t_i}\bigr)$ (`f64`, see
    /// [`PerplexityReport::perplexity`]).
    ///
    /// # Errors
    /// [`PerplexityError::NoTokens`] if nothing was scored.
    pub fn perplexity(&self) -> Result<f64> {
        self.log_perplexity().map(f64::exp)
    }

    /// Everything, pooled.
    ///
    /// # Errors
    /// [`PerplexityError::NoTokens`] if nothing was scored (an empty or fully masked input has
    /// no perplexity; it is never reported as `NaN`).
    pub fn report(&self) -> Result<PerplexityReport> {
        let p = &self.pooled;
        let ell = self.log_perplexity()?;
        let n = p.tokens as f64;
        let per_unit = |units: u64| (units > 0).then(|| p.nll_sum / units as f64);
        let log_bpb = per_unit(self.units.bytes);
        let log_wpp = per_unit(self.units.words);
        let mut samples = self.samples.clone();
        let mass_bins = if self.config.keep_samples {
            equal_mass_bins(&mut samples, self.config.ece_bins)?
        } else {
            Vec::new()
        };
        Ok(PerplexityReport {
            tokens: p.tokens,
            nll_sum: p.nll_sum,
            log_perplexity: ell,
            perplexity: ell.exp(),
            bits_per_token: ell / std::f64::consts::LN_2,
            units: self.units,
            byte_perplexity: log_bpb.map(f64::exp),
            bits_per_byte: log_bpb.map(|l| l / std::f64::consts::LN_2),
            word_perplexity: log_wpp.map(f64::exp),
            log_word_perplexity: log_wpp,
            calibration: CalibrationReport {
                accuracy: p.correct as f64 / n,
                mean_confidence: p.confidence_sum / n,
                mean_entropy: p.entropy_sum / n,
                brier: p.brier_sum / n,
                ece_equal_width: expected_calibration_error(&self.bins).unwrap_or(0.0),
                ece_equal_mass: self
                    .config
                    .keep_samples
                    .then(|| expected_calibration_error(&mass_bins).unwrap_or(0.0)),
                equal_width_bins: self.bins.clone(),
                equal_mass_bins: mass_bins,
            },
        })
    }
}

fn shape(detail: String) -> PerplexityError {
    PerplexityError::ShapeMismatch {
        op: "PerplexityAccumulator::update",
        detail,
    }
}
