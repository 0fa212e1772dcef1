//! Dispersion, seen: for logits of fixed spread δ, the largest attention weight of every
//! normalizer as the number of items n grows from 16 to 65 536, next to the bounds of
//! Lemma 2.1 of *Softmax is not Enough* (Veličković et al., ICML 2025).
//!
//! ```text
//! cargo run --release --example softmax_dispersion -- [--delta 4] [--out out/softmax_dispersion]
//! ```
//!
//! Prints a table, and writes `max_weight.svg` and `results.json` to the output folder.
//! Row construction: item 0 has logit δ, the other n − 1 items are uniform in [0, δ/2]
//! (seeded), so the spread is exactly δ and item 0 is the one a sharp head should pick.

use std::path::PathBuf;
use std::sync::Arc;

use burn::tensor::{Device, Tensor, TensorData};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;
use rigor::softmax::{
    AsEntmax, Llama4Temperature, Normalize, Normalizer, Sinks, Temperature, lemma_2_1,
    normalize_along,
};
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(about = "Max attention weight vs n for each normalizer, next to Lemma 2.1's bounds")]
struct Args {
    /// Spread δ of the logits (max − min).
    #[arg(long, default_value_t = 4.0)]
    delta: f32,
    /// Output folder for the SVG plot and results.json.
    #[arg(long, default_value = "out/softmax_dispersion")]
    out: PathBuf,
    /// Seed for the filler logits.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Serialize)]
struct Series {
    normalizer: String,
    max_weight: Vec<f64>,
}

#[derive(Serialize)]
struct Results {
    delta: f32,
    seed: u64,
    n: Vec<usize>,
    lemma_2_1_upper: Vec<f64>,
    lemma_2_1_tight_max: Vec<f64>,
    series: Vec<Series>,
}

/// Item 0 at δ, the rest uniform in [0, δ/2] from rigor-lab's seeded ChaCha8 stream.
fn row(n: usize, delta: f32, seed: u64) -> Vec<f32> {
    let mut rng = rigor::lab::rng::rng(seed, "softmax_dispersion/row");
    (0..n)
        .map(|i| {
            if i == 0 {
                return delta;
            }
            rigor::lab::rng::uniform(&mut rng) * delta / 2.0
        })
        .collect()
}

/// Normalizers with their table names.
type Named = Vec<(String, Arc<dyn Normalize>)>;

/// Every normalizer, as it sees a single query row at position `n − 1` over `n` keys: the
/// built-ins, softpick, a sink logit 2, Llama 4's temperature at the query's position, and
/// ASEntmax with β = 0.5, γ = 1 (δ = 1, α = 1.5).
fn normalizers(n: usize) -> Result<Named, Box<dyn std::error::Error>> {
    let built_in = [
        Normalizer::softmax(),
        Normalizer::adaptive(),
        Normalizer::scalable(1.0)?,
        Normalizer::softmax1(),
        Normalizer::entmax(1.5)?,
        Normalizer::sparsemax(),
        Normalizer::softpick(),
    ];
    let mut out: Named = built_in
        .into_iter()
        .map(|b| (b.name(), Arc::new(b) as Arc<dyn Normalize>))
        .collect();
    out.push(("sink b=2".into(), Arc::new(Sinks::new(vec![2.0])?)));
    out.push((
        "llama4-τ".into(),
        Arc::new(Llama4Temperature::default().with_offset(n - 1)),
    ));
    // One query row over n keys: ASEntmax puts it at position n − 1 (k_len − q_len + 0).
    out.push((
        "asentmax".into(),
        Arc::new(AsEntmax::new(1.5)?.with_heads(vec![0.5], vec![1.0])?),
    ));
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let device = Device::flex();
    let ns: Vec<usize> = (4..=16).step_by(2).map(|k| 1usize << k).collect();
    let first = normalizers(ns[0])?;
    let bar = ProgressBar::new((ns.len() * first.len()) as u64)
        .with_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")?);
    let mut series: Vec<Series> = first
        .iter()
        .map(|(name, _)| Series {
            normalizer: name.clone(),
            max_weight: Vec::new(),
        })
        .collect();
    for &n in &ns {
        let x = Tensor::<2>::from_data(
            TensorData::new(row(n, args.delta, args.seed), [1, n]),
            &device,
        );
        for ((name, norm), s) in normalizers(n)?.iter().zip(series.iter_mut()) {
            bar.set_message(format!("n = {n}, {name}"));
            let w: Vec<f32> =
                normalize_along(norm.as_ref(), x.clone(), -1)?.try_into_vec_as::<f32>()?;
            s.max_weight
                .push(f64::from(w.iter().copied().fold(0.0, f32::max)));
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let bounds: Vec<_> = ns
        .iter()
        .map(|&n| lemma_2_1(n, f64::from(args.delta), Temperature::ONE))
        .collect::<Result<_, _>>()?;

    println!(
        "max attention weight, spread δ = {} (item 0 at δ, others in [0, δ/2])\n",
        args.delta
    );
    print!("{:>8}", "n");
    for s in &series {
        print!(" {:>13}", s.normalizer);
    }
    println!(" {:>13} {:>13}", "L2.1 tight", "L2.1 e^δ/n");
    for (i, n) in ns.iter().enumerate() {
        print!("{n:>8}");
        for s in &series {
            print!(" {:>13.6}", s.max_weight[i]);
        }
        println!(
            " {:>13.6} {:>13.6}",
            bounds[i].tight_max,
            bounds[i].upper.min(f64::MAX)
        );
    }
    println!(
        "\nsoftmax and adaptive-θ stay under the tight bound and decay like 1/n; SSMax scales the\n\
         logits by ln n and entmax/sparsemax zero out the tail, so their top weight need not decay.\n\
         Softpick zeroes logits ≤ 0 only (here every filler is ≥ 0, so it disperses like softmax);\n\
         a sink takes mass from every item; Llama 4's τ(p) = 1 + 0.1 ln(1 + ⌊(p+1)/8192⌋) sharpens\n\
         only past 8192 positions; ASEntmax scales by 1 + β ln(p + 2)^γ before 1.5-entmax."
    );

    std::fs::create_dir_all(&args.out)?;
    let results = Results {
        delta: args.delta,
        seed: args.seed,
        n: ns.clone(),
        lemma_2_1_upper: bounds.iter().map(|b| b.upper).collect(),
        lemma_2_1_tight_max: bounds.iter().map(|b| b.tight_max).collect(),
        series,
    };
    std::fs::write(
        args.out.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    plot(&results, &args.out.join("max_weight.svg"))?;
    println!(
        "wrote {}/{{results.json,max_weight.svg}}",
        args.out.display()
    );
    Ok(())
}

fn plot(r: &Results, path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_max = *r.n.last().unwrap_or(&16) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Max attention weight vs n (spread δ = {})", r.delta),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d((16f64..x_max).log_scale(), (1e-5f64..1.2f64).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("number of items n")
        .y_desc("max weight")
        .draw()?;
    let xs: Vec<f64> = r.n.iter().map(|&n| n as f64).collect();
    let mut draw =
        |name: &str, ys: &[f64], style: ShapeStyle| -> Result<(), Box<dyn std::error::Error>> {
            let pts: Vec<(f64, f64)> = xs
                .iter()
                .copied()
                .zip(ys.iter().map(|y| y.clamp(1e-5, 1.2)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), style))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, style.filled())))?;
            Ok(())
        };
    for (i, s) in r.series.iter().enumerate() {
        draw(
            &s.normalizer,
            &s.max_weight,
            Palette99::pick(i).stroke_width(2),
        )?;
    }
    draw(
        "Lemma 2.1 tight bound",
        &r.lemma_2_1_tight_max,
        BLACK.stroke_width(1),
    )?;
    draw(
        "Lemma 2.1 e^δ/n",
        &r.lemma_2_1_upper,
        RGBColor(120, 120, 120).stroke_width(1),
    )?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
