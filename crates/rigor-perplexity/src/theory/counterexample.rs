//! Lemma 3.1 (S3) made executable: search for strings that a model copies **wrongly** while
//! their perplexity is within $\xi$ of a string it copies right.
//!
//! **Copy task.** A bit string $b \in \\{0,1\\}^n$ is presented as `b, SEP, b` (token ids from
//! [`CopyTask`]); the model is teacher-forced on `b, SEP, b_0..b_{n-2}` (length $2n$) and its
//! logits at positions $n..2n-1$ are scored against $b_0..b_{n-1}$:
//! $$\operatorname{pplx}\_T(b) = -\frac1n\sum_{k} \log T(b \mid o_1..o_{k-1})(b_k).$$
//! The **greedy copy is wrong** iff at some step the target does not attain the maximum logit
//! (under teacher forcing, the first such step is exactly where greedy decoding first
//! deviates; ties count as correct, so a tie is never reported as a counterexample).
//!
//! **Search.** Starting from $\alpha$ (which must be copied right), every string at Hamming
//! distance $1..=$`max_flips` is scored in batches; $\beta$ is reported when its copy is wrong
//! and $|\operatorname{pplx}(\alpha) - \operatorname{pplx}(\beta)| < \xi$. Lemma 3.1 says such
//! $\beta$ exist for long enough $\alpha$ whenever every prefix is copied with confidence
//! $> \tfrac12 + \varepsilon$: one wrong step among $n$ moves the mean NLL by $O(1/n)$.

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{PerplexityError, Result, readback};
use crate::eval::lm::CausalLm;
use crate::metrics::token::{CORRECT, HALF_NLL, STATS, token_stats_unchecked};

/// Token ids of the copy task's alphabet $\\{0, 1, |\\}$.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyTask {
    /// Id of bit 0.
    pub zero: i64,
    /// Id of bit 1.
    pub one: i64,
    /// Id of the separator `|`.
    pub sep: i64,
}

impl Default for CopyTask {
    /// `0 → 0`, `1 → 1`, `| → 2`.
    fn default() -> Self {
        Self {
            zero: 0,
            one: 1,
            sep: 2,
        }
    }
}

impl CopyTask {
    /// The teacher-forced input `b, SEP, b_0..b_{n-2}` (length $2n$).
    pub fn prompt(&self, bits: &[bool]) -> Vec<i64> {
        let id = |b: bool| if b { self.one } else { self.zero };
        let n = bits.len();
        let mut out = Vec::with_capacity(2 * n);
        out.extend(bits.iter().map(|&b| id(b)));
        out.push(self.sep);
        out.extend(bits[..n.saturating_sub(1)].iter().map(|&b| id(b)));
        out
    }
}

/// How a model copies one string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyScore {
    /// $\operatorname{pplx}_T(b)$ (nats per bit).
    pub log_perplexity: f64,
    /// First copy step whose target does not attain the maximum logit; `None` if the greedy
    /// copy is correct.
    pub first_error: Option<usize>,
}

impl CopyScore {
    /// Whether the greedy copy is correct.
    pub fn greedy_correct(&self) -> bool {
        self.first_error.is_none()
    }
}

/// A string copied wrongly with perplexity within $\xi$ of the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    /// Positions flipped in $\alpha$ to get $\beta$ (increasing).
    pub flipped: Vec<usize>,
    /// $\beta$.
    pub beta: Vec<bool>,
    /// How the model copies $\beta$.
    pub score: CopyScore,
    /// $|\operatorname{pplx}(\alpha) - \operatorname{pplx}(\beta)|$.
    pub gap: f64,
}

/// Result of [`CounterexampleFinder::search`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterexampleReport {
    /// The reference string.
    pub alpha: Vec<bool>,
    /// How the model copies it (always correct: that is the premise).
    pub alpha_score: CopyScore,
    /// Candidates scored.
    pub candidates: usize,
    /// The counterexamples, in enumeration order (by number of flips, then lexicographic).
    pub found: Vec<Counterexample>,
}

/// Configuration of [`CounterexampleFinder`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterexampleConfig {
    /// Perplexity tolerance $\xi > 0$ (nats).
    pub xi: f64,
    /// Largest Hamming distance searched (default 1: single-bit flips).
    pub max_flips: usize,
    /// Refuse searches with more candidates than this (default 65 536).
    pub max_candidates: usize,
    /// Candidates per model call (default 64).
    pub batch_size: usize,
    /// Token ids.
    pub task: CopyTask,
}

