//! The RoPE reproduction (S2) at tiny scale, on Flex only: what must hold at any scale — NoPE
//! cannot solve a positional task over identical tokens, the hand-built RoPE heads solve it,
//! p-RoPE's zeroed frequencies carry no rotation and no drift, the drift bound is never
//! exceeded, the verdicts are functions of the numbers — and bad input gives clear errors.
//! No threshold here is tuned to one run.

use burn::tensor::Device;
use rigor_lab::LabError;
use rigor_lab::data::{ByteCorpus, CorpusSplit};
use rigor_lab::report::{RunDir, Scale};
use rigor_lab::repro::rope::{
    self, ConstructionRun, RopeReproConfig, Support, UsageObservations, Variant, compare,
    construction_verdict, drift_analysis, evaluate_length, frequency_usage,
    hand_built_construction, most_positional_head, ordering_verdict, support, train_construction,
};
use rigor_lab::rng;
use rigor_rope::theory::constructions::HeadKind;

/// Burn's generator is global to the process and the tests of this file run on threads side
/// by side: every test that seeds it and builds a model holds this lock, so each sees the
/// stream it seeded.
static DEVICE_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    DEVICE_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

fn corpus_err(r: Result<ByteCorpus, LabError>) -> String {
    match r {
        Err(e @ LabError::Corpus { .. }) => e.to_string(),
        other => panic!("expected a corpus error, got {other:?}"),
    }
}

#[test]
fn the_committed_corpus_loads_and_splits_by_blocks() {
    let c = ByteCorpus::kjv().unwrap();
    assert_eq!(c.total_bytes, 4_137_850);
    assert_eq!(c.train.len() + c.valid.len(), c.total_bytes);
    // blocks 9 and 19 of 20: validation is 10 % (the last block absorbs the remainder)
    let block = c.total_bytes / 20;
    assert_eq!(c.valid.len(), block + (c.total_bytes - 19 * block));
    assert!(
        c.train
            .starts_with(b"In the beginning God created the heaven and the earth.")
    );
    // the split is a pure function of the text
    let again = ByteCorpus::kjv().unwrap();
    assert_eq!(again.valid, c.valid);
}

