//! The accumulator's contract: pooling, masks, label shift, merging, errors, extreme inputs,
//! the fused pass against the composed reference, and interop with burn-train.
//!
//! Every test runs on every compiled-in device. Tolerances are f32 round-off allowances of
//! the device-side log-sum-exp (relative ~1e-6), far below the effects tested.

mod common;

use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use common::{assert_close, ids, logits2, logits3, mask, nll_f64};
use rigor_perplexity::*;
use rigor_testkit::for_each_device;

fn acc(config: EvalConfig) -> PerplexityAccumulator {
    config.init().expect("valid config")
}

#[test]
fn fused_pass_matches_composed_log_softmax_gather_reference() {
    for_each_device(|device| {
        device.seed(7);
        let logits = Tensor::<2>::random([64, 97], Distribution::Normal(0.0, 4.0), device);
        let t: Vec<i64> = (0..64).map(|i| (i * 37 % 97) as i64).collect();
        let targets = ids(&t, [64], device);
        let reference: Vec<f32> = token_nll_reference(logits.clone(), targets.clone())
            .unwrap()
            .try_into_vec_as::<f32>()
            .unwrap();
        let host: Vec<f32> = logits.clone().try_into_vec_as::<f32>().unwrap();
        let stats: Vec<f32> = token_stats(logits, targets)
            .unwrap()
            .try_into_vec_as::<f32>()
            .unwrap();
        for (i, row) in stats.chunks_exact(5).enumerate() {
            let fused = 2.0 * f64::from(row[0]);
            let oracle = nll_f64(&host[i * 97..(i + 1) * 97], t[i] as usize);
            assert_close(
                fused,
                f64::from(reference[i]),
                2e-5,
                2e-6,
                "fused vs reference",
            );
            assert_close(fused, oracle, 2e-5, 2e-6, "fused vs f64 oracle");
            // confidence in (0, 1], entropy in [0, ln V], Brier in [0, 2]
            assert!(row[2] > 0.0 && row[2] <= 1.0);
            assert!(row[3] >= -1e-5 && f64::from(row[3]) <= (97f64).ln() + 1e-4);
            assert!(row[4] >= -1e-6 && row[4] <= 2.0 + 1e-6);
        }
    });
}

#[test]
fn ignore_index_and_mask_exclude_tokens() {
    for_each_device(|device| {
        let rows = vec![
            vec![3.0, 0.0, -1.0],
            vec![0.5, 0.5, 2.0],
            vec![9.0, -9.0, 0.0], // ignored by id
            vec![1.0, 2.0, 3.0],  // masked
        ];
        let mut a = acc(EvalConfig::new());
        a.update_flat(
            logits2(&rows, device),
            ids(&[0, 2, -100, 1], [4], device),
            Some(mask(&[true, true, true, false], [4], device)),
        )
        .unwrap();
        let want = nll_f64(&rows[0], 0) + nll_f64(&rows[1], 2);
        assert_eq!(a.tokens(), 2);
        assert_close(
            a.nll_sum(),
            want,
            1e-5,
            1e-6,
            "nll over the two scored tokens",
        );
        // a masked or ignored target may be any id, even out of range
        let mut b = acc(EvalConfig::new());
        b.update_flat(
            logits2(&rows, device),
            ids(&[0, 2, -100, 999], [4], device),
            Some(mask(&[true, true, true, false], [4], device)),
        )
        .unwrap();
        assert_eq!(b.report().unwrap(), a.report().unwrap());
    });
}

