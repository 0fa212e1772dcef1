//! The three experiments: training, the α/β copy sweep with the counterexample finder, parity
//! checkpoints, and iso-perplexity on two of them.

use std::time::Instant;

use burn::module::Module;
use burn::optim::AdamWConfig;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use rigor_nn::{DecoderLm, cross_entropy};
use rigor_perplexity::{
    CausalLm, CopyScore, CounterexampleConfig, CounterexampleReport, EvalConfig, LabelShift,
    PerplexityError, critical_accuracy, pplx,
};
use serde::{Deserialize, Serialize};

use super::config::{LmTraining, PerplexityReproConfig};
use crate::error::{LabError, Result};
use crate::report::{Correlation, micro_f1, pearson_bootstrap};
use crate::rng::{self, LabRng};
use crate::tasks::copy::CopyTask;
use crate::tasks::parity::{ParityTask, PrefixParityBatch};
use crate::train::{LrSchedule, Metrics, TrainConfig, TrainHistory, Trainer};

/// A batch of a next-token task: inputs, targets and the scored positions, `[batch, T]`.
struct LmBatch {
    inputs: Tensor<2, Int>,
    targets: Tensor<2, Int>,
    mask: Tensor<2, Bool>,
}

/// Masked next-token cross-entropy (nats per scored token).
fn lm_loss(model: &DecoderLm, batch: LmBatch) -> Result<Tensor<1>> {
    let logits = model.forward(batch.inputs, None)?;
    let [b, t, v] = logits.dims();
    let weight = batch.mask.float().reshape([b * t]);
    Ok(cross_entropy(
        logits.reshape([b * t, v]),
        batch.targets.reshape([b * t]),
        Some(weight),
    ))
}

/// Which task a model is trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Task {
    Copy,
    Parity,
}

fn sample(
    task: Task,
    len: usize,
    batch: usize,
    rng: &mut LabRng,
    device: &Device,
) -> Result<LmBatch> {
    Ok(match task {
        Task::Copy => {
            let b = CopyTask::new(len)?.sample(batch, rng, device)?;
            LmBatch {
                inputs: b.inputs,
                targets: b.targets,
                mask: b.loss_mask,
            }
        }
        Task::Parity => {
            let b = ParityTask::new(len)?.sample_prefix(batch, rng, device)?;
            LmBatch {
                inputs: b.inputs,
                targets: b.targets,
                mask: b.loss_mask,
            }
        }
    })
}

/// Trains a fresh model (device seeded from `(seed, label)`) on `task` with string lengths
/// drawn per step from `train.min_len..=max_len`, calling `eval` every `eval_every` steps.
/// Where and under which seed a model is trained.
struct RunEnv<'a> {
    seed: u64,
    device: &'a Device,
    progress: bool,
}

fn train_lm<E>(
    config: &PerplexityReproConfig,
    train: &LmTraining,
    task: Task,
    eval_every: usize,
    env: RunEnv<'_>,
    eval: E,
) -> Result<(DecoderLm, TrainHistory)>
where
    E: FnMut(&DecoderLm, usize) -> Result<Metrics>,
{
    let label = match task {
        Task::Copy => "perplexity/copy",
        Task::Parity => "perplexity/parity",
    };
    let RunEnv {
        seed,
        device,
        progress,
    } = env;
    rng::seed_device(device, seed, &format!("{label}/init"));
    let model = config.model.init(device)?;
    let schedule = LrSchedule::WarmupCosine {
        lr: train.lr,
        warmup: train.warmup.min(train.steps / 2),
        min_lr: train.lr / 10.0,
    };
    let tc = TrainConfig::new(train.steps, rng::derive_seed(seed, label))
        .with_schedule(schedule)
        .with_eval_every(eval_every)
        .with_progress(progress);
    let (lo, hi, batch) = (train.min_len, train.max_len, train.batch);
    let outcome = Trainer::new(tc, device)?.fit_with_eval(
        model,
        AdamWConfig::new().with_weight_decay(0.0).init(),
        |m: &DecoderLm, ctx| {
            let len = lo + rng::index(ctx.rng, hi - lo + 1);
            lm_loss(m, sample(task, len, batch, ctx.rng, ctx.device)?)
        },
        eval,
    )?;
    Ok((outcome.model, outcome.history))
}

