//! One training step of rigor-nn's decoder LM at the shape of the performance target
//! (`docs/performance.md`) — d = 256, 4 layers, 4 heads, RoPE, byte vocabulary (256),
//! batch 16 × sequence 256 (257 tokens per row for the shifted targets), d_ff = 4d,
//! LayerNorm, no dropout — forward, backward and an AdamW update, on
//! `Device::flex().autodiff()`, with each attention implementation
//! ([`AttentionKernel`](rigor::nn::AttentionKernel): rigor's composed path, which `Auto`
//! picks on autodiff devices, and Burn's attention op, which Burn 0.22's autodiff backend
//! composes from primitive ops). `lm_forward/flex` times the inference forward (logits of the
//! same batch, plain Flex) with both. `benches/peers/torch_lm_step.py` builds the same model in
//! PyTorch eager and times the same step.
//!
//! ```text
//! cargo bench --bench lm_step
//! python3 benches/peers/torch_lm_step.py --threads 2
//! ```

use std::cell::RefCell;
use std::time::Duration;

use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};
use criterion::{Criterion, criterion_group, criterion_main};
use rigor::nn::{AttentionKernel, DecoderLm, DecoderLmConfig, PositionalEncoding};
use rigor::rope::RopeConfig;

const BATCH: usize = 16;
const SEQ: usize = 256;
const D: usize = 256;
const HEADS: usize = 4;
const LAYERS: usize = 4;
const VOCAB: usize = 256;

fn model(device: &Device) -> DecoderLm {
    DecoderLmConfig::new(VOCAB, D, HEADS, LAYERS)
        .with_d_ff(Some(4 * D))
        .with_max_seq_len(SEQ + 1)
        .with_positional(PositionalEncoding::Rope(RopeConfig::new(D / HEADS)))
        .init(device)
        .expect("valid model")
}

fn tokens(device: &Device) -> Tensor<2, Int> {
    let tokens: Vec<i64> = (0..BATCH * (SEQ + 1))
        .map(|i| ((i * 2_654_435_761) % VOCAB) as i64)
        .collect();
    Tensor::<2, Int>::from_data(TensorData::new(tokens, [BATCH, SEQ + 1]), device)
}

fn bench(c: &mut Criterion) {
    let device = Device::flex().autodiff();
    device.seed(0);
    let tokens_ad = tokens(&device);
    let mut group = c.benchmark_group("lm_step/flex");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(Duration::from_secs(20));
    for (name, kernel) in [
        ("decoder_d256_l4_h4_b16_s256_adamw", AttentionKernel::Auto),
        (
            "decoder_d256_l4_h4_b16_s256_adamw_burn_attention",
            AttentionKernel::Burn,
        ),
    ] {
        let mut optimizer: ModuleOptimizer = AdamWConfig::new().init();
        let state = RefCell::new(Some(model(&device).with_attention_kernel(kernel)));
        group.bench_function(name, |b| {
            b.iter(|| {
                let model = state.borrow_mut().take().expect("model");
                let loss = model
                    .next_token_loss(tokens_ad.clone(), None)
                    .expect("loss");
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                let model = optimizer.step(1e-3, model, grads);
                device.sync().expect("sync");
                *state.borrow_mut() = Some(model);
            })
        });
    }
    group.finish();

    let device = Device::flex();
    device.seed(0);
    let inputs = tokens(&device).narrow(1, 0, SEQ);
    let mut group = c.benchmark_group("lm_forward/flex");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    for (name, kernel) in [
        (
            "decoder_d256_l4_h4_b16_s256_burn_attention",
            AttentionKernel::Auto,
        ),
        (
            "decoder_d256_l4_h4_b16_s256_composed",
            AttentionKernel::Composed,
        ),
    ] {
        let model = model(&device).with_attention_kernel(kernel);
        group.bench_function(name, |b| {
            b.iter(|| {
                let logits = model.forward(inputs.clone(), None).expect("logits");
                device.sync().expect("sync");
                logits
            })
        });
    }
    group.finish();

    // The matrix products that dominate the step (perf: ~60 % of it in gemm's microkernels),
    // at the step's shapes: tokens x d x d (projections), tokens x d x 4d (MLP), and the
    // per-head scores. `benches/peers/torch_lm_step.py --gemm` times the same products in
    // PyTorch; the ratio bounds how close the step can get with Flex's gemm.
    let mut group = c.benchmark_group("lm_gemm/flex");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let tokens = BATCH * SEQ;
    for (name, a, b) in [
        ("4096x256x256", [tokens, D], [D, D]),
        ("4096x256x1024", [tokens, D], [D, 4 * D]),
        ("4096x1024x256", [tokens, 4 * D], [4 * D, D]),
    ] {
        let x = Tensor::<2>::random(a, burn::tensor::Distribution::Default, &device);
        let w = Tensor::<2>::random(b, burn::tensor::Distribution::Default, &device);
        group.bench_function(name, |bch| {
            bch.iter(|| {
                let y = x.clone().matmul(w.clone());
                device.sync().expect("sync");
                y
            })
        });
    }
    let q = Tensor::<4>::random(
        [BATCH, HEADS, SEQ, D / HEADS],
        burn::tensor::Distribution::Default,
        &device,
    );
    group.bench_function("scores_16x4x256x64x256", |bch| {
        bch.iter(|| {
            let y = q.clone().matmul(q.clone().swap_dims(2, 3));
            device.sync().expect("sync");
            y
        })
    });
    // The same product with Kᵀ stored contiguously (a host round trip outside the timing).
    let kt = Tensor::<4>::from_data(q.clone().swap_dims(2, 3).into_data(), &device);
    group.bench_function("scores_16x4x256x64x256_contiguous_kt", |bch| {
        bch.iter(|| {
            let y = q.clone().matmul(kt.clone());
            device.sync().expect("sync");
            y
        })
    });
    // Weights · V.
    let w = Tensor::<4>::random(
        [BATCH, HEADS, SEQ, SEQ],
        burn::tensor::Distribution::Default,
        &device,
    );
    group.bench_function("context_16x4x256x256x64", |bch| {
        bch.iter(|| {
            let y = w.clone().matmul(q.clone());
            device.sync().expect("sync");
            y
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
