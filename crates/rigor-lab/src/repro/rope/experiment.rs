//! The four experiments: variant language models, frequency usage and the most positional
//! head, the one-layer constructions, and the drift bound on trained queries and keys.

use burn::module::Module;
use burn::optim::AdamWConfig;
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rigor_nn::{DecoderLm, DecoderLmConfig, PositionalEncoding, mask_logits};
use rigor_perplexity::{EvalConfig, LabelShift};
use rigor_rope::theory::constructions::{HeadKind, PositionalHead};
use rigor_rope::theory::drift::{drift, drift_bound};
use rigor_rope::theory::nope::causal_row_ranges;
use rigor_rope::theory::usage::FrequencyUsage;
use rigor_rope::{Layout, Positions, Rope, RopeConfig, TensorLayout};
use serde::{Deserialize, Serialize};

use super::config::{ConstructionExperiment, RopeReproConfig, Variant};
use crate::data::{ByteCorpus, CorpusSplit};
use crate::error::{LabError, Result};
use crate::rng;
use crate::train::{LrSchedule, Metrics, TrainConfig, Trainer};

fn readback<const D: usize>(t: Tensor<D>, what: &'static str) -> Result<Vec<f32>> {
    t.try_into_vec_as::<f32>().map_err(|e| LabError::Readback {
        what,
        source: e.into(),
    })
}

fn ids(rows: &[Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let s = rows.first().map_or(0, Vec::len);
    let flat: Vec<i64> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), s]), device)
}

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

/// Loads the configured corpus (the committed KJV or `config.corpus`) and checks that both
/// parts hold one context: a training window of `lm.context + 1` bytes and a validation
/// window of the longest evaluation length.
///
/// # Errors
/// [`LabError::Corpus`] (empty, not UTF-8, too short), [`LabError::Io`].
pub fn load_corpus(config: &RopeReproConfig) -> Result<ByteCorpus> {
    let corpus = match &config.corpus {
        None => ByteCorpus::kjv()?,
        Some(p) => ByteCorpus::from_path(p, CorpusSplit::default())?,
    };
    corpus.check_context(config.lm.context, config.longest_eval())?;
    Ok(corpus)
}

// ---------------------------------------------------------------------------------------------
// Experiment 1: the variant language models
// ---------------------------------------------------------------------------------------------

/// Validation loss of one model at one evaluation length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LengthEval {
    /// Window length in bytes (a multiple of the training context).
    pub length: usize,
    /// Windows scored.
    pub windows: usize,
    /// Predictions scored (`windows · (length − 1)`).
    pub tokens: u64,
    /// Bits per byte over every prediction of the windows (rigor-perplexity's pooled
    /// accumulator; one token is one byte, so bits per token = bits per byte).
    pub bpb: f64,
    /// Bits per byte over the predictions made from more context than training ever gave
    /// (query positions ≥ the training context); `None` at the training length.
    pub bpb_beyond_train: Option<f64>,
}

/// One variant trained under one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmRun {
    /// The variant.
    pub variant: Variant,
    /// Its label.
    pub label: String,
    /// The seed (initial weights and data order are the same for every variant).
    pub seed: u64,
    /// Training loss per step (nats per byte).
    pub loss: Vec<f64>,
    /// `(step, validation bits per byte at the training length)` every `eval_every` steps.
    pub curve: Vec<(usize, f64)>,
    /// Training seconds.
    pub train_seconds: f64,
    /// The final model at every evaluation length.
    pub evals: Vec<LengthEval>,
}

impl LmRun {
    /// Bits per byte at `length`, if evaluated.
    pub fn bpb_at(&self, length: usize) -> Option<f64> {
        self.evals
            .iter()
            .find(|e| e.length == length)
            .map(|e| e.bpb)
    }
}

