//! Seeds: every random draw in rigor-lab comes from a ChaCha8 stream whose seed is a stable
//! hash of the user's seed and a label naming the draw (`"train/batches"`,
//! `"test/n=1024"`, …). Adding an evaluation size or a task therefore never changes the draws of
//! another, and a run is reproducible across platforms (FNV-1a, SplitMix64 and ChaCha8 are
//! fixed algorithms, unlike `std`'s `DefaultHasher`).

use burn::tensor::Device;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

/// The generator every task and the training loop draw from.
pub type LabRng = ChaCha8Rng;

/// A stable 64-bit seed for the stream named `label` under `seed` (FNV-1a, then SplitMix64):
/// rigor-confidence's [`derive_seed`](rigor_confidence::seed::derive_seed) with the one part
/// `label`, so the lab and the change-of-mind runs share one seed derivation.
pub fn derive_seed(seed: u64, label: &str) -> u64 {
    rigor_confidence::seed::derive_seed(seed, &[label])
}

/// The ChaCha8 stream named `label` under `seed`.
pub fn rng(seed: u64, label: &str) -> LabRng {
    LabRng::seed_from_u64(derive_seed(seed, label))
}

/// Seeds Burn's generator on `device` (parameter initialisation, `Tensor::random`) from the
/// stream named `label` under `seed`. Call it right before initialising a model.
///
/// Burn may apply the seed to the whole backend rather than to this device only; either way,
/// the same `(seed, label)` followed by the same calls gives the same tensors.
pub fn seed_device(device: &Device, seed: u64, label: &str) {
    device.seed(derive_seed(seed, label));
}

/// A uniform draw in `[0, 1)` with 24 random bits (exactly representable as `f32`).
pub fn uniform(rng: &mut LabRng) -> f32 {
    (rng.random::<u32>() >> 8) as f32 / (1u32 << 24) as f32
}

/// A standard normal draw (Box–Muller on two [`uniform`]-style draws, in `f64`).
pub fn normal(rng: &mut LabRng) -> f32 {
    let u1 = (f64::from(rng.random::<u32>()) + 1.0) / (f64::from(u32::MAX) + 2.0);
    let u2 = f64::from(rng.random::<u32>()) / (f64::from(u32::MAX) + 1.0);
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// A uniform index in `0..n` (`n > 0`).
pub fn index(rng: &mut LabRng, n: usize) -> usize {
    rng.random_range(0..n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_seeds_are_stable_and_distinct() {
        assert_eq!(derive_seed(7, "a/b"), derive_seed(7, "a/b"));
        assert_ne!(derive_seed(7, "a"), derive_seed(8, "a"));
        assert_ne!(derive_seed(7, "a"), derive_seed(7, "b"));
    }

    #[test]
    fn draws_are_in_range_and_reproducible() {
        let mut a = rng(1, "x");
        let mut b = rng(1, "x");
        for _ in 0..1000 {
            let u = uniform(&mut a);
            assert!((0.0..1.0).contains(&u));
            assert_eq!(u.to_bits(), uniform(&mut b).to_bits());
            let z = normal(&mut a);
            assert!(z.is_finite());
            normal(&mut b);
            assert!(index(&mut a, 5) < 5);
            index(&mut b, 5);
        }
    }

    #[test]
    fn normal_has_unit_variance() {
        let mut r = rng(3, "normal");
        let xs: Vec<f64> = (0..20_000).map(|_| f64::from(normal(&mut r))).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        // 20 000 draws: the standard error of the mean is 0.007, of the variance 0.01.
        assert!(mean.abs() < 0.04, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "var {var}");
    }
}
