//! Invalid configurations are errors at `init` (never panics later), invalid inputs are errors
//! at the call, and configs round-trip through JSON with their normalizer and RoPE variant.

mod common;

use burn::tensor::Device;
use common::{input3, padding, tokens};
use rigor_nn::*;
use rigor_rope::{RopeConfig, Rotation};
use rigor_softmax::Normalizer;

fn device() -> Device {
    Device::flex()
}

#[test]
fn invalid_attention_configs_are_errors() {
    let d = device();
    assert_eq!(
        MultiHeadAttentionConfig::new(10, 3).init(&d).unwrap_err(),
        NnError::HeadsDoNotDivide {
            d_model: 10,
            n_heads: 3
        }
    );
    assert_eq!(
        MultiHeadAttentionConfig::new(0, 1).init(&d).unwrap_err(),
        NnError::ZeroSize { name: "d_model" }
    );
    assert_eq!(
        MultiHeadAttentionConfig::new(8, 0).init(&d).unwrap_err(),
        NnError::ZeroSize { name: "n_heads" }
    );
    assert_eq!(
        MultiHeadAttentionConfig::new(6, 2)
            .with_rope(Some(RopeConfig::new(3)))
            .init(&d)
            .unwrap_err(),
        NnError::OddHeadDimWithRope { head_dim: 3 }
    );
    assert_eq!(
        MultiHeadAttentionConfig::new(16, 2)
            .with_rope(Some(RopeConfig::new(4)))
            .init(&d)
            .unwrap_err(),
        NnError::RopeHeadDim {
            rope_head_dim: 4,
            head_dim: 8
        }
    );
    assert!(matches!(
        MultiHeadAttentionConfig::new(8, 2)
            .with_rope(Some(RopeConfig::new(4).with_theta(0.5)))
            .init(&d)
            .unwrap_err(),
        NnError::Rope(_)
    ));
    assert!(matches!(
        MultiHeadAttentionConfig::new(8, 2)
            .with_rope(Some(
                RopeConfig::new(4).with_rotation(Rotation::Proportional { p: 1.5 })
            ))
            .init(&d)
            .unwrap_err(),
        NnError::Rope(_)
    ));
    for bad in [1.0, -0.1, f64::NAN] {
        assert!(matches!(
            MultiHeadAttentionConfig::new(8, 2)
                .with_dropout(bad)
                .init(&d)
                .unwrap_err(),
            NnError::InvalidParameter {
                name: "dropout",
                ..
            }
        ));
    }
    for bad in [0.0, -1.0, f64::INFINITY] {
        assert!(matches!(
            MultiHeadAttentionConfig::new(8, 2)
                .with_scale(Some(bad))
                .init(&d)
                .unwrap_err(),
            NnError::InvalidParameter { name: "scale", .. }
        ));
    }
}

#[test]
fn invalid_model_configs_are_errors() {
    let d = device();
    assert_eq!(
        DecoderLmConfig::new(0, 8, 2, 1).init(&d).unwrap_err(),
        NnError::ZeroSize { name: "vocab_size" }
    );
    assert_eq!(
        DecoderLmConfig::new(5, 8, 2, 0).init(&d).unwrap_err(),
        NnError::ZeroSize { name: "n_layers" }
    );
    assert_eq!(
        DecoderLmConfig::new(5, 8, 2, 1)
            .with_positional(PositionalEncoding::Learned)
            .with_max_seq_len(0)
            .init(&d)
            .unwrap_err(),
        NnError::ZeroSize {
            name: "max_seq_len"
        }
    );
    assert_eq!(
        DecoderLmConfig::new(5, 12, 4, 1)
            .with_positional(PositionalEncoding::Rope(RopeConfig::new(3)))
            .init(&d)
            .unwrap_err(),
        NnError::OddHeadDimWithRope { head_dim: 3 }
    );
    assert!(matches!(
        DecoderLmConfig::new(5, 8, 2, 1)
            .with_norm_eps(0.0)
            .init(&d)
            .unwrap_err(),
        NnError::InvalidParameter {
            name: "norm_eps",
            ..
        }
    ));
    assert_eq!(
        DecoderLmConfig::new(5, 8, 2, 1)
            .with_d_ff(Some(0))
            .init(&d)
            .unwrap_err(),
        NnError::ZeroSize { name: "d_ff" }
    );
    assert_eq!(
        MlpConfig::new(0, 4, 4).init(&d).unwrap_err(),
        NnError::ZeroSize { name: "d_input" }
    );
    assert_eq!(
        SetReadoutConfig::new(3, 8, 0).init(&d).unwrap_err(),
        NnError::ZeroSize { name: "n_classes" }
    );
    assert_eq!(
        SetReadoutConfig::new(3, 8, 2)
            .with_query(QuerySource::Input { d_query: 0 })
            .init(&d)
            .unwrap_err(),
        NnError::ZeroSize { name: "d_query" }
    );
}