/// Scores `model` on the first `eval_bytes` of validation text cut into windows of `length`,
/// pooled by rigor-perplexity's accumulator (causal shift: position t predicts t + 1);
/// predictions whose query position is ≥ `train_context` are also pooled apart.
///
/// # Errors
/// [`LabError::InvalidConfig`] for `length = 0`; [`LabError::Corpus`] if not one window fits;
/// model and accumulator errors. `batch = 0` is read as 1.
pub fn evaluate_length(
    model: &DecoderLm,
    corpus: &ByteCorpus,
    length: usize,
    eval_bytes: usize,
    batch: usize,
    train_context: usize,
    device: &Device,
) -> Result<LengthEval> {
    if length == 0 {
        return Err(LabError::config(
            "evaluate_length length",
            length,
            "must be ≥ 1",
        ));
    }
    let windows = corpus.valid_windows(length, (eval_bytes / length).max(1))?;
    let mut all = EvalConfig::new()
        .with_label_shift(LabelShift::Causal)
        .with_ignore_index(Some(-1))
        .init()?;
    let mut beyond = all.clone();
    for chunk in windows.chunks(batch.max(1)) {
        let input = ids(chunk, device);
        let logits = model.forward(input.clone(), None)?;
        if length > train_context + 1 {
            // target t is predicted from query position t − 1: keep t − 1 ≥ train_context
            let masked: Vec<Vec<i64>> = chunk
                .iter()
                .map(|w| {
                    w.iter()
                        .enumerate()
                        .map(|(t, &b)| if t > train_context { b } else { -1 })
                        .collect()
                })
                .collect();
            beyond.update(logits.clone(), ids(&masked, device), None)?;
        }
        all.update(logits, input, None)?;
    }
    let report = all.report()?;
    let bpb_beyond_train = if beyond.tokens() > 0 {
        Some(beyond.report()?.bits_per_token)
    } else {
        None
    };
    Ok(LengthEval {
        length,
        windows: windows.len(),
        tokens: report.tokens,
        bpb: report.bits_per_token,
        bpb_beyond_train,
    })
}

/// Where and under which seed a model is trained.
pub struct RunEnv<'a> {
    /// The seed.
    pub seed: u64,
    /// The autodiff device.
    pub device: &'a Device,
    /// Show progress bars.
    pub progress: bool,
}