// ---------------------------------------------------------------------------------------------
// Experiment 1: the copy task
// ---------------------------------------------------------------------------------------------

/// α_N = 0…0 and β_N = 0…01 (α_N with its last bit flipped): the pair of S3's copy
/// experiment. They differ in exactly one bit, the last.
///
/// # Errors
/// [`LabError::InvalidConfig`] for `n == 0`.
pub fn alpha_beta(n: usize) -> Result<(Vec<bool>, Vec<bool>)> {
    if n == 0 {
        return Err(LabError::config("alpha_beta n", n, "must be ≥ 1"));
    }
    let alpha = vec![false; n];
    let mut beta = alpha.clone();
    beta[n - 1] = true;
    Ok((alpha, beta))
}

/// How the trained copy model treats α_N and β_N at one length N.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyPoint {
    /// String length N.
    pub n: usize,
    /// pplx(α_N): mean NLL per copied bit (nats), from rigor-perplexity's finder.
    pub pplx_alpha: f64,
    /// pplx(β_N).
    pub pplx_beta: f64,
    /// Whether greedy decoding copies α_N correctly.
    pub alpha_correct: bool,
    /// Whether greedy decoding copies β_N correctly.
    pub beta_correct: bool,
    /// First wrong step of β_N's greedy copy, if any.
    pub beta_first_error: Option<usize>,
    /// $\max_v |z^\alpha_v - z^\beta_v|$ at the last copy step (the one that must output the
    /// flipped bit): the L∞ gap between the logits the model computes on the two inputs.
    pub linf_gap_last: f64,
    /// The same gap, maximised over every copy step.
    pub linf_gap_max: f64,
    /// Probability the model gives to β_N's last bit (1) at the last step.
    pub p_beta_last: f64,
    /// Confidence $1-\gamma_N$: the smallest probability the model gives to the right bit over
    /// α_N's copy steps (Prop. 3.2's premise "every prefix copied with confidence 1 − γ").
    pub alpha_min_confidence: f64,
    /// Prop. 3.2's bound term $-\log(1-\gamma_N)$.
    pub bound: f64,
    /// $\varepsilon_N = \operatorname{pplx}(\beta_N) + \log(1-\gamma_N)$: how far β_N's
    /// perplexity sits above the bound term (Prop. 3.2: below any ε > 0 for large N).
    pub epsilon: f64,
}

/// The copy experiment of one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyRun {
    /// The seed.
    pub seed: u64,
    /// Training loss per step.
    pub loss: Vec<f64>,
    /// Training seconds.
    pub train_seconds: f64,
    /// Copy accuracy (every bit right) on 256 random strings at the longest training length.
    pub train_length_exact: f64,
    /// One point per configured length.
    pub points: Vec<CopyPoint>,
    /// The counterexample searches around α_N (single-bit flips), one per search length.
    pub searches: Vec<SearchOutcome>,
}

/// One counterexample search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchOutcome {
    /// Length N of α_N.
    pub n: usize,
    /// The report, or why the search could not run (e.g. the model does not copy α_N: the
    /// lemma's premise fails).
    pub result: std::result::Result<CounterexampleReport, String>,
}

/// Log-softmax of one row in `f64`.
fn log_softmax_row(z: &[f32]) -> Vec<f64> {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let lse = m + z.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
    z.iter().map(|&v| v as f64 - lse).collect()
}

