//! The perplexity reproduction (S3) at tiny scale, on Flex only: what must hold at any scale —
//! α_N and β_N differ in exactly one bit, the copy perplexity is the accumulator's on the same
//! logits, the verdicts are functions of the numbers, every checkpoint is evaluated — and bad
//! input gives clear errors. No threshold here is tuned to one run.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use rigor_lab::LabError;
use rigor_lab::report::{RunDir, Scale, micro_f1, pearson, pearson_bootstrap};
use rigor_lab::repro::perplexity::{
    self, CheckpointEval, CopyPoint, CopyRun, CopyVerdict, CorrelationVerdict,
    PerplexityReproConfig, SplitEval, alpha_beta, copy_sweep, f1_perplexity_correlation,
    iso_comparison,
};
use rigor_lab::rng;
use rigor_perplexity::{CausalLm, CopyTask, CounterexampleConfig, EvalConfig, LabelShift};

#[test]
fn alpha_and_beta_differ_in_exactly_the_last_bit() {
    for n in [1, 2, 3, 16, 17, 64, 511, 512] {
        let (a, b) = alpha_beta(n).unwrap();
        assert_eq!((a.len(), b.len()), (n, n));
        let diff: Vec<usize> = (0..n).filter(|&i| a[i] != b[i]).collect();
        assert_eq!(diff, vec![n - 1], "n = {n}");
        assert!(a.iter().all(|&x| !x), "α_N is all zeros");
    }
    assert!(matches!(alpha_beta(0), Err(LabError::InvalidConfig { .. })));
}

#[test]
fn copy_perplexity_equals_the_accumulators_on_the_same_logits() {
    let device = Device::flex();
    let config = PerplexityReproConfig::at_scale(Scale::Tiny);
    rng::seed_device(&device, 3, "test");
    let model = config.model.init(&device).unwrap();
    let bits = vec![true, false, true, true, false, false, true];
    let n = bits.len();
    let finder = CounterexampleConfig::new(1.0).init().unwrap();
    let score = finder
        .score(&model, std::slice::from_ref(&bits), &device)
        .unwrap()
        .remove(0);

    // the same prompt through the accumulator, scoring only the n copy positions
    let task = CopyTask::default();
    let prompt = task.prompt(&bits);
    let ids = Tensor::<2, Int>::from_data(TensorData::new(prompt, [1, 2 * n]), &device);
    let logits = model.logits(ids).unwrap();
    let mut targets = vec![0i64; 2 * n];
    let mut mask = vec![false; 2 * n];
    for k in 0..n {
        targets[n + k] = i64::from(bits[k]);
        mask[n + k] = true;
    }
    let mut acc = EvalConfig::new()
        .with_label_shift(LabelShift::None)
        .init()
        .unwrap();
    acc.update(
        logits,
        Tensor::from_data(TensorData::new(targets, [1, 2 * n]), &device),
        Some(Tensor::<2, Bool>::from_data(
            TensorData::new(mask, [1, 2 * n]),
            &device,
        )),
    )
    .unwrap();
    let pooled = acc.log_perplexity().unwrap();
    // f32 logits, f64 pooling in both: equal to f32 round-off
    assert!(
        (score.log_perplexity - pooled).abs() < 1e-5 * pooled.abs().max(1.0),
        "finder {} vs accumulator {pooled}",
        score.log_perplexity
    );

    // and the sweep reports the finder's numbers for α_N / β_N
    let sweep = copy_sweep(&model, &[n], &device).unwrap();
    let (a, b) = alpha_beta(n).unwrap();
    let s = finder.score(&model, &[a, b], &device).unwrap();
    assert!((sweep[0].pplx_alpha - s[0].log_perplexity).abs() < 1e-9);
    assert!((sweep[0].pplx_beta - s[1].log_perplexity).abs() < 1e-9);
    assert!((sweep[0].epsilon - (sweep[0].pplx_beta - sweep[0].bound)).abs() < 1e-12);
    assert!(sweep[0].alpha_min_confidence > 0.0 && sweep[0].alpha_min_confidence <= 1.0);
    assert!((0.0..=1.0).contains(&sweep[0].p_beta_last));
    assert!(sweep[0].linf_gap_last <= sweep[0].linf_gap_max + 1e-12);
    assert!(matches!(
        copy_sweep(&model, &[4, 0], &device),
        Err(LabError::InvalidConfig { .. })
    ));
}

