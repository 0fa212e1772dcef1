//! `DecoderLm` is a rigor-perplexity `CausalLm`: its logits are `forward`'s, the sliding-window
//! evaluator and the counterexample finder run on it, and its own errors arrive as
//! `PerplexityError::Model` with the `NnError` kept as the source — on every device.

mod common;

use std::error::Error as _;

use burn::tensor::{Device, Int, Tensor, TensorData};
use common::{assert_close, host, tokens};
use rigor_nn::*;
use rigor_perplexity::{
    CausalLm, CounterexampleConfig, EvalConfig, LabelShift, PerplexityError, SlidingWindowConfig,
};
use rigor_rope::RopeConfig;
use rigor_testkit::for_each_device;

#[test]
fn logits_are_forwards_and_the_evaluators_run_on_a_decoder() {
    for_each_device(|device: &Device| {
        let model = DecoderLmConfig::new(3, 8, 2, 2)
            .with_positional(PositionalEncoding::Rope(RopeConfig::new(4)))
            .init(device)
            .unwrap();
        let toks = tokens(&[vec![0, 1, 2, 1, 0, 0]], device);
        let want = host(model.forward(toks.clone(), None).unwrap());
        let got = host(CausalLm::logits(&model, toks).unwrap());
        // the same call twice; 1e-6 only lets wgpu's autotuner pick another kernel
        assert_close(&got, &want, 1e-6, "CausalLm::logits = forward");

        // sliding window: every token after the first is scored exactly once
        let seq: Vec<i64> = (0..20).map(|i| (i * 7 % 3) as i64).collect();
        let mut acc = EvalConfig::new()
            .with_label_shift(LabelShift::None)
            .init()
            .unwrap();
        let sw = SlidingWindowConfig::new(8, 7).init().unwrap();
        let summary = sw.evaluate(&model, &seq, device, &mut acc).unwrap();
        assert_eq!(summary.tokens_scored, 19);
        assert!(acc.log_perplexity().unwrap().is_finite());

        // the counterexample finder scores copies with it
        let finder = CounterexampleConfig::new(0.1).init().unwrap();
        let s = finder
            .score(
                &model,
                &[vec![true, false, true], vec![false, false, true]],
                device,
            )
            .unwrap();
        assert_eq!(s.len(), 2);
        assert!(
            s.iter()
                .all(|c| c.log_perplexity.is_finite() && c.log_perplexity > 0.0)
        );
    });
}

#[test]
fn model_errors_keep_their_source() {
    for_each_device(|device: &Device| {
        let model = DecoderLmConfig::new(5, 8, 2, 1)
            .with_positional(PositionalEncoding::Learned)
            .with_max_seq_len(4)
            .init(device)
            .unwrap();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(vec![1i64; 6], [1, 6]), device);
        let err = CausalLm::logits(&model, ids).unwrap_err();
        let PerplexityError::Model(inner) = &err else {
            panic!("expected PerplexityError::Model, got {err:?}");
        };
        let source = err.source().expect("the model error is the source");
        assert_eq!(source.to_string(), inner.to_string());
        assert!(
            matches!(
                inner.inner().downcast_ref::<NnError>(),
                Some(NnError::SequenceTooLong { len: 6, max: 4 })
            ),
            "{inner}"
        );
        // an evaluator passes it on and accumulates nothing
        let mut acc = EvalConfig::new()
            .with_label_shift(LabelShift::None)
            .init()
            .unwrap();
        let sw = SlidingWindowConfig::new(6, 5).init().unwrap();
        let seq = vec![1i64; 6];
        assert!(matches!(
            sw.evaluate(&model, &seq, device, &mut acc),
            Err(PerplexityError::Model(_))
        ));
        assert_eq!(acc.tokens(), 0);
    });
}

/// `DecoderLm::queries_keys` returns what each block's attention scores are built from:
/// rotating its queries and keys with the layer's RoPE, `s · q kᵀ` and the causal mask give
/// exactly `forward_with_weights`' scores, in every layer.
#[test]
fn queries_keys_rebuild_every_layers_scores() {
    for_each_device(|device: &Device| {
        let model = DecoderLmConfig::new(5, 8, 2, 3)
            .with_positional(PositionalEncoding::Rope(RopeConfig::new(4)))
            .init(device)
            .unwrap();
        let toks = tokens(&[vec![0, 4, 2, 1, 3], vec![1, 1, 1, 1, 1]], device);
        let qk = model.queries_keys(toks.clone()).unwrap();
        let out = model.forward_with_weights(toks, None).unwrap();
        assert_eq!(qk.len(), 3);
        for (l, ((q, k), scores)) in qk.into_iter().zip(out.scores).enumerate() {
            assert_eq!(q.dims(), [2, 2, 5, 4]);
            let att = &model.blocks[l].attention;
            let rope = att.rope().unwrap();
            let pos = rigor_rope::Positions::Offset(0);
            let q = rope
                .apply(
                    q,
                    rigor_rope::TensorLayout::Bhsd,
                    rigor_rope::Role::Query,
                    pos,
                )
                .unwrap();
            let k = rope
                .apply(
                    k,
                    rigor_rope::TensorLayout::Bhsd,
                    rigor_rope::Role::Key,
                    pos,
                )
                .unwrap();
            let rebuilt = mask_logits(
                q.matmul(k.swap_dims(2, 3)).mul_scalar(att.scale()),
                true,
                None,
            )
            .unwrap();
            let (got, want) = (host(rebuilt), host(scores));
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g == w) || (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                    "layer {l}, entry {i}: {g} vs {w}"
                );
            }
        }
        let bad = Tensor::<2, Int>::from_data(TensorData::new(Vec::<i64>::new(), [1, 0]), device);
        assert!(model.queries_keys(bad).is_err());
    });
}
