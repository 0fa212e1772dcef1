//! The theorem kit on a model: which of the papers' statements do its heads obey?
//!
//! ```text
//! cargo run --release --example theorem_kit -- [--hf DIR] [--seq 48] [--seed 0] [--device flex] [--out out/theorem_kit]
//! ```
//!
//! By default the model is a fresh rigor-nn decoder (4 layers, 4 heads, d = 64, RoPE θ = 10 000
//! with p = 0.75, vocabulary 16, seeded); `--hf DIR` loads a HuggingFace checkpoint through
//! rigor-hf instead. For every layer and head it runs the kit's checkers on the model's own
//! tensors:
//!
//! - *Softmax is not Enough* Lemma 2.1 on the head's attention-score rows (with the model's
//!   normalizer: softmax must obey it; sparse normalizers escape it) and Prop. 3.1 on the
//!   head's $W_Q$, $W_K$ and the layer-0 inputs (rigor-nn model only: the proposition is about
//!   bias-free linear maps, so the default model has no biases);
//! - RoPE's relative-position property and *Round and Round* claims 3 and 4 on the layer's
//!   rotary encoding, with the head's own queries and keys as vectors and content;
//! - *Perplexity Cannot Always Tell* §4 on 256 cases drawn from the kit's strategy, and
//!   Lemma 3.1's counterexample search on the model itself (the copy task; an untrained model
//!   fails the premise — that is reported, not hidden).
//!
//! Prints one line per statement and layer, and writes `results.json` (every verdict) to the
//! output folder.

use std::path::PathBuf;

use burn::tensor::{Device, Distribution, Int, Tensor};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use rigor::nn::{DecoderLm, DecoderLmConfig, PositionalEncoding};
use rigor::perplexity::{CausalLm, CounterexampleConfig, theorems as ppl};
use rigor::rope::theorems as rope_kit;
use rigor::rope::theory::constructions::HeadKind;
use rigor::rope::{Rope, RopeConfig, Rotation};
use rigor::softmax::{Normalizer, theorems as sm};
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(about = "Run the theorem kit's checkers on a model's heads")]
struct Args {
    /// A HuggingFace checkpoint directory (config.json + safetensors); default: a fresh
    /// rigor-nn decoder.
    #[arg(long)]
    hf: Option<PathBuf>,
    /// Sequence length of the probe input.
    #[arg(long, default_value_t = 48)]
    seq: usize,
    /// Seed of the model and the probe tokens.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Backend: flex, ndarray, wgpu or wgpu-cpu (as compiled in).
    #[arg(long, default_value = "flex")]
    device: String,
    /// Output folder.
    #[arg(long, default_value = "out/theorem_kit")]
    out: PathBuf,
}

/// One verdict, with where it was checked.
#[derive(Serialize)]
struct Row {
    statement: String,
    layer: Option<usize>,
    head: Option<usize>,
    holds: bool,
    cases: usize,
    violations: usize,
    worst_margin: f64,
    detail: String,
}

macro_rules! row {
    ($v:expr, $layer:expr, $head:expr) => {{
        let v = $v;
        Row {
            statement: v.statement.to_string(),
            layer: $layer,
            head: $head,
            holds: v.holds,
            cases: v.cases,
            violations: v.violations,
            worst_margin: v.worst_margin,
            detail: v.detail,
        }
    }};
}

/// What the checks need from a model, per layer.
struct Layer {
    /// Queries and keys before RoPE, `[1, heads, seq, d]` / `[1, kv_heads, seq, d]`.
    q: Tensor<4>,
    k: Tensor<4>,
    rope: Option<Rope>,
    /// Masked attention scores `[1, heads, seq, seq]`, as the model normalises them.
    scores: Tensor<4>,
}

fn host(t: Tensor<4>) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    Ok(t.try_into_vec_as::<f64>().map_err(|e| format!("{e:?}"))?)
}

