//! A HuggingFace checkpoint through rigor: pooled perplexity (strided sliding windows, each
//! token scored once), bits per byte, accuracy, calibration, the frequency usage of every
//! layer (*Round and Round We Go!* §6), and the attention normalizer swapped at inference
//! (the drop-in claim of *Softmax is not Enough*).
//!
//! ```text
//! cargo run --release --example hf_eval -- --model DIR (--tokens FILE | --text FILE)
//!     [--window N --stride S] [--normalizer softmax|adaptive|sparsemax|ssmax:S|entmax:A]
//!     [--device flex|ndarray|wgpu] [--out out/hf_eval] [--usage-tokens 512] [--json]
//! ```
//!
//! `DIR` holds `config.json` and `model.safetensors` (or shards with their index); `--text`
//! also needs `DIR/tokenizer.json`. Writes `results.json`, `usage_query.svg`,
//! `usage_key.svg` and `usage.json` into `--out`; prints a table (or, with `--json`, one JSON
//! object with `tokens`, `nll_sum`, `perplexity` and the rest on stdout). The committed test
//! fixtures run it without any download:
//! `cargo run --release --example hf_eval -- --model crates/rigor-hf/tests/fixtures/gemma2
//! --tokens crates/rigor-hf/tests/fixtures/tokens.json`.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rigor_hf::HfModel;
use rigor_perplexity::{CausalLm, EvalConfig, LabelShift, SlidingWindowConfig, TextUnits};
use rigor_softmax::Normalizer;
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "Perplexity, calibration and frequency usage of a HuggingFace checkpoint")]
struct Args {
    /// Model directory (config.json + safetensors).
    #[arg(long)]
    model: PathBuf,
    /// A JSON array of token ids.
    #[arg(long, conflicts_with = "text")]
    tokens: Option<PathBuf>,
    /// A UTF-8 text file, tokenised with DIR/tokenizer.json (special tokens added as the
    /// tokenizer's post-processor says, e.g. Llama's BOS).
    #[arg(long)]
    text: Option<PathBuf>,
    /// Tokens per model call (default: the whole sequence in one call).
    #[arg(long)]
    window: Option<usize>,
    /// Tokens between window starts, at most window − 1 (default: half the window, the usual
    /// strided evaluation; each token is scored once, with at least window − stride tokens
    /// of context after the first window).
    #[arg(long)]
    stride: Option<usize>,
    /// Attention normalizer: softmax, adaptive, sparsemax, ssmax:S, entmax:ALPHA.
    #[arg(long, default_value = "softmax")]
    normalizer: String,
    /// Burn device: flex, ndarray or wgpu (those compiled in).
    #[arg(long, default_value = "flex")]
    device: String,
    /// Tokens the frequency-usage map reads (from the start of the sequence).
    #[arg(long, default_value_t = 512)]
    usage_tokens: usize,
    /// Output folder.
    #[arg(long, default_value = "out/hf_eval")]
    out: PathBuf,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

fn parse_normalizer(text: &str) -> Result<Normalizer, String> {
    let bad = |e: &dyn std::fmt::Display| format!("--normalizer {text}: {e}");
    match text.split_once(':') {
        None => match text {
            "softmax" => Ok(Normalizer::softmax()),
            "adaptive" => Ok(Normalizer::adaptive()),
            "sparsemax" => Ok(Normalizer::sparsemax()),
            _ => Err(format!(
                "--normalizer {text}: expected softmax, adaptive, sparsemax, ssmax:S or entmax:ALPHA"
            )),
        },
        Some((kind, value)) => {
            let v: f64 = value.parse().map_err(|e| bad(&e))?;
            match kind {
                "ssmax" => Normalizer::scalable(v).map_err(|e| bad(&e)),
                "entmax" => Normalizer::entmax(v).map_err(|e| bad(&e)),
                _ => Err(format!("--normalizer {text}: unknown kind {kind}")),
            }
        }
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// The ids to score and, for `--text`, the text's byte and word counts.
fn token_ids(args: &Args) -> Result<(Vec<i64>, Option<TextUnits>), String> {
    match (&args.tokens, &args.text) {
        (Some(path), None) => {
            let ids: Vec<i64> = serde_json::from_str(&read(path)?).map_err(|e| {
                format!(
                    "{}: expected a JSON array of token ids: {e}",
                    path.display()
                )
            })?;
            Ok((ids, None))
        }
        (None, Some(path)) => {
            let text = read(path)?;
            let tok_path = args.model.join("tokenizer.json");
            let tokenizer = tokenizers::Tokenizer::from_file(&tok_path)
                .map_err(|e| format!("loading {}: {e}", tok_path.display()))?;
            let encoding = tokenizer
                .encode(text.as_str(), true)
                .map_err(|e| format!("tokenising {}: {e}", path.display()))?;
            let ids = encoding.get_ids().iter().map(|&i| i64::from(i)).collect();
            Ok((ids, Some(TextUnits::from_text(&text))))
        }
        _ => Err("give exactly one of --tokens FILE or --text FILE".into()),
    }
}

/// Ticks the progress bar once per model call (one call per window).
struct Ticking<'a> {
    model: &'a HfModel,
    bar: &'a ProgressBar,
}

impl CausalLm for Ticking<'_> {
    fn logits(&self, tokens: Tensor<2, Int>) -> rigor_perplexity::Result<Tensor<3>> {
        let out = self.model.logits(tokens);
        self.bar.inc(1);
        out
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let device: Device = rigor_lab::device::by_name(&args.device)?;
    let normalizer = parse_normalizer(&args.normalizer)?;
    let (ids, units) = token_ids(args)?;
    if ids.len() < 2 {
        return Err(format!("need at least 2 tokens to score one, got {}", ids.len()).into());
    }
    let mut model = HfModel::load(&args.model, &device)?;
    let vocab = model.config.decoder.vocab_size as i64;
    if let Some((i, bad)) = ids
        .iter()
        .enumerate()
        .find(|(_, t)| **t < 0 || **t >= vocab)
    {
        return Err(
            format!("token {bad} at index {i} is outside the vocabulary [0, {vocab})").into(),
        );
    }
    model.set_normalizer(normalizer.clone());
    let window = args.window.unwrap_or(ids.len()).min(ids.len()).max(2);
    let stride = args.stride.unwrap_or((window / 2).max(1));
    let evaluator = SlidingWindowConfig::new(window, stride).init()?;
    let plan = evaluator.plan(ids.len());
    let mut acc = EvalConfig::new()
        .with_label_shift(LabelShift::None)
        .init()?;
    if let Some(u) = units {
        acc.add_text_units(u);
    }
    let bar = ProgressBar::new(plan.len() as u64).with_style(ProgressStyle::with_template(
        "{prefix} [{bar:30}] {pos}/{len} windows, {elapsed} (eta {eta})",
    )?);
    bar.set_prefix("scoring");
    if args.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let summary = evaluator.evaluate(
        &Ticking {
            model: &model,
            bar: &bar,
        },
        &ids,
        &device,
        &mut acc,
    )?;
    bar.finish_and_clear();
    let report = acc.report()?;

    // Frequency usage over the first `usage_tokens` ids (under the softmax the model was
    // trained with: usage reads q and k, which the normalizer does not touch).
    let n_usage = args.usage_tokens.clamp(1, ids.len());
    let usage_ids = Tensor::<2, Int>::from_data(
        TensorData::new(ids[..n_usage].to_vec(), [1, n_usage]),
        &device,
    );
    let usage = model.frequency_usage(usage_ids)?;
    std::fs::create_dir_all(&args.out)?;
    let mut usage_json = serde_json::Value::Null;
    if let Some(u) = &usage {
        let name = args
            .model
            .file_name()
            .map_or("model".into(), |n| n.to_string_lossy().to_string());
        u.query.write_svg_heatmap(
            &args.out.join("usage_query.svg"),
            &format!("{name}: query chunk norms by frequency"),
        )?;
        u.key.write_svg_heatmap(
            &args.out.join("usage_key.svg"),
            &format!("{name}: key chunk norms by frequency"),
        )?;
        usage_json = json!({
            "layers": u.layers,
            "inv_freq": u.query.inv_freq,
            "wavelengths": u.query.wavelengths(),
            "query_layer_means": u.query.layer_means(),
            "key_layer_means": u.key.layer_means(),
            "query": u.query,
            "key": u.key,
        });
        std::fs::write(
            args.out.join("usage.json"),
            serde_json::to_string(&usage_json)?,
        )?;
    }
    let c = &report.calibration;
    let result = json!({
        "model": args.model.display().to_string(),
        "model_type": model.config.model_type,
        "normalizer": normalizer.name(),
        "device": args.device,
        "window": window,
        "stride": stride,
        "windows": plan.len(),
        "tokens": report.tokens,
        "nll_sum": report.nll_sum,
        "perplexity": report.perplexity,
        "log_perplexity": report.log_perplexity,
        "bits_per_token": report.bits_per_token,
        "bits_per_byte": report.bits_per_byte,
        "byte_perplexity": report.byte_perplexity,
        "word_perplexity": report.word_perplexity,
        "accuracy": c.accuracy,
        "mean_confidence": c.mean_confidence,
        "ece": c.ece_equal_width,
        "brier": c.brier,
        "unused_tensors": model.unused_tensors,
        "usage_layers": usage.as_ref().map(|u| u.layers.clone()),
    });
    let mut full = result.clone();
    full["report"] = serde_json::to_value(&report)?;
    full["frequency_usage"] = usage_json;
    std::fs::write(
        args.out.join("results.json"),
        serde_json::to_string_pretty(&full)?,
    )?;
    debug_assert_eq!(summary.tokens_scored, report.tokens);
    if args.json {
        println!("{}", serde_json::to_string(&result)?);
        return Ok(());
    }
    println!(
        "{} ({}), normalizer {}",
        args.model.display(),
        model.config.model_type,
        normalizer.name()
    );
    println!("| metric | value |\n|---|---|");
    println!("| scored tokens | {} |", report.tokens);
    println!(
        "| windows (length {window}, stride {stride}) | {} |",
        plan.len()
    );
    println!("| NLL sum (nats) | {:.4} |", report.nll_sum);
    println!("| perplexity | {:.4} |", report.perplexity);
    println!("| bits per token | {:.4} |", report.bits_per_token);
    if let Some(b) = report.bits_per_byte {
        println!("| bits per byte | {b:.4} |");
    }
    println!("| accuracy | {:.4} |", c.accuracy);
    println!("| ECE (equal width) | {:.4} |", c.ece_equal_width);
    println!("| Brier | {:.4} |", c.brier);
    if let Some(u) = &usage {
        println!("\nfrequency usage (mean query chunk norm, slot 0 = highest frequency):");
        for (layer, row) in u.layers.iter().zip(u.query.layer_means()) {
            let top = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(k, _)| k);
            println!(
                "  layer {layer:>3}: largest at slot {top:>3} of {}",
                row.len()
            );
        }
    }
    println!("\nwrote {}", args.out.join("results.json").display());
    Ok(())
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("hf_eval: {e}");
        std::process::exit(1);
    }
}
