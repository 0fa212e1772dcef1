//! Verdicts computed from the numbers, tables, figures and the report section.

use serde::{Deserialize, Serialize};

use super::config::Variant;
use super::experiment::{ConstructionRun, DriftAnalysis, LmRun, RopeRun, UsageAnalysis};
use super::paper;
use crate::error::{LabError, Result};
use crate::report::{
    Heatmap, HeatmapGrid, LinePlot, ReportSection, Results, RunDir, RunMeta, Series, Table,
    mean_std, paired_t_test,
};

/// How strongly the numbers support one part of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    /// The numbers go against the claim, significantly (paired t-test p < 0.05).
    DoesNotHold,
    /// The numbers cannot tell (the difference has the wrong sign but is not significant).
    Inconclusive,
    /// The difference has the claimed sign but is not significant (or there is one seed).
    DirectionOnly,
    /// The difference has the claimed sign and is significant (p < 0.05).
    Holds,
}

impl Support {
    /// A phrase for tables.
    pub fn phrase(&self) -> &'static str {
        match self {
            Support::DoesNotHold => "does not hold",
            Support::Inconclusive => "inconclusive",
            Support::DirectionOnly => "direction only (not significant)",
            Support::Holds => "holds",
        }
    }
}

/// One paired comparison of a variant against RoPE at one length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The variant's label.
    pub variant: String,
    /// Evaluation length (bytes).
    pub length: usize,
    /// Mean over seeds of (variant − RoPE) bits per byte.
    pub mean_diff: f64,
    /// Sample standard deviation of the per-seed differences (0 for one seed).
    pub std_diff: f64,
    /// Two-sided paired t-test p (`None` with one seed).
    pub p: Option<f64>,
    /// Whether the difference is within noise: the paired t-test does not reject "no
    /// difference" at 5 % (`p ≥ 0.05`; always `true` with one seed, which cannot tell). The
    /// same test [`support`] reads, so a row is never "significant" in one place and "noise"
    /// in another (a 2-standard-error rule would say "not noise" at p = 0.23 with two seeds).
    pub within_noise: bool,
}

/// Paired comparison of `b` against `a` (per-seed values in the same seed order).
///
/// # Errors
/// [`LabError::Stats`] for empty or unequal inputs.
pub fn compare(variant: &str, length: usize, a: &[f64], b: &[f64]) -> Result<Comparison> {
    if a.len() != b.len() || a.is_empty() {
        return Err(LabError::Stats("comparison needs equal, non-empty samples"));
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let ms = mean_std(&d)?;
    let p = if d.len() >= 2 {
        Some(paired_t_test(a, b)?.p)
    } else {
        None
    };
    Ok(Comparison {
        variant: variant.to_string(),
        length,
        mean_diff: ms.mean,
        std_diff: ms.std,
        p,
        within_noise: p.is_none_or(|p| p >= 0.05),
    })
}

/// Support for "`better` is lower than `worse`" (`strict`) or "not higher" (`!strict`) from a
/// comparison whose `mean_diff` is `worse − better`.
pub fn support(c: &Comparison, strict: bool) -> Support {
    let significant = c.p.is_some_and(|p| p < 0.05);
    let right_sign = if strict {
        c.mean_diff > 0.0
    } else {
        c.mean_diff >= 0.0
    };
    match (right_sign, significant) {
        (true, true) => Support::Holds,
        (true, false) => Support::DirectionOnly,
        (false, false) => Support::Inconclusive,
        (false, true) => Support::DoesNotHold,
    }
}

/// The verdict on the paper's ordering p-RoPE ≤ RoPE < NoPE at one length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderingVerdict {
    /// Evaluation length (bytes).
    pub length: usize,
    /// The p-RoPE the ordering is judged on (0.75 when run, the paper's; else the largest p).
    pub prope: String,
    /// RoPE − p-RoPE.
    pub prope_vs_rope: Comparison,
    /// NoPE − RoPE.
    pub nope_vs_rope: Comparison,
    /// "p-RoPE ≤ RoPE".
    pub prope_not_worse: Support,
    /// "RoPE < NoPE".
    pub rope_beats_nope: Support,
    /// The weaker of the two.
    pub overall: Support,
}