/// Trains `variant` under `env.seed` (device seeded from `(seed, "rope/lm/init")` before the
/// model is built, data drawn from `(seed, "rope/lm/data")`: identical for every variant) and
/// evaluates it at every configured length. Returns the trained model (without autodiff) and
/// its run.
///
/// # Errors
/// Training, evaluation and corpus errors.
pub fn train_variant(
    config: &RopeReproConfig,
    corpus: &ByteCorpus,
    variant: Variant,
    env: &RunEnv<'_>,
) -> Result<(DecoderLm, LmRun)> {
    let lm = &config.lm;
    let device = env.device;
    let plain = device.clone().without_autodiff();
    rng::seed_device(device, env.seed, "rope/lm/init");
    let model = config.model.init(variant, device)?;
    let schedule = LrSchedule::WarmupCosine {
        lr: lm.lr,
        warmup: lm.warmup.min(lm.steps / 2),
        min_lr: lm.lr / 10.0,
    };
    let tc = TrainConfig::new(lm.steps, rng::derive_seed(env.seed, "rope/lm/data"))
        .with_schedule(schedule)
        .with_eval_every(lm.eval_every)
        .with_progress(env.progress);
    let curve_bytes = (lm.eval_bytes / 4).max(lm.context);
    let mut curve = Vec::new();
    let outcome = Trainer::new(tc, device)?.fit_with_eval(
        model,
        AdamWConfig::new().with_weight_decay(0.0).init(),
        |m: &DecoderLm, ctx| {
            let batch = corpus.train_windows(lm.batch, lm.context + 1, ctx.rng, ctx.device)?;
            Ok(m.next_token_loss(batch, None)?)
        },
        |m: &DecoderLm, step| {
            let e = evaluate_length(
                m,
                corpus,
                lm.context,
                curve_bytes,
                lm.eval_batch,
                lm.context,
                &plain,
            )?;
            curve.push((step, e.bpb));
            Ok(Metrics::from([("val_bpb".to_string(), e.bpb)]))
        },
    )?;
    let model = outcome.model.valid();
    let mut evals = Vec::with_capacity(lm.eval_multiples.len());
    for &k in &lm.eval_multiples {
        evals.push(evaluate_length(
            &model,
            corpus,
            k * lm.context,
            lm.eval_bytes,
            lm.eval_batch,
            lm.context,
            &plain,
        )?);
    }
    Ok((
        model,
        LmRun {
            variant,
            label: variant.label(),
            seed: env.seed,
            loss: outcome.history.loss,
            curve,
            train_seconds: outcome.history.seconds,
            evals,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Experiment 2: frequency usage and the most positional head
// ---------------------------------------------------------------------------------------------

/// The paper's two observations about usage (§6), checked on one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageObservations {
    /// Rotating (non-zero-frequency) slots per head.
    pub live_slots: usize,
    /// Per layer: the slot with the largest head-averaged query norm.
    pub argmax_slot: Vec<usize>,
    /// Layers whose argmax slot lies in the lowest-frequency quarter of the live slots
    /// (observation 1: "the lowest frequencies carry the largest norms in most layers").
    pub layers_lowest_quarter: usize,
    /// Per layer: the share of the summed query norm in the highest-frequency quarter of the
    /// live slots.
    pub high_share: Vec<f64>,
    /// Observation 2 ("high frequencies in the first and last layers"): whether the layer with
    /// the largest high-frequency share is the first or the last; `None` with fewer than 3
    /// layers (every layer is first or last).
    pub high_in_first_or_last: Option<bool>,
}

impl UsageObservations {
    /// From head-averaged query usage (`[layer][slot]`) over the first `live_slots` slots.
    pub fn from_layer_means(means: &[Vec<f64>], live_slots: usize) -> Self {
        let quarter = (live_slots / 4).max(1);
        let argmax_slot: Vec<usize> = means
            .iter()
            .map(|row| {
                row.iter()
                    .take(live_slots)
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |acc, (k, &v)| {
                            if v > acc.1 { (k, v) } else { acc }
                        },
                    )
                    .0
            })
            .collect();
        let layers_lowest_quarter = argmax_slot
            .iter()
            .filter(|&&k| k + quarter >= live_slots)
            .count();
        let high_share: Vec<f64> = means
            .iter()
            .map(|row| {
                let total: f64 = row.iter().take(live_slots).sum();
                let high: f64 = row.iter().take(quarter.min(live_slots)).sum();
                if total > 0.0 { high / total } else { 0.0 }
            })
            .collect();
        let high_in_first_or_last = (means.len() >= 3).then(|| {
            let top = high_share
                .iter()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |acc, (l, &v)| {
                        if v > acc.1 { (l, v) } else { acc }
                    },
                )
                .0;
            top == 0 || top + 1 == means.len()
        });
        Self {
            live_slots,
            argmax_slot,
            layers_lowest_quarter,
            high_share,
            high_in_first_or_last,
        }
    }
}

/// The head whose attention is most positional, and its pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionalHeadPick {
    /// Layer (0 = input side).
    pub layer: usize,
    /// Head.
    pub head: usize,
    /// `"diagonal"` or `"previous-token"`.
    pub kind: String,
    /// Mean weight on the key the kind names (rows ≥ 1 of one validation window).
    pub mean_weight: f64,
    /// Mean diagonal weight of every `[layer][head]`.
    pub diagonal: Vec<Vec<f64>>,
    /// Mean previous-token weight of every `[layer][head]`.
    pub previous: Vec<Vec<f64>>,
    /// The head's attention weights on the window, `[query][key]` (up to 48 × 48).
    pub pattern: Vec<Vec<f64>>,
}

