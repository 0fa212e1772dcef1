//! The pretrained-checkpoint decoder (`rigor_nn::model::pretrained`) on its own: grouped-query
//! attention equals multi-head attention with each key/value head repeated, sliding windows
//! hide exactly the keys they should, invalid configs are errors, and a mis-shaped or missing
//! tensor is named. (Equality with HF transformers' logits for every family is
//! `rigor-hf/tests/checkpoints.rs`.)

use burn::tensor::{Device, Int, Tensor, TensorData};
use rigor_nn::{
    MlpActivation, NnError, PretrainedDecoder, PretrainedDecoderConfig, PretrainedLayerConfig,
    RmsNormStyle, WeightSource,
};
use rigor_rope::RopeConfig;
use rigor_softmax::Normalizer;
use rigor_testkit::for_each_device;

const D: usize = 16;
const HD: usize = 4;

fn config(
    n_heads: usize,
    n_kv: usize,
    window: Option<usize>,
    layers: usize,
) -> PretrainedDecoderConfig {
    PretrainedDecoderConfig {
        vocab_size: 11,
        hidden_size: D,
        intermediate_size: 24,
        n_heads,
        n_kv_heads: n_kv,
        head_dim: HD,
        rms_norm_eps: 1e-6,
        norm_style: RmsNormStyle::Weight,
        activation: MlpActivation::Silu,
        qkv_bias: true,
        output_bias: false,
        mlp_bias: false,
        qk_norm: true,
        sandwich_norms: false,
        tie_word_embeddings: true,
        embedding_scale: None,
        attn_logit_softcap: None,
        final_logit_softcap: None,
        attention_scale: None,
        layers: (0..layers)
            .map(|_| PretrainedLayerConfig {
                rope: Some(RopeConfig::new(HD)),
                sliding_window: window,
                query_temperature: None,
            })
            .collect(),
        normalizer: Normalizer::softmax(),
    }
}

/// Deterministic values from the tensor's name; for k/v projections of a "repeated" source
/// every query head `h` gets the rows of key/value head `h / rep` of the grouped source.
struct Named {
    rep: usize,
}

