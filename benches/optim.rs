//! One training step (forward, backward, optimizer update) of a bias-free two-layer MLP
//! `[64, d] → d → d`, for Burn's SGD, AdamW, Muon and Lion and rigor-optim's Signum, Shampoo
//! (inverse roots every step and every 10 steps) and SOAP, side by side on every CPU backend
//! compiled in (Flex by default, NdArray with `--features ndarray`). The forward/backward work
//! is the same for every row, so the differences are the optimizers' own cost.
//!
//! ```text
//! cargo bench --bench optim --features ndarray
//! ```

use std::time::Duration;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{
    AdamWConfig, GradientsParams, LionConfig, ModuleOptimizer, MuonConfig, SgdConfig,
};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Tensor};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rigor::optim::{ShampooConfig, SignumConfig, SoapConfig};

fn devices() -> Vec<(&'static str, Device)> {
    rigor_testkit::cpu_devices()
}

#[derive(Module, Debug)]
struct Mlp {
    a: Linear,
    b: Linear,
}

impl Mlp {
    fn new(d: usize, device: &Device) -> Self {
        let layer = LinearConfig::new(d, d).with_bias(false);
        Self {
            a: layer.init(device),
            b: layer.init(device),
        }
    }

    fn loss(&self, x: Tensor<2>) -> Tensor<1> {
        self.b.forward(relu(self.a.forward(x))).square().mean()
    }
}

type MakeOptimizer = fn() -> ModuleOptimizer;

fn optimizers() -> Vec<(&'static str, MakeOptimizer)> {
    vec![
        ("sgd", || SgdConfig::new().init()),
        ("adamw", || AdamWConfig::new().init()),
        ("lion", || LionConfig::new().init()),
        ("muon", || ModuleOptimizer::from(MuonConfig::new().build())),
        ("signum", || SignumConfig::default().init().expect("valid")),
        ("shampoo_every_step", || {
            ShampooConfig {
                precondition_every: 1,
                ..ShampooConfig::default()
            }
            .init()
            .expect("valid")
        }),
        ("shampoo_every_10", || {
            ShampooConfig::default().init().expect("valid")
        }),
        ("soap", || SoapConfig::default().init().expect("valid")),
    ]
}

fn bench(c: &mut Criterion) {
    for (backend, device) in devices() {
        let device = device.autodiff();
        let mut group = c.benchmark_group(format!("optimizer_step/{backend}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for d in [128usize, 512] {
            for (name, make) in optimizers() {
                device.seed(0);
                let mut model = Mlp::new(d, &device);
                let x = Tensor::<2>::random([64, d], Distribution::Normal(0.0, 1.0), &device);
                let mut optim = make();
                group.bench_function(BenchmarkId::new(name, d), |b| {
                    b.iter(|| {
                        let loss = model.loss(x.clone());
                        let grads = GradientsParams::from_grads(loss.backward(), &model);
                        model = optim.step(1e-3, model.clone(), grads);
                        // Wait for the update (backends may be lazy).
                        model.a.weight.val().into_data()
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
