//! Training one model per seed and scoring every evaluation normalizer on shared test sets.

use burn::module::Module;
use burn::optim::AdamWConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rigor_nn::cross_entropy;
use serde::{Deserialize, Serialize};

use super::{MaxRetrievalConfig, MaxRetrievalModel};
use crate::error::{LabError, Result};
use crate::report::stats::{MeanStd, PairedTest, mcnemar_exact, mean_std, paired_t_test};
use crate::rng;
use crate::train::{LrSchedule, Metrics, TrainConfig, TrainHistory, Trainer};

/// Scores of one normalizer at one n for one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointEval {
    /// Set size.
    pub n: usize,
    /// Index into [`MaxRetrievalConfig::variants`].
    pub variant: usize,
    /// Test sets scored.
    pub sets: usize,
    /// Fraction of sets whose class was predicted correctly.
    pub accuracy: f64,
    /// Mean over sets of the largest attention weight.
    pub max_weight: f64,
    /// Mean over sets of the attention entropy $-\sum_i \alpha_i \ln \alpha_i$ (nats).
    pub entropy: f64,
    /// Mean over sets of the weight on the max-priority item.
    pub argmax_weight: f64,
    /// Per-set correctness (same sets for every variant: the paired tests use it).
    #[serde(skip)]
    pub correct: Vec<bool>,
}

/// One seed: its training summary and evaluations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// Loss curve and in-training evaluations.
    pub history: TrainHistory,
    /// Every (n, variant) score.
    pub evals: Vec<PointEval>,
}

/// One row of the summary: a variant at an n, over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Set size.
    pub n: usize,
    /// Variant label.
    pub variant: String,
    /// Accuracy over seeds (fraction).
    pub accuracy: MeanStd,
    /// Max attention weight over seeds.
    pub max_weight: MeanStd,
    /// Attention entropy over seeds (nats).
    pub entropy: MeanStd,
    /// Weight on the max-priority item over seeds.
    pub argmax_weight: MeanStd,
    /// Paired t-test over seeds of this variant's accuracy against the baseline's (`None` for
    /// the baseline itself or a single seed).
    pub t_test: Option<PairedTest>,
    /// Sets (pooled over seeds) only the baseline got right.
    pub only_baseline: u64,
    /// Sets only this variant got right.
    pub only_variant: u64,
    /// Exact McNemar p-value on those discordant sets.
    pub mcnemar_p: f64,
}

/// The whole reproduction's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaxRetrievalRun {
    /// What was run.
    pub config: MaxRetrievalConfig,
    /// Per seed.
    pub seeds: Vec<SeedRun>,
    /// Per (n, variant), in `eval_ns × variants` order.
    pub summary: Vec<SummaryRow>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The device it ran on (`Debug`).
    pub backend: String,
}

impl MaxRetrievalRun {
    /// The summary row of `variant` (index) at `n`.
    pub fn row(&self, n: usize, variant: usize) -> Option<&SummaryRow> {
        let label = &self.config.variants.get(variant)?.label;
        self.summary
            .iter()
            .find(|r| r.n == n && &r.variant == label)
    }
}

