//! The generators' claims: shapes, labels that match the definition, determinism under a seed.

use rigor_lab::rng;
use rigor_lab::tasks::copy::{CopyTask, SEP};
use rigor_lab::tasks::max_retrieval::MaxRetrievalTask;
use rigor_lab::tasks::parity::ParityTask;
use rigor_testkit::for_each_device;

fn floats<const D: usize>(t: burn::tensor::Tensor<D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

fn ints<const D: usize>(t: burn::tensor::Tensor<D, burn::tensor::Int>) -> Vec<i64> {
    t.into_data().iter::<i64>().collect()
}

#[test]
fn max_retrieval_target_is_the_class_of_the_max_priority_item() {
    for_each_device(|device| {
        let task = MaxRetrievalTask::new(5, 0.0).unwrap();
        let (b, n, d) = (8, 32, task.item_dim());
        let batch = task.sample(b, n, &mut rng::rng(1, "t"), device).unwrap();
        assert_eq!(batch.items.dims(), [b, n, d]);
        let items = floats(batch.items.clone());
        let targets = ints(batch.targets.clone());
        for s in 0..b {
            let row = |i: usize| &items[(s * n + i) * d..(s * n + i + 1) * d];
            let best = (0..n)
                .max_by(|&i, &j| row(i)[0].total_cmp(&row(j)[0]))
                .unwrap();
            assert_eq!(best, batch.argmax[s]);
            let features = &row(best)[1..];
            let class = (0..5).find(|&k| features[k] == 1.0).unwrap();
            assert_eq!(features.iter().sum::<f32>(), 1.0, "one-hot without noise");
            assert_eq!(class, batch.target_classes[s]);
            assert_eq!(targets[s], class as i64);
            assert!(row(best)[0] < 1.0 && row(best)[0] >= 0.0);
        }
    });
}

#[test]
fn max_retrieval_is_deterministic_under_a_seed_and_noise_is_applied() {
    let device = burn::tensor::Device::flex();
    let task = MaxRetrievalTask::new(4, 0.5).unwrap();
    let a = task.sample(3, 10, &mut rng::rng(7, "x"), &device).unwrap();
    let b = task.sample(3, 10, &mut rng::rng(7, "x"), &device).unwrap();
    let c = task.sample(3, 10, &mut rng::rng(8, "x"), &device).unwrap();
    assert_eq!(floats(a.items.clone()), floats(b.items));
    assert_ne!(floats(a.items.clone()), floats(c.items));
    let items = floats(a.items);
    assert!(items.iter().any(|&x| x != 0.0 && x != 1.0 && x < 0.0));
}

#[test]
fn max_retrieval_targets_cover_every_class() {
    let device = burn::tensor::Device::flex();
    let task = MaxRetrievalTask::new(10, 0.0).unwrap();
    let batch = task
        .sample(2000, 16, &mut rng::rng(0, "cover"), &device)
        .unwrap();
    let mut counts = [0usize; 10];
    batch.target_classes.iter().for_each(|&c| counts[c] += 1);
    // Uniform targets: 200 expected per class, sd ≈ 13.4; 120 is 6 sd below.
    assert!(counts.iter().all(|&c| c > 120), "{counts:?}");
}

#[test]
fn invalid_task_parameters_are_rejected() {
    let device = burn::tensor::Device::flex();
    assert!(MaxRetrievalTask::new(1, 0.0).is_err());
    assert!(MaxRetrievalTask::new(3, -1.0).is_err());
    assert!(MaxRetrievalTask::new(3, f32::NAN).is_err());
    let t = MaxRetrievalTask::new(3, 0.0).unwrap();
    assert!(t.sample(0, 4, &mut rng::rng(0, ""), &device).is_err());
    assert!(t.sample(4, 0, &mut rng::rng(0, ""), &device).is_err());
    assert!(CopyTask::new(0).is_err());
    assert!(ParityTask::new(0).is_err());
}

#[test]
fn copy_targets_are_the_shifted_sequence_and_the_mask_covers_the_copy() {
    for_each_device(|device| {
        let task = CopyTask::new(6).unwrap();
        let batch = task.sample(4, &mut rng::rng(2, "copy"), device).unwrap();
        let t = task.seq_len();
        assert_eq!(batch.inputs.dims(), [4, t]);
        let inputs = ints(batch.inputs.clone());
        let targets = ints(batch.targets.clone());
        let mask: Vec<bool> = batch.loss_mask.clone().into_data().iter::<bool>().collect();
        for s in 0..4 {
            let seq = CopyTask::sequence(&batch.bits[s]);
            assert_eq!(seq[6], SEP);
            assert_eq!(seq[..6], seq[7..]);
            for j in 0..t {
                assert_eq!(inputs[s * t + j], seq[j] as i64);
                assert_eq!(targets[s * t + j], seq[j + 1] as i64);
                assert_eq!(mask[s * t + j], j >= 6);
            }
        }
    });
}

#[test]
fn parity_is_the_xor_of_the_bits() {
    for_each_device(|device| {
        let task = ParityTask::new(9).unwrap();
        let batch = task.sample(64, &mut rng::rng(3, "parity"), device).unwrap();
        let bits = ints(batch.tokens.clone());
        let floats_bits = floats(batch.bits.clone());
        let targets = ints(batch.targets.clone());
        for s in 0..64 {
            let row = &bits[s * 9..(s + 1) * 9];
            assert_eq!(row.iter().sum::<i64>() % 2, targets[s]);
            assert_eq!(targets[s], i64::from(batch.target_bits[s]));
            for j in 0..9 {
                assert_eq!(floats_bits[s * 9 + j], row[j] as f32);
            }
        }
        let ones = batch.target_bits.iter().filter(|&&b| b == 1).count();
        assert!((16..=48).contains(&ones), "{ones} odd strings of 64");
    });
}

#[test]
fn prefix_parity_targets_are_the_running_xor_after_the_separator() {
    for_each_device(|device| {
        let len = 7;
        let task = ParityTask::new(len).unwrap();
        let b = task
            .sample_prefix(5, &mut rng::rng(4, "prefix"), device)
            .unwrap();
        let (inputs, targets) = (ints(b.inputs), ints(b.targets));
        assert_eq!(targets, b.host_targets);
        let t = 2 * len;
        for r in 0..5 {
            let row_in = &inputs[r * t..(r + 1) * t];
            let row_t = &targets[r * t..(r + 1) * t];
            let bits = &row_in[..len];
            assert_eq!(row_in[len], SEP as i64);
            let mut p = 0;
            for k in 0..len {
                p ^= bits[k];
                assert_eq!(row_t[len + k], p, "row {r}, parity {k}");
                assert!(b.host_mask[r * t + len + k]);
            }
            // inputs are the sequence shifted by one: bits, SEP, p_1..p_{L-1}
            assert_eq!(&row_in[len + 1..], &row_t[len..t - 1]);
            assert!(b.host_mask[r * t..r * t + len].iter().all(|m| !m));
        }
        assert!(
            task.sample_prefix(0, &mut rng::rng(0, "x"), device)
                .is_err()
        );
        assert_eq!(
            ParityTask::prefix_sequence(&[1, 1, 0]),
            vec![1, 1, 0, SEP, 1, 0, 0]
        );
    });
}