/// The ordering verdict from per-seed bits per byte of RoPE, the p-RoPE and NoPE (each in the
/// same seed order).
///
/// # Errors
/// [`LabError::Stats`] for empty or unequal inputs.
pub fn ordering_verdict(
    length: usize,
    prope_label: &str,
    rope: &[f64],
    prope: &[f64],
    nope: &[f64],
) -> Result<OrderingVerdict> {
    // mean_diff = rope − prope: positive when p-RoPE is better
    let prope_vs_rope = compare(prope_label, length, prope, rope)?;
    let nope_vs_rope = compare("NoPE", length, rope, nope)?;
    let prope_not_worse = support(&prope_vs_rope, false);
    let rope_beats_nope = support(&nope_vs_rope, true);
    Ok(OrderingVerdict {
        length,
        prope: prope_label.to_string(),
        prope_not_worse,
        rope_beats_nope,
        overall: prope_not_worse.min(rope_beats_nope),
        prope_vs_rope,
        nope_vs_rope,
    })
}

/// The usage observations as verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageVerdict {
    /// The model.
    pub label: String,
    /// Observation 1 holds: the argmax slot is in the lowest-frequency quarter in more than
    /// half the layers.
    pub lowest_carry_most: bool,
    /// Observation 2: the layer with the largest high-frequency share is the first or last
    /// (`None`: fewer than 3 layers, not testable).
    pub high_in_first_or_last: Option<bool>,
}

/// Usage verdicts of one model.
pub fn usage_verdict(u: &UsageAnalysis) -> UsageVerdict {
    let layers = u.observations.argmax_slot.len();
    UsageVerdict {
        label: u.label.clone(),
        lowest_carry_most: 2 * u.observations.layers_lowest_quarter > layers,
        high_in_first_or_last: u.observations.high_in_first_or_last,
    }
}

/// The constructions' verdict: "RoPE learns both heads, NoPE neither; the hand-built heads
/// work".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstructionVerdict {
    /// Trained RoPE heads solve ≥ 90 % of rows on both tasks.
    pub rope_learns_both: bool,
    /// Trained NoPE heads solve no row on either task (claim 2).
    pub nope_learns_neither: bool,
    /// The hand-built heads solve every row.
    pub hand_built_solve: bool,
}

/// The verdict from the construction runs (matched by their `head` prefix).
pub fn construction_verdict(runs: &[ConstructionRun]) -> ConstructionVerdict {
    let all = |prefix: &str, f: &dyn Fn(&ConstructionRun) -> bool| {
        let m: Vec<&ConstructionRun> = runs.iter().filter(|r| r.head.starts_with(prefix)).collect();
        !m.is_empty() && m.into_iter().all(f)
    };
    ConstructionVerdict {
        rope_learns_both: all("RoPE (trained)", &|r| r.accuracy >= 0.9),
        nope_learns_neither: all("NoPE (trained)", &|r| r.accuracy == 0.0),
        hand_built_solve: all("RoPE (hand-built", &|r| r.accuracy == 1.0),
    }
}

/// Every verdict of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdicts {
    /// The ordering at every evaluation length.
    pub ordering: Vec<OrderingVerdict>,
    /// Every other variant against RoPE at every length.
    pub comparisons: Vec<Comparison>,
    /// Usage observations per analysed model.
    pub usage: Vec<UsageVerdict>,
    /// Constructions.
    pub constructions: ConstructionVerdict,
    /// Drift violations over every analysed model (must be 0).
    pub drift_violations: u64,
}

fn per_seed(run: &RopeRun, label: &str, length: usize) -> Vec<f64> {
    run.config
        .seeds
        .iter()
        .filter_map(|&s| {
            run.runs
                .iter()
                .find(|r| r.seed == s && r.label == label)
                .and_then(|r| r.bpb_at(length))
        })
        .collect()
}