/// Scores α_N and β_N at every length of `lengths` with `model` (no autodiff needed).
///
/// # Errors
/// [`LabError::InvalidConfig`] for a zero length; model, scoring and read-back errors.
pub fn copy_sweep(model: &DecoderLm, lengths: &[usize], device: &Device) -> Result<Vec<CopyPoint>> {
    let finder = CounterexampleConfig::new(1.0).with_batch_size(2).init()?;
    let task = finder.config().task;
    let mut out = Vec::with_capacity(lengths.len());
    for &n in lengths {
        let (alpha, beta) = alpha_beta(n)?;
        let scores: Vec<CopyScore> = finder.score(model, &[alpha.clone(), beta.clone()], device)?;
        let prompts: Vec<i64> = [&alpha, &beta]
            .iter()
            .flat_map(|s| task.prompt(s))
            .collect();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(prompts, [2, 2 * n]), device);
        let logits = model.logits(ids)?;
        let v = logits.dims()[2];
        let host: Vec<f32> = logits
            .narrow(1, n, n)
            .try_into_vec_as::<f32>()
            .map_err(|e| LabError::Readback {
                what: "copy logits",
                source: e.into(),
            })?;
        let (za, zb) = host.split_at(n * v);
        let mut linf_gap_max = 0.0f64;
        let mut linf_gap_last = 0.0f64;
        let mut alpha_min_confidence = 1.0f64;
        for k in 0..n {
            let (ra, rb) = (&za[k * v..(k + 1) * v], &zb[k * v..(k + 1) * v]);
            let gap = ra
                .iter()
                .zip(rb)
                .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
                .fold(0.0, f64::max);
            linf_gap_max = linf_gap_max.max(gap);
            if k == n - 1 {
                linf_gap_last = gap;
            }
            let conf = log_softmax_row(ra)[task.zero as usize].exp();
            alpha_min_confidence = alpha_min_confidence.min(conf);
        }
        let p_beta_last = log_softmax_row(&zb[(n - 1) * v..])[task.one as usize].exp();
        let bound = -alpha_min_confidence.ln();
        out.push(CopyPoint {
            n,
            pplx_alpha: scores[0].log_perplexity,
            pplx_beta: scores[1].log_perplexity,
            alpha_correct: scores[0].greedy_correct(),
            beta_correct: scores[1].greedy_correct(),
            beta_first_error: scores[1].first_error,
            linf_gap_last,
            linf_gap_max,
            p_beta_last,
            alpha_min_confidence,
            bound,
            epsilon: scores[1].log_perplexity - bound,
        });
    }
    Ok(out)
}

/// Fraction of `count` random strings of length `len` that `model` copies exactly (greedy).
fn copy_exact(
    model: &DecoderLm,
    len: usize,
    count: usize,
    seed: u64,
    device: &Device,
) -> Result<f64> {
    let finder = CounterexampleConfig::new(1.0).with_batch_size(64).init()?;
    let mut r = rng::rng(seed, "perplexity/copy/exact");
    let strings: Vec<Vec<bool>> = (0..count)
        .map(|_| (0..len).map(|_| rng::index(&mut r, 2) == 1).collect())
        .collect();
    let scores = finder.score(model, &strings, device)?;
    Ok(scores.iter().filter(|s| s.greedy_correct()).count() as f64 / count as f64)
}

fn train_copy(
    config: &PerplexityReproConfig,
    seed: u64,
    device: &Device,
    progress: bool,
) -> Result<CopyRun> {
    let c = &config.copy;
    let (model, history) = train_lm(
        config,
        &c.train,
        Task::Copy,
        0,
        RunEnv {
            seed,
            device,
            progress,
        },
        |_, _| Ok(Metrics::new()),
    )?;
    let model = model.valid();
    let plain = device.clone().without_autodiff();
    let points = copy_sweep(&model, &c.lengths, &plain)?;
    let finder = CounterexampleConfig::new(c.xi)
        .with_batch_size(c.search_batch)
        .init()?;
    let mut searches = Vec::with_capacity(c.search_lengths.len());
    for &n in &c.search_lengths {
        let (alpha, _) = alpha_beta(n)?;
        let result = match finder.search(&model, &alpha, &plain) {
            Ok(r) => Ok(r),
            Err(
                e @ (PerplexityError::Premise { .. } | PerplexityError::TooManyCandidates { .. }),
            ) => Err(e.to_string()),
            Err(e) => return Err(e.into()),
        };
        searches.push(SearchOutcome { n, result });
    }
    Ok(CopyRun {
        seed,
        train_length_exact: copy_exact(&model, c.train.max_len, 256, seed, &plain)?,
        loss: history.loss,
        train_seconds: history.seconds,
        points,
        searches,
    })
}

// ---------------------------------------------------------------------------------------------
// Experiment 2: parity checkpoints
// ---------------------------------------------------------------------------------------------

