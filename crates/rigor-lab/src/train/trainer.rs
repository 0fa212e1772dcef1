//! [`Trainer`]: the loop itself.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::{TrainConfig, checkpoint};
use crate::error::{LabError, Result};
use crate::rng::{self, LabRng};

/// Named scalar metrics from an evaluation hook (`"accuracy" → 0.97`).
pub type Metrics = BTreeMap<String, f64>;

/// What the loss closure sees at each step.
pub struct StepCtx<'a> {
    /// 0-based step index.
    pub step: usize,
    /// The batch stream (`"train/batches"` under the run's seed): draw the step's data here.
    pub rng: &'a mut LabRng,
    /// The autodiff device the model lives on.
    pub device: &'a Device,
    /// The learning rate this step uses.
    pub lr: f64,
}

/// Metrics from one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    /// Completed steps when the hook ran.
    pub step: usize,
    /// What the hook returned.
    pub metrics: Metrics,
}

/// The loss curve and the evaluations of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainHistory {
    /// Training loss at every step (index = 0-based step).
    pub loss: Vec<f64>,
    /// Learning rate at every step.
    pub lr: Vec<f64>,
    /// Evaluation results in step order.
    pub evals: Vec<EvalRecord>,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
}

impl TrainHistory {
    /// Loss of the last step.
    pub fn final_loss(&self) -> Option<f64> {
        self.loss.last().copied()
    }

    /// Mean loss over the last `k` steps (fewer if the run was shorter).
    pub fn tail_loss(&self, k: usize) -> Option<f64> {
        let tail = &self.loss[self.loss.len().saturating_sub(k)..];
        (!tail.is_empty()).then(|| tail.iter().sum::<f64>() / tail.len() as f64)
    }

    /// The last evaluation's metrics.
    pub fn last_eval(&self) -> Option<&Metrics> {
        self.evals.last().map(|e| &e.metrics)
    }
}

/// The result of [`Trainer::fit`].
#[derive(Debug)]
pub struct TrainOutcome<M> {
    /// The trained model (still on the autodiff device; `.valid()` for inference).
    pub model: M,
    /// Loss curve and evaluations.
    pub history: TrainHistory,
    /// Checkpoints written, in step order.
    pub checkpoints: Vec<PathBuf>,
}

/// Runs training loops under one validated [`TrainConfig`] on one autodiff device.
///
/// Each step: the loss closure builds a batch from [`StepCtx::rng`] and returns a scalar loss
/// (`Ok(Tensor<1>)` of one element); the trainer back-propagates, applies the optimizer at the
/// scheduled rate, records the loss, runs the evaluation hook on `model.valid()` when due and
/// saves checkpoints when due.
///
/// Determinism: the batch stream and the device are seeded from [`TrainConfig::seed`];
/// seed the device yourself (see [`crate::rng::seed_device`]) before initialising the model.
#[derive(Debug, Clone)]
pub struct Trainer {
    config: TrainConfig,
    device: Device,
}

