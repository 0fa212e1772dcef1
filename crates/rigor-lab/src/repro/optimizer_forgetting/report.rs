//! The optimizer-forgetting report: `results.json`, `summary.csv`, `per_run.csv`, the
//! accuracy-matrix and class-similarity heat maps, the effective-rank and seen-task accuracy
//! curves, and `section.md` with the verdict on the paper's claim.

use serde::Serialize;

use super::config::{OptimizerKind, TaskKind};
use super::experiment::{ClaimCheck, Evaluation, OptimizerForgettingRun, SummaryRow};
use crate::error::Result;
use crate::report::heatmap::{Heatmap, HeatmapGrid};
use crate::report::{LinePlot, ReportSection, Results, RunDir, RunMeta, Series, Table};

#[derive(Serialize)]
struct Metrics<'a> {
    summary: &'a [SummaryRow],
    claims: &'a [ClaimCheck],
    verdict: String,
    runs: &'a [super::experiment::SequenceRun],
    seconds: f64,
}

/// Writes every file of the report into `dir` and returns the markdown section (`folder` is
/// the folder's name under the report root, for the index's figure links).
///
/// # Errors
/// I/O, JSON and plotting errors.
pub fn write_report(
    run: &OptimizerForgettingRun,
    dir: &RunDir,
    folder: &str,
) -> Result<ReportSection> {
    let cfg = &run.config;
    let mut meta = RunMeta::with_backend(run.backend.clone());
    meta.elapsed_s = run.seconds;
    dir.write_results(&Results {
        name: "optimizer_forgetting".into(),
        meta,
        config: cfg,
        seeds: cfg.seeds.clone(),
        metrics: Metrics {
            summary: &run.summary,
            claims: &run.claims,
            verdict: verdict(run),
            runs: &run.runs,
            seconds: run.seconds,
        },
    })?;
    dir.write_csv("summary.csv", &summary_csv(run))?;
    dir.write_csv("per_run.csv", &per_run_csv(run))?;

    let seed0 = cfg.seeds.first().copied().unwrap_or(0);
    let mut figures = Vec::new();
    for &kind in &cfg.task_kinds {
        for &evaluation in OptimizerForgettingRun::evaluations(kind) {
            let name = match evaluation {
                Evaluation::TaskIncremental => format!("r_matrix_{}.svg", kind.slug()),
                Evaluation::ClassIncremental => format!("r_matrix_{}_cil.svg", kind.slug()),
            };
            r_matrix_grid(run, kind, evaluation, seed0).write_svg(&dir.join(&name))?;
            figures.push((
                format!(
                    "Accuracy matrix R[i][j] (after task i, on task j), {}, {}, seed {seed0}",
                    kind.label(),
                    evaluation.short()
                ),
                name,
            ));
        }
        let name = format!("similarity_{}.svg", kind.slug());
        similarity_grid(run, kind, seed0).write_svg(&dir.join(&name))?;
        figures.push((
            format!(
                "Cross-class cosine similarity of class-mean hidden activations after the last \
                 task, {}, seed {seed0}",
                kind.label()
            ),
            name,
        ));
        let name = format!("effective_rank_{}.svg", kind.slug());
        dir.write_svg(&name, &effective_rank_plot(run, kind))?;
        figures.push((
            format!(
                "Effective rank of the hidden representation after each task, {} (mean ± std)",
                kind.label()
            ),
            name,
        ));
        let name = format!("seen_accuracy_{}.svg", kind.slug());
        dir.write_svg(&name, &seen_accuracy_plot(run, kind))?;
        figures.push((
            format!(
                "Mean task-incremental accuracy over the tasks seen so far, {} (mean ± std)",
                kind.label()
            ),
            name,
        ));
    }

    let section = ReportSection {
        title: "Optimizers and forgetting — Optimizers Qualitatively Alter Solutions (S4)".into(),
        body: markdown_body(run),
        figures,
        folder: folder.into(),
    };
    dir.write_text("section.md", &section.to_markdown(""))?;
    Ok(section)
}

fn ms(m: &crate::report::MeanStd, scale: f64, digits: usize) -> String {
    format!("{:.d$} ± {:.d$}", scale * m.mean, scale * m.std, d = digits)
}