/// Frequency usage of one trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageAnalysis {
    /// The model's variant.
    pub label: String,
    /// Mean query chunk norms per layer, head and slot.
    pub query: FrequencyUsage,
    /// Mean key chunk norms.
    pub key: FrequencyUsage,
    /// The observations on the query usage.
    pub observations: UsageObservations,
}

fn rope_of(model: &DecoderLm) -> Option<&Rope> {
    model.blocks.first().and_then(|b| b.attention.rope())
}

/// Query and key usage of `model` over `windows` validation windows of `len` bytes.
///
/// # Errors
/// [`LabError::InvalidConfig`] for a model without RoPE; model, corpus and read-back errors.
pub fn frequency_usage(
    model: &DecoderLm,
    label: &str,
    corpus: &ByteCorpus,
    len: usize,
    windows: usize,
    device: &Device,
) -> Result<UsageAnalysis> {
    let rope = rope_of(model).ok_or_else(|| {
        LabError::config("frequency_usage model", label, "has no RoPE to measure")
    })?;
    let rows = corpus.valid_windows(len, windows)?;
    let qk = model.queries_keys(ids(&rows, device))?;
    let (qs, ks): (Vec<Tensor<4>>, Vec<Tensor<4>>) = qk.into_iter().unzip();
    let query = FrequencyUsage::from_activations("query", &qs, TensorLayout::Bhsd, rope)?;
    let key = FrequencyUsage::from_activations("key", &ks, TensorLayout::Bhsd, rope)?;
    let live = query.inv_freq.iter().filter(|&&g| g > 0.0).count();
    let observations = UsageObservations::from_layer_means(&query.layer_means(), live);
    Ok(UsageAnalysis {
        label: label.to_string(),
        query,
        key,
        observations,
    })
}

/// Finds the layer and head with the largest mean diagonal or previous-token weight on one
/// validation window of `len` bytes.
///
/// # Errors
/// Model, corpus and read-back errors.
pub fn most_positional_head(
    model: &DecoderLm,
    corpus: &ByteCorpus,
    len: usize,
    device: &Device,
) -> Result<PositionalHeadPick> {
    let rows = corpus.valid_windows(len, 1)?;
    let out = model.forward_with_weights(ids(&rows, device), None)?;
    let (mut diagonal, mut previous) = (Vec::new(), Vec::new());
    let mut best = (0, 0, "diagonal", f64::NEG_INFINITY);
    let mut patterns = Vec::new();
    for (l, w) in out.weights.into_iter().enumerate() {
        let [_, h, s, _] = w.dims();
        let v = readback(w, "attention weights")?;
        let (mut dl, mut pl) = (Vec::new(), Vec::new());
        for head in 0..h {
            let at = |i: usize, j: usize| f64::from(v[(head * s + i) * s + j]);
            let n = (s - 1).max(1) as f64;
            let d = (1..s).map(|i| at(i, i)).sum::<f64>() / n;
            let p = (1..s).map(|i| at(i, i - 1)).sum::<f64>() / n;
            for (kind, m) in [("diagonal", d), ("previous-token", p)] {
                if m > best.3 {
                    best = (l, head, kind, m);
                }
            }
            dl.push(d);
            pl.push(p);
            let k = s.min(48);
            patterns.push((
                (l, head),
                (0..k)
                    .map(|i| (0..k).map(|j| at(i, j)).collect())
                    .collect::<Vec<Vec<f64>>>(),
            ));
        }
        diagonal.push(dl);
        previous.push(pl);
    }
    let pattern = patterns
        .into_iter()
        .find(|(lh, _)| *lh == (best.0, best.1))
        .map(|(_, p)| p)
        .unwrap_or_default();
    Ok(PositionalHeadPick {
        layer: best.0,
        head: best.1,
        kind: best.2.to_string(),
        mean_weight: best.3,
        diagonal,
        previous,
        pattern,
    })
}