impl Trainer {
    /// Validates `config` and checks that `device` has autodiff.
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] from [`TrainConfig::validate`], [`LabError::NotAutodiff`].
    pub fn new(config: TrainConfig, device: &Device) -> Result<Self> {
        config.validate()?;
        if !device.is_autodiff() {
            return Err(LabError::NotAutodiff {
                device: format!("{device:?}"),
            });
        }
        Ok(Self {
            config,
            device: device.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Trains without an evaluation hook.
    ///
    /// # Errors
    /// As [`fit_with_eval`](Self::fit_with_eval).
    pub fn fit<M, L>(
        &self,
        model: M,
        optimizer: impl Into<ModuleOptimizer>,
        loss: L,
    ) -> Result<TrainOutcome<M>>
    where
        M: Module,
        L: FnMut(&M, &mut StepCtx<'_>) -> Result<Tensor<1>>,
    {
        self.fit_with_eval(model, optimizer, loss, |_: &M, _| Ok(Metrics::new()))
    }

    /// Trains `model` with `optimizer` (any Burn optimizer: `AdamWConfig::new().init()`,
    /// `SgdConfig::new().init()`, or a [`ModuleOptimizer`] with groups/clipping) on the loss
    /// returned by `loss`, calling `eval(&model.valid(), completed_steps)` every
    /// [`TrainConfig::eval_every`] steps and after the last one. An evaluation that returns
    /// no metrics is not recorded.
    ///
    /// # Errors
    /// Any error the loss closure or the evaluation hook returns (training stops there);
    /// [`LabError::InvalidConfig`] if the loss closure returns a tensor that is not `[1]`;
    /// [`LabError::NonFiniteLoss`] if the loss becomes
    /// `NaN`/`∞` (found when the losses are read back, every
    /// [`TrainConfig::loss_read_every`] steps; the error names the first such step),
    /// [`LabError::Readback`] if the loss cannot be read, checkpoint errors.
    pub fn fit_with_eval<M, L, E>(
        &self,
        mut model: M,
        optimizer: impl Into<ModuleOptimizer>,
        mut loss: L,
        mut eval: E,
    ) -> Result<TrainOutcome<M>>
    where
        M: Module,
        L: FnMut(&M, &mut StepCtx<'_>) -> Result<Tensor<1>>,
        E: FnMut(&M, usize) -> Result<Metrics>,
    {
        let cfg = &self.config;
        let start = Instant::now();
        let mut optimizer: ModuleOptimizer = optimizer.into();
        let mut batches = rng::rng(cfg.seed, "train/batches");
        rng::seed_device(&self.device, cfg.seed, "train/device");
        let bar = progress_bar(cfg.steps as u64, cfg.progress);
        let mut history = TrainHistory::default();
        let mut checkpoints = Vec::new();
        // Losses of the steps since the last read, still on the device.
        let mut pending: Vec<Tensor<1>> = Vec::with_capacity(cfg.loss_read_every.min(cfg.steps));

        for step in 0..cfg.steps {
            let lr = cfg.schedule.lr_at(step, cfg.steps);
            let mut ctx = StepCtx {
                step,
                rng: &mut batches,
                device: &self.device,
                lr,
            };
            let l = loss(&model, &mut ctx)?;
            if l.dims() != [1] {
                bar.abandon();
                return Err(LabError::InvalidConfig {
                    what: "loss closure output shape",
                    value: format!("{:?}", l.dims()),
                    why: "the loss closure must return a [1] tensor",
                });
            }
            pending.push(l.clone().detach());
            let grads = GradientsParams::from_grads(l.backward(), &model);
            model = optimizer.step(lr, model, grads);
            history.lr.push(lr);

            let done = step + 1;
            let checkpoint_now = cfg.checkpoint_steps.contains(&done);
            let eval_now = done == cfg.steps || (cfg.eval_every > 0 && done % cfg.eval_every == 0);
            if checkpoint_now || eval_now || pending.len() >= cfg.loss_read_every {
                if let Err(e) = read_losses(&mut pending, &mut history.loss) {
                    bar.abandon();
                    return Err(e);
                }
                if let Some(value) = history.loss.last() {
                    bar.set_message(format!("loss {value:.4} lr {lr:.2e}"));
                }
            }
            if checkpoint_now && let Some(dir) = &cfg.checkpoint_dir {
                let path = checkpoint::checkpoint_path(dir, done);
                checkpoint::save_checkpoint(&model, &path)?;
                checkpoints.push(path);
            }
            if eval_now {
                let metrics = match eval(&model.valid(), done) {
                    Ok(m) => m,
                    Err(e) => {
                        bar.abandon();
                        return Err(e);
                    }
                };
                if !metrics.is_empty() {
                    bar.println(format!("step {done}: {}", render_metrics(&metrics)));
                    history.evals.push(EvalRecord {
                        step: done,
                        metrics,
                    });
                }
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        history.seconds = start.elapsed().as_secs_f64();
        Ok(TrainOutcome {
            model,
            history,
            checkpoints,
        })
    }
}

/// Reads the pending losses back in one transfer and appends them to `history`, stopping
/// at the first non-finite one ([`LabError::NonFiniteLoss`] with its 1-based step).
fn read_losses(pending: &mut Vec<Tensor<1>>, history: &mut Vec<f64>) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let values: Vec<f32> = Tensor::cat(std::mem::take(pending), 0)
        .try_into_vec_as::<f32>()
        .map_err(|e| LabError::Readback {
            what: "loss",
            source: e.into(),
        })?;
    for value in values {
        if !value.is_finite() {
            return Err(LabError::NonFiniteLoss {
                step: history.len() + 1,
                loss: value,
            });
        }
        history.push(f64::from(value));
    }
    Ok(())
}

fn render_metrics(metrics: &Metrics) -> String {
    metrics
        .iter()
        .map(|(k, v)| format!("{k} {v:.4}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An `indicatif` bar for `len` steps, hidden unless `visible`.
pub(crate) fn progress_bar(len: u64, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} [{elapsed_precise}<{eta_precise}] {msg}")
    {
        bar.set_style(style);
    }
    bar
}
