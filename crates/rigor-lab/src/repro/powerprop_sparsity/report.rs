//! The Powerprop report: `results.json`, `summary.csv`, `per_run.csv`, `pruning_curve.svg`
//! and `section.md` with the verdict on the paper's claim.

use serde::Serialize;

use super::experiment::{AlphaRun, AlphaSummary, PowerpropSparsityRun};
use crate::error::Result;
use crate::report::{LinePlot, ReportSection, Results, RunDir, RunMeta, Series, Table};

#[derive(Serialize)]
struct Metrics<'a> {
    summary: &'a [AlphaSummary],
    runs: &'a [AlphaRun],
    verdict: String,
    seconds: f64,
}

/// Writes every file of the report into `dir` and returns the markdown section (`folder` is
/// the folder's name under the report root, for the index's figure links).
///
/// # Errors
/// I/O, JSON and plotting errors.
pub fn write_report(
    run: &PowerpropSparsityRun,
    dir: &RunDir,
    folder: &str,
) -> Result<ReportSection> {
    let cfg = &run.config;
    let mut meta = RunMeta::with_backend(run.backend.clone());
    meta.elapsed_s = run.seconds;
    dir.write_results(&Results {
        name: "powerprop_sparsity".into(),
        meta,
        config: cfg,
        seeds: cfg.seeds.clone(),
        metrics: Metrics {
            summary: &run.summary,
            runs: &run.runs,
            verdict: verdict(run),
            seconds: run.seconds,
        },
    })?;
    dir.write_csv("summary.csv", &summary_csv(run))?;
    dir.write_csv("per_run.csv", &per_run_csv(run))?;
    dir.write_svg("pruning_curve.svg", &pruning_plot(run))?;
    let section = ReportSection {
        title: "Powerprop sparsity — Optimizers Qualitatively Alter Solutions (S4)".into(),
        body: markdown_body(run),
        figures: vec![(
            "Test accuracy vs fraction of weights kept after global magnitude pruning (mean ± \
             std over seeds)"
                .into(),
            "pruning_curve.svg".into(),
        )],
        folder: folder.into(),
    };
    dir.write_text("section.md", &section.to_markdown(""))?;
    Ok(section)
}

fn ms(m: &crate::report::MeanStd, scale: f64, digits: usize) -> String {
    if m.count == 0 {
        return "diverged".into();
    }
    format!("{:.d$} ± {:.d$}", scale * m.mean, scale * m.std, d = digits)
}

fn pct(keep: f64) -> String {
    let p = 100.0 * keep;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0} %")
    } else {
        format!("{p:.1} %")
    }
}

/// The table printed by the example: per α, test accuracy (%) at the table's keep fractions
/// (mean ± std over the seeds that did not diverge), then the Hoyer sparsity and near-zero
/// fraction of the dense effective weights and the number of diverged seeds.
pub fn sparsity_table(run: &PowerpropSparsityRun) -> Table {
    let mut headers = vec!["α".to_string()];
    headers.extend(
        run.config
            .table_keeps
            .iter()
            .map(|&k| format!("acc @ {} kept", pct(k))),
    );
    headers.push("Hoyer (dense)".into());
    headers.push("|w| ≤ 1% max".into());
    headers.push("diverged".into());
    let mut t = Table::new(headers);
    for s in &run.summary {
        let mut row = vec![format!("{}", s.alpha)];
        row.extend(
            run.config
                .table_keeps
                .iter()
                .map(|&k| s.at(k).map_or_else(String::new, |m| ms(&m, 100.0, 1))),
        );
        row.push(ms(&s.hoyer, 1.0, 3));
        row.push(if s.near_zero.count == 0 {
            "—".into()
        } else {
            ms(&s.near_zero, 100.0, 1) + " %"
        });
        row.push(format!("{} of {}", s.diverged, run.config.seeds.len()));
        t.push(row);
    }
    t
}

