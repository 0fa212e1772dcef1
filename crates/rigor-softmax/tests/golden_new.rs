//! Golden values from other people's reference code for the normalizers added beside the
//! paper's: softpick (the authors' `naive_softpick_attn.softpick`), gpt-oss attention sinks
//! (transformers 5.25's `eager_attention_forward`), ASEntmax (deep-spin/asentmax's
//! `SparseGemma2Attention`, `attn_scale_type="learn"`) — `golden/new_normalizers/`, with the
//! generator and the formulas as those codes compute them — and Llama 4's temperature tuning
//! (transformers 5.25's `Llama4TextAttention` itself, `golden/llama4/`). Weights on every
//! device, gradients on every autodiff device; f32 against f64 references.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::host;
use rigor_softmax::{Llama4Temperature, Normalize, Normalizer, softmax_with_sink};
use rigor_testkit::{for_each_autodiff_device, for_each_device};
use serde_json::Value;

const NEW: &str = include_str!("golden/new_normalizers/new_normalizers_golden.json");
const LLAMA4: &str = include_str!("golden/llama4/llama4_golden.json");

fn json(s: &str) -> Value {
    serde_json::from_str(s).expect("golden JSON parses")
}

/// Rows of numbers; `null` is −∞.
fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().unwrap_or(f64::NEG_INFINITY))
                .collect()
        })
        .collect()
}

fn tensor(rows: &[Vec<f64>], device: &Device) -> Tensor<2> {
    let flat: Vec<f32> = rows.iter().flatten().map(|&v| v as f32).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), rows[0].len()]), device)
}

fn close(got: &[f32], want: &[Vec<f64>], atol: f64, rtol: f64, what: &str) {
    let want: Vec<f64> = want.iter().flatten().copied().collect();
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
        let err = (f64::from(g) - w).abs();
        assert!(
            err <= atol + rtol * w.abs(),
            "{what}[{i}]: {g} vs {w} (err {err:e})"
        );
    }
}

struct Case {
    name: String,
    logits: Vec<Vec<f64>>,
    cotangent: Vec<Vec<f64>>,
}

fn inputs(g: &Value) -> Vec<Case> {
    g["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_string(),
            logits: matrix(&c["logits"]),
            cotangent: matrix(&c["cotangent"]),
        })
        .collect()
}

#[test]
fn softpick_equals_the_authors_reference() {
    let g = json(NEW);
    let cases = inputs(&g);
    for_each_device(|device| {
        for (case, want) in cases.iter().zip(g["softpick"]["cases"].as_array().unwrap()) {
            let w = Normalizer::softpick()
                .apply(tensor(&case.logits, device), -1)
                .unwrap();
            close(
                &host(w),
                &matrix(&want["weights"]),
                2e-6,
                1e-4,
                &format!("softpick {}", case.name),
            );
        }
        // The reference gives NaN for a fully masked row; rigor gives zeros (documented).
        let fm = matrix(&g["softpick"]["fully_masked"]["logits"]);
        assert!(
            g["softpick"]["fully_masked"]["weights_all_nan"]
                .as_bool()
                .unwrap()
        );
        let w = host(
            Normalizer::softpick()
                .apply(tensor(&fm, device), -1)
                .unwrap(),
        );
        assert!(w.iter().all(|&v| v == 0.0));
    });
    for_each_autodiff_device(|device| {
        for (case, want) in cases.iter().zip(g["softpick"]["cases"].as_array().unwrap()) {
            let x = tensor(&case.logits, device).require_grad();
            let c = tensor(&case.cotangent, device);
            let grads = (Normalizer::softpick().apply(x.clone(), -1).unwrap() * c)
                .sum()
                .backward();
            let gx = host(x.grad(&grads).unwrap());
            close(
                &gx,
                &matrix(&want["grad_logits"]),
                1e-5,
                1e-3,
                &format!("softpick grad {}", case.name),
            );
        }
    });
}