/// What one checkpoint scores on one test split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitEval {
    /// Micro-F1 of the predicted parity tokens over the labels {0, 1}
    /// ([`micro_f1`]): a predicted separator is a miss.
    pub micro_f1: f64,
    /// Pooled log-perplexity (mean NLL per scored token, nats) from rigor-perplexity's
    /// accumulator.
    pub log_perplexity: f64,
    /// Token accuracy (argmax = target).
    pub accuracy: f64,
    /// Mean confidence (probability of the argmax token).
    pub confidence: f64,
    /// Scored tokens.
    pub tokens: u64,
}

/// One evaluated checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CheckpointEval {
    /// The run's seed.
    pub seed: u64,
    /// Training steps completed.
    pub step: usize,
    /// In distribution (lengths ≤ the training length).
    pub id: SplitEval,
    /// Out of distribution (the long length).
    pub ood: SplitEval,
}

/// A fixed test set of prefix-parity sequences, on the host and the device.
struct TestSet {
    batches: Vec<PrefixParityBatch>,
}

fn test_set(
    lengths: &[usize],
    per_length: usize,
    batch: usize,
    seed: u64,
    label: &str,
    device: &Device,
) -> Result<TestSet> {
    let mut batches = Vec::new();
    for &len in lengths {
        let mut r = rng::rng(seed, &format!("perplexity/parity/{label}/len={len}"));
        let task = ParityTask::new(len)?;
        let mut left = per_length;
        while left > 0 {
            let b = batch.min(left);
            batches.push(task.sample_prefix(b, &mut r, device)?);
            left -= b;
        }
    }
    Ok(TestSet { batches })
}

/// Scores `model` on `set`: the accumulator pools NLL, accuracy and confidence over the
/// scored tokens; argmax predictions give micro-F1.
fn evaluate_split(model: &DecoderLm, set: &TestSet) -> Result<SplitEval> {
    let mut acc = EvalConfig::new()
        .with_label_shift(LabelShift::None)
        .with_ignore_index(None)
        .init()?;
    let (mut predicted, mut target) = (Vec::new(), Vec::new());
    for batch in &set.batches {
        let logits = model.logits(batch.inputs.clone())?;
        let pred: Vec<i64> = logits
            .clone()
            .argmax(2)
            .try_into_vec_as::<i64>()
            .map_err(|e| LabError::Readback {
                what: "parity predictions",
                source: e.into(),
            })?;
        acc.update(logits, batch.targets.clone(), Some(batch.loss_mask.clone()))?;
        for ((p, t), m) in pred.iter().zip(&batch.host_targets).zip(&batch.host_mask) {
            if *m {
                predicted.push(*p);
                target.push(*t);
            }
        }
    }
    let report = acc.report()?;
    Ok(SplitEval {
        micro_f1: micro_f1(&predicted, &target, &[0, 1])?,
        log_perplexity: report.log_perplexity,
        accuracy: report.calibration.accuracy,
        confidence: report.calibration.mean_confidence,
        tokens: report.tokens,
    })
}

/// The parity run of one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParityRun {
    /// The seed.
    pub seed: u64,
    /// Training loss per step.
    pub loss: Vec<f64>,
    /// Training seconds.
    pub train_seconds: f64,
    /// Every checkpoint, in step order.
    pub checkpoints: Vec<CheckpointEval>,
}

fn train_parity(
    config: &PerplexityReproConfig,
    seed: u64,
    device: &Device,
    progress: bool,
) -> Result<ParityRun> {
    let p = &config.parity;
    let plain = device.clone().without_autodiff();
    let id = test_set(
        &p.id_lengths,
        p.test_per_length,
        p.eval_batch,
        seed,
        "id",
        &plain,
    )?;
    let ood = test_set(
        &[p.ood_length],
        p.test_per_length,
        p.eval_batch,
        seed,
        "ood",
        &plain,
    )?;
    let mut checkpoints = Vec::new();
    let (_, history) = train_lm(
        config,
        &p.train,
        Task::Parity,
        p.checkpoint_every,
        RunEnv {
            seed,
            device,
            progress,
        },
        |m: &DecoderLm, step| {
            let e = CheckpointEval {
                seed,
                step,
                id: evaluate_split(m, &id)?,
                ood: evaluate_split(m, &ood)?,
            };
            checkpoints.push(e);
            Ok(Metrics::from([
                ("id_f1".to_string(), e.id.micro_f1),
                ("ood_f1".to_string(), e.ood.micro_f1),
            ]))
        },
    )?;
    Ok(ParityRun {
        seed,
        loss: history.loss,
        train_seconds: history.seconds,
        checkpoints,
    })
}

