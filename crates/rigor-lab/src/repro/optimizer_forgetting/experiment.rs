//! Training every optimizer on every task sequence and seed, measuring the accuracy matrix,
//! representations after each task, and the summary and verdict.

use crate::data::Dataset;
use crate::data::tasks::{class_incremental_tasks, permuted_tasks};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rigor_nn::cross_entropy;
use rigor_optim::OptimError;
use rigor_optim::metrics::continual::AccuracyMatrix;
use rigor_optim::metrics::rank::Spectrum;
use rigor_optim::metrics::similarity::class_mean_cosine;
use serde::{Deserialize, Serialize};

use super::ForgettingMlp;
use super::config::{OptimizerForgettingConfig, OptimizerKind, OptimizerSpec, TaskKind};
use crate::error::{LabError, Result};
use crate::report::stats::{MeanStd, mean_std};
use crate::rng;
use crate::train::{Metrics, StepCtx, TrainConfig, Trainer};

/// Number of classes of the digits data (the shared head's width).
pub const CLASSES: usize = 10;

/// How a class-incremental model's prediction is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evaluation {
    /// Task-incremental: the task identity is known at test time, so the shared head is masked
    /// to the task's classes, $\hat y = \arg\max_{c \in C_j} z_c$. For permuted pixels
    /// $C_j$ is every class, so this is plain accuracy. The primary evaluation of the
    /// report and of its verdict.
    TaskIncremental,
    /// Class-incremental: $\hat y = \arg\max_{c} z_c$ over all ten classes.
    ClassIncremental,
}

impl Evaluation {
    /// Display name.
    pub fn label(self) -> &'static str {
        match self {
            Self::TaskIncremental => "task-incremental (head masked to the task's classes)",
            Self::ClassIncremental => "class-incremental (10-way argmax)",
        }
    }

    /// Short display name.
    pub fn short(self) -> &'static str {
        match self {
            Self::TaskIncremental => "TIL",
            Self::ClassIncremental => "CIL",
        }
    }
}

/// ACC, BWT and forgetting of one accuracy matrix (fractions).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ContinualScores {
    /// $\mathrm{ACC} = \frac1T\sum_j R_{T-1,j}$.
    pub acc: f64,
    /// $\mathrm{BWT} = \frac1{T-1}\sum_{i<T-1}(R_{T-1,i} - R_{i,i})$ (negative = forgetting).
    pub bwt: f64,
    /// Chaudhry forgetting $\frac1{T-1}\sum_{j<T-1}\max_{l<T-1}R_{l,j} - R_{T-1,j}$.
    pub forgetting: f64,
}

impl ContinualScores {
    /// The scores of `r` (`T ≥ 2` tasks).
    ///
    /// # Errors
    /// [`LabError::Optim`] for a non-square, non-finite or single-task matrix.
    pub fn of(r: &[Vec<f64>]) -> Result<Self> {
        let m = AccuracyMatrix::new(r.to_vec())?;
        Ok(Self {
            acc: m.acc(),
            bwt: m.bwt()?,
            forgetting: m.forgetting()?,
        })
    }
}

/// One model trained on one task sequence with one optimizer under one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceRun {
    /// The seed.
    pub seed: u64,
    /// The task sequence.
    pub task_kind: TaskKind,
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// $R_{i,j}$, task-incremental evaluation ([`Evaluation::TaskIncremental`]).
    pub r_task: Vec<Vec<f64>>,
    /// $R_{i,j}$, class-incremental evaluation ([`Evaluation::ClassIncremental`]);
    /// identical to `r_task` for permuted pixels.
    pub r_class: Vec<Vec<f64>>,
    /// Scores of `r_task`.
    pub scores_task: ContinualScores,
    /// Scores of `r_class`.
    pub scores_class: ContinualScores,
    /// Effective rank of the probe's hidden representation $h_L$ after each task.
    pub effective_rank: Vec<f64>,
    /// Classes of the similarity matrix (ascending).
    pub similarity_classes: Vec<usize>,
    /// Cosine similarity of the per-class mean of $h_L$ over the probe, after the last
    /// task.
    pub similarity: Vec<Vec<f64>>,
    /// Mean off-diagonal entry of `similarity`.
    pub mean_similarity: f64,
    /// Mean training loss over the last 20 steps.
    pub final_loss: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl SequenceRun {
    /// The accuracy matrix under `evaluation`.
    pub fn r(&self, evaluation: Evaluation) -> &[Vec<f64>] {
        match evaluation {
            Evaluation::TaskIncremental => &self.r_task,
            Evaluation::ClassIncremental => &self.r_class,
        }
    }

    /// The scores under `evaluation`.
    pub fn scores(&self, evaluation: Evaluation) -> ContinualScores {
        match evaluation {
            Evaluation::TaskIncremental => self.scores_task,
            Evaluation::ClassIncremental => self.scores_class,
        }
    }
}

