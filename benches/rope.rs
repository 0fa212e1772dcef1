//! RoPE application on `[1, 32, 2048, 128]` (batch, heads, seq, head_dim): rigor's
//! half-split and interleaved reference paths (offset, and per-token ids through a gather)
//! next to burn's `RotaryEncoding`, on every CPU backend compiled in (Flex by default,
//! NdArray with `--features ndarray`).
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

fn devices() -> Vec<(&'static str, Device)> {
    #[allow(unused_mut)]
    let mut v = vec![("flex", Device::flex())];
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)]
    v.push(("ndarray", Device::ndarray()));
    v
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
            group.bench_with_input(
                BenchmarkId::new(format!("rigor_{layout:?}_offset"), id),
                &x,
                |bch, x| {
                    bch.iter(|| {
                        let y = rope
                            .apply(
                                x.clone(),
                                TensorLayout::Bhsd,
                                Role::Query,
                                Positions::Offset(0),
                            )
                            .expect("apply");
                        device.sync().expect("sync");
                        y
                    })
                },
            );
            group.bench_with_input(
                BenchmarkId::new(format!("rigor_{layout:?}_ids"), id),
                &x,
                |bch, x| {
                    bch.iter(|| {
                        let y = rope
                            .apply(
                                x.clone(),
                                TensorLayout::Bhsd,
                                Role::Query,
                                Positions::Ids(&ids),
                            )
                            .expect("apply");
                        device.sync().expect("sync");
                        y
                    })
                },
            );
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
