//! Optimizers and forgetting, reproduced: *Optimizers Qualitatively Alter Solutions And We
//! Should Leverage This* (Pascanu et al., arXiv 2507.12224, 2025), first case study. A ReLU MLP
//! is trained on permuted-pixel and class-incremental ((0,1) → (2,3) → …) sequences of the UCI
//! digits with SGD, AdamW, Shampoo, Muon, SOAP and Lion, over several seeds.
//!
//! ```text
//! cargo run --release --example optimizer_forgetting -- [--full | --tiny] [--seeds 3]
//!     [--device flex] [--out out/optimizer_forgetting]
//! ```
//!
//! Prints the ACC / BWT / forgetting table (mean ± std over seeds, with the effective rank and
//! cross-class similarity of the hidden representation) and the check of the paper's claim
//! (Shampoo forgets less, with lower-rank, less class-overlapping representations), and writes
//! `results.json`, `summary.csv`, `per_run.csv`, the R-matrix and similarity heat maps, the
//! effective-rank and accuracy curves and `section.md` to the output folder. The default scale
//! takes about a minute on 2 CPU cores (release build).

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use rigor_lab::report::RunDir;
use rigor_lab::repro::optimizer_forgetting::{
    self, OptimizerForgettingConfig, claims_table, forgetting_table, verdict, write_report,
};

mod common;

#[derive(Parser, Debug)]
#[command(
    about = "Optimizers and forgetting: SGD vs AdamW vs Shampoo (and Muon, SOAP, Lion) on continual digits"
)]
struct Args {
    #[command(flatten)]
    run: common::RunFlags,
    /// Output folder.
    #[arg(long, default_value = "out/optimizer_forgetting")]
    out: PathBuf,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let scale = args.run.scale();
    let mut config = OptimizerForgettingConfig::at_scale(scale);
    if let Some(seeds) = args.run.seed_list() {
        config.seeds = seeds;
    }
    let device = args.run.device()?;
    eprintln!(
        "optimizer_forgetting ({scale:?}): {} seeds × {} optimizers; {} permuted tasks × {} \
         steps, {} class pairs × {} steps",
        config.seeds.len(),
        config.optimizers.len(),
        config.permuted_tasks,
        config.steps_per_permuted_task,
        config.class_tasks,
        config.steps_per_class_task
    );
    let start = Instant::now();
    let run = optimizer_forgetting::run(&config, &device, true)?;
    let dir = RunDir::create(&args.out)?;
    write_report(&run, &dir, "optimizer_forgetting")?;

    println!(
        "\nContinual learning, mean ± std over {} seeds (TIL: head masked to the task's \
         classes; CIL: 10-way argmax):\n",
        config.seeds.len()
    );
    print!("{}", forgetting_table(&run).to_text());
    println!("\nThe paper's claim, checked (lower is the claim's direction):\n");
    print!("{}", claims_table(&run).to_text());
    println!("\n{}", verdict(&run));
    println!(
        "\nwrote {} in {:.0} s",
        dir.path().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