fn lengths(run: &RopeRun) -> Vec<usize> {
    run.config
        .lm
        .eval_multiples
        .iter()
        .map(|k| k * run.config.lm.context)
        .collect()
}

/// The p-RoPE the ordering is judged on: p = 0.75 if run, else the largest p.
fn judged_prope(run: &RopeRun) -> Option<String> {
    let ps: Vec<f64> = run
        .config
        .lm
        .variants
        .iter()
        .filter_map(|v| match v {
            Variant::PRope { p } => Some(*p),
            _ => None,
        })
        .collect();
    let p = if ps.contains(&0.75) {
        0.75
    } else {
        ps.iter().copied().fold(f64::NAN, f64::max)
    };
    p.is_finite().then(|| Variant::PRope { p }.label())
}

/// Computes every verdict from the run's numbers.
///
/// # Errors
/// [`LabError::Stats`] if a variant lacks a seed's value.
pub fn verdicts(run: &RopeRun) -> Result<Verdicts> {
    let mut ordering = Vec::new();
    let mut comparisons = Vec::new();
    for length in lengths(run) {
        let rope = per_seed(run, "RoPE", length);
        for v in &run.config.lm.variants {
            if *v == Variant::Rope {
                continue;
            }
            comparisons.push(compare(
                &v.label(),
                length,
                &rope,
                &per_seed(run, &v.label(), length),
            )?);
        }
        let has_nope = run.config.lm.variants.contains(&Variant::NoPe);
        if let (Some(p), true) = (judged_prope(run), has_nope) {
            ordering.push(ordering_verdict(
                length,
                &p,
                &rope,
                &per_seed(run, &p, length),
                &per_seed(run, "NoPE", length),
            )?);
        }
    }
    Ok(Verdicts {
        ordering,
        comparisons,
        usage: run.usage.iter().map(usage_verdict).collect(),
        constructions: construction_verdict(&run.constructions),
        drift_violations: run.drift.iter().map(|d| d.violations).sum(),
    })
}

fn pm(xs: &[f64]) -> String {
    match mean_std(xs) {
        Ok(m) if m.count > 1 => format!("{:.4} ± {:.4}", m.mean, m.std),
        Ok(m) => format!("{:.4}", m.mean),
        Err(_) => "—".into(),
    }
}

/// Bits per byte per variant and length (mean ± std over seeds), with the beyond-training part.
pub fn lm_table(run: &RopeRun) -> Table {
    let ls = lengths(run);
    let mut headers = vec!["variant".to_string()];
    for &l in &ls {
        headers.push(format!("bpb @ {l} B"));
        if l > run.config.lm.context {
            headers.push(format!(
                "bpb @ {l} B, positions ≥ {}",
                run.config.lm.context
            ));
        }
    }
    headers.push("train s (mean)".into());
    let mut t = Table::new(headers);
    for v in &run.config.lm.variants {
        let label = v.label();
        let mine: Vec<&LmRun> = run.runs.iter().filter(|r| r.label == label).collect();
        let mut row = vec![label.clone()];
        for &l in &ls {
            row.push(pm(&per_seed(run, &label, l)));
            if l > run.config.lm.context {
                let beyond: Vec<f64> = mine
                    .iter()
                    .filter_map(|r| {
                        r.evals
                            .iter()
                            .find(|e| e.length == l)
                            .and_then(|e| e.bpb_beyond_train)
                    })
                    .collect();
                row.push(pm(&beyond));
            }
        }
        let secs: Vec<f64> = mine.iter().map(|r| r.train_seconds).collect();
        row.push(format!("{:.0}", mean_std(&secs).map_or(0.0, |m| m.mean)));
        t.push(row);
    }
    t
}

/// Every comparison against RoPE.
pub fn comparison_table(v: &Verdicts) -> Table {
    let mut t = Table::new([
        "variant",
        "length (B)",
        "Δ bpb vs RoPE (mean)",
        "std of Δ",
        "paired p",
        "within noise",
    ]);
    for c in &v.comparisons {
        t.push([
            c.variant.clone(),
            c.length.to_string(),
            format!("{:+.4}", c.mean_diff),
            format!("{:.4}", c.std_diff),
            c.p.map_or("— (1 seed)".into(), |p| format!("{p:.3}")),
            if c.within_noise { "yes" } else { "no" }.into(),
        ]);
    }
    t
}