impl CounterexampleConfig {
    /// Tolerance `xi`, single-bit flips, default budget and ids.
    pub fn new(xi: f64) -> Self {
        Self {
            xi,
            max_flips: 1,
            max_candidates: 1 << 16,
            batch_size: 64,
            task: CopyTask::default(),
        }
    }

    /// Searches up to `max_flips` flipped bits.
    pub fn with_max_flips(mut self, max_flips: usize) -> Self {
        self.max_flips = max_flips;
        self
    }

    /// Sets the candidate budget.
    pub fn with_max_candidates(mut self, max_candidates: usize) -> Self {
        self.max_candidates = max_candidates;
        self
    }

    /// Sets the batch size.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets the token ids.
    pub fn with_task(mut self, task: CopyTask) -> Self {
        self.task = task;
        self
    }

    /// Validates and builds the finder.
    ///
    /// # Errors
    /// [`PerplexityError::InvalidParameter`] unless $\xi$ is finite and $> 0$, and
    /// `max_flips`, `batch_size` are $\ge 1$.
    pub fn init(self) -> Result<CounterexampleFinder> {
        if !(self.xi.is_finite() && self.xi > 0.0) {
            return Err(PerplexityError::InvalidParameter {
                name: "xi",
                value: self.xi,
                reason: "must be finite and > 0",
            });
        }
        for (name, v) in [
            ("max_flips", self.max_flips),
            ("batch_size", self.batch_size),
        ] {
            if v == 0 {
                return Err(PerplexityError::InvalidParameter {
                    name,
                    value: 0.0,
                    reason: "must be at least 1",
                });
            }
        }
        Ok(CounterexampleFinder { config: self })
    }
}

/// A validated counterexample search (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct CounterexampleFinder {
    config: CounterexampleConfig,
}

impl CounterexampleFinder {
    /// The configuration.
    pub fn config(&self) -> &CounterexampleConfig {
        &self.config
    }

    /// Scores how `model` copies each string (all of the same length $n \ge 1$), in batches.
    ///
    /// # Errors
    /// [`PerplexityError::ShapeMismatch`] for empty or unequal-length strings or logits of the
    /// wrong shape; [`PerplexityError::TargetOutOfRange`] if the task's ids do not fit the
    /// model's vocabulary; [`PerplexityError::NonFiniteLogits`]; read-back errors.
    pub fn score<M: CausalLm + ?Sized>(
        &self,
        model: &M,
        strings: &[Vec<bool>],
        device: &Device,
    ) -> Result<Vec<CopyScore>> {
        let Some(n) = strings.first().map(Vec::len) else {
            return Ok(Vec::new());
        };
        if n == 0 || strings.iter().any(|s| s.len() != n) {
            return Err(PerplexityError::ShapeMismatch {
                op: "CounterexampleFinder::score",
                detail: "strings must be non-empty and of equal length".into(),
            });
        }
        let task = self.config.task;
        let mut out = Vec::with_capacity(strings.len());
        for chunk in strings.chunks(self.config.batch_size) {
            let b = chunk.len();
            let prompts: Vec<i64> = chunk.iter().flat_map(|s| task.prompt(s)).collect();
            let targets: Vec<i64> = chunk
                .iter()
                .flat_map(|s| s.iter().map(|&x| if x { task.one } else { task.zero }))
                .collect();
            let ids = Tensor::<2, Int>::from_data(TensorData::new(prompts, [b, 2 * n]), device);
            let logits = model.logits(ids)?;
            let [lb, ll, v] = logits.dims();
            if lb != b || ll != 2 * n {
                return Err(PerplexityError::ShapeMismatch {
                    op: "CounterexampleFinder::score",
                    detail: format!(
                        "model returned logits {:?} for input [{b}, {}]",
                        [lb, ll, v],
                        2 * n
                    ),
                });
            }
            for (position, &id) in targets.iter().enumerate() {
                if id < 0 || id as u64 >= v as u64 {
                    return Err(PerplexityError::TargetOutOfRange {
                        id,
                        position,
                        vocab: v,
                        ignore_index: None,
                    });
                }
            }
            let copy = logits.narrow(1, n, n).reshape([b * n, v]);
            let targets = Tensor::<1, Int>::from_data(TensorData::new(targets, [b * n]), device);
            let stats: Vec<f32> = token_stats_unchecked(copy, targets)
                .try_into_vec_as::<f32>()
                .map_err(readback)?;
            for (i, rows) in stats.chunks_exact(STATS * n).enumerate() {
                let mut nll = 0.0;
                let mut first_error = None;
                for (k, row) in rows.chunks_exact(STATS).enumerate() {
                    let v = 2.0 * f64::from(row[HALF_NLL]);
                    if v.is_nan() {
                        return Err(PerplexityError::NonFiniteLogits {
                            position: i * n + k,
                            value: v,
                        });
                    }
                    nll += v;
                    if first_error.is_none() && row[CORRECT] < 0.5 {
                        first_error = Some(k);
                    }
                }
                out.push(CopyScore {
                    log_perplexity: nll / n as f64,
                    first_error,
                });
            }
        }
        Ok(out)
    }

