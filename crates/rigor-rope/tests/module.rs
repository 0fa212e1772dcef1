//! `RotaryEmbedding`, the Burn `Module` form: same values as `Rope` (3-D and 4-D inputs, both
//! tensor layouts, offsets, ids, grouped-query head counts), same values as
//! `burn::nn::RotaryEncoding` for the plain encoding, gradients, tables that grow past the first
//! call, a model that holds it and goes through save → config + record → load, and errors
//! (never panics) for bad shapes and positions.

mod common;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig, RotaryEncodingConfig};
use burn::store::ModuleRecord;
use burn::tensor::{Device, Distribution, Tensor};
use common::*;
use rigor_rope::{
    Layout, MAX_POSITION, PositionIds, Positions, Role, RopeConfig, RopeError, RotaryEmbedding,
    Rotation, Scaling, TensorLayout, XPosConfig,
};
use rigor_testkit::{for_each_autodiff_device, for_each_device};

fn configs() -> Vec<RopeConfig> {
    vec![
        RopeConfig::new(8),
        RopeConfig::new(8).with_layout(Layout::Interleaved),
        RopeConfig::new(8).with_rotation(Rotation::Proportional { p: 0.5 }),
        RopeConfig::new(8).with_scaling(Scaling::Linear { factor: 2.0 }),
        RopeConfig::new(8).with_xpos(XPosConfig::default()),
    ]
}