/// The paper's perplexities beside ours, as relative changes against RoPE.
pub fn paper_table(run: &RopeRun) -> Table {
    let mut t = Table::new(["setting", "RoPE", "0.75-RoPE", "relative change", "NoPE"]);
    for (data, rope, p075) in [
        ("Wiki", paper::WIKI_ROPE, paper::WIKI_P075),
        ("FlanV2", paper::FLAN_ROPE, paper::FLAN_P075),
    ] {
        t.push([
            format!("paper, Gemma 2B, {data} (perplexity)"),
            format!("{rope:.4}"),
            format!("{p075:.4}"),
            format!("{:+.2} %", 100.0 * paper::relative(p075, rope)),
            "worse (no number)".into(),
        ]);
    }
    let l = run.config.lm.context;
    let mean = |label: &str| {
        mean_std(&per_seed(run, label, l))
            .ok()
            .map(|m| m.mean.exp2())
    };
    if let (Some(r), Some(p)) = (mean("RoPE"), mean("0.75-RoPE")) {
        t.push([
            format!(
                "rigor, {} (byte perplexity 2^bpb @ {l} B)",
                run.corpus.source
            ),
            format!("{r:.4}"),
            format!("{p:.4}"),
            format!("{:+.2} %", 100.0 * paper::relative(p, r)),
            mean("NoPE").map_or("—".into(), |n| format!("{n:.4}")),
        ]);
    }
    t
}

/// Usage observations per layer.
pub fn usage_table(u: &UsageAnalysis) -> Table {
    let mut t = Table::new([
        "layer",
        "argmax slot (query)",
        "its wavelength (tokens)",
        "high-frequency share",
    ]);
    let wl = u.query.wavelengths();
    for (l, (&k, &share)) in u
        .observations
        .argmax_slot
        .iter()
        .zip(&u.observations.high_share)
        .enumerate()
    {
        t.push([
            l.to_string(),
            format!("{k} of {}", u.observations.live_slots),
            wl.get(k)
                .copied()
                .flatten()
                .map_or("∞ (NoPE)".into(), |w| format!("{w:.1}")),
            format!("{share:.3}"),
        ]);
    }
    t
}

/// The constructions.
pub fn construction_table(runs: &[ConstructionRun]) -> Table {
    let mut t = Table::new([
        "task",
        "head",
        "rows solved",
        "mean target weight",
        "max causal logit spread",
        "final loss",
    ]);
    for r in runs {
        t.push([
            r.task.clone(),
            r.head.clone(),
            format!("{:.3}", r.accuracy),
            format!("{:.3}", r.mean_target_weight),
            format!("{:.2e}", r.max_row_range),
            r.final_loss
                .map_or("—".into(), |l| format!("{:.4}", l.max(0.0))),
        ]);
    }
    t
}

/// Drift against the bound at a few slots.
pub fn drift_table(d: &DriftAnalysis) -> Table {
    let mut headers = vec!["slot".to_string(), "g_k".to_string()];
    for r in &d.distances {
        headers.push(format!("r = {r}: measured / bound"));
    }
    let mut t = Table::new(headers);
    for (k, g) in d.inv_freq.iter().enumerate() {
        let mut row = vec![k.to_string(), format!("{g:.3e}")];
        for i in 0..d.distances.len() {
            row.push(format!("{:.3} / {:.3}", d.measured[k][i], d.bound[k][i]));
        }
        t.push(row);
    }
    t
}

