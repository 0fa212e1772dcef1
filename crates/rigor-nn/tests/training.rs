//! The models train with Burn's optimizers: a few Adam steps on a fixed batch of the
//! max-retrieval task (*Softmax is not Enough* §5: predict the class of the max-priority item)
//! and of a next-token task cut the loss. A smoke test of the training-loop pattern, not a
//! reproduction: tiny sizes so that it also runs on wgpu over llvmpipe. Each test seeds the
//! device's (process-global) RNG and holds one lock while it runs, so the initial weights, and
//! the outcome, are the same in every run.

mod common;

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use common::{host, tokens};
use rigor_nn::*;
use rigor_testkit::for_each_autodiff_device;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Held for the whole of a test that seeds the device RNG: nothing else in the binary draws
/// from it meanwhile (the two tests are CPU-bound, so running them one after the other costs
/// no time on 2 cores).
static DEVICE_RNG: Mutex<()> = Mutex::new(());

fn seeded(device: &Device, seed: u64) -> MutexGuard<'static, ()> {
    let guard = DEVICE_RNG.lock().unwrap_or_else(PoisonError::into_inner);
    device.seed(seed);
    guard
}

/// `batch` sets of `n` items `[priority, one-hot(class, classes)]`, target = class of the
/// max-priority item. Deterministic (an LCG), identical on every device.
fn max_retrieval_batch(
    batch: usize,
    n: usize,
    classes: usize,
    device: &Device,
) -> (Tensor<3>, Tensor<1, Int>) {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let d = 1 + classes;
    let mut feats = vec![0f32; batch * n * d];
    let mut targets = Vec::with_capacity(batch);
    for b in 0..batch {
        let mut best = (f64::NEG_INFINITY, 0usize);
        for i in 0..n {
            let p = next();
            let c = ((next() * classes as f64) as usize).min(classes - 1);
            let o = (b * n + i) * d;
            feats[o] = p as f32;
            feats[o + 1 + c] = 1.0;
            if p > best.0 {
                best = (p, c);
            }
        }
        targets.push(best.1 as i64);
    }
    (
        Tensor::from_data(TensorData::new(feats, [batch, n, d]), device),
        Tensor::from_data(TensorData::new(targets, [batch]), device),
    )
}

#[test]
fn set_readout_learns_max_retrieval_on_a_fixed_batch() {
    for_each_autodiff_device(|device| {
        let (items, targets) = max_retrieval_batch(32, 4, 3, device);
        let _rng = seeded(device, 7);
        let mut model = SetReadoutConfig::new(4, 16, 3).init(device).unwrap();
        let mut optim = AdamConfig::new().init();
        let mut losses = Vec::new();
        for _ in 0..40 {
            let out = model.forward(items.clone(), None, None).unwrap();
            let loss = cross_entropy(out.logits, targets.clone(), None);
            losses.push(host(loss.clone())[0]);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(3e-2, model, grads);
        }
        assert!(
            losses[39] < 0.7 * losses[0],
            "loss {} → {} did not drop by 30%",
            losses[0],
            losses[39]
        );
    });
}

#[test]
fn decoder_lm_learns_a_fixed_sequence() {
    for_each_autodiff_device(|device| {
        let toks = tokens(&[vec![1, 2, 3, 4, 5, 6], vec![6, 5, 4, 3, 2, 1]], device);
        let _rng = seeded(device, 11);
        let mut model = DecoderLmConfig::new(7, 16, 2, 1)
            .with_positional(PositionalEncoding::Rope(rigor_rope::RopeConfig::new(8)))
            .init(device)
            .unwrap();
        let mut optim = AdamConfig::new().init();
        let mut losses = Vec::new();
        for _ in 0..30 {
            let loss = model.next_token_loss(toks.clone(), None).unwrap();
            losses.push(host(loss.clone())[0]);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-2, model, grads);
        }
        assert!(
            losses[29] < 0.5 * losses[0],
            "loss {} → {} did not halve",
            losses[0],
            losses[29]
        );
    });
}
