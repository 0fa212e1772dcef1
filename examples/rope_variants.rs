//! Every RoPE variant on one configuration: the wavelength $2\pi/g_k$ of each frequency slot,
//! and the attention logit $a(r)$ against distance for a fixed query/key pair under RoPE,
//! p-RoPE (0.25, 0.75), NoPE and xPos — *Round and Round We Go!* (Barbero et al., ICLR 2025).
//!
//! ```text
//! cargo run --release --example rope_variants -- [--head-dim 128] [--theta 500000] [--max-distance 1024] [--out out/rope_variants]
//! ```
//!
//! Prints a wavelength table, and writes `wavelengths.svg`, `logit_vs_distance.svg` and
//! `results.json` to the output folder. The LongRoPE factor list here is synthetic (a smooth
//! ramp from 1 to the factor); the golden tests use Phi-3.5's real lists.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;
use rigor::rope::{
    Llama3Config, LongRopeConfig, Positions, Role, RopeConfig, Rotation, Scaling, TensorLayout,
    XPosConfig, YarnConfig,
};
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(about = "Wavelength per slot for every RoPE variant, and a(r) vs distance")]
struct Args {
    /// Head dimension d.
    #[arg(long, default_value_t = 128)]
    head_dim: usize,
    /// Base θ (Llama 3.1: 500 000).
    #[arg(long, default_value_t = 500_000.0)]
    theta: f64,
    /// Original context L0 for the context-extension variants.
    #[arg(long, default_value_t = 8192)]
    original: usize,
    /// Extension factor s.
    #[arg(long, default_value_t = 8.0)]
    factor: f64,
    /// Largest distance r for the logit plot.
    #[arg(long, default_value_t = 1024)]
    max_distance: usize,
    /// Seed of the fixed q, k.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder.
    #[arg(long, default_value = "out/rope_variants")]
    out: PathBuf,
}

#[derive(Serialize)]
struct VariantRow {
    name: String,
    config: RopeConfig,
    attention_factor: f64,
    /// `null` for a NoPE slot (infinite wavelength).
    wavelengths: Vec<Option<f64>>,
}

#[derive(Serialize)]
struct LogitSeries {
    name: String,
    logits: Vec<f64>,
}

#[derive(Serialize)]
struct Results {
    head_dim: usize,
    theta: f64,
    original: usize,
    factor: f64,
    seed: u64,
    variants: Vec<VariantRow>,
    distances: Vec<usize>,
    logit_vs_distance: Vec<LogitSeries>,
}