/// Scores of a pretrained layer: RoPE'd q·kᵀ/√d with a causal mask (GQA heads share keys).
fn pretrained_scores(
    q: Tensor<4>,
    k: Tensor<4>,
    rope: Option<&Rope>,
) -> Result<Tensor<4>, Box<dyn std::error::Error>> {
    let [_, h, s, d] = q.dims();
    let kv = k.dims()[1];
    let (q, k) = match rope {
        Some(r) => r.apply_qk(
            q,
            k,
            rigor::rope::TensorLayout::Bhsd,
            rigor::rope::Positions::Offset(0),
        )?,
        None => (q, k),
    };
    let k = k
        .unsqueeze_dim::<5>(2)
        .expand([1, kv, h / kv, s, d])
        .reshape([1, h, s, d]);
    let scores = q
        .matmul(k.swap_dims(2, 3))
        .mul_scalar(1.0 / (d as f64).sqrt());
    Ok(rigor::nn::mask_logits(scores, true, None)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if args.seq < 4 {
        return Err("--seq must be at least 4".into());
    }
    let device: Device = rigor::lab::device::by_name(&args.device)?;
    device.seed(args.seed);
    std::fs::create_dir_all(&args.out)?;

    // The model: a rigor-nn decoder, or a HuggingFace checkpoint.
    let (name, vocab, normalizer, layers, lm, w_qk): (
        String,
        usize,
        Normalizer,
        Vec<Layer>,
        Box<dyn CausalLm>,
        Option<_>,
    ) = if let Some(dir) = &args.hf {
        let model = rigor::hf::HfModel::load(dir, &device)?;
        let vocab = model.config.decoder.vocab_size;
        let tokens = probe(args.seq, vocab.min(1000), &device);
        let ropes: Vec<Option<Rope>> = model
            .decoder
            .ropes()
            .into_iter()
            .map(|r| r.cloned())
            .collect();
        let mut layers = Vec::new();
        for ((q, k), rope) in model.decoder.queries_keys(tokens)?.into_iter().zip(ropes) {
            let scores = pretrained_scores(q.clone(), k.clone(), rope.as_ref())?;
            layers.push(Layer { q, k, rope, scores });
        }
        let normalizer = model.decoder.normalizer().clone();
        (
            format!("HF checkpoint {}", dir.display()),
            vocab,
            normalizer,
            layers,
            Box::new(model),
            None,
        )
    } else {
        let rope = RopeConfig::new(16).with_rotation(Rotation::Proportional { p: 0.75 });
        let model: DecoderLm = DecoderLmConfig::new(16, 64, 4, 4)
            .with_positional(PositionalEncoding::Rope(rope))
            .with_bias(false)
            .init(&device)?;
        let tokens = probe(args.seq, 16, &device);
        let out = model.forward_with_weights(tokens.clone(), None)?;
        let mut layers = Vec::new();
        for (l, (q, k)) in model.queries_keys(tokens.clone())?.into_iter().enumerate() {
            let rope = model.blocks[l].attention.rope().cloned();
            layers.push(Layer {
                q,
                k,
                rope,
                scores: out.scores[l].clone(),
            });
        }
        // Prop. 3.1 on layer 0: W_Q, W_K ([d_model, d_model], Burn's [in, out]) and its
        // normed inputs.
        let block = &model.blocks[0];
        let x = block
            .attention_norm
            .forward(model.token_embedding.forward(tokens))
            .reshape([args.seq, 64]);
        let w = (
            block.attention.query.weight.val(),
            block.attention.key.weight.val(),
            x,
        );
        let normalizer = model.normalizer().clone();
        (
            "fresh rigor-nn decoder (4 layers, 4 heads, d 64, p-RoPE 0.75)".to_string(),
            16,
            normalizer,
            layers,
            Box::new(model),
            Some(w),
        )
    };

    let heads = layers.first().map_or(0, |l| l.q.dims()[1]);
    let checks = layers.len() * heads * 5 + 2;
    let bar = ProgressBar::new(checks as u64)
        .with_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")?);
    let mut rows = Vec::new();
    for (l, layer) in layers.iter().enumerate() {
        let [_, h, s, d] = layer.q.dims();
        let kv = layer.k.dims()[1];
        let q = host(layer.q.clone())?;
        let k = host(layer.k.clone())?;
        let vec_of = |t: &[f64], head: usize, pos: usize| {
            t[(head * s + pos) * d..(head * s + pos + 1) * d].to_vec()
        };
        for head in 0..h {
            let kh = head / (h / kv);
            bar.set_message(format!("layer {l} head {head}"));
            // Lemma 2.1 on the head's score rows, with the model's normalizer.
            let scores = layer
                .scores
                .clone()
                .slice([0..1, head..head + 1, 0..s, 0..s])
                .reshape([s, s]);
            rows.push(row!(
                sm::check_lemma_2_1(&normalizer, scores, 1.0, 1e-5)?,
                Some(l),
                Some(head)
            ));
            bar.inc(1);
            // Prop. 3.1 (rigor-nn model, layer 0).
            if let (0, Some((wq, wk, x))) = (l, &w_qk) {
                let cols = head * d..(head + 1) * d;
                let wq = wq.clone().slice([0..wq.dims()[0], cols.clone()]);
                let wk = wk.clone().slice([0..wk.dims()[0], cols]);
                let y = x
                    .clone()
                    .slice([s - 1..s, 0..x.dims()[1]])
                    .reshape([x.dims()[1]]);
                rows.push(row!(
                    sm::check_prop_3_1(wq, wk, y, x.clone(), 1e-4)?,
                    Some(l),
                    Some(head)
                ));
            }
            bar.inc(1);
            let Some(rope) = &layer.rope else {
                bar.inc(3);
                continue;
            };
            // RoPE's relative property with the head's own query (last token) and key (first).
            let (qv, kvv) = (vec_of(&q, head, s - 1), vec_of(&k, kh, 0));
            let pairs = [(s - 1, 0), (s / 2, s / 3), (3, 7)];
            rows.push(row!(
                rope_kit::check_relative_position(rope, &qv, &kvv, &pairs, 1000, 1e-4, &device)?,
                Some(l),
                Some(head)
            ));
            bar.inc(1);
            // Claim 3 with the head's queries and keys as the content.
            let content = |t: &Tensor<4>, hh: usize| {
                t.clone()
                    .slice([0..1, hh..hh + 1, 0..s, 0..d])
                    .reshape([s, d])
            };
            for kind in [HeadKind::Diagonal, HeadKind::PreviousToken] {
                match rope_kit::check_positional_head(
                    rope,
                    kind,
                    8,
                    content(&layer.q, head),
                    content(&layer.k, kh),
                ) {
                    Ok(v) => rows.push(row!(v, Some(l), Some(head))),
                    Err(e) => rows.push(Row {
                        statement: rope_kit::CLAIM_3.into(),
                        layer: Some(l),
                        head: Some(head),
                        holds: false,
                        cases: 0,
                        violations: 0,
                        worst_margin: f64::NEG_INFINITY,
                        detail: format!("premise not met: {e}"),
                    }),
                }
            }
            bar.inc(1);
            // Claim 4 on the head's own vectors, at distances up to 10⁴.
            let distances = [1.0, 4.0, 16.0, 128.0, 1024.0, 10_000.0];
            rows.push(row!(
                rope_kit::check_drift_bound(rope, &qv, &kvv, &distances)?,
                Some(l),
                Some(head)
            ));
            bar.inc(1);
        }
    }
    // Iso-perplexity on cases drawn from the kit's strategy.
    bar.set_message("iso-perplexity");
    let mut runner = TestRunner::deterministic();
    let strategy = ppl::accuracy_confidence(0.01..0.49);
    let (mut held, mut worst, mut cases) = (0usize, f64::INFINITY, 0usize);
    for _ in 0..256 {
        let (a, g, dg) = strategy
            .new_tree(&mut runner)
            .map_err(|e| e.to_string())?
            .current();
        let v = ppl::check_iso_perplexity(a, g, dg, 1e-9)?;
        held += usize::from(v.holds);
        worst = worst.min(v.worst_margin);
        cases += v.cases;
    }
    rows.push(Row {
        statement: ppl::ISO_PERPLEXITY.into(),
        layer: None,
        head: None,
        holds: held == 256,
        cases,
        violations: 256 - held,
        worst_margin: worst,
        detail: format!("{held} of 256 drawn (a, γ, Δγ) hold"),
    });
    bar.inc(1);
    // Lemma 3.1 on the model itself (copy task with ids 0, 1, 2).
    bar.set_message("Lemma 3.1 search");
    if vocab >= 3 {
        let alpha: Vec<bool> = (0..12).map(|i| i % 3 == 0).collect();
        let v = ppl::check_lemma_3_1(
            lm.as_ref(),
            &alpha,
            CounterexampleConfig::new(0.05),
            &device,
        )?;
        rows.push(row!(v, None, None));
    }
    bar.inc(1);
    bar.finish_and_clear();

    // Report: one line per statement and layer.
    println!(
        "theorem kit on: {name} ({} layers, {heads} heads, normalizer {normalizer})\n",
        layers.len()
    );
    println!(
        "{:<72} {:>5} {:>6} {:>8} {:>6} {:>12}",
        "statement", "layer", "holds", "of", "cases", "worst margin"
    );
    let mut keys: Vec<(String, Option<usize>)> = Vec::new();
    for r in &rows {
        let key = (r.statement.clone(), r.layer);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for (statement, layer) in keys {
        let group: Vec<&Row> = rows
            .iter()
            .filter(|r| r.statement == statement && r.layer == layer)
            .collect();
        let held = group.iter().filter(|r| r.holds).count();
        let cases: usize = group.iter().map(|r| r.cases).sum();
        let worst = group
            .iter()
            .map(|r| r.worst_margin)
            .fold(f64::INFINITY, f64::min);
        let layer = layer.map_or("—".to_string(), |l| l.to_string());
        println!(
            "{statement:<72} {layer:>5} {held:>6} {:>8} {cases:>6} {worst:>12.3e}",
            group.len()
        );
        if held < group.len()
            && let Some(r) = group.iter().find(|r| !r.holds)
        {
            println!("    e.g. head {:?}: {}", r.head, r.detail);
        }
    }
    let path = args.out.join("results.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&serde_json::json!({
            "model": name,
            "seq": args.seq,
            "seed": args.seed,
            "normalizer": normalizer.to_string(),
            "verdicts": rows,
        }))?,
    )?;
    println!(
        "\n'holds' counts heads (or runs) whose every case held; the worst margin is relative to\n\
         each statement's bound, and margins down to minus the checker's tolerance (f32 round-off)\n\
         still hold. Lemma 3.1 'holds' when a wrong copy within ξ was found."
    );
    println!("\nwrote {}", path.display());
    Ok(())
}

/// Probe tokens `[1, seq]`, uniform below `vocab`, from the device's seeded generator.
fn probe(seq: usize, vocab: usize, device: &Device) -> Tensor<2, Int> {
    let u = Tensor::<2>::random(
        [1, seq],
        Distribution::Uniform(0.0, vocab.max(1) as f64),
        device,
    );
    u.floor().clamp(0.0, (vocab.max(1) - 1) as f64).int()
}