// ---------------------------------------------------------------------------------------------
// Experiment 4: drift
// ---------------------------------------------------------------------------------------------

/// Measured drift against claim 4's bound, per frequency slot and distance, on a trained
/// model's own query/key chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftAnalysis {
    /// The model's variant.
    pub label: String,
    /// Distances r.
    pub distances: Vec<usize>,
    /// $g_k$ per slot.
    pub inv_freq: Vec<f64>,
    /// `measured[slot][i]`: mean of $|a_k(r_i) - a_k(0)|$ over the sampled (query, key) pairs
    /// of every layer and head.
    pub measured: Vec<Vec<f64>>,
    /// `bound[slot][i]`: mean of $2|\sin(r_i g_k/2)|\\,\lVert q_k\rVert\lVert k_k\rVert$.
    pub bound: Vec<Vec<f64>>,
    /// `linear[slot][i]`: mean of $r_i g_k \lVert q_k\rVert\lVert k_k\rVert$.
    pub linear: Vec<Vec<f64>>,
    /// (pair, slot, distance) triples measured.
    pub checked: u64,
    /// Triples where the measured drift exceeds the tight bound (beyond round-off of
    /// $10^{-9}(1 + \lVert q_k\rVert\lVert k_k\rVert)$): must be 0.
    pub violations: u64,
}

/// Claim 4 on `model`: for `pairs` random (query token, key token) pairs of one validation
/// window of `len` bytes, in every layer and head, $|a_k(r) - a_k(0)|$ computed from the
/// model's unrotated chunks against the bound, for every slot and distance.
///
/// # Errors
/// [`LabError::InvalidConfig`] for a model without RoPE; model, corpus and read-back errors.
#[allow(clippy::too_many_arguments)]
pub fn drift_analysis(
    model: &DecoderLm,
    label: &str,
    corpus: &ByteCorpus,
    len: usize,
    distances: &[usize],
    pairs: usize,
    seed: u64,
    device: &Device,
) -> Result<DriftAnalysis> {
    let rope = rope_of(model)
        .ok_or_else(|| LabError::config("drift_analysis model", label, "has no RoPE"))?;
    let inv_freq = rope.frequencies(len).inv_freq;
    let (d, r) = (rope.head_dim(), rope.rotary_dim());
    let layout: Layout = rope.layout();
    let slots = inv_freq.len();
    let rows = corpus.valid_windows(len, 1)?;
    let qk = model.queries_keys(ids(&rows, device))?;
    let mut sum_m = vec![vec![0.0; distances.len()]; slots];
    let mut sum_b = sum_m.clone();
    let mut sum_l = sum_m.clone();
    let (mut count, mut checked, mut violations) = (0u64, 0u64, 0u64);
    let mut picks = rng::rng(seed, "rope/drift/pairs");
    for (q, k) in qk {
        let [_, h, s, _] = q.dims();
        let qv = readback(q, "queries")?;
        let kv = readback(k, "keys")?;
        for head in 0..h {
            for _ in 0..pairs {
                let (i, j) = (rng::index(&mut picks, s), rng::index(&mut picks, s));
                let base_q = (head * s + i) * d;
                let base_k = (head * s + j) * d;
                count += 1;
                for (slot, &g) in inv_freq.iter().enumerate() {
                    let (a, b) = layout.chunk_coords(slot, r);
                    let qc = [f64::from(qv[base_q + a]), f64::from(qv[base_q + b])];
                    let kc = [f64::from(kv[base_k + a]), f64::from(kv[base_k + b])];
                    let (qn, kn) = (qc[0].hypot(qc[1]), kc[0].hypot(kc[1]));
                    for (ri, &dist) in distances.iter().enumerate() {
                        let rf = dist as f64;
                        let m = drift(qc, kc, rf, g);
                        let (tight, linear) = drift_bound(rf, g, qn, kn);
                        checked += 1;
                        if m > tight + 1e-9 * (1.0 + qn * kn) {
                            violations += 1;
                        }
                        sum_m[slot][ri] += m;
                        sum_b[slot][ri] += tight;
                        sum_l[slot][ri] += linear;
                    }
                }
            }
        }
    }
    let n = count.max(1) as f64;
    let mean = |v: Vec<Vec<f64>>| -> Vec<Vec<f64>> {
        v.into_iter()
            .map(|row| row.into_iter().map(|x| x / n).collect())
            .collect()
    };
    Ok(DriftAnalysis {
        label: label.to_string(),
        distances: distances.to_vec(),
        inv_freq,
        measured: mean(sum_m),
        bound: mean(sum_b),
        linear: mean(sum_l),
        checked,
        violations,
    })
}