fn value(name: &str, i: usize) -> f32 {
    let mut h: u64 = 1469598103934665603;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(1099511628211);
    }
    h = (h ^ i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((h >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.8
}

impl WeightSource for Named {
    fn tensor(&mut self, name: &str, shape: &[usize]) -> rigor_nn::Result<Option<Vec<f32>>> {
        let n: usize = shape.iter().product();
        let kv = name.contains("k_proj") || name.contains("v_proj");
        if kv && self.rep > 1 {
            // rows are heads × HD (× in for weights); map row r of head h to head h / rep
            let cols = n / shape[0];
            return Ok(Some(
                (0..n)
                    .map(|i| {
                        let (r, c) = (i / cols, i % cols);
                        let (head, within) = (r / HD, r % HD);
                        let src = ((head / self.rep) * HD + within) * cols + c;
                        value(name, src)
                    })
                    .collect(),
            ));
        }
        Ok(Some((0..n).map(|i| value(name, i)).collect()))
    }
}

fn logits(model: &PretrainedDecoder, ids: &[i64], device: &Device) -> Vec<f32> {
    let t = Tensor::<2, Int>::from_data(TensorData::new(ids.to_vec(), [1, ids.len()]), device);
    model
        .forward(t)
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn grouped_query_attention_is_mha_with_repeated_kv_heads() {
    for_each_device(|device| {
        let ids = [1i64, 5, 2, 9, 3, 3, 7];
        for (n_kv, rep) in [(2usize, 2usize), (1, 4)] {
            let gqa = config(4, n_kv, None, 2)
                .init_from(&mut Named { rep: 1 }, device)
                .unwrap();
            let mha = config(4, 4, None, 2)
                .init_from(&mut Named { rep }, device)
                .unwrap();
            let d = max_diff(&logits(&gqa, &ids, device), &logits(&mha, &ids, device));
            assert!(d < 1e-5, "n_kv {n_kv}: {d}");
        }
    });
}

#[test]
fn sliding_windows_hide_exactly_the_far_keys() {
    let device = Device::flex();
    let ids = [1i64, 5, 2, 9, 3, 3, 7, 4];
    let full = config(4, 2, None, 1)
        .init_from(&mut Named { rep: 1 }, &device)
        .unwrap();
    let wide = config(4, 2, Some(8), 1)
        .init_from(&mut Named { rep: 1 }, &device)
        .unwrap();
    assert_eq!(logits(&full, &ids, &device), logits(&wide, &ids, &device));
    // W = 3 in one layer: position 5 sees tokens 3..=5 only, so changing token 2 leaves
    // positions >= 5 unchanged and changes position 4.
    let w3 = config(4, 2, Some(3), 1)
        .init_from(&mut Named { rep: 1 }, &device)
        .unwrap();
    let mut other = ids;
    other[2] = 10;
    let (a, b) = (logits(&w3, &ids, &device), logits(&w3, &other, &device));
    let v = 11;
    let row = |x: &[f32], i: usize| x[i * v..(i + 1) * v].to_vec();
    for i in 5..ids.len() {
        assert_eq!(
            row(&a, i),
            row(&b, i),
            "position {i} saw a key beyond the window"
        );
    }
    assert!(
        max_diff(&row(&a, 4), &row(&b, 4)) > 1e-6,
        "position 4 must see token 2"
    );
    // Without a window, position 7 does see token 2.
    let (a, b) = (logits(&full, &ids, &device), logits(&full, &other, &device));
    assert!(max_diff(&row(&a, 7), &row(&b, 7)) > 1e-6);
}

#[test]
fn invalid_configs_and_weights_are_errors() {
    let device = Device::flex();
    let mut c = config(4, 3, None, 1);
    assert!(matches!(
        c.validate(),
        Err(NnError::InvalidParameter {
            name: "n_kv_heads",
            ..
        })
    ));
    c = config(4, 2, Some(0), 1);
    assert!(matches!(
        c.validate(),
        Err(NnError::InvalidParameter {
            name: "sliding_window",
            ..
        })
    ));
    c = config(4, 2, None, 1);
    c.layers[0].rope = Some(RopeConfig::new(8));
    assert!(matches!(c.validate(), Err(NnError::RopeHeadDim { .. })));
    c = config(4, 2, None, 0);
    assert!(c.validate().is_err());
    c = config(4, 2, None, 1);
    c.attn_logit_softcap = Some(f64::NAN);
    assert!(c.validate().is_err());

    struct Short;
    impl WeightSource for Short {
        fn tensor(&mut self, name: &str, shape: &[usize]) -> rigor_nn::Result<Option<Vec<f32>>> {
            let n: usize = shape.iter().product();
            Ok(match name {
                "model.layers.0.mlp.up_proj.weight" => Some(vec![0.0; n - 1]),
                _ => Some(vec![0.1; n]),
            })
        }
    }
    let e = config(4, 2, None, 1)
        .init_from(&mut Short, &device)
        .unwrap_err();
    assert!(
        matches!(&e, NnError::Weight { name, .. } if name == "model.layers.0.mlp.up_proj.weight"),
        "{e}"
    );
    struct Empty;
    impl WeightSource for Empty {
        fn tensor(&mut self, _: &str, _: &[usize]) -> rigor_nn::Result<Option<Vec<f32>>> {
            Ok(None)
        }
    }
    let e = config(4, 2, None, 1)
        .init_from(&mut Empty, &device)
        .unwrap_err();
    assert!(e.to_string().contains("model.embed_tokens.weight"), "{e}");
}

#[test]
fn random_init_runs_every_normalizer_and_rejects_bad_tokens() {
    let device = Device::flex();
    let mut c = config(4, 2, Some(3), 2);
    c.norm_style = RmsNormStyle::OnePlusWeight;
    c.activation = MlpActivation::GeluTanh;
    c.sandwich_norms = true;
    c.attn_logit_softcap = Some(5.0);
    c.final_logit_softcap = Some(3.0);
    c.embedding_scale = Some(4.0);
    let mut model = c.init_random(7, &device).unwrap();
    let ids = [1i64, 5, 2, 9, 3];
    for n in [
        Normalizer::softmax(),
        Normalizer::adaptive(),
        Normalizer::sparsemax(),
        Normalizer::entmax(1.5).unwrap(),
    ] {
        model.set_normalizer(n.clone());
        let out = logits(&model, &ids, &device);
        assert!(out.iter().all(|x| x.is_finite() && x.abs() <= 3.0), "{n:?}");
    }
    let t = Tensor::<2, Int>::from_data(TensorData::new(vec![1i64, 11], [1, 2]), &device);
    assert!(matches!(
        model.forward(t),
        Err(NnError::ShapeMismatch { .. })
    ));
    let t = Tensor::<2, Int>::from_data(TensorData::new(Vec::<i64>::new(), [1, 0]), &device);
    assert!(model.forward(t).is_err());
}

#[test]
fn a_custom_normalizer_replaces_the_builtin_in_every_layer() {
    let device = Device::flex();
    let mut c = config(4, 2, Some(3), 2);
    c.attn_logit_softcap = Some(5.0);
    let mut model = c.init_random(7, &device).unwrap();
    let ids = [1i64, 5, 2, 9, 3];
    model.set_normalizer(Normalizer::entmax(1.5).unwrap());
    let want = logits(&model, &ids, &device);
    // Entmax's own type behind the trait: the same logits, bit for bit.
    model.set_normalizer(Normalizer::softmax());
    let softmax = logits(&model, &ids, &device);
    model.set_custom_normalizer(std::sync::Arc::new(
        rigor_softmax::Entmax::new(1.5).unwrap(),
    ));
    assert_eq!(logits(&model, &ids, &device), want);
    // set_normalizer drops it again.
    model.set_normalizer(Normalizer::softmax());
    assert_eq!(logits(&model, &ids, &device), softmax);
}