/// One row of the summary: an optimizer on a sequence under an evaluation, over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// The task sequence.
    pub task_kind: TaskKind,
    /// The evaluation.
    pub evaluation: Evaluation,
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// ACC over seeds.
    pub acc: MeanStd,
    /// BWT over seeds.
    pub bwt: MeanStd,
    /// Forgetting over seeds.
    pub forgetting: MeanStd,
    /// Effective rank of $h_L$ after each task, over seeds.
    pub effective_rank: Vec<MeanStd>,
    /// Mean cross-class similarity after the last task, over seeds.
    pub similarity: MeanStd,
}

/// Lower-is-better comparison of Shampoo against SGD and AdamW on one measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimCheck {
    /// The task sequence (task-incremental evaluation).
    pub task_kind: TaskKind,
    /// The paper's claim, e.g. "Shampoo forgets less".
    pub claim: String,
    /// The measure compared (lower = the claim's direction).
    pub measure: String,
    /// Shampoo's mean.
    pub shampoo: f64,
    /// SGD's mean.
    pub sgd: f64,
    /// AdamW's mean.
    pub adamw: f64,
    /// Shampoo's mean is below both baselines' means.
    pub holds: bool,
    /// Seeds in which Shampoo is below both baselines (paired: same split, data and initial
    /// weights).
    pub seeds_holding: usize,
    /// Seeds compared.
    pub seeds: usize,
    /// Rank of Shampoo among all optimizers run (1 = lowest).
    pub rank_among_all: usize,
}

impl ClaimCheck {
    /// "holds in every seed", "holds on average (k of n seeds)" or "does not hold (…)".
    pub fn verdict(&self) -> String {
        if self.holds && self.seeds_holding == self.seeds {
            format!(
                "holds in every seed ({} of {})",
                self.seeds_holding, self.seeds
            )
        } else if self.holds {
            format!(
                "holds on average ({} of {} seeds)",
                self.seeds_holding, self.seeds
            )
        } else {
            format!(
                "does not hold ({} of {} seeds)",
                self.seeds_holding, self.seeds
            )
        }
    }
}

/// The whole reproduction's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerForgettingRun {
    /// What was run.
    pub config: OptimizerForgettingConfig,
    /// Every (seed, sequence, optimizer) run.
    pub runs: Vec<SequenceRun>,
    /// Per (sequence, evaluation, optimizer).
    pub summary: Vec<SummaryRow>,
    /// The paper's three claims per sequence.
    pub claims: Vec<ClaimCheck>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The device it ran on (`Debug`).
    pub backend: String,
}

impl OptimizerForgettingRun {
    /// The summary row of (`kind`, `evaluation`, `optimizer`).
    pub fn row(
        &self,
        kind: TaskKind,
        evaluation: Evaluation,
        optimizer: OptimizerKind,
    ) -> Option<&SummaryRow> {
        self.summary
            .iter()
            .find(|r| r.task_kind == kind && r.evaluation == evaluation && r.optimizer == optimizer)
    }