#[test]
fn sinks_equal_transformers_gpt_oss_attention() {
    let g = json(NEW);
    let cases = inputs(&g);
    for_each_autodiff_device(|device| {
        let all = cases.iter().zip(g["sinks"]["cases"].as_array().unwrap());
        for (case, want) in all {
            for r in want["results"].as_array().unwrap() {
                let sink = r["sink"].as_f64().unwrap();
                let rows = case.logits.len();
                let x = tensor(&case.logits, device).require_grad();
                let b = Tensor::<2>::full([rows, 1], sink, device).require_grad();
                let c = tensor(&case.cotangent, device);
                let w = softmax_with_sink(x.clone(), -1, b.clone()).unwrap();
                let what = format!("sinks {} b={sink}", case.name);
                close(&host(w.clone()), &matrix(&r["weights"]), 2e-6, 1e-4, &what);
                let grads = (w * c).sum().backward();
                close(
                    &host(x.grad(&grads).unwrap()),
                    &matrix(&r["grad_logits"]),
                    1e-5,
                    1e-3,
                    &what,
                );
                let gb: Vec<Vec<f64>> = r["grad_sink"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| vec![v.as_f64().unwrap()])
                    .collect();
                close(
                    &host(b.grad(&grads).unwrap()),
                    &gb,
                    1e-5,
                    1e-3,
                    &format!("{what} d/dsink"),
                );
            }
        }
    });
}

#[test]
fn llama4_temperature_equals_transformers_llama4_attention() {
    let g = json(LLAMA4);
    let f = g["floor_scale"].as_f64().unwrap();
    let a = g["attn_scale"].as_f64().unwrap();
    let t = Llama4Temperature::new(f, a).unwrap();
    for (p, s) in g["scales"].as_array().unwrap().iter().enumerate() {
        assert!((t.scale(p) - s.as_f64().unwrap()).abs() < 1e-6, "τ({p})");
    }
    // Unscaled scores q kᵀ · scaling from the module's own weights, on the host in f64.
    let x = matrix(&g["x"]);
    let (wq, wk) = (matrix(&g["q_proj"]), matrix(&g["k_proj"]));
    let (heads, hd) = (2usize, 8usize);
    let scaling = g["scaling"].as_f64().unwrap();
    let proj = |w: &[Vec<f64>]| -> Vec<Vec<f64>> {
        x.iter()
            .map(|xi| {
                w.iter()
                    .map(|wr| wr.iter().zip(xi).map(|(a, b)| a * b).sum())
                    .collect()
            })
            .collect()
    };
    let (q, k) = (proj(&wq), proj(&wk));
    let s = x.len();
    #[allow(clippy::needless_range_loop)] // rows and columns index q and k alike
    let scores = |offset: usize| -> Vec<f32> {
        let mut out = Vec::new();
        for h in 0..heads {
            for i in offset..s {
                for j in 0..s {
                    let dot: f64 = (0..hd).map(|d| q[i][h * hd + d] * k[j][h * hd + d]).sum();
                    out.push(if j <= i {
                        (dot * scaling) as f32
                    } else {
                        f32::NEG_INFINITY
                    });
                }
            }
        }
        out
    };
    for_each_device(|device| {
        for (offset, key) in [
            (0usize, "weights"),
            (g["prefix"].as_u64().unwrap() as usize, "weights_cached"),
        ] {
            let rows = s - offset;
            let e = Tensor::<4>::from_data(
                TensorData::new(scores(offset), [1, heads, rows, s]),
                device,
            );
            let want: Vec<Vec<f64>> = g[key].as_array().unwrap().iter().flat_map(matrix).collect();
            let got = host(t.with_offset(offset).normalize(e.clone()).unwrap());
            close(&got, &want, 2e-6, 1e-4, &format!("llama4 offset {offset}"));
            // Without the temperature the weights are off (the check has teeth).
            let plain = host(Normalizer::softmax().apply(e, -1).unwrap());
            let flat: Vec<f64> = want.iter().flatten().copied().collect();
            assert!(
                plain
                    .iter()
                    .zip(&flat)
                    .any(|(p, w)| (f64::from(*p) - w).abs() > 1e-3)
            );
        }
    });
    assert!(Llama4Temperature::new(0.0, 0.1).is_err());
    assert!(Llama4Temperature::new(8192.0, -0.1).is_err());
    assert!(Llama4Temperature::new(f64::NAN, 0.1).is_err());
}