fn curves_plot(run: &RopeRun) -> LinePlot {
    let mut plot = LinePlot::new(
        format!(
            "Validation bits per byte at the training length ({} B)",
            run.config.lm.context
        ),
        "step",
        "bits per byte",
    );
    for v in &run.config.lm.variants {
        let mine: Vec<&LmRun> = run.runs.iter().filter(|r| r.label == v.label()).collect();
        let Some(first) = mine.first() else { continue };
        let steps: Vec<f64> = first.curve.iter().map(|(s, _)| *s as f64).collect();
        let (mut mean, mut std) = (Vec::new(), Vec::new());
        for i in 0..steps.len() {
            let xs: Vec<f64> = mine
                .iter()
                .filter_map(|r| r.curve.get(i).map(|c| c.1))
                .collect();
            let m = mean_std(&xs).unwrap_or(crate::report::MeanStd {
                mean: f64::NAN,
                std: 0.0,
                count: 0,
            });
            mean.push(m.mean);
            std.push(m.std);
        }
        plot = plot.with_series(Series {
            name: v.label(),
            x: steps,
            mean,
            std: (mine.len() > 1).then_some(std),
        });
    }
    plot
}

fn lengths_plot(run: &RopeRun) -> LinePlot {
    let mut plot = LinePlot::new(
        "Length generalisation: validation bits per byte by window length",
        "window length (bytes)",
        "bits per byte",
    )
    .log2_x();
    let ls = lengths(run);
    for v in &run.config.lm.variants {
        let (mut mean, mut std) = (Vec::new(), Vec::new());
        for &l in &ls {
            let m = mean_std(&per_seed(run, &v.label(), l)).unwrap_or(crate::report::MeanStd {
                mean: f64::NAN,
                std: 0.0,
                count: 0,
            });
            mean.push(m.mean);
            std.push(m.std);
        }
        plot = plot.with_series(Series {
            name: v.label(),
            x: ls.iter().map(|&l| l as f64).collect(),
            mean,
            std: (run.config.seeds.len() > 1).then_some(std),
        });
    }
    plot
}

fn drift_plot(d: &DriftAnalysis) -> LinePlot {
    let mut plot = LinePlot::new(
        format!(
            "Drift |a_k(r) − a_k(0)| vs 2|sin(r g_k/2)|·‖q_k‖‖k_k‖ ({})",
            d.label
        ),
        "distance r",
        "mean over (q, k) pairs",
    )
    .log2_x();
    let live: Vec<usize> = (0..d.inv_freq.len())
        .filter(|&k| d.inv_freq[k] > 0.0)
        .collect();
    let mut picks = Vec::new();
    if let (Some(&first), Some(&last)) = (live.first(), live.last()) {
        picks.extend([first, live[live.len() / 2], last]);
        picks.dedup();
    }
    for k in picks {
        let x: Vec<f64> = d.distances.iter().map(|&r| r as f64).collect();
        plot = plot
            .with_series(Series {
                name: format!("slot {k}: measured"),
                x: x.clone(),
                mean: d.measured[k].clone(),
                std: None,
            })
            .with_series(Series {
                name: format!("slot {k}: bound"),
                x,
                mean: d.bound[k].clone(),
                std: None,
            });
    }
    plot
}

/// Per-seed numbers behind `results.json`.
#[derive(Debug, Clone, Serialize)]
struct Metrics<'a> {
    corpus: &'a super::experiment::CorpusInfo,
    runs: &'a [LmRun],
    usage: &'a [UsageAnalysis],
    positional_head: &'a super::experiment::PositionalHeadPick,
    drift: &'a [DriftAnalysis],
    constructions: &'a [ConstructionRun],
    verdicts: &'a Verdicts,
    paper: paper::PaperNumbers,
    seconds: f64,
}