// ---------------------------------------------------------------------------------------------
// Experiment 3: constructions
// ---------------------------------------------------------------------------------------------

/// How well one head attends to the position its task names, over identical tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstructionRun {
    /// `"diagonal"` or `"previous-token"`.
    pub task: String,
    /// `"RoPE (trained)"`, `"NoPE (trained)"` or `"RoPE (hand-built, c = …)"`.
    pub head: String,
    /// Fraction of query rows 1..seq whose target weight beats every other weight of the row
    /// by at least the configured margin.
    pub accuracy: f64,
    /// Mean attention weight on the target over those rows.
    pub mean_target_weight: f64,
    /// Largest spread $\max_j a_{ij} - \min_j a_{ij}$ of the causal logits of any row (0 means
    /// the head cannot prefer any position: claim 2).
    pub max_row_range: f64,
    /// Final training loss (mean −log weight on the target); `None` for a hand-built head.
    pub final_loss: Option<f64>,
}

fn kind_name(kind: HeadKind) -> &'static str {
    match kind {
        HeadKind::Diagonal => "diagonal",
        HeadKind::PreviousToken => "previous-token",
    }
}

/// Row-wise accuracy, mean target weight and largest causal logit spread of `[s, s]` weights
/// and logits for `kind`.
fn score_head(
    weights: &[f32],
    logits: Tensor<2>,
    s: usize,
    kind: HeadKind,
    margin: f64,
) -> Result<(f64, f64, f64)> {
    let (mut solved, mut total_w) = (0usize, 0.0);
    for i in 1..s {
        let target = i - kind.peak();
        let row = &weights[i * s..i * s + s];
        let t = f64::from(row[target]);
        let other = (0..=i)
            .filter(|&j| j != target)
            .map(|j| f64::from(row[j]))
            .fold(f64::NEG_INFINITY, f64::max);
        if t - other >= margin {
            solved += 1;
        }
        total_w += t;
    }
    let ranges = causal_row_ranges(logits)?;
    let n = (s - 1) as f64;
    Ok((
        solved as f64 / n,
        total_w / n,
        ranges.into_iter().fold(0.0, f64::max),
    ))
}

