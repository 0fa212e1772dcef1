//! *Round and Round We Go! What makes Rotary Positional Encodings useful?* (ICLR 2025),
//! reproduced on byte-level language models trained from scratch on the King James Version
//! (or any UTF-8 text): RoPE vs p-RoPE (p = 0.25, 0.75) vs NoPE in bits per byte at 1×, 2× and
//! 4× the training length, the trained model's frequency usage and most positional head, the
//! one-layer positional-head constructions, and the drift bound on trained queries and keys.
//!
//! ```text
//! cargo run --release --example rope_lm -- [--full | --tiny] [--seeds K] [--corpus FILE]
//!     [--device flex] [--out out/rope]
//! ```
//!
//! Prints the tables with their verdicts and writes `results.json`, CSV tables, SVG figures
//! (loss curves, length generalisation, usage heatmaps, the positional head, drift) and
//! `section.md` into the output folder. The default scale takes minutes on 2 CPU cores
//! (release build); `--full` is for a GPU.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use rigor_lab::report::RunDir;
use rigor_lab::repro::rope::{self, RopeReproConfig, write_report};

mod common;

#[derive(Parser, Debug)]
#[command(about = "RoPE vs p-RoPE vs NoPE byte-level LMs, frequency usage, constructions, drift")]
struct Args {
    #[command(flatten)]
    run: common::RunFlags,
    /// A UTF-8 text file (gzip if it ends in `.gz`) instead of the committed King James Version.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Output folder.
    #[arg(long, default_value = "out/rope")]
    out: PathBuf,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let scale = args.run.scale();
    let mut config = RopeReproConfig::at_scale(scale);
    if let Some(seeds) = args.run.seed_list() {
        config.seeds = seeds;
    }
    config.corpus = args.corpus;
    let device = args.run.device()?;
    eprintln!(
        "rope ({scale:?}): {} variants × {} seed(s), {} steps each, context {} bytes",
        config.lm.variants.len(),
        config.seeds.len(),
        config.lm.steps,
        config.lm.context
    );
    let start = Instant::now();
    let run = rope::run(&config, &device, true)?;
    let dir = RunDir::create(&args.out)?;
    let section = write_report(&run, &dir, "rope")?;
    println!("\n{}", section.body);
    println!(
        "wrote {} in {:.0} s",
        dir.path().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