    /// The run of (`seed`, `kind`, `optimizer`).
    pub fn run_of(
        &self,
        seed: u64,
        kind: TaskKind,
        optimizer: OptimizerKind,
    ) -> Option<&SequenceRun> {
        self.runs
            .iter()
            .find(|r| r.seed == seed && r.task_kind == kind && r.optimizer == optimizer)
    }

    /// The evaluations reported for `kind`: permuted pixels have one (task- and
    /// class-incremental coincide), class-incremental pairs both.
    pub fn evaluations(kind: TaskKind) -> &'static [Evaluation] {
        match kind {
            TaskKind::Permuted => &[Evaluation::TaskIncremental],
            TaskKind::ClassIncremental => {
                &[Evaluation::TaskIncremental, Evaluation::ClassIncremental]
            }
        }
    }
}

/// One task: training and test sets and the classes it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Training images.
    pub train: Dataset,
    /// Test images.
    pub test: Dataset,
    /// The task's classes (the head's mask under [`Evaluation::TaskIncremental`]).
    pub classes: Vec<usize>,
}

/// The task sequence of `kind` for `seed`: one seeded train/test split of `data` (the same for
/// every task and optimizer), then the permutations (seeded) or the class pairs.
///
/// # Errors
/// [`LabError::Optim`] from the split or the task builders; [`LabError::InvalidConfig`] if a
/// task has no training or test image.
pub fn build_tasks(
    data: &Dataset,
    config: &OptimizerForgettingConfig,
    kind: TaskKind,
    seed: u64,
) -> Result<Vec<Task>> {
    let (train, test) = data.split(
        config.test_fraction,
        rng::derive_seed(seed, "optimizer_forgetting/split"),
    )?;
    let t = config.tasks(kind);
    let tasks: Vec<Task> = match kind {
        TaskKind::Permuted => {
            let perm_seed = rng::derive_seed(seed, "optimizer_forgetting/permutations");
            permuted_tasks(&train, t, perm_seed)?
                .into_iter()
                .zip(permuted_tasks(&test, t, perm_seed)?)
                .map(|(train, test)| Task {
                    train,
                    test,
                    classes: (0..CLASSES).collect(),
                })
                .collect()
        }
        TaskKind::ClassIncremental => class_incremental_tasks(&train, 2)?
            .into_iter()
            .zip(class_incremental_tasks(&test, 2)?)
            .take(t)
            .enumerate()
            .map(|(k, (train, test))| Task {
                train,
                test,
                classes: vec![2 * k, 2 * k + 1],
            })
            .collect(),
    };
    if tasks.len() != t
        || tasks
            .iter()
            .any(|k| k.train.is_empty() || k.test.is_empty())
    {
        return Err(LabError::config(
            "OptimizerForgettingConfig::test_fraction",
            config.test_fraction,
            "every task needs training and test images",
        ));
    }
    Ok(tasks)
}

/// The representation probe: the first `per_task` test images of every task, concatenated
/// (labels are the digit classes).
pub fn probe(tasks: &[Task], per_task: usize) -> Dataset {
    let features = tasks.first().map_or(1, |t| t.test.features);
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for t in tasks {
        let n = per_task.min(t.test.len());
        images.extend_from_slice(&t.test.images[..n * features]);
        labels.extend_from_slice(&t.test.labels[..n]);
    }
    Dataset {
        images,
        labels,
        features,
    }
}

/// What is measured at a task boundary.
struct Boundary {
    r_task: Vec<f64>,
    r_class: Vec<f64>,
    effective_rank: f64,
    similarity: Option<(Vec<usize>, Vec<Vec<f64>>, f64)>,
}