/// The main table: per sequence, evaluation and optimizer, ACC (%), BWT and forgetting
/// (percentage points), the final effective rank and the cross-class similarity (mean ± std
/// over seeds).
pub fn forgetting_table(run: &OptimizerForgettingRun) -> Table {
    let mut t = Table::new([
        "sequence",
        "eval",
        "optimizer",
        "ACC (%)",
        "BWT (pp)",
        "forgetting (pp)",
        "eff. rank (last)",
        "cross-class sim.",
    ]);
    for r in &run.summary {
        let erank = r
            .effective_rank
            .last()
            .map_or_else(String::new, |m| ms(m, 1.0, 1));
        t.push([
            r.task_kind.slug().to_string(),
            r.evaluation.short().to_string(),
            r.optimizer.label().to_string(),
            ms(&r.acc, 100.0, 1),
            ms(&r.bwt, 100.0, 1),
            ms(&r.forgetting, 100.0, 1),
            erank,
            ms(&r.similarity, 1.0, 3),
        ]);
    }
    t
}

/// The paper's claims, one row per (sequence, claim): Shampoo's, SGD's and AdamW's means and
/// the verdict.
pub fn claims_table(run: &OptimizerForgettingRun) -> Table {
    let mut t = Table::new([
        "sequence",
        "claim",
        "Shampoo",
        "SGD",
        "AdamW",
        "Shampoo's rank (1 = lowest)",
        "verdict",
    ]);
    let n = run.config.optimizers.len();
    for c in &run.claims {
        t.push([
            c.task_kind.slug().to_string(),
            format!("{} ({})", c.claim, c.measure),
            format!("{:.3}", c.shampoo),
            format!("{:.3}", c.sgd),
            format!("{:.3}", c.adamw),
            format!("{} of {n}", c.rank_among_all),
            c.verdict(),
        ]);
    }
    t
}

/// One paragraph, computed from [`OptimizerForgettingRun::claims`]: whether the paper's claim
/// (Shampoo forgets less, with lower-rank and less class-overlapping representations) holds in
/// this run, per sequence.
pub fn verdict(run: &OptimizerForgettingRun) -> String {
    let total = run.claims.len();
    let holding = run.claims.iter().filter(|c| c.holds).count();
    let every_seed = run
        .claims
        .iter()
        .filter(|c| c.holds && c.seeds_holding == c.seeds)
        .count();
    let overall = if total > 0 && holding == total {
        "**The paper's claim holds in this run**"
    } else if holding == 0 {
        "**The paper's claim does not hold in this run**"
    } else {
        "**The paper's claim holds only in part in this run**"
    };
    let mut per_kind = Vec::new();
    for &kind in &run.config.task_kinds {
        let parts: Vec<String> = run
            .claims
            .iter()
            .filter(|c| c.task_kind == kind)
            .map(|c| {
                format!(
                    "{} — {} (Shampoo {:.3} vs SGD {:.3}, AdamW {:.3})",
                    c.claim
                        .trim_start_matches("Shampoo's representations have ")
                        .trim_start_matches("Shampoo "),
                    c.verdict(),
                    c.shampoo,
                    c.sgd,
                    c.adamw
                )
            })
            .collect();
        per_kind.push(format!("{}: {}", kind.label(), parts.join("; ")));
    }
    format!(
        "{overall}: {holding} of {total} (sequence, claim) comparisons go the paper's way on \
         average over seeds ({every_seed} of them in every seed), comparing Shampoo with SGD and \
         AdamW under the task-incremental evaluation. {}.",
        per_kind.join(". ")
    )
}