#[test]
fn bad_corpora_are_clear_errors() {
    let split = CorpusSplit::default();
    let empty = corpus_err(ByteCorpus::from_bytes("t", Vec::new(), split));
    assert!(empty.contains("empty"), "{empty}");
    let mut bytes = b"valid text then ".to_vec();
    bytes.extend([0xff, 0xfe]);
    bytes.extend(b" more text to pass the block count");
    let bad = corpus_err(ByteCorpus::from_bytes("t", bytes, split));
    assert!(bad.contains("UTF-8") && bad.contains("16"), "{bad}");
    let tiny = corpus_err(ByteCorpus::from_bytes("t", b"short".to_vec(), split));
    assert!(tiny.contains("blocks"), "{tiny}");
    // long enough to split, shorter than one context
    let c = ByteCorpus::from_bytes("t", vec![b'a'; 400], split).unwrap();
    let e = c.check_context(64, 256).unwrap_err().to_string();
    assert!(e.contains("validation") && e.contains("256"), "{e}");
    let e = c.check_context(1_000, 1).unwrap_err().to_string();
    assert!(e.contains("training") && e.contains("1001"), "{e}");
    assert!(matches!(
        ByteCorpus::from_bytes(
            "t",
            vec![b'a'; 400],
            CorpusSplit {
                blocks: 1,
                valid_every: 1
            }
        ),
        Err(LabError::InvalidConfig { .. })
    ));
    assert!(matches!(
        ByteCorpus::from_path(std::path::Path::new("/nonexistent/corpus.txt"), split),
        Err(LabError::Io { .. })
    ));
    // the reproduction refuses a corpus shorter than its longest evaluation window
    let dir = std::env::temp_dir().join(format!("rigor-rope-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("short.txt");
    std::fs::write(&path, "word ".repeat(100)).unwrap();
    let mut config = RopeReproConfig::at_scale(Scale::Tiny);
    config.corpus = Some(path.clone());
    let e = rope::load_corpus(&config).unwrap_err().to_string();
    assert!(e.contains("shorter than one context"), "{e}");
    std::fs::write(&path, [0x80u8; 1000]).unwrap();
    let e = rope::load_corpus(&config).unwrap_err().to_string();
    assert!(e.contains("not UTF-8"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn configs_validate() {
    for scale in [Scale::Tiny, Scale::Default, Scale::Full] {
        RopeReproConfig::at_scale(scale).validate().unwrap();
    }
    let base = RopeReproConfig::at_scale(Scale::Tiny);
    let bad = |f: &dyn Fn(&mut RopeReproConfig)| {
        let mut c = base.clone();
        f(&mut c);
        assert!(
            matches!(c.validate(), Err(LabError::InvalidConfig { .. })),
            "accepted {c:?}"
        );
    };
    bad(&|c| c.lm.variants = vec![Variant::NoPe]);
    bad(&|c| c.lm.variants = vec![Variant::Rope, Variant::Rope]);
    bad(&|c| c.lm.variants = vec![Variant::Rope, Variant::PRope { p: 1.0 }]);
    bad(&|c| c.lm.variants = vec![Variant::Rope, Variant::PRope { p: f64::NAN }]);
    bad(&|c| c.lm.eval_bytes = c.lm.context);
    bad(&|c| c.lm.eval_multiples = vec![]);
    bad(&|c| c.lm.eval_multiples = vec![1, 0]);
    bad(&|c| c.lm.context = 1);
    bad(&|c| c.lm.steps = 0);
    bad(&|c| c.lm.lr = -1.0);
    bad(&|c| c.model.n_heads = 3);
    bad(&|c| c.model.rope_theta = 1.0);
    bad(&|c| c.constructions.seq_len = 2);
    bad(&|c| c.constructions.d_model = 3);
    bad(&|c| c.constructions.margin = 0.0);
    bad(&|c| c.analysis.drift_distances.clear());
    bad(&|c| c.seeds = vec![]);
    bad(&|c| c.seeds = vec![1, 1]);
}

#[test]
fn every_variant_starts_from_the_same_weights() {
    let _rng = rng_lock();
    let device = Device::flex();
    let spec = RopeReproConfig::at_scale(Scale::Tiny).model;
    let weights = |v: Variant| {
        rng::seed_device(&device, 11, "rope/lm/init");
        let m = spec.init(v, &device).unwrap();
        let mut all = m
            .token_embedding
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for b in &m.blocks {
            all.extend(
                b.attention
                    .query
                    .weight
                    .val()
                    .into_data()
                    .try_to_vec::<f32>()
                    .unwrap(),
            );
        }
        all
    };
    let rope = weights(Variant::Rope);
    for v in [
        Variant::PRope { p: 0.25 },
        Variant::PRope { p: 0.75 },
        Variant::NoPe,
    ] {
        assert!(
            weights(v) == rope,
            "{} starts from other weights",
            v.label()
        );
    }
}

#[test]
fn nope_cannot_solve_positional_tasks_and_the_hand_built_rope_heads_do() {
    let _rng = rng_lock();
    let device = Device::flex();
    let c = RopeReproConfig::at_scale(Scale::Tiny).constructions;
    for kind in [HeadKind::Diagonal, HeadKind::PreviousToken] {
        // claim 2: identical tokens give equal logits in every row, whatever NoPE learns
        let nope =
            train_construction(&c, kind, false, 0, &device.clone().autodiff(), false).unwrap();
        assert_eq!(nope.accuracy, 0.0, "{nope:?}");
        assert!(nope.max_row_range <= 1e-4, "{nope:?}");
        // 1/(i+1) on every key: the mean target weight is the uniform one
        let s = c.seq_len;
        let uniform = (1..s).map(|i| 1.0 / (i + 1) as f64).sum::<f64>() / (s - 1) as f64;
        assert!((nope.mean_target_weight - uniform).abs() < 1e-4, "{nope:?}");
        // claim 3: the highest frequency builds the head
        let built = hand_built_construction(&c, kind, &device).unwrap();
        assert_eq!(built.accuracy, 1.0, "{built:?}");
        assert!(built.mean_target_weight >= 0.9, "{built:?}");
    }
}

#[test]
fn prope_zeroed_frequencies_have_no_rotation_and_no_drift() {
    let _rng = rng_lock();
    let device = Device::flex();
    let config = RopeReproConfig::at_scale(Scale::Tiny);
    let corpus = ByteCorpus::kjv().unwrap();
    rng::seed_device(&device, 5, "test");
    let d = config.model.head_dim();
    let model = config
        .model
        .init(Variant::PRope { p: 0.25 }, &device)
        .unwrap();
    let live = (0.25 * d as f64 / 2.0).floor() as usize;
    let usage = frequency_usage(&model, "0.25-RoPE", &corpus, 16, 2, &device).unwrap();
    assert_eq!(usage.query.inv_freq.len(), d / 2);
    assert!(usage.query.inv_freq[..live].iter().all(|&g| g > 0.0));
    assert!(usage.query.inv_freq[live..].iter().all(|&g| g == 0.0));
    assert_eq!(usage.observations.live_slots, live);
    assert!(usage.observations.argmax_slot.iter().all(|&k| k < live));
    let drift = drift_analysis(
        &model,
        "0.25-RoPE",
        &corpus,
        16,
        &[1, 7, 1_000_000],
        8,
        0,
        &device,
    )
    .unwrap();
    assert_eq!(drift.violations, 0);
    for k in live..d / 2 {
        assert!(drift.measured[k].iter().all(|&m| m == 0.0), "slot {k}");
        assert!(drift.bound[k].iter().all(|&b| b == 0.0), "slot {k}");
    }
    assert!(drift.measured[0].iter().any(|&m| m > 0.0));
    // a model without RoPE has nothing to measure
    let nope = config.model.init(Variant::NoPe, &device).unwrap();
    assert!(matches!(
        frequency_usage(&nope, "NoPE", &corpus, 16, 1, &device),
        Err(LabError::InvalidConfig { .. })
    ));
}

#[test]
fn analyses_reject_what_they_cannot_measure() {
    let _rng = rng_lock();
    let device = Device::flex();
    let config = RopeReproConfig::at_scale(Scale::Tiny);
    let corpus = rope::load_corpus(&config).unwrap();
    let nope = config.model.init(Variant::NoPe, &device).unwrap();
    // usage and drift read RoPE's frequencies: a NoPE model has none
    let e = frequency_usage(&nope, "NoPE", &corpus, 16, 2, &device).unwrap_err();
    assert!(matches!(e, LabError::InvalidConfig { .. }), "{e}");
    let e = drift_analysis(&nope, "NoPE", &corpus, 16, &[1, 2], 4, 0, &device).unwrap_err();
    assert!(matches!(e, LabError::InvalidConfig { .. }), "{e}");
    // zero-length windows and windows longer than the validation text
    let rope_model = config.model.init(Variant::Rope, &device).unwrap();
    let too_long = corpus.valid.len() + 1;
    assert!(most_positional_head(&rope_model, &corpus, 0, &device).is_err());
    assert!(most_positional_head(&rope_model, &corpus, too_long, &device).is_err());
    assert!(evaluate_length(&rope_model, &corpus, 0, 64, 4, 16, &device).is_err());
    assert!(evaluate_length(&rope_model, &corpus, too_long, 64, 4, 16, &device).is_err());
}

#[test]
fn verdicts_are_functions_of_the_numbers() {
    let rope = [2.00, 2.10, 2.05];
    let better = [1.95, 2.04, 2.01];
    let worse = [2.50, 2.62, 2.55];
    let v = ordering_verdict(64, "0.75-RoPE", &rope, &better, &worse).unwrap();
    assert_eq!(v.overall, Support::Holds);
    let v = ordering_verdict(64, "0.75-RoPE", &rope, &worse, &better).unwrap();
    assert_eq!(v.prope_not_worse, Support::DoesNotHold);
    assert_eq!(v.rope_beats_nope, Support::DoesNotHold);
    // one seed: the sign only
    let v = ordering_verdict(64, "p", &[2.0], &[1.9], &[2.4]).unwrap();
    assert_eq!(v.overall, Support::DirectionOnly);
    assert!(v.nope_vs_rope.within_noise && v.nope_vs_rope.p.is_none());
    // noisy, wrong sign, not significant
    let c = compare("x", 64, &[2.0, 2.1, 2.0], &[1.9, 2.3, 1.95]).unwrap();
    assert!((c.mean_diff - (0.05 / 3.0)).abs() < 1e-12);
    assert!(c.within_noise);
    assert_eq!(support(&c, true), Support::DirectionOnly);
    let c = compare("x", 64, &[2.0, 2.1, 2.0], &[1.9, 2.15, 1.95]).unwrap();
    assert!(c.mean_diff < 0.0 && c.p.unwrap() > 0.05);
    assert!(
        c.within_noise,
        "within noise exactly when the t-test does not reject"
    );
    assert_eq!(support(&c, true), Support::Inconclusive);
    let c = compare("x", 64, &rope, &worse).unwrap();
    assert!(c.p.unwrap() < 0.05 && !c.within_noise);
    assert!(compare("x", 64, &[1.0], &[1.0, 2.0]).is_err());
    // the weaker part decides
    assert!(Support::DoesNotHold < Support::Inconclusive);
    assert!(Support::DirectionOnly < Support::Holds);

    let run = |task: &str, head: &str, accuracy: f64| ConstructionRun {
        task: task.into(),
        head: head.into(),
        accuracy,
        mean_target_weight: accuracy,
        max_row_range: 0.0,
        final_loss: None,
    };
    let runs = vec![
        run("diagonal", "RoPE (trained)", 0.95),
        run("diagonal", "NoPE (trained)", 0.0),
        run("diagonal", "RoPE (hand-built, c = 1)", 1.0),
        run("previous-token", "RoPE (trained)", 0.5),
        run("previous-token", "NoPE (trained)", 0.0),
    ];
    let cv = construction_verdict(&runs);
    assert!(!cv.rope_learns_both && cv.nope_learns_neither && cv.hand_built_solve);
    assert!(!construction_verdict(&[]).rope_learns_both);

    // usage observations: slot 0 = highest frequency, the last live slot the lowest
    let means = vec![
        vec![5.0, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1],
        vec![1.0, 1.0, 1.0, 4.0, 0.1, 0.1, 0.1, 0.1],
        vec![1.0, 1.0, 2.0, 1.0, 9.0, 9.0, 9.0, 9.0],
    ];
    let o = UsageObservations::from_layer_means(&means, 4);
    assert_eq!(o.argmax_slot, vec![0, 3, 2]);
    assert_eq!(o.layers_lowest_quarter, 1);
    assert!((o.high_share[0] - 5.0 / 8.0).abs() < 1e-12);
    assert_eq!(o.high_in_first_or_last, Some(true));
    assert_eq!(
        UsageObservations::from_layer_means(&means[..2], 4).high_in_first_or_last,
        None
    );
}

#[test]
fn the_tiny_run_writes_its_report_with_verdicts_from_its_numbers() {
    let _rng = rng_lock();
    let device = Device::flex().autodiff();
    let config = RopeReproConfig::at_scale(Scale::Tiny);
    let run = rope::run(&config, &device, false).unwrap();
    assert_eq!(
        run.runs.len(),
        config.lm.variants.len() * config.seeds.len()
    );
    for r in &run.runs {
        assert_eq!(r.loss.len(), config.lm.steps);
        assert_eq!(r.evals.len(), 3);
        assert!(r.evals.iter().all(|e| e.bpb.is_finite() && e.bpb > 0.0));
        assert!(r.evals[0].bpb_beyond_train.is_none());
        assert!(r.evals[1..].iter().all(|e| e.bpb_beyond_train.is_some()));
    }
    assert_eq!(run.usage.len(), 3, "RoPE and both p-RoPE models");
    assert!(run.drift.iter().all(|d| d.violations == 0));
    assert_eq!(run.constructions.len(), 6);
    let v = rope::verdicts(&run).unwrap();
    assert_eq!(v.ordering.len(), 3);
    for o in &v.ordering {
        assert_eq!(o.overall, o.prope_not_worse.min(o.rope_beats_nope));
        assert_eq!(o.rope_beats_nope, support(&o.nope_vs_rope, true));
    }
    assert_eq!(v.constructions, construction_verdict(&run.constructions));
    let dir = std::env::temp_dir().join(format!("rigor-rope-report-{}", std::process::id()));
    let section = rope::write_report(&run, &RunDir::create(&dir).unwrap(), "rope").unwrap();
    for f in &section.figures {
        assert!(dir.join(&f.1).exists(), "{}", f.1);
    }
    for f in [
        "results.json",
        "lm.csv",
        "section.md",
        "positional_head.svg",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