/// Trains one model on `tasks` with `spec`, evaluating at every task boundary. The optimizer
/// state is carried across tasks (a continual stream, no resets); the learning rate is
/// constant.
///
/// # Errors
/// Training, read-back and metric errors.
pub fn train_sequence(
    config: &OptimizerForgettingConfig,
    tasks: &[Task],
    kind: TaskKind,
    spec: OptimizerSpec,
    seed: u64,
    device: &Device,
    progress: bool,
) -> Result<SequenceRun> {
    let start = std::time::Instant::now();
    config.validate()?;
    let t = tasks.len();
    let steps = config.steps_per_task(kind);
    let features = tasks.first().map_or(0, |k| k.train.features);
    if t == 0
        || tasks.iter().any(|k| {
            k.train.is_empty()
                || k.test.is_empty()
                || k.train.features != features
                || k.test.features != features
        })
    {
        return Err(LabError::config(
            "train_sequence: tasks",
            format!("{t} tasks"),
            "need ≥ 1 task, each with non-empty train and test sets of one feature width",
        ));
    }
    rng::seed_device(device, seed, "optimizer_forgetting/init");
    let model = ForgettingMlp::new(features, &config.hidden, CLASSES, device)?;
    let optimizer = spec.build(&model)?;

    let plain = device.clone().without_autodiff();
    let train: Vec<(Tensor<2>, Tensor<1, Int>, usize)> = tasks
        .iter()
        .map(|k| {
            let (x, y) = k.train.tensors(device);
            (x, y, k.train.len())
        })
        .collect();
    let tests: Vec<(Tensor<2>, Vec<usize>, &[usize])> = tasks
        .iter()
        .map(|k| {
            (
                k.test.tensors(&plain).0,
                k.test.labels.clone(),
                &k.classes[..],
            )
        })
        .collect();
    let probe_set = probe(tasks, config.probe_per_task);
    let probe_x = probe_set.tensors(&plain).0;

    let batch = config.batch;
    let mut boundaries: Vec<Boundary> = Vec::with_capacity(t);
    let train_config = TrainConfig::new(t * steps, seed)
        .with_schedule(crate::train::LrSchedule::Constant { lr: spec.lr })
        .with_eval_every(steps)
        .with_progress(progress);
    let outcome = Trainer::new(train_config, device)?.fit_with_eval(
        model,
        optimizer,
        |m: &ForgettingMlp, ctx: &mut StepCtx<'_>| {
            let (x, y, n) = &train[(ctx.step / steps).min(t - 1)];
            let idx: Vec<i64> = (0..batch).map(|_| rng::index(ctx.rng, *n) as i64).collect();
            let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [batch]), ctx.device);
            let logits = m.forward(x.clone().select(0, idx.clone()));
            Ok(cross_entropy(logits, y.clone().select(0, idx), None))
        },
        |m: &ForgettingMlp, done| {
            let mut metrics = Metrics::new();
            if done % steps != 0 {
                return Ok(metrics);
            }
            let after = done / steps - 1;
            let b = measure(m, &tests, &probe_x, &probe_set.labels, after + 1 == t)?;
            let seen = &b.r_task[..=after];
            metrics.insert(
                format!("task {} acc (seen)", after + 1),
                seen.iter().sum::<f64>() / seen.len() as f64,
            );
            boundaries.push(b);
            Ok(metrics)
        },
    )?;
    if boundaries.len() != t {
        return Err(LabError::Stats("a task boundary was not evaluated"));
    }
    let r_task: Vec<Vec<f64>> = boundaries.iter().map(|b| b.r_task.clone()).collect();
    let r_class: Vec<Vec<f64>> = boundaries.iter().map(|b| b.r_class.clone()).collect();
    let (similarity_classes, similarity, mean_similarity) = boundaries
        .iter()
        .rev()
        .find_map(|b| b.similarity.clone())
        .ok_or(LabError::Stats("no similarity after the last task"))?;
    Ok(SequenceRun {
        seed,
        task_kind: kind,
        optimizer: spec.kind,
        scores_task: ContinualScores::of(&r_task)?,
        scores_class: ContinualScores::of(&r_class)?,
        r_task,
        r_class,
        effective_rank: boundaries.iter().map(|b| b.effective_rank).collect(),
        similarity_classes,
        similarity,
        mean_similarity,
        final_loss: outcome.history.tail_loss(20).unwrap_or(f64::NAN),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Accuracies on every task's test set (masked and unmasked), the probe's effective rank and,
/// after the last task, the class similarity.
fn measure(
    model: &ForgettingMlp,
    tests: &[(Tensor<2>, Vec<usize>, &[usize])],
    probe_x: &Tensor<2>,
    probe_labels: &[usize],
    last: bool,
) -> Result<Boundary> {
    let mut r_task = Vec::with_capacity(tests.len());
    let mut r_class = Vec::with_capacity(tests.len());
    for (x, labels, classes) in tests {
        let logits = host(model.forward(x.clone()), "test logits")?;
        let (task, class) = accuracies(&logits, labels, classes);
        r_task.push(task);
        r_class.push(class);
    }
    let h = model.features(probe_x.clone());
    let effective_rank = match Spectrum::of(h.clone()) {
        Ok(s) => s.effective_rank(),
        // An all-zero representation (every ReLU dead) has rank 0.
        Err(OptimError::Undefined { .. }) => 0.0,
        Err(e) => return Err(e.into()),
    };
    let similarity = if last {
        let s = class_mean_cosine(h, probe_labels)?;
        Some((s.classes, s.matrix, s.mean_off_diagonal))
    } else {
        None
    };
    Ok(Boundary {
        r_task,
        r_class,
        effective_rank,
        similarity,
    })
}

/// `(masked, unmasked)` accuracy of row-major `[n, CLASSES]` logits: masked takes the argmax
/// over `classes` only, unmasked over every class (ties → the lowest class).
pub fn accuracies(logits: &[f32], labels: &[usize], classes: &[usize]) -> (f64, f64) {
    let n = labels.len();
    if n == 0 || logits.len() != n * CLASSES {
        return (0.0, 0.0);
    }
    let argmax = |row: &[f32], allowed: &mut dyn Iterator<Item = usize>| {
        allowed.fold((usize::MAX, f32::NEG_INFINITY), |(bi, bv), c| {
            if row[c] > bv || bi == usize::MAX {
                (c, row[c])
            } else {
                (bi, bv)
            }
        })
    };
    let (mut masked, mut full) = (0usize, 0usize);
    for (i, &y) in labels.iter().enumerate() {
        let row = &logits[i * CLASSES..(i + 1) * CLASSES];
        masked +=
            usize::from(argmax(row, &mut classes.iter().copied().filter(|&c| c < CLASSES)).0 == y);
        full += usize::from(argmax(row, &mut (0..CLASSES)).0 == y);
    }
    (masked as f64 / n as f64, full as f64 / n as f64)
}

fn host(t: Tensor<2>, what: &'static str) -> Result<Vec<f32>> {
    let data = t.try_into_data().map_err(|e| LabError::Readback {
        what,
        source: e.into(),
    })?;
    Ok(data.iter::<f32>().collect())
}

/// Runs every seed × sequence × optimizer of `config` on `device` (autodiff) and summarises.
///
/// # Errors
/// [`LabError::Optim`] if the digits cannot be loaded; configuration, training and metric
/// errors.
pub fn run(
    config: &OptimizerForgettingConfig,
    device: &Device,
    progress: bool,
) -> Result<OptimizerForgettingRun> {
    config.validate()?;
    let start = std::time::Instant::now();
    let data = crate::data::digits::load()?;
    let mut runs = Vec::new();
    for &seed in &config.seeds {
        for &kind in &config.task_kinds {
            let tasks = build_tasks(&data, config, kind, seed)?;
            for &spec in &config.optimizers {
                if progress {
                    eprintln!(
                        "optimizer_forgetting: seed {seed}, {}, {}: {} tasks × {} steps",
                        kind.label(),
                        spec.kind.label(),
                        tasks.len(),
                        config.steps_per_task(kind)
                    );
                }
                runs.push(train_sequence(
                    config, &tasks, kind, spec, seed, device, progress,
                )?);
            }
        }
    }
    let summary = summarise(config, &runs)?;
    let claims = check_claims(config, &runs);
    Ok(OptimizerForgettingRun {
        config: config.clone(),
        runs,
        summary,
        claims,
        seconds: start.elapsed().as_secs_f64(),
        backend: format!("{device:?}"),
    })
}

fn summarise(config: &OptimizerForgettingConfig, runs: &[SequenceRun]) -> Result<Vec<SummaryRow>> {
    let mut rows = Vec::new();
    for &kind in &config.task_kinds {
        for &evaluation in OptimizerForgettingRun::evaluations(kind) {
            for spec in &config.optimizers {
                let these: Vec<&SequenceRun> = runs
                    .iter()
                    .filter(|r| r.task_kind == kind && r.optimizer == spec.kind)
                    .collect();
                let field = |f: &dyn Fn(&SequenceRun) -> f64| {
                    mean_std(&these.iter().map(|r| f(r)).collect::<Vec<_>>())
                };
                let effective_rank = (0..config.tasks(kind))
                    .map(|i| field(&|r| r.effective_rank.get(i).copied().unwrap_or(f64::NAN)))
                    .collect::<Result<Vec<_>>>()?;
                rows.push(SummaryRow {
                    task_kind: kind,
                    evaluation,
                    optimizer: spec.kind,
                    acc: field(&|r| r.scores(evaluation).acc)?,
                    bwt: field(&|r| r.scores(evaluation).bwt)?,
                    forgetting: field(&|r| r.scores(evaluation).forgetting)?,
                    effective_rank,
                    similarity: field(&|r| r.mean_similarity)?,
                });
            }
        }
    }
    Ok(rows)
}

/// The paper's three claims (forgets less, lower-rank representation, lower cross-class
/// similarity), each checked per sequence under [`Evaluation::TaskIncremental`] from the
/// numbers of `runs`.
pub fn check_claims(config: &OptimizerForgettingConfig, runs: &[SequenceRun]) -> Vec<ClaimCheck> {
    type Measure = fn(&SequenceRun) -> f64;
    let measures: [(&str, &str, Measure); 3] = [
        ("Shampoo forgets less", "forgetting", |r| {
            r.scores_task.forgetting
        }),
        (
            "Shampoo's representations have lower rank",
            "effective rank of h_L after the last task",
            |r| r.effective_rank.last().copied().unwrap_or(f64::NAN),
        ),
        (
            "Shampoo's representations have lower cross-class similarity",
            "mean cross-class cosine similarity of class means of h_L",
            |r| r.mean_similarity,
        ),
    ];
    let mut out = Vec::new();
    for &kind in &config.task_kinds {
        for (claim, measure, f) in measures {
            let of = |opt: OptimizerKind, seed: u64| {
                runs.iter()
                    .find(|r| r.task_kind == kind && r.optimizer == opt && r.seed == seed)
                    .map(f)
            };
            let mean = |opt: OptimizerKind| {
                let v: Vec<f64> = config.seeds.iter().filter_map(|&s| of(opt, s)).collect();
                v.iter().sum::<f64>() / v.len().max(1) as f64
            };
            let (shampoo, sgd, adamw) = (
                mean(OptimizerKind::Shampoo),
                mean(OptimizerKind::Sgd),
                mean(OptimizerKind::AdamW),
            );
            let seeds_holding = config
                .seeds
                .iter()
                .filter(|&&s| {
                    match (
                        of(OptimizerKind::Shampoo, s),
                        of(OptimizerKind::Sgd, s),
                        of(OptimizerKind::AdamW, s),
                    ) {
                        (Some(a), Some(b), Some(c)) => a < b && a < c,
                        _ => false,
                    }
                })
                .count();
            let rank_among_all = 1 + config
                .optimizers
                .iter()
                .filter(|o| o.kind != OptimizerKind::Shampoo && mean(o.kind) < shampoo)
                .count();
            out.push(ClaimCheck {
                task_kind: kind,
                claim: claim.into(),
                measure: measure.into(),
                shampoo,
                sgd,
                adamw,
                holds: shampoo < sgd && shampoo < adamw,
                seeds_holding,
                seeds: config.seeds.len(),
                rank_among_all,
            });
        }
    }
    out
}
