//! The max-retrieval report: `results.json`, `summary.csv`, `per_seed.csv`, `accuracy.svg`,
//! `max_weight.svg`, `entropy.svg`, `section.md`.

use serde::Serialize;

use super::MaxRetrievalConfig;
use super::experiment::{MaxRetrievalRun, SeedRun, SummaryRow};
use super::paper::{PAPER_ACCURACY, paper_accuracy};
use crate::error::Result;
use crate::report::{LinePlot, ReportSection, Results, RunDir, RunMeta, Series, Table};

#[derive(Serialize)]
struct Metrics<'a> {
    summary: &'a [SummaryRow],
    per_seed: &'a [SeedRun],
    paper: Vec<PaperRow>,
    seconds: f64,
}

#[derive(Serialize)]
struct PaperRow {
    n: usize,
    baseline: f64,
    adaptive: f64,
}

/// Writes every file of the report into `dir` and returns the markdown section (`folder` is
/// the folder's name under the report root, for the index's figure links).
///
/// # Errors
/// I/O, JSON and plotting errors.
pub fn write_report(run: &MaxRetrievalRun, dir: &RunDir, folder: &str) -> Result<ReportSection> {
    let cfg = &run.config;
    let mut meta = RunMeta::with_backend(run.backend.clone());
    meta.elapsed_s = run.seconds;
    dir.write_results(&Results {
        name: "max_retrieval".into(),
        meta,
        config: cfg,
        seeds: cfg.seeds.clone(),
        metrics: Metrics {
            summary: &run.summary,
            per_seed: &run.seeds,
            paper: PAPER_ACCURACY
                .iter()
                .map(|&(n, baseline, adaptive)| PaperRow {
                    n,
                    baseline,
                    adaptive,
                })
                .collect(),
            seconds: run.seconds,
        },
    })?;
    dir.write_csv("summary.csv", &summary_csv(run))?;
    dir.write_csv("per_seed.csv", &per_seed_csv(run))?;

    let figures = vec![
        (
            "Accuracy vs n (mean ± std band over seeds) with the paper's numbers".to_string(),
            "accuracy.svg".to_string(),
        ),
        (
            "Largest attention weight vs n".to_string(),
            "max_weight.svg".to_string(),
        ),
        (
            "Attention entropy vs n (ln n = uniform)".to_string(),
            "entropy.svg".to_string(),
        ),
    ];
    dir.write_svg("accuracy.svg", &accuracy_plot(run))?;
    dir.write_svg(
        "max_weight.svg",
        &metric_plot(
            run,
            "Max retrieval: largest attention weight",
            "max weight",
            |r| (r.max_weight.mean, r.max_weight.std),
        )
        .y_range(0.0, 1.0),
    )?;
    let mut entropy = metric_plot(
        run,
        "Max retrieval: attention entropy",
        "entropy (nats)",
        |r| (r.entropy.mean, r.entropy.std),
    );
    entropy.series.push(Series {
        name: "ln n (uniform)".into(),
        x: cfg.eval_ns.iter().map(|&n| n as f64).collect(),
        mean: cfg.eval_ns.iter().map(|&n| (n as f64).ln()).collect(),
        std: None,
    });
    dir.write_svg("entropy.svg", &entropy)?;

    let section = ReportSection {
        title: "Max retrieval — Softmax is not Enough (ICML 2025)".into(),
        body: markdown_body(run),
        figures,
        folder: folder.into(),
    };
    dir.write_text("section.md", &section.to_markdown(""))?;
    Ok(section)
}

fn pct(m: f64, s: f64) -> String {
    format!("{:.1} ± {:.1}", 100.0 * m, 100.0 * s)
}

fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "<1e-4".into()
    } else {
        format!("{p:.3}")
    }
}

