//! `rigor_nn::burn_compat`: Burn's attention API over rigor's attention. A record saved from
//! `burn::nn::attention::MultiHeadAttention` loads into it and gives Burn's context and
//! weights (softmax and quiet softmax, padding and attention masks, cross-attention), on every
//! device; rigor's additions (normalizers, RoPE, grouped-query heads) work through the same
//! API; invalid configs and shapes are errors.

mod common;

use burn::module::Module;
use burn::nn::attention as burn_attn;
use burn::store::ModuleRecord;
use burn::tensor::{Bool, Device, Distribution, Tensor};
use common::{assert_close, host, padding};
use rigor_nn::burn_compat::{MhaInput, MultiHeadAttentionConfig};
use rigor_rope::RopeConfig;
use rigor_softmax::Normalizer;
use rigor_testkit::for_each_device;

fn random3(shape: [usize; 3], device: &Device) -> Tensor<3> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

fn causal(b: usize, s: usize, device: &Device) -> Tensor<3, Bool> {
    rigor_nn::causal_mask(s, s, device)
        .unsqueeze_dim::<3>(0)
        .expand([b, s, s])
}

#[test]
fn a_burn_record_loads_and_gives_burns_outputs() {
    let dir = std::env::temp_dir().join(format!("rigor-burn-compat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for_each_device(|device| {
        for quiet in [false, true] {
            let burn_mha = burn_attn::MultiHeadAttentionConfig::new(16, 4)
                .with_dropout(0.0)
                .with_quiet_softmax(quiet)
                .init(device);
            let path = dir.join(format!("mha-{quiet}.bpk"));
            burn_mha.clone().into_record().save(&path).unwrap();
            let ours = MultiHeadAttentionConfig::new(16, 4)
                .with_dropout(0.0)
                .with_quiet_softmax(quiet)
                .init(device)
                .unwrap();
            let ours = ours
                .try_load_record(ModuleRecord::load(&path).unwrap())
                .unwrap();

            let x = random3([2, 5, 16], device);
            let ctx = random3([2, 7, 16], device);
            let pad = padding(
                &[
                    vec![false; 7],
                    vec![false, false, false, true, false, true, true],
                ],
                device,
            );
            let cases = [
                (
                    "self",
                    MhaInput::self_attn(x.clone()),
                    burn_attn::MhaInput::self_attn(x.clone()),
                ),
                (
                    "self causal",
                    MhaInput::self_attn(x.clone()).mask_attn(causal(2, 5, device)),
                    burn_attn::MhaInput::self_attn(x.clone()).mask_attn(causal(2, 5, device)),
                ),
                (
                    "cross padded",
                    MhaInput::new(x.clone(), ctx.clone(), ctx.clone()).mask_pad(pad.clone()),
                    burn_attn::MhaInput::new(x.clone(), ctx.clone(), ctx.clone())
                        .mask_pad(pad.clone()),
                ),
            ];
            for (what, a, b) in cases {
                let got = ours.forward(a).unwrap();
                let want = burn_mha.forward(b);
                let what = format!("{what}, quiet {quiet}");
                assert_close(&host(got.context), &host(want.context), 1e-5, &what);
                assert_close(&host(got.weights), &host(want.weights), 1e-5, &what);
            }
        }
    });
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn rigor_additions_work_through_the_burn_api() {
    for_each_device(|device| {
        let x = random3([2, 6, 16], device);
        let base = MultiHeadAttentionConfig::new(16, 4).with_dropout(0.0);
        let soft = base.init(device).unwrap();
        // Swapping the normalizer changes the weights, not the parameters.
        let mut adaptive = soft.clone();
        adaptive.set_normalizer(Normalizer::entmax(1.5).unwrap());
        let w_soft = host(
            soft.forward(MhaInput::self_attn(x.clone()))
                .unwrap()
                .weights,
        );
        let w_ent = host(
            adaptive
                .forward(MhaInput::self_attn(x.clone()))
                .unwrap()
                .weights,
        );
        assert!(w_ent.contains(&0.0) && !w_soft.contains(&0.0));
        // Grouped-query heads and RoPE.
        let gqa = base
            .clone()
            .with_n_kv_heads(Some(2))
            .with_rope(Some(RopeConfig::new(4)))
            .init(device)
            .unwrap();
        assert_eq!(gqa.key.weight.dims(), [16, 8]);
        let out = gqa
            .forward(MhaInput::self_attn(x.clone()).mask_attn(causal(2, 6, device)))
            .unwrap();
        assert_eq!(out.context.dims(), [2, 6, 16]);
        let w = host(out.weights);
        // Causal: nothing above the diagonal; rows are distributions.
        for (r, row) in w.chunks(6).enumerate() {
            let i = r % 6;
            assert!(row[i + 1..].iter().all(|&v| v == 0.0));
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        // A fully masked row gets zero weights and a finite context.
        let all = padding(&[vec![true; 6], vec![false; 6]], device);
        let out = soft.forward(MhaInput::self_attn(x).mask_pad(all)).unwrap();
        let w = host(out.weights);
        assert!(w[..4 * 36].iter().all(|&v| v == 0.0));
        assert!(host(out.context).iter().all(|v| v.is_finite()));
    });
}

#[test]
fn invalid_configs_and_shapes_are_errors() {
    let device = Device::flex();
    assert!(MultiHeadAttentionConfig::new(16, 3).init(&device).is_err());
    assert!(MultiHeadAttentionConfig::new(0, 1).init(&device).is_err());
    assert!(
        MultiHeadAttentionConfig::new(16, 4)
            .with_dropout(1.0)
            .init(&device)
            .is_err()
    );
    assert!(
        MultiHeadAttentionConfig::new(16, 4)
            .with_n_kv_heads(Some(3))
            .init(&device)
            .is_err()
    );
    assert!(
        MultiHeadAttentionConfig::new(16, 4)
            .with_rope(Some(RopeConfig::new(8)))
            .init(&device)
            .is_err()
    );
    let mha = MultiHeadAttentionConfig::new(16, 4).init(&device).unwrap();
    let x = random3([2, 5, 16], &device);
    let bad = [
        MhaInput::self_attn(random3([2, 5, 12], &device)),
        MhaInput::new(
            x.clone(),
            random3([3, 5, 16], &device),
            random3([3, 5, 16], &device),
        ),
        MhaInput::new(
            x.clone(),
            random3([2, 5, 16], &device),
            random3([2, 4, 16], &device),
        ),
        MhaInput::self_attn(random3([2, 0, 16], &device)),
        MhaInput::self_attn(x.clone())
            .mask_pad(padding(&[vec![false; 4], vec![false; 4]], &device)),
        MhaInput::self_attn(x.clone()).mask_attn(causal(2, 4, &device)),
    ];
    for (i, input) in bad.into_iter().enumerate() {
        assert!(mha.forward(input).is_err(), "case {i}");
    }
}