#[test]
fn causal_shift_scores_logit_t_against_token_t_plus_1() {
    for_each_device(|device| {
        // [1, 4, 3]: logits at t must be scored against ids[t + 1]
        let flat: Vec<f32> = vec![
            5.0, 0.0, 0.0, // predicts 0 -> ids[1] = 0
            0.0, 5.0, 0.0, // predicts 1 -> ids[2] = 1
            0.0, 0.0, 5.0, // predicts 2 -> ids[3] = 2
            1.0, 1.0, 1.0, // last row: dropped
        ];
        let seq = [2i64, 0, 1, 2];
        let mut shifted = acc(EvalConfig::new().with_label_shift(LabelShift::Causal));
        shifted
            .update(
                logits3(&flat, [1, 4, 3], device),
                ids(&seq, [1, 4], device),
                None,
            )
            .unwrap();
        let r = shifted.report().unwrap();
        assert_eq!(r.tokens, 3);
        assert_eq!(r.calibration.accuracy, 1.0);
        assert_close(
            r.nll_sum,
            3.0 * nll_f64(&[5.0, 0.0, 0.0], 0),
            1e-5,
            1e-6,
            "shifted nll",
        );
        // the same data pre-shifted by hand, no shift configured
        let mut manual = acc(EvalConfig::new());
        manual
            .update(
                logits3(&flat[..9], [1, 3, 3], device),
                ids(&seq[1..], [1, 3], device),
                None,
            )
            .unwrap();
        assert_eq!(manual.report().unwrap(), r);
        // the mask is aligned with the targets: masking id position 0 changes nothing
        // (it is never a target), masking position 3 drops the last scored token
        let mut m = acc(EvalConfig::new().with_label_shift(LabelShift::Causal));
        m.update(
            logits3(&flat, [1, 4, 3], device),
            ids(&seq, [1, 4], device),
            Some(mask(&[false, true, true, false], [1, 4], device)),
        )
        .unwrap();
        assert_eq!(m.tokens(), 2);
    });
}

#[test]
fn merge_is_pooling_not_averaging() {
    for_each_device(|device| {
        // batch 1: one confident token; batch 2: five uniform tokens (burn-train's own example)
        let mut a = acc(EvalConfig::new());
        a.update_flat(
            logits2(&[vec![5.0, 0.0, 0.0]], device),
            ids(&[0], [1], device),
            None,
        )
        .unwrap();
        let mut b = acc(EvalConfig::new());
        b.update_flat(
            logits2(&vec![vec![0.0, 0.0, 0.0]; 5], device),
            ids(&[0, 1, 2, 0, 1], [5], device),
            None,
        )
        .unwrap();
        let mean_of_ppl = (a.perplexity().unwrap() + b.perplexity().unwrap()) / 2.0;
        a.merge(&b).unwrap();
        let pooled = a.perplexity().unwrap();
        let want = ((nll_f64(&[5.0, 0.0, 0.0], 0) + 5.0 * 3f64.ln()) / 6.0).exp();
        assert_close(pooled, want, 1e-6, 1e-6, "pooled");
        assert_close(pooled, 2.5036, 1e-3, 0.0, "burn-train's documented value");
        assert!(
            (pooled - mean_of_ppl).abs() > 0.4,
            "pooled differs from the mean of perplexities"
        );
        assert_eq!(a.sequences().len(), 2);
        // mismatched configurations do not merge
        let c = acc(EvalConfig::new().with_ece_bins(3));
        assert!(matches!(
            a.merge(&c),
            Err(PerplexityError::ConfigMismatch { .. })
        ));
    });
}

