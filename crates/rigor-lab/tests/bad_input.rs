//! Invalid input to the reproductions' public entry points is a `LabError`, never a panic:
//! configurations (max retrieval, optimizer forgetting), model sizes, and hand-built data for
//! `train_sequence` / `train_alpha` (empty or of mismatched width).

use burn::tensor::Device;
use rigor_lab::LabError;
use rigor_lab::data::Dataset;
use rigor_lab::report::Scale;
use rigor_lab::repro::max_retrieval::{self, MaxRetrievalConfig, MaxRetrievalModelConfig};
use rigor_lab::repro::optimizer_forgetting::{
    self, OptimizerForgettingConfig, OptimizerKind, OptimizerSpec, Task, TaskKind,
};
use rigor_lab::repro::powerprop_sparsity::{self, PowerpropSparsityConfig};

fn invalid<T: std::fmt::Debug>(r: Result<T, LabError>, what: &str) {
    match r {
        Err(LabError::InvalidConfig { .. }) => {}
        other => panic!("{what}: expected InvalidConfig, got {other:?}"),
    }
}

fn data(n: usize, features: usize) -> Dataset {
    Dataset::new(
        (0..n * features).map(|i| (i % 7) as f32 / 7.0).collect(),
        (0..n).map(|i| i % 10).collect(),
        features,
    )
    .unwrap()
}

#[test]
fn max_retrieval_presets_validate_and_broken_configs_do_not() {
    for scale in [Scale::Tiny, Scale::Default, Scale::Full] {
        MaxRetrievalConfig::at_scale(scale).validate().unwrap();
    }
    let base = MaxRetrievalConfig::at_scale(Scale::Tiny);
    let broken: Vec<(&str, MaxRetrievalConfig)> = vec![
        (
            "steps = 0",
            MaxRetrievalConfig {
                steps: 0,
                ..base.clone()
            },
        ),
        (
            "no seeds",
            MaxRetrievalConfig {
                seeds: vec![],
                ..base.clone()
            },
        ),
        (
            "n = 0",
            MaxRetrievalConfig {
                eval_ns: vec![16, 0],
                ..base.clone()
            },
        ),
        (
            "lr NaN",
            MaxRetrievalConfig {
                lr: f64::NAN,
                ..base.clone()
            },
        ),
        (
            "no variants",
            MaxRetrievalConfig {
                variants: vec![],
                ..base.clone()
            },
        ),
        (
            "max < min test sets",
            MaxRetrievalConfig {
                max_test_sets: 1,
                ..base.clone()
            },
        ),
        (
            "model does not fit the task",
            MaxRetrievalConfig {
                model: MaxRetrievalModelConfig {
                    classes: 3,
                    ..base.model
                },
                ..base.clone()
            },
        ),
    ];
    let device = Device::flex().autodiff();
    for (what, config) in broken {
        invalid(config.validate(), what);
        // `run` validates before it trains anything.
        invalid(max_retrieval::run(&config, &device, false), what);
    }
}

#[test]
fn max_retrieval_model_sizes_are_checked() {
    let device = Device::flex();
    let ok = MaxRetrievalConfig::at_scale(Scale::Tiny).model;
    ok.init(&device).unwrap();
    invalid(
        MaxRetrievalModelConfig { hidden: 0, ..ok }.init(&device),
        "hidden 0",
    );
    invalid(
        MaxRetrievalModelConfig { classes: 1, ..ok }.init(&device),
        "1 class",
    );
    invalid(
        MaxRetrievalModelConfig {
            encoder_layers: 0,
            ..ok
        }
        .init(&device),
        "no encoder layer",
    );
}

#[test]
fn repeated_optimizers_or_seeds_are_refused() {
    let mut c = OptimizerForgettingConfig::at_scale(Scale::Tiny);
    c.optimizers.push(OptimizerSpec::new(OptimizerKind::Sgd));
    invalid(c.validate(), "SGD twice");
    let mut c = OptimizerForgettingConfig::at_scale(Scale::Tiny);
    c.seeds = vec![3, 3];
    invalid(c.validate(), "seed twice");
    let mut c = OptimizerForgettingConfig::at_scale(Scale::Tiny);
    c.task_kinds = vec![TaskKind::Permuted, TaskKind::Permuted];
    invalid(c.validate(), "task kind twice");
}

#[test]
fn train_sequence_refuses_empty_or_mismatched_tasks() {
    let device = Device::flex().autodiff();
    let config = OptimizerForgettingConfig::at_scale(Scale::Tiny);
    let spec = OptimizerSpec::new(OptimizerKind::Sgd);
    let task = |train: Dataset, test: Dataset| Task {
        train,
        test,
        classes: (0..10).collect(),
    };
    let cases: Vec<(&str, Vec<Task>)> = vec![
        ("no task", vec![]),
        ("empty train set", vec![task(data(0, 64), data(10, 64))]),
        ("empty test set", vec![task(data(10, 64), data(0, 64))]),
        (
            "widths differ",
            vec![
                task(data(10, 64), data(10, 64)),
                task(data(10, 16), data(10, 16)),
            ],
        ),
    ];
    for (what, tasks) in cases {
        invalid(
            optimizer_forgetting::train_sequence(
                &config,
                &tasks,
                TaskKind::Permuted,
                spec,
                0,
                &device,
                false,
            ),
            what,
        );
    }
}

#[test]
fn train_alpha_refuses_empty_or_mismatched_data() {
    let device = Device::flex().autodiff();
    let config = PowerpropSparsityConfig::at_scale(Scale::Tiny);
    for (what, train, test) in [
        ("empty train set", data(0, 64), data(10, 64)),
        ("empty test set", data(10, 64), data(0, 64)),
        ("widths differ", data(10, 64), data(10, 16)),
    ] {
        invalid(
            powerprop_sparsity::train_alpha(&config, &train, &test, 2.0, 0, &device, false),
            what,
        );
    }
    let mut bad = config.clone();
    bad.batch = 0;
    invalid(
        powerprop_sparsity::train_alpha(&bad, &data(10, 64), &data(10, 64), 2.0, 0, &device, false),
        "batch 0",
    );
}
