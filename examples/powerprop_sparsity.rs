//! Powerprop sparsity, reproduced: *Optimizers Qualitatively Alter Solutions And We Should
//! Leverage This* (Pascanu et al., arXiv 2507.12224, 2025), second case study —
//! Powerpropagation (Schwarz et al., NeurIPS 2021) as an optimizer. The paper's MLP (hidden
//! 300-100, SGD η = 0.1, batch 60) on the 64-pixel UCI digits, α ∈ {1, 2, 3, 4}, then global
//! magnitude pruning.
//!
//! ```text
//! cargo run --release --example powerprop_sparsity -- [--full | --tiny] [--seeds 3]
//!     [--steps N] [--device flex] [--out out/powerprop_sparsity]
//! ```
//!
//! Prints the accuracy at a few keep fractions per α (mean ± std over seeds) and the check of
//! the paper's claim, and writes `results.json`, `summary.csv`, `per_run.csv`,
//! `pruning_curve.svg` and `section.md` to the output folder. The default scale takes under a
//! minute on 2 CPU cores (release build; ≈ 40 s measured).

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use rigor_lab::report::RunDir;
use rigor_lab::repro::powerprop_sparsity::{
    self, PowerpropSparsityConfig, sparsity_table, verdict, write_report,
};

mod common;

#[derive(Parser, Debug)]
#[command(about = "Powerprop: accuracy vs fraction of weights kept for alpha = 1..4")]
struct Args {
    #[command(flatten)]
    run: common::RunFlags,
    /// SGD steps per model (overrides the scale's).
    #[arg(long)]
    steps: Option<usize>,
    /// Output folder.
    #[arg(long, default_value = "out/powerprop_sparsity")]
    out: PathBuf,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let scale = args.run.scale();
    let mut config = PowerpropSparsityConfig::at_scale(scale);
    if let Some(seeds) = args.run.seed_list() {
        config.seeds = seeds;
    }
    if let Some(steps) = args.steps {
        config.steps = steps;
    }
    let device = args.run.device()?;
    eprintln!(
        "powerprop_sparsity ({scale:?}): {} seeds × α {:?}, {} SGD steps each",
        config.seeds.len(),
        config.alphas,
        config.steps
    );
    let start = Instant::now();
    let run = powerprop_sparsity::run(&config, &device, true)?;
    let dir = RunDir::create(&args.out)?;
    write_report(&run, &dir, "powerprop_sparsity")?;

    println!(
        "\nTest accuracy (%) after global magnitude pruning, mean ± std over {} seeds:\n",
        config.seeds.len()
    );
    print!("{}", sparsity_table(&run).to_text());
    println!("\n{}", verdict(&run));
    println!(
        "\nwrote {} in {:.0} s",
        dir.path().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
