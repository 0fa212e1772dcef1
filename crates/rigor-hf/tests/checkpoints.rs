//! Tiny random checkpoints of every supported family, written by HF transformers 5.25 itself
//! (`tests/fixtures/generate_fixtures.py`): rigor's logits must equal transformers' within
//! 1e-4 of each row's largest logit, on every device compiled in; rigor-perplexity's NLL
//! over the loaded model equals transformers' loss. Each fixture was built so that one common
//! loader mistake (wrong norm form, RoPE layout, GQA grouping, missing window, soft-cap,
//! scaling, bias, q/k norm) moves its logits by far more than the tolerance — the fixture
//! README lists how much.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use rigor_hf::{HfError, HfModel, HfModelConfig};
use rigor_nn::{AttentionKernel, NnError};
use rigor_perplexity::{EvalConfig, LabelShift, SlidingWindowConfig};
use rigor_softmax::Normalizer;
use rigor_testkit::for_each_device;
use serde_json::Value;

const CASES: [&str; 12] = [
    "llama",
    "llama-mqa-tied-llama3",
    "mistral",
    "qwen2",
    "qwen3",
    "gemma",
    "gemma2",
    "gemma3",
    "llama-f16",
    "llama-bf16",
    "llama-sharded",
    "llama-v4config",
];

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

struct Reference {
    tokens: Vec<i64>,
    logits: Vec<Vec<f64>>,
    nll_sum: f64,
}

fn reference(dir: &Path) -> Reference {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap())
            .unwrap();
    Reference {
        tokens: v["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_i64().unwrap())
            .collect(),
        logits: v["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect()
            })
            .collect(),
        nll_sum: v["nll_sum"].as_f64().unwrap(),
    }
}

fn logits(model: &HfModel, tokens: &[i64], device: &Device) -> Vec<Vec<f32>> {
    let n = tokens.len();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(tokens.to_vec(), [1, n]), device);
    let out = model.forward(ids).unwrap();
    let [_, s, v] = out.dims();
    let flat = out.into_data().try_to_vec::<f32>().unwrap();
    (0..s).map(|i| flat[i * v..(i + 1) * v].to_vec()).collect()
}

fn max_row_error(got: &[Vec<f32>], want: &[Vec<f64>]) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(g, w)| {
            assert_eq!(g.len(), w.len());
            let scale = w.iter().fold(0f64, |m, x| m.max(x.abs())).max(1e-6);
            g.iter()
                .zip(w)
                .map(|(&a, &b)| (a as f64 - b).abs() / scale)
                .fold(0f64, f64::max)
        })
        .fold(0f64, f64::max)
}

#[test]
fn logits_equal_transformers_for_every_family_on_every_device() {
    for_each_device(|device| {
        for case in CASES {
            let dir = fixture(case);
            let r = reference(&dir);
            let mut model = HfModel::load(&dir, device).unwrap_or_else(|e| panic!("{case}: {e}"));
            assert!(
                model.unused_tensors.is_empty(),
                "{case}: unused {:?}",
                model.unused_tensors
            );
            // Auto takes Burn's fused attention here (softmax, no autodiff); Composed is
            // rigor's QKᵀ / cap / mask / normalizer / ·V path.
            for kernel in [AttentionKernel::Auto, AttentionKernel::Composed] {
                model.decoder.set_attention_kernel(kernel);
                let got = logits(&model, &r.tokens, device);
                let err = max_row_error(&got, &r.logits);
                assert!(
                    err < 1e-4,
                    "{case} {kernel:?}: max relative logit error {err:e}"
                );
            }
        }
    });
}

#[test]
fn perplexity_tools_see_transformers_loss() {
    let device = Device::flex();
    for case in ["llama", "gemma2", "qwen2"] {
        let dir = fixture(case);
        let r = reference(&dir);
        let model = HfModel::load(&dir, &device).unwrap();
        let mut acc = EvalConfig::new()
            .with_label_shift(LabelShift::None)
            .init()
            .unwrap();
        let window = SlidingWindowConfig::new(r.tokens.len(), r.tokens.len() - 1)
            .init()
            .unwrap();
        let summary = window
            .evaluate(&model, &r.tokens, &device, &mut acc)
            .unwrap();
        assert_eq!(summary.tokens_scored, r.tokens.len() as u64 - 1, "{case}");
        let rel = (summary.nll_sum - r.nll_sum).abs() / r.nll_sum;
        assert!(
            rel < 1e-5,
            "{case}: nll {} vs {}",
            summary.nll_sum,
            r.nll_sum
        );
    }
}