/// Pearson's r between micro-F1 and log-perplexity over checkpoints, or why it is undefined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitCorrelation {
    /// r with its bootstrap CI, or the reason it is undefined (e.g. F1 constant over
    /// checkpoints).
    pub result: std::result::Result<Correlation, String>,
}

/// Pearson r over `points` = `(micro-F1, log-perplexity)` per checkpoint, with a 95 %
/// percentile bootstrap CI from `resamples` resamples drawn from `(seed, label)`. An
/// undefined r (fewer than two checkpoints, a constant metric, a non-finite value) is
/// recorded as `Err(reason)` in the result, never as `NaN`.
pub fn f1_perplexity_correlation(
    points: &[(f64, f64)],
    resamples: usize,
    seed: u64,
    label: &str,
) -> SplitCorrelation {
    let (f1, lp): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
    let mut r = rng::rng(seed, &format!("perplexity/bootstrap/{label}"));
    SplitCorrelation {
        result: pearson_bootstrap(&f1, &lp, resamples, 0.95, &mut r).map_err(|e| e.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Experiment 3: iso-perplexity on two checkpoints
// ---------------------------------------------------------------------------------------------

/// A checkpoint placed on the iso-perplexity plane (S3, Sec. 4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IsoPoint {
    /// Seed and step of the checkpoint.
    pub seed: u64,
    /// Step.
    pub step: usize,
    /// Measured token accuracy a.
    pub accuracy: f64,
    /// Measured mean confidence 1 − γ.
    pub confidence: f64,
    /// Measured log-perplexity.
    pub log_perplexity: f64,
    /// The homogeneous-confidence model's $\operatorname{pplx}(a, \gamma)$ for (a, γ).
    pub model_log_perplexity: f64,
}

/// The comparison of experiment 3 on one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsoComparison {
    /// Which split ("in distribution" / "out of distribution").
    pub split: String,
    /// The checkpoint with the highest accuracy.
    pub most_accurate: IsoPoint,
    /// The checkpoint with the lowest measured perplexity (the one perplexity selects).
    pub lowest_perplexity: IsoPoint,
    /// `true` when the checkpoint perplexity selects is strictly less accurate than the most
    /// accurate one.
    pub perplexity_picks_less_accurate: bool,
    /// The critical accuracy $a^\prime(a, \gamma, \Delta\gamma)$ of the more confident checkpoint
    /// against the other, when defined (γ of the less confident one in (0, ½), and the
    /// perplexity pick more confident); `Err` says why not.
    pub critical_accuracy: std::result::Result<f64, String>,
    /// Whether the iso model's prediction — the more confident checkpoint wins on perplexity
    /// iff its accuracy exceeds a′ — agrees with which checkpoint the measured perplexity
    /// prefers (`None` when a′ is undefined).
    pub iso_model_agrees: Option<bool>,
}

fn iso_point(e: &CheckpointEval, s: &SplitEval) -> Result<IsoPoint> {
    Ok(IsoPoint {
        seed: e.seed,
        step: e.step,
        accuracy: s.accuracy,
        confidence: s.confidence,
        log_perplexity: s.log_perplexity,
        model_log_perplexity: pplx(
            s.accuracy.clamp(0.0, 1.0),
            (1.0 - s.confidence).clamp(0.0, 1.0),
        )?,
    })
}

/// Experiment 3 on one split: picks the most accurate checkpoint and the lowest-perplexity
/// one, places both on the iso-perplexity plane and compares with $a^\prime$.
///
/// # Errors
/// [`LabError::Stats`] for no checkpoints; iso-formula errors.
pub fn iso_comparison(
    checkpoints: &[CheckpointEval],
    split: &str,
    pick: fn(&CheckpointEval) -> &SplitEval,
) -> Result<IsoComparison> {
    let best = checkpoints
        .iter()
        .max_by(|a, b| pick(a).accuracy.total_cmp(&pick(b).accuracy))
        .ok_or(LabError::Stats("iso-perplexity: no checkpoints"))?;
    let low = checkpoints
        .iter()
        .min_by(|a, b| pick(a).log_perplexity.total_cmp(&pick(b).log_perplexity))
        .ok_or(LabError::Stats("iso-perplexity: no checkpoints"))?;
    let (a, b) = (iso_point(best, pick(best))?, iso_point(low, pick(low))?);
    // reference = the less confident of the two; a' is the accuracy the more confident one
    // needs to tie with it on the iso model's perplexity
    let (reference, confident) = if a.confidence <= b.confidence {
        (a, b)
    } else {
        (b, a)
    };
    let gamma = 1.0 - reference.confidence;
    let delta = confident.confidence - reference.confidence;
    let critical = if delta <= 0.0 {
        Err("the two checkpoints are equally confident: a′ = a".to_string())
    } else {
        critical_accuracy(reference.accuracy.clamp(0.0, 1.0), gamma, delta)
            .map_err(|e| e.to_string())
    };
    let iso_model_agrees = critical.as_ref().ok().map(|&ac| {
        let model_prefers_confident = confident.accuracy > ac;
        let measured_prefers_confident = confident.log_perplexity < reference.log_perplexity;
        model_prefers_confident == measured_prefers_confident
    });
    Ok(IsoComparison {
        split: split.into(),
        perplexity_picks_less_accurate: b.accuracy < a.accuracy,
        most_accurate: a,
        lowest_perplexity: b,
        critical_accuracy: critical,
        iso_model_agrees,
    })
}

// ---------------------------------------------------------------------------------------------
// The whole reproduction
// ---------------------------------------------------------------------------------------------

/// Everything the reproduction measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerplexityRun {
    /// The configuration.
    pub config: PerplexityReproConfig,
    /// Experiment 1, one per seed.
    pub copy: Vec<CopyRun>,
    /// Experiment 2, one per seed.
    pub parity: Vec<ParityRun>,
    /// r(micro-F1, log-perplexity) in distribution, checkpoints of every seed pooled.
    pub corr_id: SplitCorrelation,
    /// The same out of distribution.
    pub corr_ood: SplitCorrelation,
    /// Experiment 3, in distribution then out of distribution.
    pub iso: Vec<IsoComparison>,
    /// The device, as Burn prints it.
    pub backend: String,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Runs the three experiments on `device` (an autodiff device).
///
/// # Errors
/// [`PerplexityReproConfig::validate`]; training, model, scoring and statistics errors.
pub fn run(
    config: &PerplexityReproConfig,
    device: &Device,
    progress: bool,
) -> Result<PerplexityRun> {
    config.validate()?;
    let start = Instant::now();
    let mut copy = Vec::with_capacity(config.seeds.len());
    let mut parity = Vec::with_capacity(config.seeds.len());
    for &seed in &config.seeds {
        copy.push(train_copy(config, seed, device, progress)?);
        parity.push(train_parity(config, seed, device, progress)?);
    }
    let all: Vec<CheckpointEval> = parity.iter().flat_map(|p| p.checkpoints.clone()).collect();
    let pts = |f: fn(&CheckpointEval) -> &SplitEval| -> Vec<(f64, f64)> {
        all.iter()
            .map(|e| (f(e).micro_f1, f(e).log_perplexity))
            .collect()
    };
    let seed0 = config.seeds[0];
    let corr_id = f1_perplexity_correlation(&pts(|e| &e.id), config.parity.bootstrap, seed0, "id");
    let corr_ood =
        f1_perplexity_correlation(&pts(|e| &e.ood), config.parity.bootstrap, seed0, "ood");
    let iso = vec![
        iso_comparison(&all, "in distribution", |e| &e.id)?,
        iso_comparison(&all, "out of distribution", |e| &e.ood)?,
    ];
    Ok(PerplexityRun {
        config: config.clone(),
        copy,
        parity,
        corr_id,
        corr_ood,
        iso,
        backend: format!("{device:?}"),
        seconds: start.elapsed().as_secs_f64(),
    })
}
