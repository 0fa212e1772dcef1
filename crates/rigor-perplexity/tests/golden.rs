//! Golden values from `golden/generate_golden.py`: pooled perplexity (torchmetrics'
//! definition), word-perplexity, byte-perplexity and bits-per-byte (lm-evaluation-harness'
//! definitions), accuracy, confidence, entropy, Brier and both ECEs, for fixed f32 logits.
//!
//! Compared on every compiled-in device. Tolerance: relative 2e-6 (+ absolute 1e-6) — the
//! device computes each token's NLL in f32 (relative error ~1e-7 of the log-sum-exp) and the
//! host sums in f64; ECE bins are compared exactly (same bins) up to the same tolerance.

mod common;

use burn::tensor::Device;
use common::{assert_close, ids, logits3, mask};
use rigor_perplexity::*;
use rigor_testkit::for_each_device;
use serde_json::Value;

const GOLDEN: &str = include_str!("golden/perplexity_golden.json");
const ATOL: f64 = 1e-6;
const RTOL: f64 = 2e-6;

fn cases() -> Vec<Value> {
    let v: Value = serde_json::from_str(GOLDEN).expect("golden JSON parses");
    v["cases"].as_array().expect("cases").clone()
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn run_case(case: &Value, device: &Device) -> (PerplexityAccumulator, PerplexityReport) {
    let shape: Vec<usize> = case["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    let logits: Vec<f32> = case["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| f(x) as f32)
        .collect();
    let targets: Vec<i64> = case["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    let shift = match case["label_shift"].as_str().unwrap() {
        "causal" => LabelShift::Causal,
        _ => LabelShift::None,
    };
    let e = &case["expected"];
    let config = EvalConfig::new()
        .with_ignore_index(case["ignore_index"].as_i64())
        .with_label_shift(shift)
        .with_ece_bins(e["ece_bins"].as_u64().unwrap() as usize);
    let mut acc = config.init().unwrap();
    let m: Option<Vec<bool>> = case["mask"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_bool().unwrap()).collect());
    if shape.len() == 3 {
        let [b, s, v] = [shape[0], shape[1], shape[2]];
        acc.update(
            logits3(&logits, [b, s, v], device),
            ids(&targets, [b, s], device),
            m.map(|m| mask(&m, [b, s], device)),
        )
        .unwrap();
    } else {
        let [n, v] = [shape[0], shape[1]];
        acc.update_flat(
            logits3(&logits, [1, n, v], device).reshape([n, v]),
            ids(&targets, [n], device),
            m.map(|m| mask(&m, [n], device)),
        )
        .unwrap();
    }
    for doc in case["docs"].as_array().unwrap() {
        acc.add_text_units(TextUnits::from_text(doc.as_str().unwrap()));
    }
    let r = acc.report().unwrap();
    (acc, r)
}

#[test]
fn golden_pooled_metrics_match_torchmetrics_and_lm_eval_definitions() {
    for case in cases() {
        let name = case["name"].as_str().unwrap().to_string();
        let e = case["expected"].clone();
        for_each_device(|device| {
            let (acc, r) = run_case(&case, device);
            let c = |got: f64, key: &str| {
                assert_close(got, f(&e[key]), ATOL, RTOL, &format!("{name}.{key}"))
            };
            assert_eq!(r.tokens, e["tokens"].as_u64().unwrap(), "{name}.tokens");
            c(r.nll_sum, "nll_sum");
            c(r.log_perplexity, "log_perplexity");
            c(r.perplexity, "perplexity_torchmetrics");
            c(r.bits_per_token, "bits_per_token");
            assert_eq!(
                r.units.words,
                e["words"].as_u64().unwrap(),
                "{name}: lm-eval word count"
            );
            assert_eq!(
                r.units.bytes,
                e["bytes"].as_u64().unwrap(),
                "{name}: lm-eval byte count"
            );
            c(r.word_perplexity.unwrap(), "word_perplexity");
            c(r.byte_perplexity.unwrap(), "byte_perplexity");
            c(r.bits_per_byte.unwrap(), "bits_per_byte");
            let k = &r.calibration;
            c(k.accuracy, "accuracy");
            c(k.mean_confidence, "mean_confidence");
            c(k.mean_entropy, "mean_entropy");
            c(k.brier, "brier");
            c(k.ece_equal_width, "ece_equal_width");
            c(k.ece_equal_mass.unwrap(), "ece_equal_mass");
            // per-sequence values (one document per batch row for 3-D input)
            let want_ppl = e["per_sequence_perplexity"].as_array().unwrap();
            let want_tok = e["per_sequence_tokens"].as_array().unwrap();
            assert_eq!(acc.sequences().len(), want_ppl.len(), "{name}: sequences");
            for (i, (s, (wp, wt))) in acc
                .sequences()
                .iter()
                .zip(want_ppl.iter().zip(want_tok))
                .enumerate()
            {
                assert_eq!(s.tokens, wt.as_u64().unwrap(), "{name}: seq {i} tokens");
                match wp.as_f64() {
                    Some(w) => assert_close(
                        s.perplexity().unwrap(),
                        w,
                        ATOL,
                        RTOL,
                        &format!("{name}: seq {i} ppl"),
                    ),
                    None => assert_eq!(s.perplexity(), None),
                }
            }
        });
    }
}

#[test]
fn text_units_count_like_lm_eval() {
    // lm-eval: len(re.split(r"\s+", doc)), len(doc.encode("utf-8"))
    assert_eq!(
        TextUnits::from_text("a b  c"),
        TextUnits { bytes: 6, words: 3 }
    );
    assert_eq!(TextUnits::from_text(" a"), TextUnits { bytes: 2, words: 2 });
    assert_eq!(
        TextUnits::from_text("a\n"),
        TextUnits { bytes: 2, words: 2 }
    );
    assert_eq!(TextUnits::from_text(""), TextUnits { bytes: 0, words: 1 });
    assert_eq!(
        TextUnits::from_text("café"),
        TextUnits { bytes: 5, words: 1 }
    );
}
