//! `rigor_rope::hf` against HF transformers 5.25 itself: every fixture in
//! `tests/golden/hf/configs/` (the RoPE fields of real models' published `config.json`, in the
//! v4 form and as transformers 5 re-writes it in the v5 form) must give the inverse
//! frequencies and attention factors that transformers' rotary-embedding modules hold
//! (`hf_rope_golden.json`, written by `generate_hf_golden.py`), within 1e-6 relative (HF
//! computes in float32). Plus the per-layer facts (NoPE layers, layer types, M-RoPE slot
//! axes, Llama 4's query temperature, DeepSeek's softmax-scale factor) and the errors.

use std::path::PathBuf;

use rigor_rope::hf::HfRope;
use rigor_rope::{Axes, RopeError};
use serde_json::Value;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/hf")
}

fn golden() -> Value {
    let text = std::fs::read_to_string(golden_dir().join("hf_rope_golden.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(got: f64, want: f64, what: &str) {
    let tol = 1e-6 * want.abs().max(1e-30);
    assert!(
        (got - want).abs() <= tol || (want == 0.0 && got == 0.0),
        "{what}: rigor {got:e}, transformers {want:e}"
    );
}

fn check_model(name: &str, model: &Value, hf: &HfRope, form: &str) {
    assert_eq!(
        hf.head_dim as u64,
        model["head_dim"].as_u64().unwrap(),
        "{name} {form}"
    );
    let n = model["num_hidden_layers"].as_u64().unwrap() as usize;
    assert_eq!(hf.layers.len(), n, "{name} {form}: layer count");
    for (key, entry) in model["rope"].as_object().unwrap() {
        let config = hf
            .by_type
            .get(key)
            .unwrap_or_else(|| panic!("{name} {form}: no RoPE for layer type {key}"))
            .clone();
        let rope = config.init().unwrap();
        let mut cases = vec![(1usize, entry.clone())];
        if let Some(at) = entry.get("at_seq_len").and_then(Value::as_object) {
            for (len, e) in at {
                cases.push((len.parse().unwrap(), e.clone()));
            }
        }
        for (seq_len, e) in cases {
            let f = rope.frequencies(seq_len);
            let want = floats(&e["inv_freq"]);
            assert_eq!(f.inv_freq.len(), want.len(), "{name} {form} {key}: slots");
            for (k, (&g, &w)) in f.inv_freq.iter().zip(&want).enumerate() {
                close(g, w, &format!("{name} {form} {key} seq {seq_len} slot {k}"));
            }
            close(
                f.attention_factor,
                e["attention_factor"].as_f64().unwrap(),
                &format!("{name} {form} {key} seq {seq_len} attention factor"),
            );
        }
    }
    let nope: Vec<usize> = model["nope_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    for (i, layer) in hf.layers.iter().enumerate() {
        assert_eq!(
            layer.rope.is_none(),
            nope.contains(&i),
            "{name} {form}: layer {i} NoPE"
        );
    }
    if name.starts_with("gemma") {
        let types: Vec<&str> = model["layer_types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let ours: Vec<&str> = hf.layers.iter().map(|l| l.layer_type.as_str()).collect();
        assert_eq!(ours, types, "{name} {form}: layer types");
        for l in &hf.layers {
            assert_eq!(
                l.rope.as_ref(),
                hf.by_type.get(&l.layer_type),
                "{name} {form}"
            );
        }
    }
    if let Some(axes) = model.get("slot_axes").and_then(Value::as_array) {
        let want: Vec<usize> = axes.iter().map(|x| x.as_u64().unwrap() as usize).collect();
        let config = hf.layers[0].rope.as_ref().unwrap();
        assert!(matches!(
            config.axes,
            Axes::MRope { .. } | Axes::MRopeInterleaved { .. }
        ));
        assert_eq!(
            config.axes.slot_axes(want.len()),
            want,
            "{name} {form}: slot axes"
        );
    }
    if let Some(t) = model.get("attn_temperature") {
        for (&p, &s) in floats(&t["positions"]).iter().zip(&floats(&t["scale"])) {
            for (i, layer) in hf.layers.iter().enumerate() {
                let tau = layer.query_temperature.map(|q| q.scale(p as usize));
                if nope.contains(&i) {
                    close(tau.unwrap() as f32 as f64, s, &format!("{name} τ({p})"));
                } else {
                    assert_eq!(tau, None, "{name}: RoPE layer {i} has no temperature");
                }
            }
        }
    }
    match model.get("attn_softmax_scale") {
        Some(s) => close(
            hf.softmax_scale_factor,
            s["multiplier"].as_f64().unwrap(),
            &format!("{name} softmax scale factor"),
        ),
        None => assert_eq!(hf.softmax_scale_factor, 1.0, "{name}"),
    }
}

#[test]
fn every_fixture_matches_transformers_in_both_config_forms() {
    let golden = golden();
    let models = golden["models"].as_object().unwrap();
    assert!(models.len() >= 10, "fixture set shrank: {}", models.len());
    for (name, model) in models {
        for (form, key) in [("v4", "source"), ("v5", "source_v5")] {
            let path = golden_dir().join(model[key].as_str().unwrap());
            let hf = HfRope::from_file(&path)
                .unwrap_or_else(|e| panic!("{name} ({form}, {}): {e}", path.display()));
            check_model(name, model, &hf, form);
        }
    }
}

#[test]
fn the_families_map_to_the_right_variants() {
    let load = |name: &str| HfRope::from_file(&golden_dir().join("configs").join(name)).unwrap();
    use rigor_rope::{Layout, Rotation, Scaling};
    let pythia = load("pythia-6.9b.json");
    assert_eq!(
        pythia.by_type["default"].rotation,
        Rotation::NeoxPartial { rotary_dims: 32 }
    );
    let deepseek = load("deepseek-v3.json");
    assert_eq!(deepseek.by_type["default"].layout, Layout::Interleaved);
    assert!(matches!(
        deepseek.by_type["default"].scaling,
        Scaling::Yarn(_)
    ));
    let phi = load("phi-3.5-mini-instruct.json");
    assert!(matches!(
        phi.by_type["default"].scaling,
        Scaling::LongRope(_)
    ));
    let gemma = load("gemma-3-4b-it.json");
    assert!(
        matches!(gemma.by_type["full_attention"].scaling, Scaling::Linear { factor } if factor == 8.0)
    );
    assert_eq!(gemma.by_type["sliding_attention"].theta, 10_000.0);
    let vl = load("qwen2.5-vl-7b.json");
    assert_eq!(
        vl.by_type["default"].axes,
        Axes::MRope {
            sections: vec![16, 24, 24]
        }
    );
}

fn err(json: &str) -> RopeError {
    HfRope::from_json_str(json).expect_err(json)
}

fn base(extra: &str) -> String {
    format!(
        r#"{{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4,
            "num_hidden_layers": 2, "max_position_embeddings": 128 {extra}}}"#
    )
}

#[test]
fn bad_configs_name_the_field_and_value() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            base(r#", "rope_scaling": {"rope_type": "yarnn", "factor": 2}"#),
            "rope_scaling.rope_type",
            "yarnn",
        ),
        (
            base(r#", "rope_scaling": {"type": "linear", "factor": 2, "beta_fast": 3}"#),
            "rope_scaling.beta_fast",
            "3",
        ),
        (
            base(r#", "rope_scaling": {"type": "linear"}"#),
            "rope_scaling.factor",
            "missing",
        ),
        (
            base(r#", "rope_scaling": {"type": "linear", "factor": "2"}"#),
            "rope_scaling.factor",
            "\"2\"",
        ),
        (base(r#", "rope_theta": "1e4""#), "rope_theta", "\"1e4\""),
        (
            base(r#", "layer_types": ["full_attention"]"#),
            "layer_types",
            "full_attention",
        ),
        (
            base(r#", "partial_rotary_factor": 1.5"#),
            "partial_rotary_factor",
            "1.5",
        ),
        (
            base(
                r#", "rope_scaling": {"type": "linear", "factor": 2}, "rope_parameters": {"rope_type": "linear", "factor": 4}"#,
            ),
            "rope_scaling",
            "factor",
        ),
        (
            base(r#", "rope_scaling": {"rope_type": "linear", "type": "yarn", "factor": 2}"#),
            "rope_scaling.type",
            "yarn",
        ),
        (
            base(
                r#", "rope_scaling": {"rope_type": "longrope", "short_factor": [1.0], "long_factor": [1.0]}"#,
            ),
            "",
            "LongRoPE",
        ),
        (
            base(r#", "no_rope_layers": [1, 2]"#),
            "no_rope_layers",
            "[1,2]",
        ),
        (
            r#"{"hidden_size": 64, "num_attention_heads": 4}"#.to_string(),
            "num_hidden_layers",
            "missing",
        ),
        (
            r#"{"num_hidden_layers": 2}"#.to_string(),
            "hidden_size",
            "missing",
        ),
        ("[1, 2]".to_string(), "<root>", "[1,2]"),
        ("{not json".to_string(), "<file>", "not JSON"),
        (
            base(
                r#", "rope_parameters": {"full_attention": {"rope_type": "default"}, "sliding_attention": {"rope_type": "default"}}, "layer_types": ["full_attention", "full_attention"]"#,
            ),
            "rope_parameters.sliding_attention",
            "layer types",
        ),
    ];
    for (json, field, value) in cases {
        let e = err(&json).to_string();
        assert!(e.contains(field) && e.contains(value), "{json}\n → {e}");
    }
    // p-RoPE beyond [0, 1] is the RoPE validator's error, after parsing.
    let e = err(&base(
        r#", "rope_parameters": {"rope_type": "proportional", "rope_theta": 1e4, "partial_rotary_factor": 1.5}"#,
    ));
    assert!(matches!(e, RopeError::ProportionOutOfRange { .. }), "{e}");
}

#[test]
fn v4_and_v5_forms_of_a_config_agree_and_nulls_are_absent() {
    let v4 = HfRope::from_json_str(&base(
        r#", "rope_theta": 500000.0, "head_dim": null,
           "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32}"#,
    ))
    .unwrap();
    let v5 = HfRope::from_json_str(&base(
        r#", "rope_parameters": {"rope_type": "yarn", "rope_theta": 500000.0, "factor": 4.0,
                                "original_max_position_embeddings": 32}"#,
    ))
    .unwrap();
    assert_eq!(v4.by_type, v5.by_type);
    assert_eq!(v4.head_dim, 16);
}