#[test]
fn accumulators_merge_across_threads() {
    let device = Device::flex();
    device.seed(3);
    let logits = Tensor::<3>::random([4, 8, 16], Distribution::Normal(0.0, 2.0), &device);
    let t: Vec<i64> = (0..32).map(|i| (i * 5 % 16) as i64).collect();
    let targets = ids(&t, [4, 8], &device);
    let mut whole = acc(EvalConfig::new());
    whole.update(logits.clone(), targets.clone(), None).unwrap();
    let parts: Vec<PerplexityAccumulator> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let l = logits.clone().narrow(0, i, 1);
                let tg = targets.clone().narrow(0, i, 1);
                s.spawn(move || {
                    let mut a = acc(EvalConfig::new());
                    a.update(l, tg, None).unwrap();
                    a
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut merged = acc(EvalConfig::new());
    for p in &parts {
        merged.merge(p).unwrap();
    }
    let (w, m) = (whole.report().unwrap(), merged.report().unwrap());
    assert_eq!(w.tokens, m.tokens);
    assert_close(m.nll_sum, w.nll_sum, 1e-9, 1e-12, "merged nll");
    assert_close(
        m.calibration.ece_equal_mass.unwrap(),
        w.calibration.ece_equal_mass.unwrap(),
        1e-12,
        0.0,
        "ece",
    );
    assert_eq!(merged.sequences(), whole.sequences());
}

#[test]
fn extreme_logits_give_finite_log_perplexity() {
    for_each_device(|device| {
        // ±1e30: the composed reference is fine here but exp(mean NLL) overflows f64
        let rows = vec![vec![1e30, -1e30, 0.0], vec![-1e30, 1e30, -1e30]];
        let mut a = acc(EvalConfig::new());
        a.update_flat(logits2(&rows, device), ids(&[1, 0], [2], device), None)
            .unwrap();
        let r = a.report().unwrap();
        assert!(r.log_perplexity.is_finite(), "log-ppl {}", r.log_perplexity);
        assert_close(
            r.log_perplexity,
            2e30,
            0.0,
            1e-6,
            "mean NLL = (2e30 + 2e30)/2",
        );
        assert_eq!(r.perplexity, f64::INFINITY, "exp(2e30) exceeds f64::MAX");
        assert!(r.calibration.mean_entropy.is_finite() && r.calibration.brier.is_finite());
        assert_eq!(r.calibration.accuracy, 0.0);
        // logits spanning more than f32::MAX: m − x_t alone overflows f32, the halved form
        // does not
        let rows = vec![vec![3.0e38, -3.0e38]];
        let mut b = acc(EvalConfig::new());
        b.update_flat(logits2(&rows, device), ids(&[1], [1], device), None)
            .unwrap();
        let r = b.report().unwrap();
        assert!(r.log_perplexity.is_finite());
        assert_close(
            r.log_perplexity,
            6.0e38,
            0.0,
            1e-6,
            "NLL = 6e38 (beyond f32)",
        );
        // a moderate mean NLL above f32's exp limit (88.7) still has a finite f64 perplexity
        let rows = vec![vec![100.0, 0.0]];
        let mut c = acc(EvalConfig::new());
        c.update_flat(logits2(&rows, device), ids(&[1], [1], device), None)
            .unwrap();
        let p = c.perplexity().unwrap();
        assert!(
            p.is_finite() && p > 1e43,
            "exp(100) = 2.7e43 in f64, got {p}"
        );
    });
}

#[test]
fn huge_vocabulary_is_finite_and_exact() {
    for_each_device(|device| {
        // 262 144 identical logits: NLL = ln V exactly; one row with a ±1e30 spike
        let v = 1 << 18;
        let uniform = Tensor::<2>::zeros([1, v], device);
        let mut spike = vec![-1e30f32; v];
        spike[12345] = 1e30;
        let spike = Tensor::<2>::from_data(TensorData::new(spike, [1, v]), device);
        let mut a = acc(EvalConfig::new());
        a.update_flat(uniform, ids(&[777], [1], device), None)
            .unwrap();
        // 2e-4 (1.6e-5 relative): f32 exp/log on GPUs are allowed several ULP by the Vulkan
        // spec; llvmpipe's wgpu path is 6.1e-5 off, Flex/NdArray below 1e-6.
        assert_close(
            a.log_perplexity().unwrap(),
            (v as f64).ln(),
            2e-4,
            0.0,
            "ln V",
        );
        a.update_flat(spike, ids(&[12345], [1], device), None)
            .unwrap();
        let r = a.report().unwrap();
        assert!(r.log_perplexity.is_finite());
        assert_close(
            r.nll_sum,
            (v as f64).ln(),
            2e-4,
            0.0,
            "spike at target adds 0",
        );
    });
}

#[test]
fn fully_masked_input_is_an_explicit_empty_result() {
    for_each_device(|device| {
        let mut a = acc(EvalConfig::new());
        let s = a
            .update(
                Tensor::<3>::zeros([2, 3, 5], device),
                ids(&[-100; 6], [2, 3], device),
                None,
            )
            .unwrap();
        assert_eq!(
            s,
            BatchSummary {
                tokens: 0,
                nll_sum: 0.0
            }
        );
        assert_eq!(a.sequences().len(), 2);
        assert_eq!(a.sequences()[0].perplexity(), None);
        assert!(matches!(a.report(), Err(PerplexityError::NoTokens { .. })));
        assert!(matches!(
            a.perplexity(),
            Err(PerplexityError::NoTokens { .. })
        ));
        // a causal shift of length-1 sequences leaves nothing either
        let mut c = acc(EvalConfig::new().with_label_shift(LabelShift::Causal));
        c.update(
            Tensor::<3>::zeros([2, 1, 5], device),
            ids(&[1, 2], [2, 1], device),
            None,
        )
        .unwrap();
        assert!(matches!(c.report(), Err(PerplexityError::NoTokens { .. })));
        // masked via the mask
        let mut m = acc(EvalConfig::new());
        m.update(
            Tensor::<3>::zeros([1, 2, 5], device),
            ids(&[1, 2], [1, 2], device),
            Some(mask(&[false, false], [1, 2], device)),
        )
        .unwrap();
        assert!(matches!(m.report(), Err(PerplexityError::NoTokens { .. })));
    });
}

#[test]
fn bad_inputs_are_errors_and_leave_the_accumulator_unchanged() {
    for_each_device(|device| {
        let mut a = acc(EvalConfig::new());
        a.update_flat(
            logits2(&[vec![1.0, 2.0]], device),
            ids(&[1], [1], device),
            None,
        )
        .unwrap();
        let before = a.clone();
        let logits = logits2(&[vec![1.0, 2.0], vec![0.0, 0.0]], device);
        assert_eq!(
            a.update_flat(logits.clone(), ids(&[0, 2], [2], device), None),
            Err(PerplexityError::TargetOutOfRange {
                id: 2,
                position: 1,
                vocab: 2,
                ignore_index: Some(-100)
            })
        );
        assert!(matches!(
            a.update_flat(logits.clone(), ids(&[-1, 0], [2], device), None),
            Err(PerplexityError::TargetOutOfRange { id: -1, .. })
        ));
        assert!(matches!(
            a.update_flat(logits.clone(), ids(&[0, 1, 1], [3], device), None),
            Err(PerplexityError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            a.update_flat(
                logits,
                ids(&[0, 1], [2], device),
                Some(mask(&[true], [1], device))
            ),
            Err(PerplexityError::ShapeMismatch { .. })
        ));
        let nan = logits2(&[vec![f32::NAN, 0.0], vec![0.0, 0.0]], device);
        assert!(matches!(
            a.update_flat(nan.clone(), ids(&[0, 1], [2], device), None),
            Err(PerplexityError::NonFiniteLogits { position: 0, .. })
        ));
        let inf = logits2(&[vec![0.0, 0.0], vec![f32::INFINITY, 0.0]], device);
        assert!(matches!(
            a.update_flat(inf, ids(&[0, 1], [2], device), None),
            Err(PerplexityError::NonFiniteLogits { position: 1, .. })
        ));
        assert_eq!(a, before, "failed updates change nothing");
        // NaN logits on an unscored token are never read
        a.update_flat(nan, ids(&[-100, 1], [2], device), None)
            .unwrap();
        assert_eq!(a.tokens(), 2);
        // zero ECE bins
        assert!(matches!(
            EvalConfig::new().with_ece_bins(0).init(),
            Err(PerplexityError::InvalidParameter {
                name: "ece_bins",
                ..
            })
        ));
    });
}

#[test]
fn zero_probability_target_is_refused_and_the_rest_still_counts() {
    for_each_device(|device| {
        let mut a = acc(EvalConfig::new());
        a.update_flat(
            logits2(&[vec![1.0, 0.0]], device),
            ids(&[0], [1], device),
            None,
        )
        .unwrap();
        let before = a.nll_sum();
        // A −∞ target logit has probability 0: NLL +∞ would make the pooled perplexity +∞
        // for good, so the update is refused and nothing is lost.
        let e = a
            .update_flat(
                logits2(&[vec![f32::NEG_INFINITY, 0.0]], device),
                ids(&[0], [1], device),
                None,
            )
            .unwrap_err();
        assert!(
            matches!(e, PerplexityError::ZeroProbabilityTarget { position: 0 }),
            "{e}"
        );
        assert_eq!((a.tokens(), a.nll_sum()), (1, before));
        // The same row with the other target is fine; −∞ contributes 0 entropy.
        a.update_flat(
            logits2(&[vec![f32::NEG_INFINITY, 0.0]], device),
            ids(&[1], [1], device),
            None,
        )
        .unwrap();
        let r = a.report().unwrap();
        assert!(r.log_perplexity.is_finite() && !r.calibration.mean_entropy.is_nan());
    });
}

#[test]
fn calibration_of_a_known_case() {
    for_each_device(|device| {
        // two tokens with p = (0.8, 0.2): one right, one wrong; two uniform tokens over 2
        let l = (0.8f32 / 0.2).ln();
        let rows = vec![vec![l, 0.0], vec![l, 0.0], vec![0.0, 0.0], vec![0.0, 0.0]];
        let mut a = acc(EvalConfig::new().with_ece_bins(4));
        a.update_flat(
            logits2(&rows, device),
            ids(&[0, 1, 0, 1], [4], device),
            None,
        )
        .unwrap();
        let c = a.report().unwrap().calibration;
        // row 1 is wrong; the uniform rows are ties, which count as correct
        assert_close(c.accuracy, 0.75, 0.0, 0.0, "accuracy");
        assert_close(
            c.mean_confidence,
            0.65,
            1e-6,
            0.0,
            "(0.8 + 0.8 + 0.5 + 0.5) / 4",
        );
        let h08 = -(0.8f64 * 0.8f64.ln() + 0.2 * 0.2f64.ln());
        assert_close(
            c.mean_entropy,
            (2.0 * h08 + 2.0 * 2f64.ln()) / 4.0,
            1e-6,
            0.0,
            "entropy",
        );
        // Brier: 0.2² + 0.2², 0.8² + 0.8², 2·0.5² twice
        assert_close(c.brier, (0.08 + 1.28 + 0.5 + 0.5) / 4.0, 1e-6, 0.0, "Brier");
        // 4 bins: conf 0.5 -> bin 2 (2 tokens, 2 correct), conf 0.8 -> bin 3 (2 tokens, 1 correct)
        assert_eq!(c.equal_width_bins[2].count, 2);
        assert_eq!(c.equal_width_bins[3].count, 2);
        assert_close(
            c.ece_equal_width,
            (2.0f64 - 1.0).abs() / 4.0 + (1.0f64 - 1.6).abs() / 4.0,
            1e-6,
            0.0,
            "ECE",
        );
        // equal mass, 4 bins of one token each, sorted (0.5 ✓, 0.5 ✓, 0.8 ✗, 0.8 ✓)
        assert_close(
            c.ece_equal_mass.unwrap(),
            (0.5 + 0.5 + 0.8 + 0.2) / 4.0,
            1e-6,
            0.0,
            "equal-mass ECE",
        );
    });
}

/// burn-train's `PerplexityMetric` (burn's `train` feature, a dev-dependency) on the same
/// input, with and without a pad token, over two batches.
#[test]
fn agrees_with_burn_train_perplexity_metric() {
    use burn::data::dataloader::Progress;
    use burn::train::metric::{Metric, MetricMetadata, Numeric, PerplexityInput, PerplexityMetric};
    // `MetricMetadata::fake()` is test-only inside burn-train; the same value, built here.
    let metadata = || MetricMetadata {
        progress: Progress {
            items_processed: 1,
            items_total: 1,
            unit: Some("items".to_string()),
        },
        iteration: Some(0),
        lr: None,
    };
    for_each_device(|device| {
        device.seed(11);
        for pad in [None, Some(3usize)] {
            let mut metric = match pad {
                Some(p) => PerplexityMetric::new().with_pad_token(p),
                None => PerplexityMetric::new(),
            };
            let mut ours = acc(EvalConfig::new().with_ignore_index(pad.map(|p| p as i64)));
            for batch in 0..2usize {
                let n = 12 + 5 * batch;
                let logits = Tensor::<2>::random([n, 9], Distribution::Normal(0.0, 3.0), device);
                let t: Vec<i64> = (0..n).map(|i| ((i * 7 + batch) % 9) as i64).collect();
                let targets: Tensor<1, Int> = ids(&t, [n], device);
                metric
                    .update(
                        &PerplexityInput::new(logits.clone(), targets.clone()),
                        &metadata(),
                    )
                    .unwrap();
                ours.update_flat(logits, targets, None).unwrap();
            }
            let theirs = metric.running_value().unwrap().current();
            assert_close(
                ours.perplexity().unwrap(),
                theirs,
                0.0,
                1e-5,
                &format!("pad {pad:?}"),
            );
        }
    });
}
