//! Gradients flow to every kind of parameter on every autodiff device, through masks (−∞
//! logits), RoPE, the KV-cache-free causal path and sparse normalizers.

mod common;

use burn::tensor::{Device, Int, Tensor, TensorData};
use common::{host, input3, padding, tokens};
use rigor_nn::*;
use rigor_rope::RopeConfig;
use rigor_softmax::Normalizer;
use rigor_testkit::for_each_autodiff_device;

fn nonzero_finite(g: Option<Tensor<2>>, what: &str) {
    let g = host(g.unwrap_or_else(|| panic!("{what}: no gradient")));
    assert!(g.iter().all(|v| v.is_finite()), "{what}: finite");
    assert!(g.iter().any(|&v| v != 0.0), "{what}: nonzero");
}

#[test]
fn decoder_gradients_reach_every_parameter_kind() {
    for_each_autodiff_device(|device| {
        for (positional, tie) in [
            (PositionalEncoding::Rope(RopeConfig::new(4)), false),
            (PositionalEncoding::Learned, true),
        ] {
            let model = DecoderLmConfig::new(9, 8, 2, 2)
                .with_positional(positional)
                .with_tie_embeddings(tie)
                .with_normalizer(Normalizer::adaptive())
                .init(device)
                .unwrap();
            let toks = tokens(&[vec![1, 2, 3, 4, 5], vec![8, 7, 6, 0, 0]], device);
            let pad = padding(
                &[vec![false; 5], vec![false, false, false, true, true]],
                device,
            );
            let loss = model.next_token_loss(toks, Some(pad)).unwrap();
            assert!(host(loss.clone())[0].is_finite());
            let grads = loss.backward();
            nonzero_finite(model.token_embedding.weight.val().grad(&grads), "embedding");
            for (l, b) in model.blocks.iter().enumerate() {
                nonzero_finite(
                    b.attention.query.weight.val().grad(&grads),
                    &format!("W_Q[{l}]"),
                );
                nonzero_finite(
                    b.attention.key.weight.val().grad(&grads),
                    &format!("W_K[{l}]"),
                );
                nonzero_finite(
                    b.attention.value.weight.val().grad(&grads),
                    &format!("W_V[{l}]"),
                );
                nonzero_finite(
                    b.mlp.layers[0].weight.val().grad(&grads),
                    &format!("MLP[{l}]"),
                );
            }
            if let Some(p) = &model.position_embedding {
                nonzero_finite(p.weight.val().grad(&grads), "positions");
            }
            if let Some(h) = &model.lm_head {
                nonzero_finite(h.weight.val().grad(&grads), "head");
            }
        }
    });
}

#[test]
fn set_readout_gradients_flow_for_dense_and_sparse_normalizers() {
    for_each_autodiff_device(|device: &Device| {
        for normalizer in [Normalizer::softmax(), Normalizer::entmax(1.5).unwrap()] {
            let model = SetReadoutConfig::new(3, 8, 4)
                .with_normalizer(normalizer.clone())
                .init(device)
                .unwrap();
            let items = input3(2, 6, 3, 11, device);
            let targets: Tensor<1, Int> =
                Tensor::from_data(TensorData::new(vec![1i64, 3], [2]), device);
            let out = model.forward(items, None, None).unwrap();
            let loss = cross_entropy(out.logits, targets, None);
            let grads = loss.backward();
            let q = model
                .query
                .as_ref()
                .unwrap()
                .val()
                .grad(&grads)
                .expect("query grad");
            let q = host(q);
            assert!(
                q.iter().all(|v| v.is_finite()) && q.iter().any(|&v| v != 0.0),
                "{normalizer}: query"
            );
            nonzero_finite(
                model.key.weight.val().grad(&grads),
                &format!("{normalizer}: W_K"),
            );
            nonzero_finite(
                model.value.weight.val().grad(&grads),
                &format!("{normalizer}: W_V"),
            );
            nonzero_finite(
                model.encoder.layers[0].weight.val().grad(&grads),
                &format!("{normalizer}: encoder"),
            );
        }
    });
}