fn markdown_body(run: &RopeRun, v: &Verdicts) -> String {
    let cfg = &run.config;
    let m = &cfg.model;
    let mut md = format!(
        "Corpus: {} ({} bytes; {} training / {} validation bytes, {} contiguous blocks with \
         every {}th held out), byte-level tokens. Decoder: rigor-nn `DecoderLm`, d = {}, {} \
         layers × {} heads of {}, MLP {}, RMSNorm, θ = {}; AdamW, warm-up + cosine, {} steps × \
         {} windows of {} + 1 bytes. The variants share seeds, initial weights and data order. \
         Seeds {:?}. {:.0} s in all.\n\n",
        run.corpus.source,
        run.corpus.total_bytes,
        run.corpus.train_bytes,
        run.corpus.valid_bytes,
        run.corpus.split.blocks,
        run.corpus.split.valid_every,
        m.d_model,
        m.n_layers,
        m.n_heads,
        m.head_dim(),
        m.d_ff,
        m.rope_theta,
        cfg.lm.steps,
        cfg.lm.batch,
        cfg.lm.context,
        cfg.seeds,
        run.seconds
    );
    md.push_str("### 1. RoPE vs p-RoPE vs NoPE language models\n\n");
    md.push_str(&format!("Paper: {}\n\n", paper::LM_CLAIM));
    md.push_str(&lm_table(run).to_markdown());
    md.push_str("\nPaired against RoPE (same seed, same initial weights and data):\n\n");
    md.push_str(&comparison_table(v).to_markdown());
    md.push_str("\nBeside the paper's numbers (relative change against RoPE):\n\n");
    md.push_str(&paper_table(run).to_markdown());
    md.push('\n');
    for o in &v.ordering {
        md.push_str(&format!(
            "**Verdict @ {} B — {} ≤ RoPE < NoPE: {}** ({} ≤ RoPE: {}; RoPE < NoPE: {}).\n\n",
            o.length,
            o.prope,
            o.overall.phrase(),
            o.prope,
            o.prope_not_worse.phrase(),
            o.rope_beats_nope.phrase()
        ));
    }
    if cfg.seeds.len() < 2 {
        md.push_str(
            "With one seed no difference can be told from noise; the directions above are \
             single runs.\n\n",
        );
    } else if v.comparisons.iter().all(|c| c.within_noise) {
        md.push_str(
            "No difference against RoPE is significant (paired t-test, p ≥ 0.05 for every \
             variant and length): at this scale the comparison is noise.\n\n",
        );
    }
    md.push_str("### 2. Frequency usage (claim 5)\n\n");
    md.push_str(&format!("Paper: {}\n\n", paper::USAGE_CLAIM));
    for (u, uv) in run.usage.iter().zip(&v.usage) {
        md.push_str(&format!(
            "**{}** (query chunks, head-averaged):\n\n",
            u.label
        ));
        md.push_str(&usage_table(u).to_markdown());
        md.push_str(&format!(
            "\nLowest frequencies carry the largest norms in most layers: **{}** ({} of {} \
             layers). High frequencies concentrate in the first / last layer: **{}**.\n\n",
            if uv.lowest_carry_most { "yes" } else { "no" },
            u.observations.layers_lowest_quarter,
            u.observations.argmax_slot.len(),
            match uv.high_in_first_or_last {
                Some(true) => "yes",
                Some(false) => "no",
                None => "not testable (fewer than 3 layers)",
            }
        ));
    }
    let h = &run.positional_head;
    md.push_str(&format!(
        "Most positional head of the RoPE model: layer {}, head {}, **{}** (mean weight {:.3} on \
         that key).\n\n",
        h.layer, h.head, h.kind, h.mean_weight
    ));
    md.push_str("### 3. Constructions over identical tokens (claims 2 and 3)\n\n");
    md.push_str(&format!("Paper: {}\n\n", paper::CONSTRUCTION_CLAIM));
    md.push_str(&construction_table(&run.constructions).to_markdown());
    let c = &v.constructions;
    md.push_str(&format!(
        "\nRoPE learns both heads: **{}**; NoPE learns neither: **{}**; the hand-built heads \
         solve every row: **{}**.\n\n",
        c.rope_learns_both, c.nope_learns_neither, c.hand_built_solve
    ));
    md.push_str("### 4. Drift (claim 4)\n\n");
    md.push_str(&format!("Paper: {}\n\n", paper::DRIFT_CLAIM));
    for d in &run.drift {
        md.push_str(&format!(
            "**{}**: {} (pair, slot, distance) triples checked, {} above the bound.\n\n",
            d.label, d.checked, d.violations
        ));
    }
    if let Some(d) = run.drift.first() {
        md.push_str(&drift_table(d).to_markdown());
    }
    md
}