/// The table printed by the examples: paper columns, then each variant's accuracy (%), then
/// adaptive − softmax with its two paired tests.
pub fn accuracy_table(run: &MaxRetrievalRun) -> Table {
    let cfg = &run.config;
    let mut headers = vec![
        "n".to_string(),
        "paper softmax".into(),
        "paper adaptive θ".into(),
    ];
    headers.extend(cfg.variants.iter().map(|v| v.label.clone()));
    let compare = cfg.variants.len() > 1;
    if compare {
        headers.extend([
            format!("Δ {} (pp)", cfg.variants[1].label),
            "p (t, seeds)".into(),
            "p (McNemar)".into(),
        ]);
    }
    let mut table = Table::new(headers);
    for &n in &cfg.eval_ns {
        let paper = paper_accuracy(n);
        let mut row = vec![
            n.to_string(),
            paper.map_or("—".into(), |p| format!("{:.1}", p.0)),
            paper.map_or("—".into(), |p| format!("{:.1}", p.1)),
        ];
        for v in 0..cfg.variants.len() {
            row.push(
                run.row(n, v)
                    .map_or("—".into(), |r| pct(r.accuracy.mean, r.accuracy.std)),
            );
        }
        if compare && let (Some(b), Some(a)) = (run.row(n, 0), run.row(n, 1)) {
            row.push(format!(
                "{:+.2}",
                100.0 * (a.accuracy.mean - b.accuracy.mean)
            ));
            row.push(a.t_test.map_or("—".into(), |t| p_value(t.p)));
            row.push(p_value(a.mcnemar_p));
        }
        table.push(row);
    }
    table
}

/// Dispersion table: max weight and entropy of each variant per n.
pub fn dispersion_table(run: &MaxRetrievalRun) -> Table {
    let cfg = &run.config;
    let mut headers = vec!["n".to_string(), "ln n".into()];
    for v in &cfg.variants {
        headers.push(format!("max w: {}", v.label));
    }
    for v in &cfg.variants {
        headers.push(format!("H: {}", v.label));
    }
    let mut table = Table::new(headers);
    for &n in &cfg.eval_ns {
        let mut row = vec![n.to_string(), format!("{:.2}", (n as f64).ln())];
        for v in 0..cfg.variants.len() {
            row.push(
                run.row(n, v)
                    .map_or("—".into(), |r| format!("{:.3}", r.max_weight.mean)),
            );
        }
        for v in 0..cfg.variants.len() {
            row.push(
                run.row(n, v)
                    .map_or("—".into(), |r| format!("{:.2}", r.entropy.mean)),
            );
        }
        table.push(row);
    }
    table
}

fn markdown_body(run: &MaxRetrievalRun) -> String {
    let cfg = &run.config;
    let train_acc: Vec<String> = run
        .seeds
        .iter()
        .filter_map(|s| s.history.last_eval())
        .filter_map(|m| m.values().next())
        .map(|a| format!("{:.1}", 100.0 * a))
        .collect();
    format!(
        "Trained with softmax on sets of {train_n} items ({steps} AdamW steps of {batch} sets, \
         d = {d}, rigor-nn `SetReadout`: encoder MLP with {enc} hidden GELU layers + linear output, \
         predictor MLP with {pred} hidden GELU layers + linear output); the normalizer is swapped at \
         inference only. {seeds} seeds; test sets per n: {t_lo}–{t_hi}. Accuracy in % (mean ± \
         std over seeds). Paired tests of adaptive θ against softmax on the same test sets: \
         a t-test over seeds' accuracies and an exact McNemar test over all sets. Paper numbers \
         from `docs/paper-facts.md` S1 (secondary source). Validation accuracy at n = {train_n} \
         after training, per seed: {train_acc}. Run time {secs:.0} s.\n\n{acc}\n**Dispersion** (mean \
         over sets and seeds):\n\n{disp}",
        train_n = cfg.train_n,
        steps = cfg.steps,
        batch = cfg.batch,
        d = cfg.model.hidden,
        enc = cfg.model.encoder_layers,
        pred = cfg.model.predictor_layers,
        seeds = cfg.seeds.len(),
        t_lo = cfg
            .eval_ns
            .iter()
            .map(|&n| cfg.test_sets(n))
            .min()
            .unwrap_or(0),
        t_hi = cfg
            .eval_ns
            .iter()
            .map(|&n| cfg.test_sets(n))
            .max()
            .unwrap_or(0),
        train_acc = train_acc.join(", "),
        secs = run.seconds,
        acc = accuracy_table(run).to_markdown(),
        disp = dispersion_table(run).to_markdown(),
    )
}