    /// Searches the strings within `max_flips` bit flips of `alpha` for counterexamples.
    ///
    /// # Errors
    /// [`PerplexityError::Premise`] if `model` does not copy `alpha` correctly (greedy);
    /// [`PerplexityError::TooManyCandidates`] if $\sum_{k \le \text{max\\_flips}}\binom{n}{k}$
    /// exceeds the budget; anything [`score`](Self::score) returns.
    pub fn search<M: CausalLm + ?Sized>(
        &self,
        model: &M,
        alpha: &[bool],
        device: &Device,
    ) -> Result<CounterexampleReport> {
        let n = alpha.len();
        let flips = self.config.max_flips.min(n);
        let needed: u128 = (1..=flips).map(|k| binomial(n, k)).sum();
        if needed > self.config.max_candidates as u128 {
            return Err(PerplexityError::TooManyCandidates {
                needed,
                budget: self.config.max_candidates,
            });
        }
        let alpha_score = self
            .score(model, &[alpha.to_vec()], device)?
            .pop()
            .ok_or_else(|| PerplexityError::Premise {
                detail: "alpha is empty".into(),
            })?;
        if let Some(k) = alpha_score.first_error {
            return Err(PerplexityError::Premise {
                detail: format!("the model does not copy alpha correctly (first error at bit {k})"),
            });
        }
        let mut sets = Vec::new();
        for k in 1..=flips {
            combinations(n, k, &mut sets);
        }
        let betas: Vec<Vec<bool>> = sets
            .iter()
            .map(|set| {
                let mut b = alpha.to_vec();
                for &i in set {
                    b[i] = !b[i];
                }
                b
            })
            .collect();
        let scores = self.score(model, &betas, device)?;
        let found = sets
            .into_iter()
            .zip(betas)
            .zip(scores)
            .filter_map(|((flipped, beta), score)| {
                let gap = (score.log_perplexity - alpha_score.log_perplexity).abs();
                (!score.greedy_correct() && gap < self.config.xi).then_some(Counterexample {
                    flipped,
                    beta,
                    score,
                    gap,
                })
            })
            .collect();
        Ok(CounterexampleReport {
            alpha: alpha.to_vec(),
            alpha_score,
            candidates: needed as usize,
            found,
        })
    }
}

fn binomial(n: usize, k: usize) -> u128 {
    let mut r: u128 = 1;
    for i in 0..k as u128 {
        r = r * (n as u128 - i) / (i + 1);
    }
    r
}

/// Appends every increasing `k`-subset of `0..n` in lexicographic order.
fn combinations(n: usize, k: usize, out: &mut Vec<Vec<usize>>) {
    let mut idx: Vec<usize> = (0..k).collect();
    if k == 0 || k > n {
        return;
    }
    loop {
        out.push(idx.clone());
        let mut i = k;
        loop {
            if i == 0 {
                return;
            }
            i -= 1;
            if idx[i] != i + n - k {
                break;
            }
            if i == 0 {
                return;
            }
        }
        idx[i] += 1;
        for j in i + 1..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_enumerate_every_subset_once() {
        for n in 0..7 {
            for k in 1..=n {
                let mut v = Vec::new();
                combinations(n, k, &mut v);
                assert_eq!(v.len() as u128, binomial(n, k), "n={n} k={k}");
                let mut sorted = v.clone();
                sorted.sort();
                sorted.dedup();
                assert_eq!(sorted, v, "lexicographic and distinct");
                assert!(v.iter().all(|s| s.windows(2).all(|w| w[0] < w[1])));
            }
        }
    }
}
