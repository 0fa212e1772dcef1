//! The training loop's claims: the loss goes down on a small task, a seed fixes the whole run,
//! checkpoints restore the trained weights, and bad configurations are refused.

use burn::optim::{AdamWConfig, SgdConfig};
use burn::tensor::Device;
use rigor_lab::repro::max_retrieval::{MaxRetrievalModel, MaxRetrievalModelConfig};
use rigor_lab::rng;
use rigor_lab::tasks::max_retrieval::MaxRetrievalTask;
use rigor_lab::train::{LrSchedule, Metrics, TrainConfig, TrainOutcome, Trainer, load_checkpoint};
use rigor_lab::{LabError, Result};
use rigor_nn::cross_entropy;
use rigor_testkit::for_each_autodiff_device;

const STEPS: usize = 80;

fn task() -> MaxRetrievalTask {
    MaxRetrievalTask::new(4, 0.0).unwrap()
}

fn model_config() -> MaxRetrievalModelConfig {
    MaxRetrievalModelConfig {
        item_dim: task().item_dim(),
        classes: task().classes(),
        hidden: 16,
        encoder_layers: 1,
        predictor_layers: 1,
    }
}

/// Every `fit` seeds the device's generator: runs in parallel test threads would draw from
/// each other's streams, so each run holds this lock.
static DEVICE_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn device_lock() -> std::sync::MutexGuard<'static, ()> {
    DEVICE_RNG
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn train(config: TrainConfig, device: &Device) -> Result<TrainOutcome<MaxRetrievalModel>> {
    let _run = device_lock();
    rng::seed_device(device, config.seed, "init");
    let model = model_config().init(device)?;
    let task = task();
    Trainer::new(config, device)?.fit_with_eval(
        model,
        AdamWConfig::new().init(),
        |m: &MaxRetrievalModel, ctx| {
            let b = task.sample(32, 4, ctx.rng, ctx.device)?;
            Ok(cross_entropy(
                m.forward(b.items, None, None)?.logits,
                b.targets,
                None,
            ))
        },
        |_m: &MaxRetrievalModel, step| Ok(Metrics::from([("step".to_string(), step as f64)])),
    )
}

fn config(seed: u64) -> TrainConfig {
    TrainConfig::new(STEPS, seed)
        .with_schedule(LrSchedule::WarmupCosine {
            lr: 1e-2,
            warmup: 5,
            min_lr: 1e-3,
        })
        .with_eval_every(20)
}

#[test]
fn loss_decreases_on_a_small_max_retrieval_task() {
    for_each_autodiff_device(|device| {
        let out = train(config(0), device).unwrap();
        let h = &out.history;
        assert_eq!(h.loss.len(), STEPS);
        let head = h.loss[..10].iter().sum::<f64>() / 10.0;
        let tail = h.tail_loss(10).unwrap();
        // Chance is ln 4 ≈ 1.39 nats; copying the class mix of the 4 items already lowers it.
        assert!(tail < head - 0.2, "loss {head:.3} → {tail:.3}");
        let steps: Vec<usize> = h.evals.iter().map(|e| e.step).collect();
        assert_eq!(steps, vec![20, 40, 60, 80]);
        assert_eq!(h.lr.len(), STEPS);
        assert!((h.lr[4] - 1e-2).abs() < 1e-12);
    });
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let device = Device::flex().autodiff();
    let a = train(config(5), &device).unwrap().history;
    let b = train(config(5), &device).unwrap().history;
    let c = train(config(6), &device).unwrap().history;
    assert_eq!(a.loss, b.loss, "same seed, same loss curve (bitwise)");
    assert_ne!(a.loss, c.loss);
}

