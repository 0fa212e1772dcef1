//! The main job: runs every registered paper reproduction (`rigor_lab::repro::all()`) and
//! writes one report — `index.md` with each reproduction's table next to the paper's numbers,
//! and each reproduction's figures, CSV tables and `results.json` in its own folder.
//!
//! ```text
//! cargo run --release --example reproduce -- [--full | --tiny] [--only max_retrieval]
//!     [--seeds K] [--device flex] [--corpus FILE] [--out out/reproduce] [--list]
//! ```
//!
//! The default scale finishes in minutes on a 2-core CPU; `--full` runs each paper's scale.
//! Exits with status 1 if any reproduction failed (the index still lists it, with its error).

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use rigor_lab::report::{IndexEntry, ReproCtx, write_index};

// `reproduce` passes the seed count on (`ReproCtx::seeds`); it needs no seed list.
#[allow(dead_code)]
mod common;

#[derive(Parser, Debug)]
#[command(about = "Run every registered reproduction and write one report (index.md + figures)")]
struct Args {
    #[command(flatten)]
    run: common::RunFlags,
    /// Run only the reproductions with these names (repeatable).
    #[arg(long)]
    only: Vec<String>,
    /// Report folder.
    #[arg(long, default_value = "out/reproduce")]
    out: PathBuf,
    /// A UTF-8 text file (gzip if `.gz`) for the reproductions that train language models on
    /// text (`rope`); default: the committed King James Version.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// List the registered reproductions and exit.
    #[arg(long)]
    list: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let registry = rigor_lab::repro::all();
    if args.list {
        for r in &registry {
            println!("{:<20} {}", r.name, r.paper);
        }
        return Ok(());
    }
    let scale = args.run.scale();
    let mut ctx = ReproCtx::new(&args.out, scale, args.run.device()?);
    ctx.seeds = args.run.seeds;
    ctx.corpus = args.corpus.clone();
    let selected: Vec<_> = registry
        .iter()
        .filter(|r| args.only.is_empty() || args.only.iter().any(|o| o == r.name))
        .collect();
    if selected.is_empty() {
        return Err(format!("no reproduction named {:?} (try --list)", args.only).into());
    }

    let mut outcomes = Vec::with_capacity(selected.len());
    for (i, r) in selected.iter().enumerate() {
        eprintln!("[{}/{}] {} — {}", i + 1, selected.len(), r.name, r.paper);
        let start = Instant::now();
        let outcome = (r.run)(&ctx);
        let seconds = start.elapsed().as_secs_f64();
        match &outcome {
            Ok(_) => eprintln!(
                "[{}/{}] {}: ok in {seconds:.0} s",
                i + 1,
                selected.len(),
                r.name
            ),
            Err(e) => eprintln!("[{}/{}] {}: FAILED: {e}", i + 1, selected.len(), r.name),
        }
        outcomes.push((outcome, seconds));
    }
    let entries: Vec<IndexEntry<'_>> = selected
        .iter()
        .zip(&outcomes)
        .map(|(r, (outcome, seconds))| IndexEntry {
            reproduction: r,
            outcome,
            seconds: *seconds,
        })
        .collect();
    let index = write_index(&args.out, &ctx, &entries)?;
    println!("report: {}", index.display());
    if outcomes.iter().any(|(o, _)| o.is_err()) {
        std::process::exit(1);
    }
    Ok(())
}