fn variants(a: &Args) -> Vec<(String, RopeConfig)> {
    let d = a.head_dim;
    let base = RopeConfig::new(d).with_theta(a.theta);
    let long: Vec<f64> = (0..d / 2)
        .map(|k| 1.0 + (a.factor - 1.0) * (k as f64 / (d / 2 - 1).max(1) as f64).powi(2))
        .collect();
    vec![
        ("RoPE".into(), base.clone()),
        (
            "p-RoPE 0.75".into(),
            base.clone()
                .with_rotation(Rotation::Proportional { p: 0.75 }),
        ),
        (
            "p-RoPE 0.25".into(),
            base.clone()
                .with_rotation(Rotation::Proportional { p: 0.25 }),
        ),
        ("NoPE".into(), base.clone().with_rotation(Rotation::NoPE)),
        (
            "NeoX partial 25%".into(),
            base.clone().with_rotation(Rotation::NeoxPartial {
                rotary_dims: d / 4 / 2 * 2,
            }),
        ),
        (
            format!("linear x{}", a.factor),
            base.clone()
                .with_scaling(Scaling::Linear { factor: a.factor }),
        ),
        (
            format!("NTK x{}", a.factor),
            base.clone().with_scaling(Scaling::Ntk { factor: a.factor }),
        ),
        (
            format!("dynamic NTK x{} @ 4·L0", a.factor),
            base.clone().with_scaling(Scaling::DynamicNtk {
                factor: a.factor,
                original_max_position_embeddings: a.original,
            }),
        ),
        (
            format!("YaRN x{}", a.factor),
            base.clone()
                .with_scaling(Scaling::Yarn(YarnConfig::new(a.factor, a.original))),
        ),
        (
            "LongRoPE (synthetic long list)".into(),
            base.clone().with_scaling(Scaling::LongRope(LongRopeConfig {
                short_factor: vec![1.0; d / 2],
                long_factor: long,
                original_max_position_embeddings: a.original,
                max_position_embeddings: (a.original as f64 * a.factor) as usize,
                attention_factor: None,
            })),
        ),
        (
            format!("Llama-3 x{}", a.factor),
            base.clone().with_scaling(Scaling::Llama3(Llama3Config {
                factor: a.factor,
                low_freq_factor: 1.0,
                high_freq_factor: 4.0,
                original_max_position_embeddings: a.original,
            })),
        ),
        ("xPos".into(), base.with_xpos(XPosConfig::default())),
    ]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)?;
    let device = Device::flex();
    let d = args.head_dim;

    // 1. wavelengths
    let mut rows = Vec::new();
    for (name, cfg) in variants(&args) {
        let rope = cfg.clone().init()?;
        // dynamic NTK and LongRoPE depend on the length: show them at 4·L0
        let f = rope.frequencies(4 * args.original);
        rows.push(VariantRow {
            name,
            config: cfg,
            attention_factor: f.attention_factor,
            wavelengths: f
                .wavelengths()
                .into_iter()
                .map(|w| Some(w).filter(|w| w.is_finite()))
                .collect(),
        });
    }
    let picks: Vec<usize> = [0, d / 16, d / 8, d / 4, 3 * d / 8]
        .into_iter()
        .filter(|&k| k < d / 2)
        .collect();
    println!(
        "Wavelength 2π/g_k in tokens (d = {d}, θ = {}, L0 = {}, s = {})",
        args.theta, args.original, args.factor
    );
    print!("{:<32}{:>7}{:>6}", "variant", "a", "NoPE");
    for k in &picks {
        print!("{:>12}", format!("k={k}"));
    }
    println!("{:>12}", "last slot");
    for r in &rows {
        let nope = r.wavelengths.iter().filter(|w| w.is_none()).count();
        print!("{:<32}{:>7.3}{:>6}", r.name, r.attention_factor, nope);
        for k in picks.iter().copied().chain([r.wavelengths.len() - 1]) {
            match r.wavelengths.get(k).copied().flatten() {
                Some(w) => print!("{w:>12.4e}"),
                None if k >= r.wavelengths.len() => print!("{:>12}", "—"),
                None => print!("{:>12}", "∞"),
            }
        }
        println!();
    }

    // 2. a(r) for a fixed q, k: query at position r, key at 0, through the device path
    let distances: Vec<usize> = (0..=args.max_distance).collect();
    let n = distances.len();
    // Standard normals from rigor-lab's seeded ChaCha8 stream.
    let mut rng = rigor::lab::rng::rng(args.seed, "rope_variants/qk");
    let mut normal = || rigor::lab::rng::normal(&mut rng);
    let q: Vec<f32> = (0..d).map(|_| normal()).collect();
    let k: Vec<f32> = (0..d).map(|_| normal()).collect();
    let logit_variants: Vec<(String, RopeConfig)> = variants(&args)
        .into_iter()
        .filter(|(n, _)| {
            ["RoPE", "p-RoPE 0.75", "p-RoPE 0.25", "NoPE", "xPos"].contains(&n.as_str())
        })
        .collect();
    let bar = ProgressBar::new(logit_variants.len() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")?);
    let mut series = Vec::new();
    for (name, cfg) in logit_variants {
        bar.set_message(name.clone());
        let rope = cfg.init()?;
        let qs = Tensor::<4>::from_data(
            TensorData::new(
                q.iter().copied().cycle().take(n * d).collect::<Vec<f32>>(),
                [1, 1, n, d],
            ),
            &device,
        );
        let ks = Tensor::<4>::from_data(TensorData::new(k.clone(), [1, 1, 1, d]), &device);
        let rq = rope.apply(qs, TensorLayout::Bhsd, Role::Query, Positions::Offset(0))?;
        let rk = rope.apply(ks, TensorLayout::Bhsd, Role::Key, Positions::Offset(0))?;
        let logits: Vec<f64> = (rq * rk)
            .sum_dim(3)
            .reshape([n])
            .try_into_vec_as::<f32>()
            .map_err(|e| format!("{e:?}"))?
            .into_iter()
            .map(|x| f64::from(x) / (d as f64).sqrt())
            .collect();
        series.push(LogitSeries { name, logits });
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "\nLogit a(r)/√d for a fixed Gaussian q, k (seed {}):",
        args.seed
    );
    print!("{:<14}", "r");
    for r in [0usize, 1, 2, 8, 64, 256, args.max_distance] {
        print!("{r:>10}");
    }
    println!();
    for s in &series {
        print!("{:<14}", s.name);
        for r in [0usize, 1, 2, 8, 64, 256, args.max_distance] {
            print!("{:>10.4}", s.logits[r.min(n - 1)]);
        }
        println!();
    }

    let results = Results {
        head_dim: d,
        theta: args.theta,
        original: args.original,
        factor: args.factor,
        seed: args.seed,
        variants: rows,
        distances,
        logit_vs_distance: series,
    };
    std::fs::write(
        args.out.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    plot_wavelengths(&results, &args.out.join("wavelengths.svg"))?;
    plot_logits(&results, &args.out.join("logit_vs_distance.svg"))?;
    println!(
        "\nwrote {}/{{results.json,wavelengths.svg,logit_vs_distance.svg}}",
        args.out.display()
    );
    Ok(())
}

fn plot_wavelengths(r: &Results, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1000, 650)).into_drawing_area();
    root.fill(&WHITE)?;
    let slots = r.head_dim / 2;
    let all = r
        .variants
        .iter()
        .flat_map(|v| v.wavelengths.iter().flatten().copied());
    let (lo, hi) = all.fold((f64::INFINITY, 0f64), |(lo, hi), w| (lo.min(w), hi.max(w)));
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Wavelength per frequency slot (d = {}, θ = {})",
                r.head_dim, r.theta
            ),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..slots as f64, (lo * 0.8..hi * 1.25).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("slot k (0 = highest frequency; NoPE slots omitted)")
        .y_desc("2π/g_k (tokens)")
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, r.original as f64), (slots as f64, r.original as f64)],
            BLACK.stroke_width(1),
        ))?
        .label(format!("L0 = {}", r.original))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    for (i, v) in r.variants.iter().enumerate() {
        if v.wavelengths.iter().all(Option::is_none) {
            continue;
        }
        let style = Palette99::pick(i).stroke_width(2);
        let pts: Vec<(f64, f64)> = v
            .wavelengths
            .iter()
            .enumerate()
            .filter_map(|(k, w)| w.map(|w| (k as f64, w)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts, style))?
            .label(v.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn plot_logits(r: &Results, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let (lo, hi) = r
        .logit_vs_distance
        .iter()
        .flat_map(|s| s.logits.iter().copied())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
    let pad = 0.05 * (hi - lo).max(1e-3);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Attention logit a(r)/√d vs distance, fixed q and k",
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            0f64..*r.distances.last().unwrap_or(&1) as f64,
            lo - pad..hi + pad,
        )?;
    chart
        .configure_mesh()
        .x_desc("distance r = i − j")
        .y_desc("a(r)/√d")
        .draw()?;
    for (i, s) in r.logit_vs_distance.iter().enumerate() {
        let style = Palette99::pick(i).stroke_width(2);
        let pts: Vec<(f64, f64)> = r
            .distances
            .iter()
            .map(|&d| d as f64)
            .zip(s.logits.iter().copied())
            .collect();
        chart
            .draw_series(LineSeries::new(pts, style))?
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
