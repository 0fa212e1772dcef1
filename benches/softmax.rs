//! Softmax vs adaptive temperature vs sparse normalizers, rows × cols from 64×64 to
//! 4096×4096, on every CPU backend compiled in (Flex by default, NdArray with
//! `--features ndarray`), side by side with Burn's own fused softmax and each op's composed
//! reference (`*_reference`, what rigor ran before its fused kernels). On Flex the rigor ops
//! run the fused kernels of `rigor_softmax::kernel`; `…/backward` times forward + backward
//! of `sum(w ⊙ c)` on an autodiff device. In the Flex group, candle-nn's CPU
//! `softmax_last_dim` and a plain copy of the same bytes (the memory floor) run on the same
//! values; `benches/peers/jax_peer.py` times the same shapes in JAX.
//!
//! ```text
//! cargo bench --bench softmax --features ndarray
//! cargo bench --bench softmax -- 'normalizers/flex/.*/4096'
//! ```

use std::time::Duration;

use burn::tensor::{Device, Distribution, Tensor, activation};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rigor::softmax::{Normalizer, Temperature, softmax};

fn devices() -> Vec<(&'static str, Device)> {
    rigor_testkit::cpu_devices()
}

/// A named normalizer under test.
type Op = (&'static str, Box<dyn Fn(Tensor<2>) -> Tensor<2>>);

fn bench(c: &mut Criterion) {
    let ops: Vec<Op> = vec![
        ("burn_softmax", Box::new(|x| activation::softmax(x, 1))),
        (
            "rigor_softmax",
            Box::new(|x| softmax(x, -1, Temperature::ONE).unwrap()),
        ),
        (
            "rigor_softmax_reference",
            Box::new(|x| Normalizer::softmax().apply_reference(x, -1).unwrap()),
        ),
        (
            "adaptive",
            Box::new(|x| Normalizer::adaptive().apply(x, -1).unwrap()),
        ),
        (
            "adaptive_reference",
            Box::new(|x| Normalizer::adaptive().apply_reference(x, -1).unwrap()),
        ),
        (
            "ssmax",
            Box::new(|x| Normalizer::scalable(0.4).unwrap().apply(x, -1).unwrap()),
        ),
        (
            "softmax1",
            Box::new(|x| Normalizer::softmax1().apply(x, -1).unwrap()),
        ),
        (
            "sparsemax",
            Box::new(|x| Normalizer::sparsemax().apply(x, -1).unwrap()),
        ),
        (
            "sparsemax_reference",
            Box::new(|x| Normalizer::sparsemax().apply_reference(x, -1).unwrap()),
        ),
        (
            "entmax15",
            Box::new(|x| Normalizer::entmax(1.5).unwrap().apply(x, -1).unwrap()),
        ),
        (
            "entmax15_reference",
            Box::new(|x| {
                Normalizer::entmax(1.5)
                    .unwrap()
                    .apply_reference(x, -1)
                    .unwrap()
            }),
        ),
    ];
    for (backend, device) in devices() {
        let mut group = c.benchmark_group(format!("normalizers/{backend}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for size in [64usize, 256, 1024, 4096] {
            device.seed(0);
            let x = Tensor::<2>::random([size, size], Distribution::Normal(0.0, 1.0), &device);
            group.throughput(Throughput::Elements((size * size) as u64));
            for (name, op) in &ops {
                group.bench_with_input(BenchmarkId::new(*name, size), &x, |b, x| {
                    b.iter(|| {
                        let y = op(x.clone());
                        device.sync().expect("sync");
                        y
                    })
                });
            }
            if backend == "flex" {
                // Peers on the same values: candle-nn's CPU softmax, and a plain copy of the
                // bytes (the memory floor of any op that writes a new [size, size] tensor).
                let host: Vec<f32> = x.clone().try_into_vec_as::<f32>().expect("read");
                let xc = candle_core::Tensor::from_vec(
                    host.clone(),
                    (size, size),
                    &candle_core::Device::Cpu,
                )
                .expect("candle tensor");
                group.bench_function(BenchmarkId::new("candle_softmax_last_dim", size), |b| {
                    b.iter(|| candle_nn::ops::softmax_last_dim(&xc).expect("softmax"))
                });
                group.bench_function(BenchmarkId::new("memory_floor_copy", size), |b| {
                    b.iter(|| host.clone())
                });
            }
        }
        group.finish();
    }
}

/// Forward + backward through each normalizer on an autodiff device (Flex).
fn bench_backward(c: &mut Criterion) {
    let normalizers = [
        ("softmax", Normalizer::softmax()),
        ("adaptive", Normalizer::adaptive()),
        ("entmax15", Normalizer::entmax(1.5).unwrap()),
    ];
    let device = Device::flex().autodiff();
    let mut group = c.benchmark_group("normalizers/flex/backward");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for size in [1024usize, 4096] {
        device.seed(0);
        let x = Tensor::<2>::random([size, size], Distribution::Normal(0.0, 1.0), &device);
        let cot = Tensor::<2>::random([size, size], Distribution::Normal(0.0, 1.0), &device);
        group.throughput(Throughput::Elements((size * size) as u64));
        for (name, n) in &normalizers {
            for (suffix, fused) in [("", true), ("_reference", false)] {
                let id = BenchmarkId::new(format!("{name}{suffix}"), size);
                group.bench_with_input(id, &x, |b, x| {
                    b.iter(|| {
                        let x = x.clone().require_grad();
                        let w = if fused {
                            n.apply(x.clone(), -1)
                        } else {
                            n.apply_reference(x.clone(), -1)
                        }
                        .unwrap();
                        let grads = (w * cot.clone()).sum().backward();
                        x.grad(&grads)
                    })
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench, bench_backward);
criterion_main!(benches);
