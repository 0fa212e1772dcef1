//! RoPE application on `[1, 32, 2048, 128]` (batch, heads, seq, head_dim), half-split and
//! interleaved: rigor's `apply` (the fused kernel on Flex: offset, per-token ids, and in place
//! on a uniquely owned buffer) and `apply_reference` (composed ops), next to burn's
//! `RotaryEncoding`, candle-nn's CPU `rope` / `rope_i` and a plain copy of the same bytes
//! (the memory floor), on every CPU backend compiled in (Flex by default, NdArray with
//! `--features ndarray`; candle runs once, in the Flex group).
//!
//! ```text
//! cargo bench --bench rope --features ndarray
//! ```
//!
//! The cos/sin tables are warmed once before timing (both libraries precompute them).

use std::time::Duration;

use burn::nn::RotaryEncodingConfig;
use burn::tensor::{Device, Distribution, Tensor};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rigor::rope::{Layout, PositionIds, Positions, Role, RopeConfig, TensorLayout};

/// A named way of applying RoPE to a tensor.
type Case<'a> = Box<dyn Fn(Tensor<4>) -> Tensor<4> + 'a>;

fn devices() -> Vec<(&'static str, Device)> {
    rigor_testkit::cpu_devices()
}

fn bench(c: &mut Criterion) {
    let shape = [1usize, 32, 2048, 128];
    let [b, _, s, d] = shape;
    for (backend, device) in devices() {
        let mut group = c.benchmark_group(format!("rope/{backend}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(shape.iter().product::<usize>() as u64));
        device.seed(0);
        let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
        let id = "1x32x2048x128";

        let burn_rope = RotaryEncodingConfig::new(s, d).init(&device);
        group.bench_with_input(BenchmarkId::new("burn_RotaryEncoding", id), &x, |bch, x| {
            bch.iter(|| {
                let y = burn_rope.forward(x.clone());
                device.sync().expect("sync");
                y
            })
        });
        let ids = PositionIds::arange(b, s);
        for layout in [Layout::Interleaved, Layout::HalfSplit] {
            let rope = RopeConfig::new(d)
                .with_layout(layout)
                .init()
                .expect("valid config");
            let _ = rope.apply(
                x.clone(),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Offset(0),
            ); // warm cache
            let cases: Vec<(String, Case<'_>)> = vec![
                (
                    format!("rigor_{layout:?}_offset"),
                    Box::new(|x| {
                        rope.apply(x, TensorLayout::Bhsd, Role::Query, Positions::Offset(0))
                            .expect("apply")
                    }),
                ),
                (
                    format!("rigor_{layout:?}_offset_reference"),
                    Box::new(|x| {
                        rope.apply_reference(
                            x,
                            TensorLayout::Bhsd,
                            Role::Query,
                            Positions::Offset(0),
                        )
                        .expect("apply")
                    }),
                ),
                (
                    format!("rigor_{layout:?}_ids"),
                    Box::new(|x| {
                        rope.apply(x, TensorLayout::Bhsd, Role::Query, Positions::Ids(&ids))
                            .expect("apply")
                    }),
                ),
            ];
            for (name, f) in &cases {
                group.bench_with_input(BenchmarkId::new(name, id), &x, |bch, x| {
                    bch.iter(|| {
                        let y = f(x.clone());
                        device.sync().expect("sync");
                        y
                    })
                });
            }
            // In place: each iteration rotates the previous output, which nothing else holds.
            let state = std::cell::RefCell::new(Some(x.clone() + 0.0));
            group.bench_function(
                BenchmarkId::new(format!("rigor_{layout:?}_in_place"), id),
                |bch| {
                    bch.iter(|| {
                        let y = state.borrow_mut().take().expect("state");
                        let y = rope
                            .apply(y, TensorLayout::Bhsd, Role::Query, Positions::Offset(0))
                            .expect("apply");
                        device.sync().expect("sync");
                        *state.borrow_mut() = Some(y);
                    })
                },
            );
        }
        if backend == "flex" {
            candle_peer(&mut group, &x, id);
        }
        group.finish();
    }
}

/// candle-nn's CPU `rope` (half-split) and `rope_i` (interleaved) on the same values, with
/// `[seq, d/2]` tables as candle takes them, and a plain copy of the bytes (the memory floor).
fn candle_peer(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    x: &Tensor<4>,
    id: &str,
) {
    let [b, h, s, d] = x.dims();
    let host: Vec<f32> = x.clone().try_into_vec_as::<f32>().expect("read");
    let cpu = candle_core::Device::Cpu;
    let xc = candle_core::Tensor::from_vec(host.clone(), (b, h, s, d), &cpu).expect("candle x");
    let (mut cos, mut sin) = (Vec::with_capacity(s * d / 2), Vec::with_capacity(s * d / 2));
    for t in 0..s {
        for k in 0..d / 2 {
            let angle = t as f64 * 10_000f64.powf(-2.0 * k as f64 / d as f64);
            cos.push(angle.cos() as f32);
            sin.push(angle.sin() as f32);
        }
    }
    let cos = candle_core::Tensor::from_vec(cos, (s, d / 2), &cpu).expect("cos");
    let sin = candle_core::Tensor::from_vec(sin, (s, d / 2), &cpu).expect("sin");
    group.bench_function(BenchmarkId::new("candle_rope", id), |bch| {
        bch.iter(|| candle_nn::rotary_emb::rope(&xc, &cos, &sin).expect("rope"))
    });
    group.bench_function(BenchmarkId::new("candle_rope_i", id), |bch| {
        bch.iter(|| candle_nn::rotary_emb::rope_i(&xc, &cos, &sin).expect("rope_i"))
    });
    group.bench_function(BenchmarkId::new("memory_floor_copy", id), |bch| {
        bch.iter(|| host.clone())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