#[test]
fn statistics_of_known_inputs() {
    let x: Vec<f64> = (0..20).map(f64::from).collect();
    let y: Vec<f64> = x.iter().map(|v| 3.0 - 2.0 * v).collect();
    assert!(
        (pearson(&x, &y).unwrap() + 1.0).abs() < 1e-12,
        "perfect anti-correlation"
    );
    assert!((pearson(&x, &x).unwrap() - 1.0).abs() < 1e-12);
    let mut r = rng::rng(0, "test");
    let c = pearson_bootstrap(&x, &y, 200, 0.95, &mut r).unwrap();
    assert!((c.lo.unwrap() + 1.0).abs() < 1e-9 && (c.hi.unwrap() + 1.0).abs() < 1e-9);
    assert!(
        pearson(&x, &[1.0; 20]).is_err(),
        "constant sample: undefined, not NaN"
    );
    assert!(pearson(&[1.0], &[2.0]).is_err());
    assert!(pearson(&[1.0, f64::NAN], &[2.0, 3.0]).is_err());
    assert!(pearson(&[1.0, 2.0], &[2.0]).is_err());
    for level in [0.0, 1.0, 1.5, f64::NAN] {
        assert!(
            pearson_bootstrap(&x, &y, 10, level, &mut r).is_err(),
            "level {level}"
        );
    }

    assert_eq!(
        micro_f1(&[0, 1, 1, 0], &[0, 1, 1, 0], &[0, 1]).unwrap(),
        1.0
    );
    // every prediction in the label set: micro-F1 = accuracy
    assert!((micro_f1(&[0, 1, 0, 0], &[0, 1, 1, 1], &[0, 1]).unwrap() - 0.5).abs() < 1e-12);
    // a separator (2) predicted where a bit belongs is a miss but no false positive:
    // TP 1, FP 0, FN 1 → 2/3, where accuracy would be 1/2
    assert!((micro_f1(&[0, 2], &[0, 1], &[0, 1]).unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert!(micro_f1(&[], &[], &[0, 1]).is_err());
    assert!(micro_f1(&[0], &[0, 1], &[0, 1]).is_err());
}

fn eval(step: usize, f1: f64, lp: f64, acc: f64, conf: f64) -> CheckpointEval {
    let s = SplitEval {
        micro_f1: f1,
        log_perplexity: lp,
        accuracy: acc,
        confidence: conf,
        tokens: 10,
    };
    CheckpointEval {
        seed: 0,
        step,
        id: s,
        ood: s,
    }
}

#[test]
fn verdicts_are_functions_of_the_numbers() {
    // perfectly anti-correlated checkpoints: in distribution the paper's sign (holds),
    // out of distribution the opposite sign (does not hold)
    let pts: Vec<(f64, f64)> = (0..10)
        .map(|i| (0.5 + 0.05 * i as f64, 1.0 - 0.1 * i as f64))
        .collect();
    let c = f1_perplexity_correlation(&pts, 100, 0, "t");
    assert_eq!(
        CorrelationVerdict::of(&f1_perplexity_correlation(&[], 10, 0, "t"), true),
        CorrelationVerdict::Undefined,
        "no checkpoints: undefined, not NaN"
    );
    assert!((c.result.as_ref().unwrap().r + 1.0).abs() < 1e-12);
    assert_eq!(CorrelationVerdict::of(&c, true), CorrelationVerdict::Holds);
    assert_eq!(
        CorrelationVerdict::of(&c, false),
        CorrelationVerdict::DoesNotHold
    );
    let flat: Vec<(f64, f64)> = (0..5).map(|i| (1.0, i as f64)).collect();
    let u = f1_perplexity_correlation(&flat, 10, 0, "t");
    assert_eq!(
        CorrelationVerdict::of(&u, true),
        CorrelationVerdict::Undefined
    );

    // iso: a more confident, less accurate checkpoint with the lower perplexity
    let evals = vec![
        eval(100, 0.9, 0.45, 0.9, 0.6),
        eval(200, 0.8, 0.40, 0.8, 0.9),
    ];
    let iso = iso_comparison(&evals, "in distribution", |e| &e.id).unwrap();
    assert_eq!(iso.most_accurate.step, 100);
    assert_eq!(iso.lowest_perplexity.step, 200);
    assert!(iso.perplexity_picks_less_accurate);
    let a = *iso.critical_accuracy.as_ref().unwrap();
    let expected = rigor_perplexity::critical_accuracy(0.9, 0.4, 0.3).unwrap();
    assert!((a - expected).abs() < 1e-12);
    assert!(
        iso_comparison(&[], "x", |e| &e.id).is_err(),
        "no checkpoints: an error"
    );
}

fn point(n: usize, alpha_ok: bool, beta_ok: bool, pa: f64, pb: f64) -> CopyPoint {
    CopyPoint {
        n,
        pplx_alpha: pa,
        pplx_beta: pb,
        alpha_correct: alpha_ok,
        beta_correct: beta_ok,
        beta_first_error: (!beta_ok).then_some(n - 1),
        linf_gap_last: 0.1,
        linf_gap_max: 0.1,
        p_beta_last: 0.4,
        alpha_min_confidence: 0.99,
        bound: -(0.99f64).ln(),
        epsilon: pb + (0.99f64).ln(),
    }
}

fn copy_run(points: Vec<CopyPoint>) -> CopyRun {
    CopyRun {
        seed: 0,
        loss: vec![],
        train_seconds: 0.0,
        train_length_exact: 1.0,
        points,
        searches: vec![],
    }
}

#[test]
fn copy_verdicts_on_hand_built_sweeps() {
    // the paper's picture: β right at short N, wrong at long N, perplexities converging
    let v = |pts| CopyVerdict::of(&copy_run(pts));
    assert_eq!(
        v(vec![
            point(16, true, true, 0.01, 0.02),
            point(512, true, false, 0.01, 0.015)
        ]),
        CopyVerdict::Holds
    );
    // wrong already at the shortest N
    assert_eq!(
        v(vec![
            point(16, true, false, 0.0, 0.35),
            point(512, true, false, 0.0, 0.02)
        ]),
        CopyVerdict::WrongFromTheStart
    );
    // wrong but the gap grows
    assert_eq!(
        v(vec![
            point(16, true, true, 0.01, 0.02),
            point(512, true, false, 0.01, 0.5)
        ]),
        CopyVerdict::GapDoesNotShrink
    );
    assert_eq!(
        v(vec![
            point(16, true, true, 0.01, 0.02),
            point(512, true, true, 0.01, 0.01)
        ]),
        CopyVerdict::BetaAlwaysRight
    );
    assert_eq!(
        v(vec![
            point(16, true, true, 0.01, 0.02),
            point(512, false, false, 0.3, 0.3)
        ]),
        CopyVerdict::PremiseFails
    );
    assert_eq!(
        v(vec![]),
        CopyVerdict::BetaAlwaysRight,
        "no points: nothing shown"
    );
}

#[test]
fn bad_configs_are_errors_naming_the_field() {
    let base = PerplexityReproConfig::at_scale(Scale::Tiny);
    base.validate().unwrap();
    let mut c = base.clone();
    c.copy.lengths = vec![0, 8];
    assert!(matches!(
        c.validate(),
        Err(LabError::InvalidConfig {
            what: "copy.lengths",
            ..
        })
    ));
    let mut c = base.clone();
    c.copy.lengths = vec![8, 100_000];
    let e = c.validate().unwrap_err();
    assert!(e.to_string().contains("context"), "{e}");
    let mut c = base.clone();
    c.parity.ood_length = 600;
    assert!(c.validate().unwrap_err().to_string().contains("context"));
    let mut c = base.clone();
    c.copy.lengths.clear();
    assert!(c.validate().is_err());
    let mut c = base.clone();
    c.seeds.clear();
    assert!(c.validate().is_err());
    let mut c = base.clone();
    c.seeds = vec![1, 1];
    assert!(c.validate().is_err());
    let mut c = base.clone();
    c.parity.checkpoint_every = 0;
    assert!(c.validate().is_err());
    let mut c = base.clone();
    c.parity.id_lengths = vec![64];
    assert!(
        c.validate().is_err(),
        "in-distribution length beyond training length"
    );
    let mut c = base.clone();
    c.copy.xi = f64::NAN;
    assert!(c.validate().is_err());
    let mut c = base;
    c.model.n_heads = 3;
    assert!(c.validate().is_err());
    // run validates before it trains
    let device = Device::flex().autodiff();
    let mut c = PerplexityReproConfig::at_scale(Scale::Tiny);
    c.copy.train.steps = 0;
    assert!(perplexity::run(&c, &device, false).is_err());
}

#[test]
fn tiny_run_scores_every_length_and_checkpoint_and_writes_its_report() {
    let device = Device::flex().autodiff();
    let config = PerplexityReproConfig::at_scale(Scale::Tiny);
    let run = perplexity::run(&config, &device, false).unwrap();
    assert_eq!(run.copy.len(), config.seeds.len());
    for c in &run.copy {
        let ns: Vec<usize> = c.points.iter().map(|p| p.n).collect();
        assert_eq!(ns, config.copy.lengths);
        assert_eq!(c.loss.len(), config.copy.train.steps);
        assert_eq!(c.searches.len(), config.copy.search_lengths.len());
        for p in &c.points {
            assert!(p.pplx_alpha.is_finite() && p.pplx_beta.is_finite() && p.bound.is_finite());
        }
        for s in &c.searches {
            if let Ok(r) = &s.result {
                assert!(r.alpha_score.greedy_correct());
                assert!(
                    r.found
                        .iter()
                        .all(|f| !f.score.greedy_correct() && f.gap < config.copy.xi)
                );
            }
        }
    }
    let p = &run.parity[0];
    let steps: Vec<usize> = p.checkpoints.iter().map(|e| e.step).collect();
    let every = config.parity.checkpoint_every;
    let expected: Vec<usize> = (1..=config.parity.train.steps / every)
        .map(|k| k * every)
        .collect();
    assert_eq!(steps, expected, "a checkpoint every {every} steps");
    for e in &p.checkpoints {
        for s in [e.id, e.ood] {
            assert!((0.0..=1.0).contains(&s.micro_f1) && s.log_perplexity.is_finite());
            assert!(s.tokens > 0);
        }
        let id_tokens: usize =
            config.parity.id_lengths.iter().sum::<usize>() * config.parity.test_per_length;
        assert_eq!(e.id.tokens as usize, id_tokens);
        assert_eq!(
            e.ood.tokens as usize,
            config.parity.ood_length * config.parity.test_per_length
        );
    }
    assert_eq!(run.iso.len(), 2);

    let dir = std::env::temp_dir().join(format!("rigor-perplexity-repro-{}", std::process::id()));
    let section =
        perplexity::write_report(&run, &RunDir::create(&dir).unwrap(), "perplexity").unwrap();
    for (_, file) in &section.figures {
        assert!(dir.join(file).is_file(), "{file}");
    }
    for file in [
        "results.json",
        "section.md",
        "parity_checkpoints.csv",
        "iso.csv",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert!(json["metrics"]["verdicts"]["copy"].is_array());
    std::fs::remove_dir_all(&dir).ok();
}
