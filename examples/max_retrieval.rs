//! Max retrieval, reproduced: *Softmax is not Enough (for Sharp Size Generalisation)*
//! (Veličković et al., ICML 2025; Fig. 2, App. A). A model (items → MLP → one attention head with a learned
//! query → MLP) is trained with softmax on sets of 16 items, then evaluated at
//! n = 16, 32, …, 16384 with the attention's normalizer swapped at inference only: softmax,
//! adaptive temperature, SSMax calibrated to n = 16 and 1.5-entmax.
//!
//! ```text
//! cargo run --release --example max_retrieval -- [--full | --tiny] [--seeds 3] [--steps N]
//!     [--device flex] [--out out/max_retrieval]
//! ```
//!
//! Prints the accuracy table (mean ± std over seeds, paired tests against softmax, the paper's
//! numbers beside it) and the dispersion table, and writes `results.json`, `summary.csv`,
//! `per_seed.csv`, `accuracy.svg`, `max_weight.svg`, `entropy.svg` and `section.md` to the
//! output folder. The default scale takes a few minutes on 2 CPU cores; `--full` is the paper's
//! scale (hours).

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use rigor_lab::report::RunDir;
use rigor_lab::repro::max_retrieval::{
    self, MaxRetrievalConfig, accuracy_table, dispersion_table, write_report,
};

mod common;

#[derive(Parser, Debug)]
#[command(about = "Max retrieval: softmax vs adaptive temperature (and SSMax, entmax) as n grows")]
struct Args {
    #[command(flatten)]
    run: common::RunFlags,
    /// Training steps per seed (overrides the scale's).
    #[arg(long)]
    steps: Option<usize>,
    /// Output folder.
    #[arg(long, default_value = "out/max_retrieval")]
    out: PathBuf,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let scale = args.run.scale();
    let mut config = MaxRetrievalConfig::at_scale(scale);
    if let Some(seeds) = args.run.seed_list() {
        config.seeds = seeds;
    }
    if let Some(steps) = args.steps {
        config.steps = steps;
    }
    let device = args.run.device()?;
    eprintln!(
        "max_retrieval ({scale:?}): {} seeds × {} steps, n = {:?}",
        config.seeds.len(),
        config.steps,
        config.eval_ns
    );
    let start = Instant::now();
    let run = max_retrieval::run(&config, &device, true)?;
    let dir = RunDir::create(&args.out)?;
    write_report(&run, &dir, "max_retrieval")?;

    println!(
        "\nAccuracy (%), mean ± std over {} seeds:\n",
        config.seeds.len()
    );
    print!("{}", accuracy_table(&run).to_text());
    println!("\nDispersion (mean over sets and seeds):\n");
    print!("{}", dispersion_table(&run).to_text());
    println!(
        "\nwrote {} in {:.0} s",
        dir.path().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
