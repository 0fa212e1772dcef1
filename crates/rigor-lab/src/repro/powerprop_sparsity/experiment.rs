//! Training one Powerprop MLP per (seed, α) with SGD, then pruning it globally by magnitude at
//! every keep fraction and scoring the test accuracy.

use crate::data::Dataset;
use burn::module::Module;
use burn::optim::SgdConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rigor_nn::cross_entropy;
use rigor_optim::metrics::pruning::{PruneScope, prune_global_magnitude};
use rigor_optim::metrics::sparsity::{Threshold, hoyer_sparsity_host, near_zero_fraction_host};
use serde::{Deserialize, Serialize};

use super::PowerpropSparsityConfig;
use super::model::{PlainMlp, PowerpropMlp};
use crate::error::{LabError, Result};
use crate::report::stats::{MeanStd, mean_std};
use crate::rng;
use crate::train::{LrSchedule, StepCtx, TrainConfig, Trainer};

/// Number of classes of the digits data.
pub const CLASSES: usize = 10;

/// One point of a pruning curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Requested keep fraction.
    pub keep: f64,
    /// Fraction of weights actually left non-pruned (ties at the threshold are kept).
    pub kept: f64,
    /// Test accuracy of the pruned model.
    pub accuracy: f64,
}

/// One trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlphaRun {
    /// The seed.
    pub seed: u64,
    /// The exponent α.
    pub alpha: f64,
    /// The 1-based step at which the training loss became non-finite, if it did (the run is
    /// then left out of the summary; its scores are `NaN` and its curve empty).
    pub diverged_at: Option<usize>,
    /// Test accuracy before pruning.
    pub accuracy: f64,
    /// Hoyer sparsity of all effective weights $w$ (0 = dense and even, 1 = one non-zero).
    pub hoyer: f64,
    /// Fraction of effective weights with $|w| \le 10^{-2}\max|w|$.
    pub near_zero: f64,
    /// The pruning curve, in `keep_fractions` order.
    pub curve: Vec<CurvePoint>,
    /// Mean training loss over the last 50 steps.
    pub final_loss: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// One α over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlphaSummary {
    /// The exponent α.
    pub alpha: f64,
    /// Seeds whose training diverged (non-finite loss); the statistics below are over the
    /// others (`count = 0`, `NaN` when every seed diverged).
    pub diverged: usize,
    /// Unpruned test accuracy.
    pub accuracy: MeanStd,
    /// Hoyer sparsity of the effective weights.
    pub hoyer: MeanStd,
    /// Near-zero fraction of the effective weights.
    pub near_zero: MeanStd,
    /// Test accuracy per keep fraction (same order as `keep_fractions`).
    pub curve: Vec<(f64, MeanStd)>,
}

impl AlphaSummary {
    /// Accuracy at keep fraction `keep`.
    pub fn at(&self, keep: f64) -> Option<MeanStd> {
        self.curve
            .iter()
            .find(|(k, _)| (*k - keep).abs() < 1e-12)
            .map(|(_, m)| *m)
    }
}

/// The whole reproduction's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerpropSparsityRun {
    /// What was run.
    pub config: PowerpropSparsityConfig,
    /// Every (seed, α).
    pub runs: Vec<AlphaRun>,
    /// Per α.
    pub summary: Vec<AlphaSummary>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The device it ran on (`Debug`).
    pub backend: String,
}

impl PowerpropSparsityRun {
    /// The summary of exponent `alpha`.
    pub fn alpha(&self, alpha: f64) -> Option<&AlphaSummary> {
        self.summary.iter().find(|s| s.alpha == alpha)
    }
}

/// Test accuracy of `model` on `(x, labels)` (argmax over the classes).
///
/// # Errors
/// [`LabError::Readback`].
pub fn accuracy(model: &PlainMlp, x: &Tensor<2>, labels: &[usize]) -> Result<f64> {
    let pred = model
        .forward(x.clone())
        .argmax(1)
        .try_into_data()
        .map_err(|e| LabError::Readback {
            what: "predicted classes",
            source: e.into(),
        })?;
    let hits = pred
        .iter::<i64>()
        .zip(labels)
        .filter(|(p, y)| *p as usize == **y)
        .count();
    Ok(hits as f64 / labels.len().max(1) as f64)
}