/// A one-layer, one-head decoder over one repeated token, trained so that its attention puts
/// its weight where `kind` says (loss: mean over rows 1..seq of −log α_{i, target}); with RoPE
/// (θ = 10 000) or without (NoPE).
///
/// # Errors
/// Training and read-back errors.
pub fn train_construction(
    c: &ConstructionExperiment,
    kind: HeadKind,
    with_rope: bool,
    seed: u64,
    device: &Device,
    progress: bool,
) -> Result<ConstructionRun> {
    let positional = if with_rope {
        PositionalEncoding::Rope(RopeConfig::new(c.d_model))
    } else {
        PositionalEncoding::None
    };
    rng::seed_device(device, seed, "rope/constructions/init");
    let model = DecoderLmConfig::new(1, c.d_model, 1, 1)
        .with_positional(positional)
        .with_embedding_std(1.0)
        .init(device)?;
    let s = c.seq_len;
    let targets: Vec<i64> = (1..s).map(|i| (i - kind.peak()) as i64).collect();
    let loss_of = |m: &DecoderLm, device: &Device| -> Result<Tensor<1>> {
        let tokens = Tensor::<2, Int>::zeros([1, s], device);
        let out = m.forward_with_weights(tokens, None)?;
        let scores = out.scores[0].clone().narrow(2, 1, s - 1);
        let logp = log_softmax(scores, 3);
        let idx =
            Tensor::<4, Int>::from_data(TensorData::new(targets.clone(), [1, 1, s - 1, 1]), device);
        Ok(logp.gather(3, idx).mean().neg().reshape([1]))
    };
    let tc = TrainConfig::new(c.steps, rng::derive_seed(seed, "rope/constructions"))
        .with_schedule(LrSchedule::Constant { lr: c.lr })
        .with_progress(progress);
    let outcome = Trainer::new(tc, device)?.fit(
        model,
        AdamWConfig::new().with_weight_decay(0.0).init(),
        |m: &DecoderLm, ctx| loss_of(m, ctx.device),
    )?;
    let model = outcome.model.valid();
    let plain = device.clone().without_autodiff();
    let out = model.forward_with_weights(Tensor::<2, Int>::zeros([1, s], &plain), None)?;
    let weights = readback(out.weights[0].clone(), "construction weights")?;
    let logits = out.scores[0].clone().reshape([s, s]);
    let (accuracy, mean_target_weight, max_row_range) =
        score_head(&weights, logits, s, kind, c.margin)?;
    Ok(ConstructionRun {
        task: kind_name(kind).into(),
        head: if with_rope {
            "RoPE (trained)"
        } else {
            "NoPE (trained)"
        }
        .into(),
        accuracy,
        mean_target_weight,
        max_row_range,
        final_loss: outcome.history.final_loss(),
    })
}

