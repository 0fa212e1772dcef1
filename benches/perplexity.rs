//! Perplexity of `[2048, 32000]` logits (a 2k-token batch over a Llama-2-sized vocabulary) on
//! every CPU backend compiled in (Flex by default, NdArray with `--features ndarray`):
//!
//! - `rigor_accumulator`: `PerplexityAccumulator::update_flat`, end to end (target check,
//!   the fused per-token pass, one read-back of 5 floats per token, f64 pooling, ECE bins);
//! - `rigor_token_stats`: the device pass alone (NLL, correctness, confidence, entropy, Brier),
//!   the fused kernel on Flex;
//! - `rigor_token_stats_reference`: the same statistics in composed ops (what rigor ran before
//!   the kernel, and what every other backend runs);
//! - `composed_reference`: `log_softmax` + `gather` + `sum` + read-back of one scalar — the
//!   ops of burn-train's `PerplexityMetric::update` (no pad token);
//! - `burn_train_metric`: burn-train's `PerplexityMetric::update` itself (burn's `train`
//!   feature, which the dev-only rigor-testkit enables); the interop test
//!   `accumulator::agrees_with_burn_train_perplexity_metric` shows the values agree.
//!
//! Before the timings, the bench prints the **peak extra heap memory** of one call of each
//! (a counting global allocator: peak bytes allocated during the call above what was live
//! before it; the 262 MB input is not counted).
//!
//! ```text
//! cargo bench --bench perplexity --features ndarray
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rigor::perplexity::{EvalConfig, token_nll_reference, token_stats, token_stats_reference};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const TOKENS: usize = 2048;
const VOCAB: usize = 32_000;

fn devices() -> Vec<(&'static str, Device)> {
    rigor_testkit::cpu_devices()
}

type Op = Box<dyn Fn(Tensor<2>, Tensor<1, Int>) -> f64>;

fn ops() -> Vec<(&'static str, Op)> {
    vec![
        (
            "rigor_accumulator",
            Box::new(|l, t| {
                let mut acc = EvalConfig::new().init().expect("config");
                acc.update_flat(l, t, None).expect("update");
                acc.nll_sum()
            }),
        ),
        (
            "rigor_token_stats",
            Box::new(|l, t| {
                let s: Vec<f32> = token_stats(l, t)
                    .expect("valid targets")
                    .try_into_vec_as::<f32>()
                    .expect("read");
                f64::from(s[0])
            }),
        ),
        (
            "rigor_token_stats_reference",
            Box::new(|l, t| {
                let s: Vec<f32> = token_stats_reference(l, t)
                    .expect("valid targets")
                    .try_into_vec_as::<f32>()
                    .expect("read");
                f64::from(s[0])
            }),
        ),
        (
            "composed_reference",
            Box::new(|l, t| {
                f64::from(
                    token_nll_reference(l, t)
                        .expect("valid targets")
                        .sum()
                        .try_into_scalar::<f32>()
                        .expect("read"),
                )
            }),
        ),
        (
            "burn_train_metric",
            Box::new(|l, t| {
                use burn::data::dataloader::Progress;
                use burn::train::metric::{
                    Metric, MetricMetadata, Numeric, PerplexityInput, PerplexityMetric,
                };
                let metadata = MetricMetadata {
                    progress: Progress {
                        items_processed: 1,
                        items_total: 1,
                        unit: None,
                    },
                    iteration: Some(0),
                    lr: None,
                };
                let mut metric = PerplexityMetric::new();
                metric
                    .update(&PerplexityInput::new(l, t), &metadata)
                    .expect("update");
                metric.running_value().expect("value").current().ln() * TOKENS as f64
            }),
        ),
    ]
}

fn inputs(device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    device.seed(0);
    let logits = Tensor::<2>::random([TOKENS, VOCAB], Distribution::Normal(0.0, 3.0), device);
    let targets: Vec<i64> = (0..TOKENS).map(|i| ((i * 7919) % VOCAB) as i64).collect();
    let targets = Tensor::<1, Int>::from_data(TensorData::new(targets, [TOKENS]), device);
    device.sync().expect("sync");
    (logits, targets)
}

fn peak_memory() {
    println!(
        "peak extra heap memory, one call on [{TOKENS}, {VOCAB}] f32 logits (input = {} MB):",
        TOKENS * VOCAB * 4 / 1_000_000
    );
    for (backend, device) in devices() {
        let (logits, targets) = inputs(&device);
        for (name, op) in ops() {
            let base = CURRENT.load(Ordering::Relaxed);
            PEAK.store(base, Ordering::Relaxed);
            let v = op(logits.clone(), targets.clone());
            let peak = PEAK.load(Ordering::Relaxed) - base;
            println!(
                "  {backend:<8} {name:<20} {:>8.1} MB  ({:.2}× the logits)  [result {v:.4e}]",
                peak as f64 / 1e6,
                peak as f64 / (TOKENS * VOCAB * 4) as f64
            );
        }
    }
}

fn bench(c: &mut Criterion) {
    peak_memory();
    for (backend, device) in devices() {
        let (logits, targets) = inputs(&device);
        let mut group = c.benchmark_group(format!("perplexity/{backend}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(5))
            .throughput(Throughput::Elements((TOKENS * VOCAB) as u64));
        for (name, op) in ops() {
            group.bench_with_input(
                BenchmarkId::new(name, format!("{TOKENS}x{VOCAB}")),
                &(logits.clone(), targets.clone()),
                |b, (l, t)| b.iter(|| op(l.clone(), t.clone())),
            );
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