fn summary_csv(run: &MaxRetrievalRun) -> Table {
    let mut t = Table::new([
        "n",
        "variant",
        "accuracy_mean",
        "accuracy_std",
        "max_weight_mean",
        "max_weight_std",
        "entropy_mean",
        "entropy_std",
        "argmax_weight_mean",
        "t",
        "p_t",
        "only_baseline",
        "only_variant",
        "p_mcnemar",
    ]);
    for r in &run.summary {
        t.push([
            r.n.to_string(),
            r.variant.clone(),
            format!("{:.6}", r.accuracy.mean),
            format!("{:.6}", r.accuracy.std),
            format!("{:.6}", r.max_weight.mean),
            format!("{:.6}", r.max_weight.std),
            format!("{:.6}", r.entropy.mean),
            format!("{:.6}", r.entropy.std),
            format!("{:.6}", r.argmax_weight.mean),
            r.t_test.map_or(String::new(), |t| format!("{:.4}", t.t)),
            r.t_test.map_or(String::new(), |t| format!("{:.6}", t.p)),
            r.only_baseline.to_string(),
            r.only_variant.to_string(),
            format!("{:.6}", r.mcnemar_p),
        ]);
    }
    t
}

fn per_seed_csv(run: &MaxRetrievalRun) -> Table {
    let mut t = Table::new([
        "seed",
        "n",
        "variant",
        "sets",
        "accuracy",
        "max_weight",
        "entropy",
        "argmax_weight",
    ]);
    for s in &run.seeds {
        for e in &s.evals {
            t.push([
                s.seed.to_string(),
                e.n.to_string(),
                run.config.variants[e.variant].label.clone(),
                e.sets.to_string(),
                format!("{:.6}", e.accuracy),
                format!("{:.6}", e.max_weight),
                format!("{:.6}", e.entropy),
                format!("{:.6}", e.argmax_weight),
            ]);
        }
    }
    t
}

fn metric_plot(
    run: &MaxRetrievalRun,
    title: &str,
    y: &str,
    f: impl Fn(&SummaryRow) -> (f64, f64),
) -> LinePlot {
    let cfg: &MaxRetrievalConfig = &run.config;
    let mut plot = LinePlot::new(title, "set size n (log scale)", y).log2_x();
    for (v, variant) in cfg.variants.iter().enumerate() {
        let rows: Vec<&SummaryRow> = cfg.eval_ns.iter().filter_map(|&n| run.row(n, v)).collect();
        plot.series.push(Series {
            name: variant.label.clone(),
            x: rows.iter().map(|r| r.n as f64).collect(),
            mean: rows.iter().map(|r| f(r).0).collect(),
            std: Some(rows.iter().map(|r| f(r).1).collect()),
        });
    }
    plot
}

fn accuracy_plot(run: &MaxRetrievalRun) -> LinePlot {
    let mut plot = metric_plot(
        run,
        "Max retrieval: accuracy vs set size",
        "accuracy (%)",
        |r| (100.0 * r.accuracy.mean, 100.0 * r.accuracy.std),
    )
    .y_range(0.0, 100.0);
    let max_n = run.config.eval_ns.iter().copied().max().unwrap_or(0);
    let paper: Vec<_> = PAPER_ACCURACY.iter().filter(|p| p.0 <= max_n).collect();
    for (name, pick) in [("paper: softmax", 1usize), ("paper: adaptive θ", 2usize)] {
        plot.series.push(Series {
            name: name.into(),
            x: paper.iter().map(|p| p.0 as f64).collect(),
            mean: paper
                .iter()
                .map(|p| if pick == 1 { p.1 } else { p.2 })
                .collect(),
            std: None,
        });
    }
    plot
}