/// Trains the softmax model for `seed` on `device` (autodiff), evaluating training-size
/// accuracy every `steps / 5` steps.
///
/// # Errors
/// Configuration and training errors.
pub fn train_seed(
    config: &MaxRetrievalConfig,
    seed: u64,
    device: &Device,
    progress: bool,
) -> Result<(MaxRetrievalModel, TrainHistory)> {
    config.validate()?;
    rng::seed_device(device, seed, "max_retrieval/init");
    let model = config.model.init(device)?;
    let optimizer = AdamWConfig::new()
        .with_epsilon(1e-8)
        .with_weight_decay(config.weight_decay)
        .init();
    let train = TrainConfig::new(config.steps, seed)
        .with_schedule(LrSchedule::WarmupCosine {
            lr: config.lr,
            warmup: config.warmup.min(config.steps / 2),
            min_lr: config.lr / 20.0,
        })
        .with_eval_every((config.steps / 5).max(1))
        .with_progress(progress);
    let task = config.task;
    let (batch, n) = (config.batch, config.train_n);
    let plain = device.clone().without_autodiff();
    let mut val_rng = rng::rng(seed, "max_retrieval/validation");
    let val = task.sample(512, n, &mut val_rng, &plain)?;
    let outcome = Trainer::new(train, device)?.fit_with_eval(
        model,
        optimizer,
        |m: &MaxRetrievalModel, ctx| {
            let b = task.sample(batch, n, ctx.rng, ctx.device)?;
            let out = m.forward(b.items, None, None)?;
            Ok(cross_entropy(out.logits, b.targets, None))
        },
        |m: &MaxRetrievalModel, _step| {
            let mut metrics = Metrics::new();
            if let Ok(out) = m.forward(val.items.clone(), None, None)
                && let Ok(pred) = host_ints(out.logits.argmax(1))
            {
                let hits = pred
                    .iter()
                    .zip(&val.target_classes)
                    .filter(|(p, t)| **p as usize == **t)
                    .count();
                metrics.insert(
                    format!("val_accuracy_n{n}"),
                    hits as f64 / val.target_classes.len() as f64,
                );
            }
            Ok(metrics)
        },
    )?;
    Ok((outcome.model, outcome.history))
}