fn markdown_body(run: &OptimizerForgettingRun) -> String {
    let cfg = &run.config;
    let widths: Vec<String> = std::iter::once(64)
        .chain(cfg.hidden.iter().copied())
        .chain(std::iter::once(10))
        .map(|w| w.to_string())
        .collect();
    let opts: Vec<String> = cfg
        .optimizers
        .iter()
        .map(|o| format!("{} (η = {})", o.kind.label(), o.lr))
        .collect();
    let seconds: Vec<String> = OptimizerKind::ALL
        .iter()
        .filter_map(|&k| {
            let s: Vec<f64> = run
                .runs
                .iter()
                .filter(|r| r.optimizer == k)
                .map(|r| r.seconds)
                .collect();
            (!s.is_empty()).then(|| format!("{} {:.0} s", k.label(), s.iter().sum::<f64>()))
        })
        .collect();
    format!(
        "A ReLU MLP {widths} is trained on a sequence of tasks built from the UCI optical \
         digits (8 × 8, {test:.0} % held out for testing): **permuted pixels** ({pt} tasks × \
         {ps} steps, task 0 unpermuted) and **class-incremental pairs** (0,1) → (2,3) → … \
         ({ct} tasks × {cs} steps), batches of {batch} drawn from the current task only. \
         Optimizers: {opts}; constant learning rates, optimizer state carried across tasks, the \
         same initial weights for every optimizer within a seed. {seeds} seeds. \
         R[i][j] is the test accuracy on task j after training task i; ACC = mean of the last \
         row, BWT = mean over i < T of R[T][i] − R[i][i], forgetting = mean over j < T of \
         max_l R[l][j] − R[T][j] (Chaudhry et al.).\n\n\
         **Evaluation.** The class-incremental sequence shares one 10-way head and is trained \
         with the full 10-way cross-entropy. It is scored two ways: *TIL* (task-incremental: the \
         task identity is given at test time and the head is masked to the task's two classes) \
         and *CIL* (class-incremental: argmax over all ten classes). TIL is the primary \
         evaluation and the one the verdict uses (under CIL every optimizer forgets old pairs \
         almost completely, so the comparison says little). For permuted pixels both coincide. \
         Representations: \\(h_L\\), the last hidden layer's ReLU output, on a probe of \
         {probe} test images per task; effective rank = exp(entropy of the normalised singular \
         values) of the uncentred probe × units matrix (Roy & Vetterli); cross-class similarity \
         = mean off-diagonal cosine similarity of the per-class mean of \\(h_L\\).\n\n{table}\n\
         **The paper's claim** (S4: Shampoo forgets less than SGD and AdamW, with lower-rank, \
         more localised representations and lower cross-class similarity), checked from the \
         numbers above (lower is the claim's direction for every measure; a claim holds when \
         Shampoo's mean is below both SGD's and AdamW's):\n\n{claims}\n{verdict}\n\n\
         Training time per optimizer (all seeds and sequences): {secs}. Total {total:.0} s on \
         `{backend}`.",
        widths = widths.join("-"),
        test = 100.0 * cfg.test_fraction,
        pt = cfg.permuted_tasks,
        ps = cfg.steps_per_permuted_task,
        ct = cfg.class_tasks,
        cs = cfg.steps_per_class_task,
        batch = cfg.batch,
        opts = opts.join(", "),
        seeds = cfg.seeds.len(),
        probe = cfg.probe_per_task,
        table = forgetting_table(run).to_markdown(),
        claims = claims_table(run).to_markdown(),
        verdict = verdict(run),
        secs = seconds.join(", "),
        total = run.seconds,
        backend = run.backend,
    )
}

fn r_matrix_grid(
    run: &OptimizerForgettingRun,
    kind: TaskKind,
    evaluation: Evaluation,
    seed: u64,
) -> HeatmapGrid {
    let t = run.config.tasks(kind);
    let labels: Vec<String> = (1..=t).map(|i| i.to_string()).collect();
    let panels = run
        .config
        .optimizers
        .iter()
        .filter_map(|o| run.run_of(seed, kind, o.kind))
        .map(|r| {
            let s = r.scores(evaluation);
            Heatmap {
                title: format!(
                    "{}: ACC {:.1} %, BWT {:+.1} pp",
                    r.optimizer.label(),
                    100.0 * s.acc,
                    100.0 * s.bwt
                ),
                row_labels: labels.clone(),
                col_labels: labels.clone(),
                values: r.r(evaluation).to_vec(),
            }
        })
        .collect();
    HeatmapGrid {
        title: format!(
            "Accuracy matrix R, {} ({}), seed {seed}",
            kind.label(),
            evaluation.short()
        ),
        row_axis: "after training task i".into(),
        col_axis: "tested on task j".into(),
        range: (0.0, 1.0),
        panels,
    }
}

fn similarity_grid(run: &OptimizerForgettingRun, kind: TaskKind, seed: u64) -> HeatmapGrid {
    let panels = run
        .config
        .optimizers
        .iter()
        .filter_map(|o| run.run_of(seed, kind, o.kind))
        .map(|r| {
            let labels: Vec<String> = r.similarity_classes.iter().map(|c| c.to_string()).collect();
            Heatmap {
                title: format!(
                    "{}: mean off-diag. {:.3}",
                    r.optimizer.label(),
                    r.mean_similarity
                ),
                row_labels: labels.clone(),
                col_labels: labels,
                values: r.similarity.clone(),
            }
        })
        .collect();
    HeatmapGrid {
        title: format!(
            "Cosine similarity of class-mean hidden activations, {}, after the last task",
            kind.label()
        ),
        row_axis: "class".into(),
        col_axis: "class".into(),
        range: (0.0, 1.0),
        panels,
    }
}

fn task_axis(run: &OptimizerForgettingRun, kind: TaskKind) -> Vec<f64> {
    (1..=run.config.tasks(kind)).map(|i| i as f64).collect()
}