/// One paragraph, computed from the summary: whether every α > 1 keeps more accuracy than
/// α = 1 at every keep fraction ≤ `verdict_max_keep` (the paper's claim: Powerprop's "rich get
/// richer" dynamics make the network robust to magnitude pruning), and the dense-accuracy cost.
/// An α that diverged in any seed is never credited with a win.
pub fn verdict(run: &PowerpropSparsityRun) -> String {
    let cfg = &run.config;
    let Some(base) = run.alpha(1.0) else {
        return "No α = 1 baseline was run, so the claim cannot be checked.".into();
    };
    let keeps: Vec<f64> = cfg
        .keep_fractions
        .iter()
        .copied()
        .filter(|&k| k <= cfg.verdict_max_keep && k < 1.0)
        .collect();
    let mut total = 0;
    let mut wins = 0;
    let mut lines = Vec::new();
    for s in run.summary.iter().filter(|s| s.alpha > 1.0) {
        let mut beats = 0;
        for &k in &keeps {
            if let (Some(a), Some(b)) = (s.at(k), base.at(k)) {
                total += 1;
                // An exponent that diverged in any seed is not credited: its mean is over the
                // surviving seeds only, while α = 1 is averaged over all of them. NaN (every
                // seed diverged) never compares greater either.
                if s.diverged == 0 && a.mean > b.mean {
                    beats += 1;
                    wins += 1;
                }
            }
        }
        let diverged = if s.diverged > 0 {
            format!(", {} of {} seeds diverged", s.diverged, cfg.seeds.len())
        } else {
            String::new()
        };
        lines.push(format!(
            "α = {} beats α = 1 at {beats} of {} keep fractions ≤ {} (dense accuracy {:+.1} pp \
             vs α = 1{diverged})",
            s.alpha,
            keeps.len(),
            pct(cfg.verdict_max_keep),
            100.0 * (s.accuracy.mean - base.accuracy.mean)
        ));
    }
    let best_at_smallest = keeps
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .is_finite()
        .then(|| {
            let k = keeps.iter().copied().fold(f64::INFINITY, f64::min);
            run.summary
                .iter()
                .filter_map(|s| s.at(k).map(|m| (s.alpha, m.mean)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(a, m)| {
                    format!(
                        "At {} kept the best exponent is α = {a} ({:.1} % vs {:.1} % for α = 1).",
                        pct(k),
                        100.0 * m,
                        100.0 * base.at(k).map_or(f64::NAN, |b| b.mean)
                    )
                })
        })
        .flatten()
        .unwrap_or_default();
    let overall = if total > 0 && wins == total {
        "**The paper's claim holds in this run**"
    } else if wins == 0 {
        "**The paper's claim does not hold in this run**"
    } else {
        "**The paper's claim holds only in part in this run**"
    };
    format!(
        "{overall}: Powerprop with α > 1 keeps more test accuracy than the plain network (α = 1) \
         under global magnitude pruning in {wins} of {total} (α, keep ≤ {}) comparisons of the \
         means over seeds. {}. {best_at_smallest}",
        pct(cfg.verdict_max_keep),
        lines.join("; ")
    )
}

fn markdown_body(run: &PowerpropSparsityRun) -> String {
    let cfg = &run.config;
    let widths: Vec<String> = std::iter::once(64)
        .chain(cfg.hidden.iter().copied())
        .chain(std::iter::once(10))
        .map(|w| w.to_string())
        .collect();
    let alphas: Vec<String> = cfg.alphas.iter().map(|a| a.to_string()).collect();
    format!(
        "Powerpropagation (Schwarz et al. 2021) reparameterises every weight matrix as \
         \\(w = \\operatorname{{sign}}(\\theta)|\\theta|^\\alpha\\); plain SGD on θ is, to first \
         order, SGD on w preconditioned by \\(P(w) = \\alpha^2|w|^{{2-2/\\alpha}}\\), so small \
         weights barely move (S4: the reparameterisation *is* an optimizer). Setup: the paper's \
         MLP with the input scaled to the UCI digits, {widths}, plain SGD on θ (η = {lr}, \
         batches of {batch} drawn uniformly, {steps} steps), α ∈ {{{alphas}}}, \
         {test:.0} % of the digits held out; every α starts from the same effective weights \
         within a seed; a run whose loss becomes non-finite is recorded as diverged and left \
         out of the means. Then the trained effective weights are pruned globally by magnitude \
         (one threshold over all weight matrices, biases kept) and the pruned network is scored \
         on the test set. Accuracy in % (mean ± std over {seeds} seeds):\n\n{table}\n{verdict}\n\n\
         Run time {secs:.0} s on `{backend}`.",
        widths = widths.join("-"),
        lr = cfg.lr,
        batch = cfg.batch,
        steps = cfg.steps,
        alphas = alphas.join(", "),
        test = 100.0 * cfg.test_fraction,
        seeds = cfg.seeds.len(),
        table = sparsity_table(run).to_markdown(),
        verdict = verdict(run),
        secs = run.seconds,
        backend = run.backend,
    )
}

fn pruning_plot(run: &PowerpropSparsityRun) -> LinePlot {
    let mut plot = LinePlot::new(
        "Powerprop: accuracy vs weights kept (global magnitude pruning)",
        "weights kept (%, log scale)",
        "test accuracy (%)",
    )
    .log2_x()
    .y_range(0.0, 100.0);
    for s in &run.summary {
        plot.series.push(Series {
            name: format!("α = {}", s.alpha),
            x: s.curve.iter().map(|(k, _)| 100.0 * k).collect(),
            mean: s.curve.iter().map(|(_, m)| 100.0 * m.mean).collect(),
            std: Some(s.curve.iter().map(|(_, m)| 100.0 * m.std).collect()),
        });
    }
    plot
}

fn summary_csv(run: &PowerpropSparsityRun) -> Table {
    let mut t = Table::new(["alpha", "keep", "accuracy_mean", "accuracy_std", "seeds"]);
    for s in &run.summary {
        for (k, m) in &s.curve {
            t.push([
                s.alpha.to_string(),
                format!("{k}"),
                format!("{:.6}", m.mean),
                format!("{:.6}", m.std),
                m.count.to_string(),
            ]);
        }
    }
    t
}

fn per_run_csv(run: &PowerpropSparsityRun) -> Table {
    let mut t = Table::new([
        "seed",
        "alpha",
        "keep",
        "kept",
        "accuracy",
        "dense_accuracy",
        "hoyer",
        "near_zero",
        "final_loss",
    ]);
    for r in &run.runs {
        for p in &r.curve {
            t.push([
                r.seed.to_string(),
                r.alpha.to_string(),
                format!("{}", p.keep),
                format!("{:.6}", p.kept),
                format!("{:.6}", p.accuracy),
                format!("{:.6}", r.accuracy),
                format!("{:.6}", r.hoyer),
                format!("{:.6}", r.near_zero),
                format!("{:.6}", r.final_loss),
            ]);
        }
    }
    t
}