/// The paper's hand-built head (claim 3, `theory::constructions`): the top chunk of query and
/// key set to $\sqrt c\\,e_1$ and $\sqrt c\\,\rho(\varphi)e_1$, everything else 0, RoPE at
/// θ = 10 000, logits $a_{ij}$ unscaled. $c$ is chosen so the peak's logit beats every other
/// distance in the window by $\ln(9 s)$, i.e. weight ≥ 0.9 on the target.
///
/// # Errors
/// RoPE and read-back errors.
pub fn hand_built_construction(
    c: &ConstructionExperiment,
    kind: HeadKind,
    device: &Device,
) -> Result<ConstructionRun> {
    let s = c.seq_len;
    let gap = PositionalHead::new(kind, 1.0)?.margin_within(s - 1);
    let scale = (9.0 * s as f64).ln() / gap;
    let head = PositionalHead::new(kind, scale)?;
    let rope = RopeConfig::new(c.d_model).init()?;
    let zeros = Tensor::<2>::zeros([s, c.d_model], device);
    let (q, k) = head.embed(zeros.clone(), zeros, rope.layout())?;
    let (q, k) = rope.apply_qk(
        q.reshape([1, 1, s, c.d_model]),
        k.reshape([1, 1, s, c.d_model]),
        TensorLayout::Bhsd,
        Positions::Offset(0),
    )?;
    let logits = mask_logits(q.matmul(k.swap_dims(2, 3)), true, None)?;
    let weights = readback(softmax(logits.clone(), 3), "hand-built weights")?;
    let (accuracy, mean_target_weight, max_row_range) =
        score_head(&weights, logits.reshape([s, s]), s, kind, c.margin)?;
    Ok(ConstructionRun {
        task: kind_name(kind).into(),
        head: format!("RoPE (hand-built, c = {scale:.1})"),
        accuracy,
        mean_target_weight,
        max_row_range,
        final_loss: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Everything
// ---------------------------------------------------------------------------------------------

/// What the corpus was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusInfo {
    /// Path or `"kjv"`.
    pub source: String,
    /// Bytes in all.
    pub total_bytes: usize,
    /// Training bytes.
    pub train_bytes: usize,
    /// Validation bytes.
    pub valid_bytes: usize,
    /// The split.
    pub split: CorpusSplit,
}

/// Everything the reproduction measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RopeRun {
    /// The configuration.
    pub config: RopeReproConfig,
    /// The corpus.
    pub corpus: CorpusInfo,
    /// Every (variant, seed) language model.
    pub runs: Vec<LmRun>,
    /// Frequency usage of the first seed's RoPE and p-RoPE models.
    pub usage: Vec<UsageAnalysis>,
    /// The most positional head of the first seed's RoPE model.
    pub positional_head: PositionalHeadPick,
    /// Drift on the first seed's RoPE and p-RoPE models.
    pub drift: Vec<DriftAnalysis>,
    /// The constructions: trained RoPE and NoPE heads and the hand-built ones, per task.
    pub constructions: Vec<ConstructionRun>,
    /// The backend the run used.
    pub backend: String,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
}

/// Runs all four experiments on `device` (an autodiff device).
///
/// # Errors
/// [`RopeReproConfig::validate`], corpus errors, training and evaluation errors.
pub fn run(config: &RopeReproConfig, device: &Device, progress: bool) -> Result<RopeRun> {
    let start = std::time::Instant::now();
    config.validate()?;
    let corpus = load_corpus(config)?;
    let plain = device.clone().without_autodiff();
    let mut runs = Vec::new();
    let mut first_models: Vec<(Variant, DecoderLm)> = Vec::new();
    for (si, &seed) in config.seeds.iter().enumerate() {
        for &variant in &config.lm.variants {
            let env = RunEnv {
                seed,
                device,
                progress,
            };
            let (model, run) = train_variant(config, &corpus, variant, &env)?;
            if progress {
                eprintln!(
                    "rope: {} seed {seed}: {}",
                    run.label,
                    run.evals
                        .iter()
                        .map(|e| format!("{} B {:.3} bpb", e.length, e.bpb))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if si == 0 && variant != Variant::NoPe {
                first_models.push((variant, model));
            }
            runs.push(run);
        }
    }
    let a = &config.analysis;
    let len = config.lm.context;
    let mut usage = Vec::new();
    let mut drift = Vec::new();
    for (variant, model) in &first_models {
        let label = variant.label();
        usage.push(frequency_usage(
            model,
            &label,
            &corpus,
            len,
            a.usage_windows,
            &plain,
        )?);
        drift.push(drift_analysis(
            model,
            &label,
            &corpus,
            len,
            &a.drift_distances,
            a.drift_pairs,
            config.seeds[0],
            &plain,
        )?);
    }
    let rope_model = &first_models
        .iter()
        .find(|(v, _)| *v == Variant::Rope)
        .ok_or_else(|| LabError::config("lm.variants", "no RoPE", "must include RoPE"))?
        .1;
    let positional_head = most_positional_head(rope_model, &corpus, len, &plain)?;
    let c = &config.constructions;
    let mut constructions = Vec::new();
    for kind in [HeadKind::Diagonal, HeadKind::PreviousToken] {
        for with_rope in [true, false] {
            constructions.push(train_construction(
                c,
                kind,
                with_rope,
                config.seeds[0],
                device,
                progress,
            )?);
        }
        constructions.push(hand_built_construction(c, kind, &plain)?);
    }
    Ok(RopeRun {
        config: config.clone(),
        corpus: CorpusInfo {
            source: corpus.source.clone(),
            total_bytes: corpus.total_bytes,
            train_bytes: corpus.train.len(),
            valid_bytes: corpus.valid.len(),
            split: corpus.split,
        },
        runs,
        usage,
        positional_head,
        drift,
        constructions,
        backend: format!("{device:?}"),
        seconds: start.elapsed().as_secs_f64(),
    })
}