#[test]
fn checkpoints_restore_the_trained_weights() {
    let device = Device::flex().autodiff();
    let dir = std::env::temp_dir().join(format!("rigor-lab-ckpt-{}", std::process::id()));
    let out = train(config(1).with_checkpoints(&dir, vec![40, STEPS]), &device).unwrap();
    assert_eq!(out.checkpoints.len(), 2);
    assert!(out.checkpoints.iter().all(|p| p.exists()));

    let fresh = model_config().init(&device).unwrap();
    let restored = load_checkpoint(fresh, &out.checkpoints[1]).unwrap();
    let batch = task()
        .sample(8, 6, &mut rng::rng(9, "probe"), &device)
        .unwrap();
    let y1 = out
        .model
        .forward(batch.items.clone(), None, None)
        .unwrap()
        .logits;
    let y2 = restored.forward(batch.items, None, None).unwrap().logits;
    y1.into_data()
        .assert_approx_eq::<f32>(&y2.into_data(), burn::tensor::Tolerance::absolute(1e-6));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_configurations_are_refused() {
    let ad = Device::flex().autodiff();
    assert!(matches!(
        Trainer::new(TrainConfig::new(0, 0), &ad),
        Err(LabError::InvalidConfig { .. })
    ));
    assert!(matches!(
        Trainer::new(TrainConfig::new(10, 0), &Device::flex()),
        Err(LabError::NotAutodiff { .. })
    ));
    let mut c = TrainConfig::new(10, 0);
    c.checkpoint_steps = vec![5];
    assert!(
        Trainer::new(c, &ad).is_err(),
        "checkpoint steps without a folder"
    );
    assert!(Trainer::new(TrainConfig::new(10, 0).with_checkpoints("x", vec![11]), &ad).is_err());
    assert!(matches!(
        Trainer::new(TrainConfig::new(10, 0).with_loss_read_every(0), &ad),
        Err(LabError::InvalidConfig { .. })
    ));
}

/// A one-parameter model for the loop's bookkeeping tests.
mod scalar {
    use burn::module::{Module, Param};
    use burn::tensor::{Device, Tensor};

    #[derive(Module, Debug)]
    pub struct Scalar {
        pub w: Param<Tensor<1>>,
    }

    pub fn new(device: &Device) -> Scalar {
        Scalar {
            w: Param::from_tensor(Tensor::from_floats([2.0], device)),
        }
    }
}

#[test]
fn losses_read_every_k_steps_are_the_losses_of_every_step() {
    let _run = device_lock();
    let device = Device::flex().autodiff();
    let run = |k: usize| {
        Trainer::new(
            TrainConfig::new(11, 0)
                .with_schedule(LrSchedule::Constant { lr: 0.1 })
                .with_eval_every(4)
                .with_loss_read_every(k),
            &device,
        )
        .unwrap()
        .fit(
            scalar::new(&device),
            SgdConfig::new().init(),
            |m: &scalar::Scalar, _| Ok(m.w.val().powi_scalar(2)),
        )
        .unwrap()
        .history
    };
    let every = run(1);
    assert_eq!(every.loss.len(), 11);
    // w ← w − 0.1 · 2w: the loss 4 · 0.64^step
    for (i, l) in every.loss.iter().enumerate() {
        assert!(
            (l - 4.0 * 0.64f64.powi(i as i32)).abs() < 1e-5,
            "step {i}: {l}"
        );
    }
    for k in [3, 5, 16] {
        assert_eq!(run(k).loss, every.loss, "read every {k}");
    }
}

#[test]
fn a_late_read_still_names_the_first_non_finite_step_and_a_bad_loss_shape_is_an_error() {
    let _run = device_lock();
    use burn::tensor::Tensor;
    let device = Device::flex().autodiff();
    let trainer = Trainer::new(TrainConfig::new(12, 0).with_loss_read_every(8), &device).unwrap();
    let err = trainer
        .fit(
            scalar::new(&device),
            SgdConfig::new().init(),
            |m: &scalar::Scalar, ctx| {
                let w = m.w.val();
                Ok(if ctx.step >= 5 {
                    w.mul_scalar(f32::INFINITY)
                } else {
                    w
                })
            },
        )
        .unwrap_err();
    assert!(
        matches!(err, LabError::NonFiniteLoss { step: 6, .. }),
        "{err}"
    );
    let err = trainer
        .fit(
            scalar::new(&device),
            SgdConfig::new().init(),
            |m: &scalar::Scalar, _| Ok(Tensor::cat(vec![m.w.val(), m.w.val()], 0)),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            LabError::InvalidConfig {
                what: "loss closure output shape",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_non_finite_loss_stops_training_with_its_step() {
    let _run = device_lock();
    use burn::module::{Module, Param};
    use burn::tensor::Tensor;

    #[derive(Module, Debug)]
    struct Scalar {
        w: Param<Tensor<1>>,
    }
    let device = Device::flex().autodiff();
    let model = Scalar {
        w: Param::from_tensor(Tensor::from_floats([1.0], &device)),
    };
    let err = Trainer::new(TrainConfig::new(5, 0), &device)
        .unwrap()
        .fit(model, SgdConfig::new().init(), |m: &Scalar, ctx| {
            let w = m.w.val();
            Ok(if ctx.step == 2 {
                w.log().mul_scalar(f32::NAN)
            } else {
                w.sum()
            })
        })
        .unwrap_err();
    assert!(
        matches!(err, LabError::NonFiniteLoss { step: 3, .. }),
        "{err}"
    );
}
