//! Golden values from the paper's own JAX code (and independent numpy references for
//! SSMax / softmax1 / sparsemax / entmax), produced by `golden/generate_golden.py`.
//!
//! Forward values are compared on every compiled-in device, gradients on every autodiff
//! device. Tolerances: `|got − want| <= atol + rtol·|want|` with f32 arithmetic against f64
//! references — atol 2e-6 / rtol 2e-4 for weights (16384-item rows sum 16384 f32 exponentials),
//! 2e-5 / 1e-3 for gradients and β.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::host;
use rigor_softmax::*;
use rigor_testkit::{for_each_autodiff_device, for_each_device};
use serde_json::Value;

const GOLDEN: &str = include_str!("golden/softmax_golden.json");

fn golden() -> Value {
    serde_json::from_str(GOLDEN).expect("golden JSON parses")
}

/// Rows of numbers; `null` is −∞. Values are cast through f32 (the inputs are exactly
/// f32-representable, see golden/README.md).
fn matrix(v: &Value) -> Vec<Vec<f64>> {
    common::json_matrix(v)
}

fn vector(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("vector")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NEG_INFINITY))
        .collect()
}

fn tensor(m: &[Vec<f64>], device: &Device) -> Tensor<2> {
    let n = m[0].len();
    let flat: Vec<f32> = m.iter().flatten().map(|&v| v as f32).collect();
    Tensor::from_data(TensorData::new(flat, [m.len(), n]), device)
}

fn check(got: &[f32], want: &[f64], atol: f64, rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        if w == f64::NEG_INFINITY {
            assert_eq!(g, f32::NEG_INFINITY, "{what}[{i}]: want -inf, got {g}");
            continue;
        }
        let err = (f64::from(g) - w).abs();
        assert!(
            err <= atol + rtol * w.abs(),
            "{what}[{i}]: got {g}, want {w} (err {err:.3e})"
        );
    }
}

const W_ATOL: f64 = 2e-6;
const W_RTOL: f64 = 2e-4;
const G_ATOL: f64 = 2e-5;
const G_RTOL: f64 = 1e-3;

fn forward_cases() -> Vec<(&'static str, Normalizer, &'static str)> {
    vec![
        ("softmax θ=1", Normalizer::softmax(), "softmax.1"),
        (
            "softmax θ=0.5",
            Normalizer::softmax_with_temperature(0.5).unwrap(),
            "softmax.0.5",
        ),
        (
            "softmax θ=2",
            Normalizer::softmax_with_temperature(2.0).unwrap(),
            "softmax.2",
        ),
        ("adaptive", Normalizer::adaptive(), "adaptive"),
        ("ssmax", Normalizer::scalable(0.43).unwrap(), "ssmax"),
        ("softmax1", Normalizer::softmax1(), "softmax1"),
        ("sparsemax", Normalizer::sparsemax(), "sparsemax"),
        ("entmax15", Normalizer::entmax(1.5).unwrap(), "entmax15"),
        ("entmax3", Normalizer::entmax(3.0).unwrap(), "entmax3"),
    ]
}

fn field<'a>(case: &'a Value, key: &str) -> &'a Value {
    match key.split_once('.') {
        Some((a, b)) => &case[a][b],
        None => &case[key],
    }
}

#[test]
fn polynomial_matches_numpy_polyval_highest_power_first() {
    let g = golden();
    let p = &g["polyval"];
    let poly = Polynomial::highest_first(vector(&p["coefficients_highest_first"])).unwrap();
    let rule = AdaptiveTemperature::default();
    for ((h, v), b) in vector(&p["h"])
        .iter()
        .zip(vector(&p["value"]))
        .zip(vector(&p["beta"]))
    {
        assert!((poly.eval(*h) - v).abs() < 1e-9, "poly({h})");
        assert!((rule.beta_for_entropy(*h) - b).abs() < 1e-9, "beta({h})");
    }
    assert_eq!(
        rule.polynomial().coefficients(),
        &vector(&p["coefficients_highest_first"])[..]
    );
}

#[test]
fn forward_values_match_golden_on_every_device() {
    let g = golden();
    for_each_device(|device| {
        for case in g["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let x = tensor(&matrix(&case["logits"]), device);
            for (label, norm, key) in forward_cases() {
                let want: Vec<f64> = matrix(field(case, key)).concat();
                let got = host(norm.apply(x.clone(), -1).unwrap());
                check(&got, &want, W_ATOL, W_RTOL, &format!("{name}/{label}"));
            }
            let want_log: Vec<f64> = matrix(&case["log_softmax"]).concat();
            let got_log = host(log_softmax(x.clone(), -1, Temperature::ONE).unwrap());
            check(
                &got_log,
                &want_log,
                1e-5,
                1e-5,
                &format!("{name}/log_softmax"),
            );
            let got_h = host(entropy(x.clone(), -1, Temperature::ONE).unwrap());
            check(
                &got_h,
                &vector(&case["entropy"]),
                1e-5,
                1e-4,
                &format!("{name}/entropy"),
            );
            let (_, beta) =
                adaptive_temperature_softmax_with_beta(x, -1, &AdaptiveTemperature::default())
                    .unwrap();
            check(
                &host(beta),
                &vector(&case["adaptive_beta"]),
                G_ATOL,
                G_RTOL,
                &format!("{name}/beta"),
            );
        }
    });
}

#[test]
fn large_rows_match_golden_on_every_device() {
    let g = golden();
    for_each_device(|device| {
        for case in g["large_cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let x = tensor(&matrix(&case["logits"]), device);
            let got = host(softmax(x.clone(), -1, Temperature::ONE).unwrap());
            check(
                &got,
                &matrix(&case["softmax"]).concat(),
                W_ATOL,
                W_RTOL,
                &format!("{name}/softmax"),
            );
            let (out, beta) =
                adaptive_temperature_softmax_with_beta(x, -1, &AdaptiveTemperature::default())
                    .unwrap();
            check(
                &host(out),
                &matrix(&case["adaptive"]).concat(),
                W_ATOL,
                W_RTOL,
                &format!("{name}/adaptive"),
            );
            check(
                &host(beta),
                &vector(&case["adaptive_beta"]),
                G_ATOL,
                G_RTOL,
                &format!("{name}/beta"),
            );
        }
    });
}

#[test]
fn gradients_match_golden_on_every_autodiff_device() {
    let g = golden();
    let cases: Vec<(&str, Normalizer, &str)> = vec![
        ("softmax", Normalizer::softmax(), "softmax_grad"),
        ("adaptive", Normalizer::adaptive(), "adaptive_grad"),
        ("ssmax", Normalizer::scalable(0.43).unwrap(), "ssmax_grad"),
        ("softmax1", Normalizer::softmax1(), "softmax1_grad"),
        ("sparsemax", Normalizer::sparsemax(), "sparsemax_grad"),
        (
            "entmax15",
            Normalizer::entmax(1.5).unwrap(),
            "entmax15_grad",
        ),
    ];
    for_each_autodiff_device(|device| {
        for case in g["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let logits = matrix(&case["logits"]);
            let cot = tensor(&matrix(&case["cotangent"]), device);
            for (label, norm, key) in &cases {
                let x = tensor(&logits, device).require_grad();
                let out = norm.apply(x.clone(), -1).unwrap();
                let grads = (out * cot.clone()).sum().backward();
                let got = host(x.grad(&grads).expect("gradient"));
                let want = matrix(&case[*key]).concat();
                check(
                    &got,
                    &want,
                    G_ATOL,
                    G_RTOL,
                    &format!("{name}/{label} gradient"),
                );
            }
        }
    });
}