#[test]
fn another_normalizer_changes_the_output_and_softmax_restores_it() {
    let device = Device::flex();
    let dir = fixture("qwen3");
    let r = reference(&dir);
    let mut model = HfModel::load(&dir, &device).unwrap();
    let base = logits(&model, &r.tokens, &device);
    for normalizer in [
        Normalizer::adaptive(),
        Normalizer::entmax(1.5).unwrap(),
        Normalizer::sparsemax(),
    ] {
        model.set_normalizer(normalizer.clone());
        let other = logits(&model, &r.tokens, &device);
        assert!(
            other.iter().flatten().all(|x| x.is_finite()),
            "{normalizer:?}"
        );
        let diff = other
            .iter()
            .flatten()
            .zip(base.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff > 1e-4, "{normalizer:?} left the logits unchanged");
    }
    model.set_normalizer(Normalizer::softmax());
    assert_eq!(logits(&model, &r.tokens, &device), base);
}

#[test]
fn frequency_usage_covers_every_rope_layer() {
    let device = Device::flex();
    let dir = fixture("gemma3");
    let r = reference(&dir);
    let model = HfModel::load(&dir, &device).unwrap();
    let n = r.tokens.len();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(r.tokens.clone(), [1, n]), &device);
    let usage = model.frequency_usage(ids).unwrap().unwrap();
    let c = &model.config.decoder;
    assert_eq!(usage.layers, (0..c.layers.len()).collect::<Vec<_>>());
    assert_eq!(usage.query.norms.len(), c.layers.len());
    assert_eq!(usage.query.norms[0].len(), c.n_heads);
    assert_eq!(usage.key.norms[0].len(), c.n_kv_heads);
    assert_eq!(usage.query.norms[0][0].len(), c.head_dim / 2);
    assert!(
        usage
            .query
            .norms
            .iter()
            .flatten()
            .flatten()
            .all(|x| x.is_finite() && *x >= 0.0)
    );
}

/// Copies a fixture into a temporary folder so a test can break it.
fn scratch(case: &str, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rigor-hf-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(fixture(case)).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    dir
}