/// Writes `results.json`, CSVs, SVGs and `section.md` into `dir`; returns the section.
///
/// # Errors
/// I/O, plotting and statistics errors.
pub fn write_report(run: &RopeRun, dir: &RunDir, folder: &str) -> Result<ReportSection> {
    let v = verdicts(run)?;
    let mut meta = RunMeta::with_backend(run.backend.clone());
    meta.elapsed_s = run.seconds;
    dir.write_results(&Results {
        name: "rope".into(),
        meta,
        config: &run.config,
        seeds: run.config.seeds.clone(),
        metrics: Metrics {
            corpus: &run.corpus,
            runs: &run.runs,
            usage: &run.usage,
            positional_head: &run.positional_head,
            drift: &run.drift,
            constructions: &run.constructions,
            verdicts: &v,
            paper: paper::PaperNumbers::default(),
            seconds: run.seconds,
        },
    })?;
    dir.write_csv("lm.csv", &lm_table(run))?;
    dir.write_csv("comparisons.csv", &comparison_table(&v))?;
    dir.write_csv("paper.csv", &paper_table(run))?;
    dir.write_csv("constructions.csv", &construction_table(&run.constructions))?;
    dir.write_svg("lm_curves.svg", &curves_plot(run))?;
    dir.write_svg("lm_lengths.svg", &lengths_plot(run))?;
    let mut figures = vec![
        (
            "Validation bits per byte during training (mean ± std over seeds)".to_string(),
            "lm_curves.svg".to_string(),
        ),
        (
            "Bits per byte at 1×, 2×, 4× the training length".to_string(),
            "lm_lengths.svg".to_string(),
        ),
    ];
    for u in &run.usage {
        let tag = u.label.replace('.', "");
        dir.write_csv(&format!("usage_{tag}.csv"), &usage_table(u))?;
        for (which, usage) in [("query", &u.query), ("key", &u.key)] {
            let name = format!("usage_{which}_{tag}.svg");
            usage
                .write_svg_heatmap(
                    &dir.join(&name),
                    &format!("{}: mean {which} chunk norm per layer × frequency", u.label),
                )
                .map_err(LabError::from)?;
            figures.push((
                format!(
                    "{}: {which} frequency usage (row-normalised; slot 0 = highest frequency)",
                    u.label
                ),
                name,
            ));
        }
    }
    let h = &run.positional_head;
    if !h.pattern.is_empty() {
        let n = h.pattern.len();
        let labels = |n: usize| -> Vec<String> {
            (0..n)
                .map(|i| {
                    if i % 8 == 0 {
                        i.to_string()
                    } else {
                        String::new()
                    }
                })
                .collect()
        };
        HeatmapGrid {
            title: format!("Layer {}, head {}: {} head", h.layer, h.head, h.kind),
            row_axis: "query position".into(),
            col_axis: "key position".into(),
            range: (0.0, 1.0),
            panels: vec![Heatmap {
                title: format!("attention weights, first {n} bytes of validation text"),
                row_labels: labels(n),
                col_labels: labels(n),
                values: h.pattern.clone(),
            }],
        }
        .write_svg(&dir.join("positional_head.svg"))?;
        figures.push((
            "Attention pattern of the RoPE model's most positional head".to_string(),
            "positional_head.svg".to_string(),
        ));
    }
    for d in &run.drift {
        let tag = d.label.replace('.', "");
        dir.write_csv(&format!("drift_{tag}.csv"), &drift_table(d))?;
        let name = format!("drift_{tag}.svg");
        dir.write_svg(&name, &drift_plot(d))?;
        figures.push((
            format!("{}: measured drift against claim 4's bound", d.label),
            name,
        ));
    }
    let section = ReportSection {
        title: "Round and Round We Go! (S2): RoPE vs p-RoPE vs NoPE, usage, constructions, drift"
            .into(),
        body: markdown_body(run, &v),
        figures,
        folder: folder.into(),
    };
    dir.write_text("section.md", &section.to_markdown(""))?;
    Ok(section)
}