/// Scores `model` (trained; any device state) with every variant at every n on test sets drawn
/// from `(seed, "max_retrieval/test/n=<n>")` — the same sets for every variant.
///
/// # Errors
/// Sampling, normalizer or read-back errors.
pub fn evaluate(
    model: &MaxRetrievalModel,
    config: &MaxRetrievalConfig,
    seed: u64,
    device: &Device,
) -> Result<Vec<PointEval>> {
    let plain = device.clone().without_autodiff();
    let model = model.valid();
    let k = config.variants.len();
    let mut out = Vec::with_capacity(config.eval_ns.len() * k);
    for &n in &config.eval_ns {
        let sets = config.test_sets(n);
        let chunk = (config.chunk_items / n).max(1);
        let mut data_rng = rng::rng(seed, &format!("max_retrieval/test/n={n}"));
        let mut acc: Vec<Accum> = (0..k).map(|_| Accum::default()).collect();
        let mut done = 0;
        while done < sets {
            let b = chunk.min(sets - done);
            let batch = config.task.sample(b, n, &mut data_rng, &plain)?;
            let encoding = model.encode(batch.items, None, None)?;
            let argmax_idx = Tensor::<2, Int>::from_data(
                TensorData::new(batch.argmax.iter().map(|&i| i as i64).collect(), [b, 1]),
                &plain,
            );
            for (variant, a) in config.variants.iter().zip(acc.iter_mut()) {
                let norm = variant.normalizer.build(n)?;
                let o = model.readout_custom(&encoding, norm.as_ref())?;
                let pred = host_ints(o.logits.argmax(1))?;
                let w = o.weights;
                let max_w = host_floats(w.clone().max_dim(1))?;
                let ent = host_floats(
                    (w.clone() * w.clone().add_scalar(1e-9).log())
                        .sum_dim(1)
                        .neg(),
                )?;
                let at = host_floats(w.gather(1, argmax_idx.clone()))?;
                for i in 0..b {
                    a.correct.push(pred[i] as usize == batch.target_classes[i]);
                    a.max_weight += f64::from(max_w[i]);
                    a.entropy += f64::from(ent[i]);
                    a.argmax_weight += f64::from(at[i]);
                }
            }
            done += b;
        }
        for (variant, a) in acc.into_iter().enumerate() {
            let m = a.correct.len() as f64;
            out.push(PointEval {
                n,
                variant,
                sets: a.correct.len(),
                accuracy: a.correct.iter().filter(|&&c| c).count() as f64 / m,
                max_weight: a.max_weight / m,
                entropy: a.entropy / m,
                argmax_weight: a.argmax_weight / m,
                correct: a.correct,
            });
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Accum {
    correct: Vec<bool>,
    max_weight: f64,
    entropy: f64,
    argmax_weight: f64,
}

/// Trains and evaluates every seed of `config` on `device` (autodiff) and summarises.
///
/// # Errors
/// As [`train_seed`] and [`evaluate`].
pub fn run(
    config: &MaxRetrievalConfig,
    device: &Device,
    progress: bool,
) -> Result<MaxRetrievalRun> {
    config.validate()?;
    let start = std::time::Instant::now();
    let mut seeds = Vec::with_capacity(config.seeds.len());
    for &seed in &config.seeds {
        if progress {
            eprintln!(
                "max_retrieval: seed {seed}: training {} steps",
                config.steps
            );
        }
        let (model, history) = train_seed(config, seed, device, progress)?;
        if progress {
            eprintln!(
                "max_retrieval: seed {seed}: trained in {:.0} s (final loss {:.4}); evaluating",
                history.seconds,
                history.tail_loss(50).unwrap_or(f64::NAN)
            );
        }
        let evals = evaluate(&model, config, seed, device)?;
        seeds.push(SeedRun {
            seed,
            history,
            evals,
        });
    }
    let summary = summarise(config, &seeds)?;
    Ok(MaxRetrievalRun {
        config: config.clone(),
        seeds,
        summary,
        seconds: start.elapsed().as_secs_f64(),
        backend: format!("{device:?}"),
    })
}

fn summarise(config: &MaxRetrievalConfig, seeds: &[SeedRun]) -> Result<Vec<SummaryRow>> {
    let point = |s: &SeedRun, n: usize, v: usize| -> Result<PointEval> {
        s.evals
            .iter()
            .find(|e| e.n == n && e.variant == v)
            .cloned()
            .ok_or(LabError::Stats("missing evaluation point"))
    };
    let mut rows = Vec::new();
    for &n in &config.eval_ns {
        let base: Vec<PointEval> = seeds
            .iter()
            .map(|s| point(s, n, 0))
            .collect::<Result<_>>()?;
        for (v, variant) in config.variants.iter().enumerate() {
            let pts: Vec<PointEval> = seeds
                .iter()
                .map(|s| point(s, n, v))
                .collect::<Result<_>>()?;
            let field = |f: fn(&PointEval) -> f64| mean_std(&pts.iter().map(f).collect::<Vec<_>>());
            let (mut only_baseline, mut only_variant) = (0u64, 0u64);
            for (b, p) in base.iter().zip(&pts) {
                for (&cb, &cv) in b.correct.iter().zip(&p.correct) {
                    only_baseline += u64::from(cb && !cv);
                    only_variant += u64::from(cv && !cb);
                }
            }
            let t_test = if v > 0 && pts.len() > 1 {
                let a: Vec<f64> = base.iter().map(|p| p.accuracy).collect();
                let b: Vec<f64> = pts.iter().map(|p| p.accuracy).collect();
                Some(paired_t_test(&a, &b)?)
            } else {
                None
            };
            rows.push(SummaryRow {
                n,
                variant: variant.label.clone(),
                accuracy: field(|p| p.accuracy)?,
                max_weight: field(|p| p.max_weight)?,
                entropy: field(|p| p.entropy)?,
                argmax_weight: field(|p| p.argmax_weight)?,
                t_test,
                only_baseline,
                only_variant,
                mcnemar_p: mcnemar_exact(only_baseline, only_variant),
            });
        }
    }
    Ok(rows)
}

fn host_floats(t: Tensor<2>) -> Result<Vec<f32>> {
    let data = t.try_into_data().map_err(|e| LabError::Readback {
        what: "attention diagnostics",
        source: e.into(),
    })?;
    Ok(data.iter::<f32>().collect())
}

fn host_ints(t: Tensor<2, Int>) -> Result<Vec<i64>> {
    let data = t.try_into_data().map_err(|e| LabError::Readback {
        what: "predicted classes",
        source: e.into(),
    })?;
    Ok(data.iter::<i64>().collect())
}
