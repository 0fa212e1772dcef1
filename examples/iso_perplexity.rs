//! Iso-perplexity, seen: curves of equal perplexity over (confidence, accuracy) for binary
//! predictions, with the worked cases of *Perplexity Cannot Always Tell Right from Wrong*
//! (Veličković et al., 2026, Sec. 4) marked, and a table in which a less accurate, more
//! confident model wins on perplexity.
//!
//! ```text
//! cargo run --release --example iso_perplexity -- [--tokens 10000] [--out out/iso_perplexity]
//! ```
//!
//! Prints the table and writes `iso_perplexity.svg` and `results.json` to the output folder.
//! Each table row is checked twice: by the closed form pplx(a, γ) and by feeding
//! `--tokens` synthetic binary predictions with exactly that accuracy and confidence through
//! rigor's pooled accumulator on the Flex device.

use std::path::PathBuf;

use burn::tensor::{Device, Int, Tensor, TensorData};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rigor::perplexity::{
    EvalConfig, IsoPerplexityGrid, Marker, critical_accuracy, iso_curve, plot_iso_perplexity, pplx,
    temperature_fold,
};
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(about = "Iso-perplexity curves and a less accurate model that wins on perplexity")]
struct Args {
    /// Synthetic tokens per model for the measured column.
    #[arg(long, default_value_t = 10_000)]
    tokens: usize,
    /// Output folder for the SVG plot and results.json.
    #[arg(long, default_value = "out/iso_perplexity")]
    out: PathBuf,
}

#[derive(Serialize)]
struct Row {
    model: String,
    accuracy: f64,
    confidence: f64,
    log_perplexity: f64,
    perplexity: f64,
    measured_perplexity: f64,
}

#[derive(Serialize)]
struct Results {
    worked_cases: Vec<(f64, f64, f64, f64)>,
    rows: Vec<Row>,
    curves: Vec<rigor::perplexity::IsoCurve>,
}

/// `n` binary predictions with confidence `c` (logits [ln c, ln(1 − c)]) of which a fraction
/// `a` is right, pooled through the accumulator.
fn measured(a: f64, c: f64, n: usize, device: &Device) -> f64 {
    let right = (a * n as f64).round() as usize;
    let row = [c.ln() as f32, (1.0 - c).ln() as f32];
    let logits: Vec<f32> = (0..n).flat_map(|_| row).collect();
    let targets: Vec<i64> = (0..n).map(|i| i64::from(i >= right)).collect();
    let mut acc = EvalConfig::new().init().expect("config");
    acc.update_flat(
        Tensor::from_data(TensorData::new(logits, [n, 2]), device),
        Tensor::<1, Int>::from_data(TensorData::new(targets, [n]), device),
        None,
    )
    .expect("scored");
    acc.perplexity().expect("tokens")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)?;
    let device = Device::flex();

    // docs/paper-facts.md S3: (a, γ, Δγ/γ) → a′
    let worked: Vec<(f64, f64, f64, f64)> = [(0.5, 0.4, 0.5), (0.9, 0.4, 0.5)]
        .into_iter()
        .map(|(a, g, frac)| {
            (
                a,
                g,
                g * frac,
                critical_accuracy(a, g, g * frac).expect("domain"),
            )
        })
        .collect();

    let theta = 0.5;
    let sharpened = 1.0 - temperature_fold(0.4, theta)?;
    let models: Vec<(String, f64, f64)> = vec![
        ("A: accurate, hesitant".into(), 0.9, 0.6),
        ("B: less accurate, confident".into(), 0.8, 0.8),
        ("C: at the critical accuracy a′".into(), worked[1].3, 0.8),
        ("D: below a′".into(), 0.74, 0.8),
        (
            format!("A at temperature θ = {theta} (Remark 3.4)"),
            0.9,
            sharpened,
        ),
    ];
    let bar = ProgressBar::new(models.len() as u64).with_style(ProgressStyle::with_template(
        "{bar:30} {pos}/{len} measuring {msg}",
    )?);
    let mut rows = Vec::new();
    for (name, a, c) in models {
        bar.set_message(name.clone());
        let l = pplx(a, 1.0 - c)?;
        rows.push(Row {
            measured_perplexity: measured(a, c, args.tokens, &device),
            model: name,
            accuracy: a,
            confidence: c,
            log_perplexity: l,
            perplexity: l.exp(),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();

    println!(
        "Worked checks (paper-facts.md S3): a′ = critical accuracy of a model Δγ more confident"
    );
    println!("{:>6} {:>6} {:>6} {:>8}", "a", "γ", "Δγ", "a′");
    for (a, g, d, ap) in &worked {
        println!("{a:>6.3} {g:>6.3} {d:>6.3} {ap:>8.4}");
    }
    println!();
    println!(
        "{:<42} {:>9} {:>11} {:>10} {:>10} {:>12}",
        "model", "accuracy", "confidence", "log-ppl", "ppl", "measured ppl"
    );
    for r in &rows {
        println!(
            "{:<42} {:>9.4} {:>11.4} {:>10.5} {:>10.5} {:>12.5}",
            r.model,
            r.accuracy,
            r.confidence,
            r.log_perplexity,
            r.perplexity,
            r.measured_perplexity
        );
    }
    let (a, b) = (&rows[0], &rows[1]);
    println!(
        "\n{} has {:.0}% accuracy vs {:.0}% for {}, yet LOWER perplexity ({:.4} < {:.4}): \
         perplexity cannot tell right from wrong.",
        b.model,
        100.0 * b.accuracy,
        100.0 * a.accuracy,
        a.model,
        b.perplexity,
        a.perplexity
    );

    let confidences = IsoPerplexityGrid::linspace(0.5005, 0.9995, 400);
    let mut levels = vec![pplx(0.5, 0.4)?, pplx(0.9, 0.4)?];
    levels.extend([0.25, 0.4, 0.9]);
    let curves = levels
        .iter()
        .map(|&l| iso_curve(l, &confidences))
        .collect::<Result<Vec<_>, _>>()?;
    let mut markers = Vec::new();
    for (a, g, d, ap) in &worked {
        markers.push(Marker {
            confidence: 1.0 - g,
            accuracy: *a,
            label: format!(" a={a}, γ={g}"),
        });
        markers.push(Marker {
            confidence: 1.0 - (g - d),
            accuracy: *ap,
            label: format!(" a′={ap:.3}"),
        });
    }
    plot_iso_perplexity(
        &args.out.join("iso_perplexity.svg"),
        "Iso-perplexity curves pplx(a, γ) = −a ln(1−γ) − (1−a) ln γ",
        &curves,
        &markers,
    )?;
    let results = Results {
        worked_cases: worked,
        rows,
        curves,
    };
    std::fs::write(
        args.out.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    println!(
        "wrote {}/{{results.json,iso_perplexity.svg}}",
        args.out.display()
    );
    Ok(())
}