fn effective_rank_plot(run: &OptimizerForgettingRun, kind: TaskKind) -> LinePlot {
    let mut plot = LinePlot::new(
        format!(
            "Effective rank of the hidden representation, {}",
            kind.label()
        ),
        "after training task",
        "effective rank of h_L (probe)",
    );
    for o in &run.config.optimizers {
        if let Some(r) = run.row(kind, Evaluation::TaskIncremental, o.kind) {
            plot.series.push(Series {
                name: o.kind.label().into(),
                x: task_axis(run, kind),
                mean: r.effective_rank.iter().map(|m| m.mean).collect(),
                std: Some(r.effective_rank.iter().map(|m| m.std).collect()),
            });
        }
    }
    plot
}

fn seen_accuracy_plot(run: &OptimizerForgettingRun, kind: TaskKind) -> LinePlot {
    let mut plot = LinePlot::new(
        format!("Mean accuracy on the tasks seen so far, {}", kind.label()),
        "after training task",
        "accuracy (%)",
    )
    .y_range(0.0, 100.0);
    let t = run.config.tasks(kind);
    for o in &run.config.optimizers {
        let per_seed: Vec<Vec<f64>> = run
            .runs
            .iter()
            .filter(|r| r.task_kind == kind && r.optimizer == o.kind)
            .map(|r| {
                (0..t)
                    .map(|i| 100.0 * r.r_task[i][..=i].iter().sum::<f64>() / (i + 1) as f64)
                    .collect()
            })
            .collect();
        if per_seed.is_empty() {
            continue;
        }
        let stats: Vec<crate::report::MeanStd> = (0..t)
            .filter_map(|i| {
                crate::report::mean_std(&per_seed.iter().map(|s| s[i]).collect::<Vec<_>>()).ok()
            })
            .collect();
        plot.series.push(Series {
            name: o.kind.label().into(),
            x: task_axis(run, kind),
            mean: stats.iter().map(|m| m.mean).collect(),
            std: Some(stats.iter().map(|m| m.std).collect()),
        });
    }
    plot
}

fn summary_csv(run: &OptimizerForgettingRun) -> Table {
    let mut t = Table::new([
        "sequence",
        "evaluation",
        "optimizer",
        "acc_mean",
        "acc_std",
        "bwt_mean",
        "bwt_std",
        "forgetting_mean",
        "forgetting_std",
        "effective_rank_last_mean",
        "effective_rank_last_std",
        "similarity_mean",
        "similarity_std",
    ]);
    for r in &run.summary {
        let last = r.effective_rank.last();
        t.push([
            r.task_kind.slug().to_string(),
            r.evaluation.short().to_string(),
            r.optimizer.label().to_string(),
            format!("{:.6}", r.acc.mean),
            format!("{:.6}", r.acc.std),
            format!("{:.6}", r.bwt.mean),
            format!("{:.6}", r.bwt.std),
            format!("{:.6}", r.forgetting.mean),
            format!("{:.6}", r.forgetting.std),
            last.map_or_else(String::new, |m| format!("{:.6}", m.mean)),
            last.map_or_else(String::new, |m| format!("{:.6}", m.std)),
            format!("{:.6}", r.similarity.mean),
            format!("{:.6}", r.similarity.std),
        ]);
    }
    t
}

fn per_run_csv(run: &OptimizerForgettingRun) -> Table {
    let mut t = Table::new([
        "seed",
        "sequence",
        "optimizer",
        "acc_til",
        "bwt_til",
        "forgetting_til",
        "acc_cil",
        "bwt_cil",
        "forgetting_cil",
        "effective_rank_per_task",
        "similarity",
        "final_loss",
        "seconds",
    ]);
    for r in &run.runs {
        t.push([
            r.seed.to_string(),
            r.task_kind.slug().to_string(),
            r.optimizer.label().to_string(),
            format!("{:.6}", r.scores_task.acc),
            format!("{:.6}", r.scores_task.bwt),
            format!("{:.6}", r.scores_task.forgetting),
            format!("{:.6}", r.scores_class.acc),
            format!("{:.6}", r.scores_class.bwt),
            format!("{:.6}", r.scores_class.forgetting),
            r.effective_rank
                .iter()
                .map(|e| format!("{e:.3}"))
                .collect::<Vec<_>>()
                .join(" "),
            format!("{:.6}", r.mean_similarity),
            format!("{:.6}", r.final_loss),
            format!("{:.2}", r.seconds),
        ]);
    }
    t
}