fn random4(shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

fn assert_same(a: Tensor<4>, b: Tensor<4>, what: &str) {
    let (a, b) = (host(a), host(b));
    assert_close(&a, &to_f64(&b), 1e-6, 1e-6, what);
}

#[test]
fn four_d_inputs_equal_rope_apply_in_both_layouts_at_offsets_and_ids() {
    for_each_device(|device| {
        for config in configs() {
            let rope = config.clone().init().unwrap();
            for layout in [TensorLayout::Bhsd, TensorLayout::Bshd] {
                let module = config
                    .clone()
                    .init_module()
                    .unwrap()
                    .with_tensor_layout(layout);
                assert_eq!(module.tensor_layout(), layout);
                // 4 query heads, 2 key heads (grouped-query attention), 5 tokens.
                let (q_shape, k_shape) = match layout {
                    TensorLayout::Bhsd => ([2, 4, 5, 8], [2, 2, 5, 8]),
                    TensorLayout::Bshd => ([2, 5, 4, 8], [2, 5, 2, 8]),
                };
                let (q, k) = (random4(q_shape, device), random4(k_shape, device));
                let ids = PositionIds::new(vec![3, 1, 4, 1, 5, 9, 2, 6, 5, 3], 2, 5).unwrap();
                for positions in [
                    Positions::Offset(0),
                    Positions::Offset(37),
                    Positions::Ids(&ids),
                ] {
                    let (gq, gk) = module.forward(q.clone(), k.clone(), positions).unwrap();
                    let wq = rope
                        .apply_reference(q.clone(), layout, Role::Query, positions)
                        .unwrap();
                    let wk = rope
                        .apply_reference(k.clone(), layout, Role::Key, positions)
                        .unwrap();
                    let what = format!("{config:?} {layout:?} {positions:?}");
                    assert_same(gq, wq, &what);
                    assert_same(gk, wk, &what);
                    let one = module.encode(k.clone(), Role::Key, positions).unwrap();
                    let wk = rope
                        .apply_reference(k.clone(), layout, Role::Key, positions)
                        .unwrap();
                    assert_same(one, wk, &what);
                }
            }
        }
    });
}

#[test]
fn three_d_inputs_are_one_head_in_either_layout() {
    for_each_device(|device| {
        let rope = RopeConfig::new(8).init().unwrap();
        let x3 = Tensor::<3>::random([3, 6, 8], Distribution::Normal(0.0, 1.0), device);
        let want = host(
            rope.apply_reference(
                x3.clone().unsqueeze_dim::<4>(1),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Offset(2),
            )
            .unwrap(),
        );
        for layout in [TensorLayout::Bhsd, TensorLayout::Bshd] {
            let module = RotaryEmbedding::new(RopeConfig::new(8))
                .unwrap()
                .with_tensor_layout(layout);
            let (q, k) = module
                .forward(x3.clone(), x3.clone(), Positions::Offset(2))
                .unwrap();
            assert_eq!(q.dims(), [3, 6, 8]);
            assert_close(&host(q), &to_f64(&want), 1e-6, 1e-6, "3-D q");
            assert_close(&host(k), &to_f64(&want), 1e-6, 1e-6, "3-D k");
        }
    });
}

#[test]
fn the_plain_encoding_equals_burns_rotary_encoding() {
    // burn's RotaryEncoding pairs coordinates (2k, 2k+1): rigor's interleaved layout.
    for_each_device(|device| {
        let burn_rope = RotaryEncodingConfig::new(64, 16).init(device);
        let module = RopeConfig::new(16)
            .with_layout(Layout::Interleaved)
            .init_module()
            .unwrap();
        let x = random4([2, 3, 7, 16], device);
        let want = burn_rope.apply(x.clone(), 5);
        let got = module.encode(x, Role::Query, Positions::Offset(5)).unwrap();
        assert_close(
            &host(got),
            &to_f64(&host(want)),
            1e-4,
            1e-4,
            "burn RotaryEncoding, start 5",
        );
    });
}

#[test]
fn gradients_equal_the_references() {
    for_each_autodiff_device(|device| {
        let rope = RopeConfig::new(8).init().unwrap();
        let module = RopeConfig::new(8).init_module().unwrap();
        let q0 = random4([1, 2, 4, 8], device);
        let c = random4([1, 2, 4, 8], device);
        let grad = |fused: bool| {
            let q = q0.clone().require_grad();
            let y = if fused {
                module
                    .forward(q.clone(), q.clone(), Positions::Offset(3))
                    .unwrap()
                    .0
            } else {
                rope.apply_reference(
                    q.clone(),
                    TensorLayout::Bhsd,
                    Role::Query,
                    Positions::Offset(3),
                )
                .unwrap()
            };
            let g = (y * c.clone()).sum().backward();
            host(q.grad(&g).expect("gradient"))
        };
        assert_close(&grad(true), &to_f64(&grad(false)), 1e-6, 1e-6, "gradient");
    });
}

#[test]
fn tables_grow_past_the_first_call() {
    let device = Device::flex();
    let module = RopeConfig::new(8).init_module().unwrap();
    let fresh = RopeConfig::new(8).init().unwrap();
    let x = random4([1, 1, 4, 8], &device);
    module
        .forward(x.clone(), x.clone(), Positions::Offset(0))
        .unwrap();
    let short = module.rope().cached_len();
    let (far, _) = module
        .forward(x.clone(), x.clone(), Positions::Offset(5_000))
        .unwrap();
    assert!(module.rope().cached_len() > short.max(5_000));
    let want = fresh
        .apply_reference(x, TensorLayout::Bhsd, Role::Query, Positions::Offset(5_000))
        .unwrap();
    assert_same(far, want, "offset 5000 after a short call");
}

/// A user's module that holds the encoding as a field.
#[derive(Module, Debug)]
struct Head {
    query: Linear,
    key: Linear,
    rope: RotaryEmbedding,
}

#[derive(Config, Debug)]
struct HeadConfig {
    d_model: usize,
    rope: RopeConfig,
}

impl HeadConfig {
    fn init(&self, device: &Device) -> Head {
        let d = self.rope.head_dim;
        Head {
            query: LinearConfig::new(self.d_model, d).init(device),
            key: LinearConfig::new(self.d_model, d).init(device),
            rope: self.rope.clone().init_module().unwrap(),
        }
    }
}

impl Head {
    fn logits(&self, x: Tensor<3>) -> Tensor<3> {
        let (q, k) = self
            .rope
            .forward(
                self.query.forward(x.clone()),
                self.key.forward(x),
                Positions::Offset(0),
            )
            .unwrap();
        q.matmul(k.swap_dims(1, 2))
    }
}

#[test]
fn a_model_holding_it_saves_and_loads_through_config_and_record() {
    let device = Device::flex();
    let dir = std::env::temp_dir().join(format!("rigor-rope-module-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = HeadConfig::new(
        12,
        RopeConfig::new(8).with_rotation(Rotation::Proportional { p: 0.5 }),
    );
    let head = config.init(&device);
    // Only the two Linear layers are parameters.
    assert_eq!(head.num_params(), 2 * (12 * 8 + 8));
    let x = Tensor::<3>::random([2, 5, 12], Distribution::Normal(0.0, 1.0), &device);
    let before = host(head.logits(x.clone()));

    config.save(dir.join("config.json")).unwrap();
    head.into_record().save(dir.join("head.bpk")).unwrap();

    let loaded_config = HeadConfig::load(dir.join("config.json")).unwrap();
    assert_eq!(loaded_config.rope, config.rope);
    let fresh = loaded_config.init(&device);
    let fresh_logits = host(fresh.logits(x.clone()));
    assert!(
        fresh_logits
            .iter()
            .zip(&before)
            .any(|(a, b)| (a - b).abs() > 1e-3),
        "a fresh model has other weights"
    );
    let record = ModuleRecord::load(dir.join("head.bpk")).unwrap();
    let loaded = fresh.try_load_record(record).unwrap();
    assert_eq!(loaded.rope.config(), &config.rope);
    let after = host(loaded.logits(x));
    assert_eq!(before, after, "the reloaded model computes the same logits");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_shapes_and_positions_are_errors() {
    let device = Device::flex();
    let module = RopeConfig::new(8).init_module().unwrap();
    let x2 = Tensor::<2>::zeros([4, 8], &device);
    assert!(matches!(
        module.forward(x2.clone(), x2.clone(), Positions::Offset(0)),
        Err(RopeError::ShapeMismatch { .. })
    ));
    let x5 = Tensor::<5>::zeros([1, 1, 1, 4, 8], &device);
    assert!(
        module
            .encode(x5, Role::Query, Positions::Offset(0))
            .is_err()
    );
    // Wrong head dim.
    let wide = Tensor::<3>::zeros([1, 4, 10], &device);
    assert!(
        module
            .forward(wide.clone(), wide, Positions::Offset(0))
            .is_err()
    );
    // q and k at different sequence lengths.
    let (q, k) = (
        Tensor::<4>::zeros([1, 2, 4, 8], &device),
        Tensor::<4>::zeros([1, 2, 3, 8], &device),
    );
    assert!(module.forward(q.clone(), k, Positions::Offset(0)).is_err());
    // Ids of the wrong shape; a position beyond the limit.
    let ids = PositionIds::new(vec![0, 1, 2], 1, 3).unwrap();
    assert!(
        module
            .forward(q.clone(), q.clone(), Positions::Ids(&ids))
            .is_err()
    );
    assert!(
        module
            .forward(q.clone(), q, Positions::Offset(MAX_POSITION))
            .is_err()
    );
    // Invalid configurations are refused before a module exists.
    assert!(RopeConfig::new(7).init_module().is_err());
    assert!(RotaryEmbedding::new(RopeConfig::new(8).with_theta(-1.0)).is_err());
}
