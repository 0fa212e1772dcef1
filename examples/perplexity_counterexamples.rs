//! *Perplexity Cannot Always Tell Right from Wrong* (arXiv 2601.22950), reproduced on trained
//! decoders: the copy-task counterexample α_N = 0…0 vs β_N = 0…01 with rigor-perplexity's
//! counterexample finder, parity checkpoints where micro-F1 and log-perplexity part ways, and
//! two checkpoints on the iso-perplexity curves.
//!
//! ```text
//! cargo run --release --example perplexity_counterexamples -- [--full | --tiny] [--seeds K]
//!     [--device flex] [--out out/perplexity]
//! ```
//!
//! Prints the copy table, the correlations with their verdicts and the iso-perplexity
//! comparison, and writes `results.json`, CSV tables, SVG figures and `section.md` into the
//! output folder. The default scale takes a few minutes on 2 CPU cores (release build).

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use rigor_lab::report::RunDir;
use rigor_lab::repro::perplexity::{
    self, PerplexityReproConfig, copy_table, iso_table, write_report,
};

mod common;

#[derive(Parser, Debug)]
#[command(
    about = "Copy-task counterexample, parity checkpoints and iso-perplexity on trained models"
)]
struct Args {
    #[command(flatten)]
    run: common::RunFlags,
    /// Output folder.
    #[arg(long, default_value = "out/perplexity")]
    out: PathBuf,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let scale = args.run.scale();
    let mut config = PerplexityReproConfig::at_scale(scale);
    if let Some(seeds) = args.run.seed_list() {
        config.seeds = seeds;
    }
    let device = args.run.device()?;
    eprintln!(
        "perplexity ({scale:?}): {} seed(s); copy {} steps, parity {} steps",
        config.seeds.len(),
        config.copy.train.steps,
        config.parity.train.steps
    );
    let start = Instant::now();
    let run = perplexity::run(&config, &device, true)?;
    let dir = RunDir::create(&args.out)?;
    let section = write_report(&run, &dir, "perplexity")?;
    for c in &run.copy {
        println!("\nCopy task, seed {}:\n", c.seed);
        print!("{}", copy_table(c).to_text());
    }
    println!("\nIso-perplexity:\n");
    print!("{}", iso_table(&run).to_text());
    println!("\n{}", section.body);
    println!(
        "wrote {} in {:.0} s",
        dir.path().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