/// Trains the α model for `seed` on `train` and scores it (and its pruned copies) on `test`.
///
/// # Errors
/// Configuration, training, pruning and read-back errors.
pub fn train_alpha(
    config: &PowerpropSparsityConfig,
    train: &Dataset,
    test: &Dataset,
    alpha: f64,
    seed: u64,
    device: &Device,
    progress: bool,
) -> Result<AlphaRun> {
    let start = std::time::Instant::now();
    config.validate()?;
    if train.is_empty() || test.is_empty() || train.features != test.features {
        return Err(LabError::config(
            "train_alpha: data",
            format!("{} train / {} test examples", train.len(), test.len()),
            "need non-empty train and test sets of one feature width",
        ));
    }
    rng::seed_device(device, seed, "powerprop_sparsity/init");
    let model = PowerpropMlp::new(train.features, &config.hidden, CLASSES, alpha, device)?;
    let (x, y) = train.tensors(device);
    let n = train.len();
    let batch = config.batch;
    let train_config = TrainConfig::new(config.steps, seed)
        .with_schedule(LrSchedule::Constant { lr: config.lr })
        .with_progress(progress);
    let outcome = match Trainer::new(train_config, device)?.fit(
        model,
        SgdConfig::new().init(),
        |m: &PowerpropMlp, ctx: &mut StepCtx<'_>| {
            let idx: Vec<i64> = (0..batch).map(|_| rng::index(ctx.rng, n) as i64).collect();
            let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [batch]), ctx.device);
            let logits = m.forward(x.clone().select(0, idx.clone()));
            Ok(cross_entropy(logits, y.clone().select(0, idx), None))
        },
    ) {
        Ok(outcome) => outcome,
        // Large α with a large constant rate can blow up (the preconditioner α²|w|^{2−2/α}
        // grows with |w|): record it instead of aborting the whole sweep.
        Err(LabError::NonFiniteLoss { step, .. }) => {
            return Ok(AlphaRun {
                seed,
                alpha,
                diverged_at: Some(step),
                accuracy: f64::NAN,
                hoyer: f64::NAN,
                near_zero: f64::NAN,
                curve: Vec::new(),
                final_loss: f64::NAN,
                seconds: start.elapsed().as_secs_f64(),
            });
        }
        Err(e) => return Err(e),
    };
    let plain_device = device.clone().without_autodiff();
    let plain = outcome.model.valid().to_plain();
    let (test_x, _) = test.tensors(&plain_device);
    let dense = accuracy(&plain, &test_x, &test.labels)?;
    let weights = plain.weights_host()?;
    let hoyer = hoyer_sparsity_host(&weights)?;
    let near_zero = near_zero_fraction_host(&weights, Threshold::Relative(1e-2))?;
    let mut curve = Vec::with_capacity(config.keep_fractions.len());
    for &keep in &config.keep_fractions {
        let (pruned, report) = prune_global_magnitude(plain.clone(), keep, PruneScope::Weights)?;
        curve.push(CurvePoint {
            keep,
            kept: report.kept as f64 / report.total.max(1) as f64,
            accuracy: accuracy(&pruned, &test_x, &test.labels)?,
        });
    }
    Ok(AlphaRun {
        seed,
        alpha,
        diverged_at: None,
        accuracy: dense,
        hoyer,
        near_zero,
        curve,
        final_loss: outcome.history.tail_loss(50).unwrap_or(f64::NAN),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Runs every seed × α of `config` on `device` (autodiff) and summarises.
///
/// # Errors
/// [`LabError::Optim`] if the digits cannot be loaded; as [`train_alpha`].
pub fn run(
    config: &PowerpropSparsityConfig,
    device: &Device,
    progress: bool,
) -> Result<PowerpropSparsityRun> {
    config.validate()?;
    let start = std::time::Instant::now();
    let data = crate::data::digits::load()?;
    let mut runs = Vec::new();
    for &seed in &config.seeds {
        let (train, test) = data.split(
            config.test_fraction,
            rng::derive_seed(seed, "powerprop_sparsity/split"),
        )?;
        for &alpha in &config.alphas {
            if progress {
                eprintln!(
                    "powerprop_sparsity: seed {seed}, α = {alpha}: {} SGD steps",
                    config.steps
                );
            }
            runs.push(train_alpha(
                config, &train, &test, alpha, seed, device, progress,
            )?);
        }
    }
    let summary = summarise(config, &runs)?;
    Ok(PowerpropSparsityRun {
        config: config.clone(),
        runs,
        summary,
        seconds: start.elapsed().as_secs_f64(),
        backend: format!("{device:?}"),
    })
}

fn summarise(config: &PowerpropSparsityConfig, runs: &[AlphaRun]) -> Result<Vec<AlphaSummary>> {
    config
        .alphas
        .iter()
        .map(|&alpha| {
            let all = runs.iter().filter(|r| r.alpha == alpha).count();
            let these: Vec<&AlphaRun> = runs
                .iter()
                .filter(|r| r.alpha == alpha && r.diverged_at.is_none())
                .collect();
            let field = |f: &dyn Fn(&AlphaRun) -> f64| {
                if these.is_empty() {
                    return Ok(MeanStd {
                        mean: f64::NAN,
                        std: f64::NAN,
                        count: 0,
                    });
                }
                mean_std(&these.iter().map(|r| f(r)).collect::<Vec<_>>())
            };
            let curve = config
                .keep_fractions
                .iter()
                .enumerate()
                .map(|(i, &keep)| {
                    Ok((
                        keep,
                        field(&|r| r.curve.get(i).map_or(f64::NAN, |p| p.accuracy))?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(AlphaSummary {
                alpha,
                diverged: all - these.len(),
                accuracy: field(&|r| r.accuracy)?,
                hoyer: field(&|r| r.hoyer)?,
                near_zero: field(&|r| r.near_zero)?,
                curve,
            })
        })
        .collect()
}