#[test]
fn invalid_inputs_are_errors_not_panics() {
    let d = device();
    let m = MultiHeadAttentionConfig::new(8, 2).init(&d).unwrap();
    assert!(matches!(
        m.forward(input3(1, 3, 6, 0, &d), &AttentionMask::none()),
        Err(NnError::ShapeMismatch { .. })
    ));
    let bad_pad = AttentionMask::none().with_key_padding(padding(&[vec![false; 4]], &d));
    assert!(matches!(
        m.forward(input3(1, 3, 8, 0, &d), &bad_pad),
        Err(NnError::ShapeMismatch { .. })
    ));
    let mut cache = KvCache::new();
    m.forward_cached(input3(2, 1, 8, 0, &d), &mut cache, &AttentionMask::causal())
        .unwrap();
    assert!(matches!(
        m.forward_cached(input3(1, 1, 8, 0, &d), &mut cache, &AttentionMask::causal()),
        Err(NnError::ShapeMismatch { .. })
    ));

    let lm = DecoderLmConfig::new(5, 8, 2, 2)
        .with_positional(PositionalEncoding::Learned)
        .with_max_seq_len(4)
        .init(&d)
        .unwrap();
    assert_eq!(
        lm.forward(tokens(&[vec![1, 2, 3, 4, 0]], &d), None)
            .unwrap_err(),
        NnError::SequenceTooLong { len: 5, max: 4 }
    );
    let mut cache = lm.new_cache();
    lm.forward_cached(tokens(&[vec![1, 2, 3]], &d), None, &mut cache)
        .unwrap();
    assert_eq!(
        lm.forward_cached(tokens(&[vec![1, 2]], &d), None, &mut cache)
            .unwrap_err(),
        NnError::SequenceTooLong { len: 5, max: 4 }
    );
    let mut wrong = DecoderCache::default();
    assert_eq!(
        lm.forward_cached(tokens(&[vec![1]], &d), None, &mut wrong)
            .unwrap_err(),
        NnError::CacheLayers {
            got: 0,
            expected: 2
        }
    );
    assert!(matches!(
        lm.next_token_loss(tokens(&[vec![1]], &d), None),
        Err(NnError::ShapeMismatch { .. })
    ));

    let readout = SetReadoutConfig::new(3, 8, 2).init(&d).unwrap();
    assert!(readout.forward(input3(1, 4, 2, 0, &d), None, None).is_err());
    assert!(
        readout
            .forward(
                input3(1, 4, 3, 0, &d),
                Some(input3(1, 1, 3, 0, &d).reshape([1, 3])),
                None
            )
            .is_err()
    );
    let with_query = SetReadoutConfig::new(3, 8, 2)
        .with_query(QuerySource::Input { d_query: 2 })
        .init(&d)
        .unwrap();
    assert!(
        with_query
            .forward(input3(1, 4, 3, 0, &d), None, None)
            .is_err()
    );
    let out = with_query
        .forward(
            input3(1, 4, 3, 0, &d),
            Some(input3(1, 1, 2, 1, &d).reshape([1, 2])),
            None,
        )
        .unwrap();
    assert_eq!(out.logits.dims(), [1, 2]);
}

#[test]
fn configs_round_trip_through_json() {
    let config = DecoderLmConfig::new(11, 16, 2, 3)
        .with_positional(PositionalEncoding::Rope(
            RopeConfig::new(8).with_rotation(Rotation::Proportional { p: 0.75 }),
        ))
        .with_normalizer(Normalizer::entmax(1.5).unwrap())
        .with_norm(NormKind::RmsNorm)
        .with_tie_embeddings(true);
    let json = serde_json::to_string(&config).unwrap();
    let back: DecoderLmConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back.positional, config.positional);
    assert_eq!(back.normalizer, config.normalizer);
    assert_eq!(back.norm, NormKind::RmsNorm);
    assert!(back.tie_embeddings);
    assert_eq!(back.n_kv_heads, None);

    // A config saved before grouped-query heads existed (no `n_kv_heads` key) still loads, as
    // plain multi-head attention; one with the key keeps it.
    let mut value = serde_json::to_value(&config).unwrap();
    value.as_object_mut().unwrap().remove("n_kv_heads");
    let old: DecoderLmConfig = serde_json::from_value(value).unwrap();
    assert_eq!(old.n_kv_heads, None);
    let gqa = config.clone().with_n_kv_heads(Some(1));
    let back: DecoderLmConfig =
        serde_json::from_str(&serde_json::to_string(&gqa).unwrap()).unwrap();
    assert_eq!(back.n_kv_heads, Some(1));

    let readout = SetReadoutConfig::new(3, 8, 2)
        .with_query(QuerySource::Input { d_query: 5 })
        .with_normalizer(Normalizer::adaptive());
    let back: SetReadoutConfig =
        serde_json::from_str(&serde_json::to_string(&readout).unwrap()).unwrap();
    assert_eq!(back.query, QuerySource::Input { d_query: 5 });
    assert_eq!(back.normalizer, Normalizer::adaptive());
}