fn edit_config(dir: &Path, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let path = dir.join("config.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(v.as_object_mut().unwrap());
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
}

#[test]
fn broken_checkpoints_give_errors_that_name_the_problem() {
    let device = Device::flex();
    // Missing directory / files.
    let e = HfModel::load(Path::new("/nonexistent/model"), &device).unwrap_err();
    assert!(
        matches!(e, HfError::Io { .. }) && e.to_string().contains("config.json"),
        "{e}"
    );
    let dir = scratch("llama", "noweights");
    std::fs::remove_file(dir.join("model.safetensors")).unwrap();
    let e = HfModel::load(&dir, &device).unwrap_err().to_string();
    assert!(e.contains("model.safetensors"), "{e}");

    // A config whose widths disagree with the tensors: names the tensor and both shapes.
    let dir = scratch("llama", "shape");
    edit_config(&dir, |c| {
        c.insert("intermediate_size".into(), Value::from(64));
    });
    let e = HfModel::load(&dir, &device).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, HfError::Nn(NnError::Weight { .. })), "{text}");
    assert!(
        text.contains("model.layers.0.mlp.gate_proj.weight") && text.contains("[64, 32]"),
        "{text}"
    );

    // A tensor the config needs but the checkpoint lacks (Qwen3's q_norm asked of a Llama).
    let dir = scratch("llama", "missing");
    edit_config(&dir, |c| {
        c.insert("model_type".into(), Value::from("qwen3"));
    });
    let e = HfModel::load(&dir, &device).unwrap_err().to_string();
    assert!(
        e.contains("model.layers.0.self_attn.q_norm.weight") && e.contains("missing"),
        "{e}"
    );

    // Unsupported family, bad field type, bad GQA.
    for (field, value, needle) in [
        ("model_type", Value::from("phi3"), "phi3"),
        ("num_key_value_heads", Value::from(3), "n_kv_heads"),
        ("hidden_act", Value::from("relu2"), "relu2"),
        ("vocab_size", Value::from("96"), "vocab_size"),
    ] {
        let dir = scratch("llama", "field");
        edit_config(&dir, |c| {
            c.insert(field.into(), value.clone());
        });
        let e = HfModel::load(&dir, &device).unwrap_err().to_string();
        assert!(e.contains(needle), "{field} = {value}: {e}");
    }

    // A model whose f32 parameters exceed the host's memory is refused before any weight is
    // read (vocab 2^31 × 32 × 4 bytes × 2 matrices = 512 GiB).
    if rigor_hf::model::available_memory().is_some() {
        let dir = scratch("llama", "huge");
        edit_config(&dir, |c| {
            c.insert("vocab_size".into(), Value::from(1u64 << 31));
        });
        let e = HfModel::load(&dir, &device).unwrap_err();
        assert!(matches!(e, HfError::TooLarge { .. }), "{e}");
    }

    // Sharded checkpoints: an index that is not JSON, one that sends a tensor to a shard that
    // does not hold it, one that points outside the model directory, a missing shard.
    let index = "model.safetensors.index.json";
    let edit_index = |tag: &str, edit: &dyn Fn(&mut Value)| {
        let dir = scratch("llama-sharded", tag);
        let path = dir.join(index);
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut v);
        std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
        HfModel::load(&dir, &device).unwrap_err().to_string()
    };
    let dir = scratch("llama-sharded", "badindex");
    std::fs::write(dir.join(index), "{not json").unwrap();
    let e = HfModel::load(&dir, &device).unwrap_err().to_string();
    assert!(e.contains(index), "{e}");
    let e = edit_index("wrongshard", &|v| {
        v["weight_map"]["lm_head.weight"] = Value::from("model-00001-of-00003.safetensors");
    });
    assert!(
        e.contains("lm_head.weight") && e.contains("does not hold it"),
        "{e}"
    );
    let e = edit_index("escape", &|v| {
        v["weight_map"]["lm_head.weight"] = Value::from("../model.safetensors");
    });
    assert!(e.contains("leaves the model directory"), "{e}");
    let e = edit_index("noweightmap", &|v| {
        v.as_object_mut().unwrap().remove("weight_map");
    });
    assert!(e.contains("weight_map"), "{e}");
    let dir = scratch("llama-sharded", "missingshard");
    std::fs::remove_file(dir.join("model-00002-of-00003.safetensors")).unwrap();
    let e = HfModel::load(&dir, &device).unwrap_err().to_string();
    assert!(e.contains("model-00002-of-00003.safetensors"), "{e}");

    // A truncated weights file.
    let dir = scratch("llama", "truncated");
    let path = dir.join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = HfModel::load(&dir, &device).unwrap_err().to_string();
    assert!(e.contains("model.safetensors"), "{e}");

    // A token outside the vocabulary is an error, not a panic.
    let model = HfModel::load(&fixture("llama"), &device).unwrap();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(vec![1i64, 96], [1, 2]), &device);
    let e = model.forward(ids).unwrap_err().to_string();
    assert!(e.contains("96") && e.contains("vocabulary"), "{e}");
}

#[test]
fn config_parsing_reads_what_each_family_differs_in() {
    let read = |case: &str| HfModelConfig::from_dir(&fixture(case)).unwrap().decoder;
    let gemma2 = read("gemma2");
    assert!(gemma2.sandwich_norms && gemma2.attn_logit_softcap.is_some());
    assert!(gemma2.layers.iter().any(|l| l.sliding_window == Some(4)));
    assert!(gemma2.layers.iter().any(|l| l.sliding_window.is_none()));
    let qwen2 = read("qwen2");
    assert!(qwen2.qkv_bias && !qwen2.output_bias);
    assert!(qwen2.layers.iter().all(|l| l.sliding_window.is_none()));
    let mistral = read("mistral");
    assert!(mistral.layers.iter().all(|l| l.sliding_window == Some(4)));
    let tied = read("llama-mqa-tied-llama3");
    assert!(tied.tie_word_embeddings && tied.n_kv_heads == 1);
}
