//! The fused Flex rotation against the composed reference (`Rope::apply_reference`): values
//! and gradients bit for bit (both compute `x·cos ± x_partner·sin` with the same two roundings),
//! every variant, both pairings, both tensor layouts, offsets, per-token and multi-axis ids,
//! strided inputs, the in-place path (a shared input is never overwritten), the parallel path,
//! `f64`, and hostile values.
#![cfg(feature = "flex")]

mod common;

use burn::tensor::{DType, Device, Tensor, TensorData};
use common::*;
use proptest::prelude::*;
use rigor_rope::kernel::fused_available;
use rigor_rope::*;

fn flex() -> Device {
    Device::flex()
}

/// Bitwise equality, `NaN` equal to `NaN`.
fn same(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        assert!(
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            "{what}[{i}]: fused {x:e} vs reference {y:e}"
        );
    }
}

fn configs() -> Vec<(&'static str, RopeConfig)> {
    let d = 16;
    vec![
        ("half-split", RopeConfig::new(d)),
        (
            "interleaved",
            RopeConfig::new(d).with_layout(Layout::Interleaved),
        ),
        (
            "p-rope 0.25",
            RopeConfig::new(d).with_rotation(Rotation::Proportional { p: 0.25 }),
        ),
        ("nope", RopeConfig::new(d).with_rotation(Rotation::NoPE)),
        (
            "neox partial 6, interleaved",
            RopeConfig::new(d)
                .with_layout(Layout::Interleaved)
                .with_rotation(Rotation::NeoxPartial { rotary_dims: 6 }),
        ),
        (
            "yarn",
            RopeConfig::new(d).with_scaling(Scaling::Yarn(YarnConfig::new(4.0, 8))),
        ),
        (
            "xpos",
            RopeConfig::new(d).with_xpos(XPosConfig {
                scale_base: 64.0,
                gamma: 0.4,
            }),
        ),
    ]
}

/// `(fused, reference)` outputs and input gradients of `Σ w ⊙ apply(x)` on Flex autodiff.
fn run_both(
    rope: &Rope,
    x: &[f32],
    shape: [usize; 4],
    layout: TensorLayout,
    role: Role,
    positions: Positions<'_>,
) -> [(Vec<f32>, Vec<f32>); 2] {
    let device = flex().autodiff();
    let mut rng = SeededRng::new(99);
    let w = tensor4(rng.normals(x.len()), shape, &device);
    let mut out = Vec::new();
    for fused in [true, false] {
        let xt = tensor4(x.to_vec(), shape, &device).require_grad();
        let y = if fused {
            rope.apply(xt.clone(), layout, role, positions).unwrap()
        } else {
            rope.apply_reference(xt.clone(), layout, role, positions)
                .unwrap()
        };
        let grads = (y.clone() * w.clone()).sum().backward();
        let g = xt.grad(&grads).expect("gradient");
        out.push((host(y), host(g)));
    }
    let reference = out.pop().unwrap();
    [out.pop().unwrap(), reference]
}

#[test]
fn fused_path_is_taken_on_flex_only_for_float_tensors() {
    let x = Tensor::<4>::zeros([1, 1, 2, 8], &flex());
    assert!(fused_available(&x));
    assert!(fused_available(&x.clone().cast(DType::F64)));
    assert!(fused_available(&Tensor::<4>::zeros(
        [1, 1, 2, 8],
        &flex().autodiff()
    )));
}

#[test]
fn values_and_gradients_equal_the_reference_for_every_config_layout_and_positions() {
    let mut rng = SeededRng::new(7);
    let ids: Vec<usize> = vec![3, 0, 9, 1, 1, 40, 2, 7, 5, 6]; // [2, 5]
    let pid = PositionIds::new(ids, 2, 5).unwrap();
    for (name, cfg) in configs() {
        let rope = cfg.init().unwrap();
        for layout in [TensorLayout::Bhsd, TensorLayout::Bshd] {
            let shape = match layout {
                TensorLayout::Bhsd => [2, 3, 5, 16],
                TensorLayout::Bshd => [2, 5, 3, 16],
            };
            let x = rng.normals(shape.iter().product());
            for role in [Role::Query, Role::Key] {
                for (pname, positions) in [
                    ("offset 0", Positions::Offset(0)),
                    ("offset 11", Positions::Offset(11)),
                    ("ids", Positions::Ids(&pid)),
                ] {
                    let [(y, g), (yr, gr)] = run_both(&rope, &x, shape, layout, role, positions);
                    let what = format!("{name} {layout:?} {role:?} {pname}");
                    same(&y, &yr, &format!("{what} values"));
                    same(&g, &gr, &format!("{what} gradients"));
                }
            }
        }
    }
}

#[test]
fn multi_axis_ids_equal_the_reference() {
    let mut rng = SeededRng::new(8);
    let grid: Vec<usize> = vec![0, 0, 1, 1, 2, 2, 0, 0, 0, 1, 1, 1, 0, 1, 2, 0, 1, 2];
    for (cfg, axes) in [
        (
            RopeConfig::new(16).with_axes(Axes::MRope {
                sections: vec![2, 3, 3],
            }),
            3,
        ),
        (RopeConfig::new(16).with_axes(Axes::Axial2d), 2),
    ] {
        let rope = cfg.init().unwrap();
        let pid =
            PositionIds::multi_axis(grid[grid.len() - axes * 6..].to_vec(), axes, 1, 6).unwrap();
        let shape = [1, 2, 6, 16];
        let x = rng.normals(32 * 6);
        let [(y, g), (yr, gr)] = run_both(
            &rope,
            &x,
            shape,
            TensorLayout::Bhsd,
            Role::Query,
            Positions::Ids(&pid),
        );
        same(&y, &yr, "multi-axis values");
        same(&g, &gr, "multi-axis gradients");
    }
}

#[test]
fn strided_views_rotate_like_their_contiguous_copies() {
    // [b, s, h, d] viewed as [b, h, s, d]: rows stay contiguous, outer strides do not.
    let device = flex();
    let rope = RopeConfig::new(32).init().unwrap();
    let mut rng = SeededRng::new(3);
    let x = tensor4(rng.normals(2 * 7 * 4 * 32), [2, 7, 4, 32], &device);
    let view = x.clone().swap_dims(1, 2);
    let copy = tensor4(host(view.clone()), [2, 4, 7, 32], &device);
    let a = rope
        .apply(view, TensorLayout::Bhsd, Role::Query, Positions::Offset(3))
        .unwrap();
    let b = rope
        .apply_reference(copy, TensorLayout::Bhsd, Role::Query, Positions::Offset(3))
        .unwrap();
    same(&host(a), &host(b), "strided view");
    // A view whose last dim is strided (d swapped with seq) is copied first.
    let odd = tensor4(rng.normals(32 * 3 * 2 * 8), [2, 8, 3, 32], &device);
    let view = odd.swap_dims(1, 3); // [2, 32, 3, 8]
    let rope8 = RopeConfig::new(8)
        .with_layout(Layout::Interleaved)
        .init()
        .unwrap();
    let copy = tensor4(host(view.clone()), [2, 32, 3, 8], &device);
    same(
        &host(
            rope8
                .apply(view, TensorLayout::Bshd, Role::Key, Positions::Offset(0))
                .unwrap(),
        ),
        &host(
            rope8
                .apply_reference(copy, TensorLayout::Bshd, Role::Key, Positions::Offset(0))
                .unwrap(),
        ),
        "last dim strided",
    );
}

#[test]
fn a_shared_input_is_never_overwritten_and_a_unique_one_gives_the_same_values() {
    let device = flex();
    let rope = RopeConfig::new(64).init().unwrap();
    let mut rng = SeededRng::new(5);
    let v = rng.normals(2 * 4 * 300 * 64);
    let shape = [2, 4, 300, 64];
    let x = tensor4(v.clone(), shape, &device);
    // `x` is held here, so the kernel must not write into its buffer.
    let y_shared = rope
        .apply(
            x.clone(),
            TensorLayout::Bhsd,
            Role::Query,
            Positions::Offset(0),
        )
        .unwrap();
    same(&host(x.clone()), &v, "input after a shared call");
    // Nothing else holds this one: the in-place path.
    let y_unique = rope
        .apply(
            tensor4(v, shape, &device),
            TensorLayout::Bhsd,
            Role::Query,
            Positions::Offset(0),
        )
        .unwrap();
    let reference = rope
        .apply_reference(x, TensorLayout::Bhsd, Role::Query, Positions::Offset(0))
        .unwrap();
    same(&host(y_shared), &host(reference.clone()), "shared");
    same(&host(y_unique), &host(reference), "in place");
    // A uniquely owned strided view (as attention makes q: [b, s, h, d] → [b, h, s, d]) is
    // rotated where it lies; a broadcast view (rows aliasing each other) is not.
    let bshd = rng.normals(2 * 9 * 3 * 64);
    let view = tensor4(bshd.clone(), [2, 9, 3, 64], &device).swap_dims(1, 2);
    let copy = tensor4(host(view.clone()), [2, 3, 9, 64], &device);
    let got = rope
        .apply(view, TensorLayout::Bhsd, Role::Key, Positions::Offset(7))
        .unwrap();
    let want = rope
        .apply_reference(copy, TensorLayout::Bhsd, Role::Key, Positions::Offset(7))
        .unwrap();
    same(&host(got), &host(want), "unique strided view, in place");
    let row = tensor4(rng.normals(64), [1, 1, 1, 64], &device);
    let broadcast = row.clone().expand([2, 3, 5, 64]);
    let got = rope
        .apply(
            broadcast.clone(),
            TensorLayout::Bhsd,
            Role::Query,
            Positions::Offset(0),
        )
        .unwrap();
    let dense = tensor4(host(broadcast), [2, 3, 5, 64], &device);
    let want = rope
        .apply_reference(dense, TensorLayout::Bhsd, Role::Query, Positions::Offset(0))
        .unwrap();
    same(&host(got), &host(want), "broadcast view");
}

#[test]
fn apply_qk_in_one_call_equals_two_reference_calls() {
    let mut rng = SeededRng::new(6);
    for (name, cfg) in configs() {
        let rope = cfg.init().unwrap();
        let device = flex().autodiff();
        // grouped-query attention: k has fewer heads than q
        let q = rng.normals(2 * 4 * 9 * 16);
        let k = rng.normals(2 * 2 * 9 * 16);
        let mut results = Vec::new();
        for fused in [true, false] {
            let qt = tensor4(q.clone(), [2, 4, 9, 16], &device).require_grad();
            let kt = tensor4(k.clone(), [2, 2, 9, 16], &device).require_grad();
            let (yq, yk) = if fused {
                rope.apply_qk(
                    qt.clone(),
                    kt.clone(),
                    TensorLayout::Bhsd,
                    Positions::Offset(4),
                )
            } else {
                rope.apply_qk_reference(
                    qt.clone(),
                    kt.clone(),
                    TensorLayout::Bhsd,
                    Positions::Offset(4),
                )
            }
            .unwrap();
            let loss = yq.clone().powi_scalar(2).sum() + (yk.clone() * 3.0).sum();
            let grads = loss.backward();
            results.push((
                host(yq),
                host(yk),
                host(qt.grad(&grads).unwrap()),
                host(kt.grad(&grads).unwrap()),
            ));
        }
        let (r, f) = (results.pop().unwrap(), results.pop().unwrap());
        same(&f.0, &r.0, &format!("{name} q"));
        same(&f.1, &r.1, &format!("{name} k"));
        same(&f.2, &r.2, &format!("{name} dq"));
        same(&f.3, &r.3, &format!("{name} dk"));
    }
}

#[test]
fn the_parallel_path_equals_the_reference() {
    let rope = RopeConfig::new(128)
        .with_layout(Layout::Interleaved)
        .init()
        .unwrap();
    let mut rng = SeededRng::new(11);
    let shape = [2, 8, 200, 128];
    let x = rng.normals(shape.iter().product());
    let [(y, g), (yr, gr)] = run_both(
        &rope,
        &x,
        shape,
        TensorLayout::Bhsd,
        Role::Query,
        Positions::Offset(1000),
    );
    same(&y, &yr, "parallel values");
    same(&g, &gr, "parallel gradients");
}

#[test]
fn f64_inputs_rotate_with_f64_tables_and_match_the_f64_oracle() {
    let device = flex();
    let rope = RopeConfig::new(8).init().unwrap();
    let mut rng = SeededRng::new(12);
    let v: Vec<f64> = (0..3 * 8).map(|_| rng.normal()).collect();
    let x =
        Tensor::<4>::from_data(TensorData::new(v.clone(), [1, 1, 3, 8]), &device).cast(DType::F64);
    let y = rope
        .apply(x, TensorLayout::Bhsd, Role::Query, Positions::Offset(2))
        .unwrap();
    assert_eq!(y.dtype(), DType::F64);
    let y: Vec<f64> = y.into_data().convert::<f64>().try_to_vec().unwrap();
    let inv = rope.frequencies(5).inv_freq;
    for s in 0..3 {
        let want = rotate_host(
            &v[s * 8..(s + 1) * 8],
            (s + 2) as f64,
            &inv,
            &[1.0; 4],
            Layout::HalfSplit,
        );
        for (a, b) in y[s * 8..(s + 1) * 8].iter().zip(&want) {
            // f64 arithmetic on f32-rounded tables (cos/sin to ~6e-8)
            assert!((a - b).abs() < 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }
}

#[test]
fn hostile_values_reach_only_their_pair_and_match_the_reference() {
    let rope = RopeConfig::new(8).init().unwrap();
    let big = f32::MAX / 2.0;
    let x = vec![
        f32::NAN,
        1.0,
        2.0,
        3.0,
        4.0,
        5.0,
        6.0,
        7.0, // NaN in pair (0, 4)
        f32::INFINITY,
        1.0,
        2.0,
        3.0,
        f32::NEG_INFINITY,
        5.0,
        6.0,
        7.0,
        big,
        -big,
        big,
        3e38,
        -3e38,
        big,
        1e-45,
        0.0,
        0.0,
        -0.0,
        1e-30,
        1e30,
        -1e30,
        1e-38,
        1.0,
        -1.0,
    ];
    let [(y, g), (yr, gr)] = run_both(
        &rope,
        &x,
        [1, 1, 4, 8],
        TensorLayout::Bhsd,
        Role::Query,
        Positions::Offset(123_456),
    );
    same(&y, &yr, "hostile values");
    same(&g, &gr, "hostile gradients");
    // The NaN reaches coordinates 0 and 4 of its row only.
    for (c, v) in y[..8].iter().enumerate() {
        assert_eq!(v.is_nan(), c == 0 || c == 4, "coordinate {c}: {v}");
    }
}

#[test]
fn empty_tensors_and_wrong_head_dims() {
    let device = flex();
    let rope = RopeConfig::new(8).init().unwrap();
    let empty = Tensor::<4>::zeros([0, 2, 3, 8], &device);
    let y = rope
        .apply(empty, TensorLayout::Bhsd, Role::Query, Positions::Offset(0))
        .unwrap();
    assert_eq!(y.dims(), [0, 2, 3, 8]);
    let no_tokens = Tensor::<4>::zeros([1, 2, 0, 8], &device);
    let (q, k) = rope
        .apply_qk(
            no_tokens.clone(),
            no_tokens,
            TensorLayout::Bhsd,
            Positions::Offset(0),
        )
        .unwrap();
    assert_eq!((q.dims(), k.dims()), ([1, 2, 0, 8], [1, 2, 0, 8]));
    let wrong = Tensor::<4>::zeros([1, 2, 3, 6], &device);
    let ok = Tensor::<4>::zeros([1, 2, 3, 8], &device);
    assert!(matches!(
        rope.apply_qk(
            ok.clone(),
            wrong.clone(),
            TensorLayout::Bhsd,
            Positions::Offset(0)
        ),
        Err(RopeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        rope.apply_qk(
            wrong.clone(),
            ok.clone(),
            TensorLayout::Bhsd,
            Positions::Offset(0)
        ),
        Err(RopeError::ShapeMismatch { .. })
    ));
    // The public references refuse the same inputs.
    assert!(matches!(
        rope.apply_reference(
            wrong.clone(),
            TensorLayout::Bhsd,
            Role::Query,
            Positions::Offset(0)
        ),
        Err(RopeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        rope.apply_qk_reference(ok.clone(), wrong, TensorLayout::Bhsd, Positions::Offset(0)),
        Err(RopeError::ShapeMismatch { .. })
    ));
    let other_seq = Tensor::<4>::zeros([1, 2, 4, 8], &device);
    assert!(matches!(
        rope.apply_qk_reference(
            ok.clone(),
            other_seq,
            TensorLayout::Bhsd,
            Positions::Offset(0)
        ),
        Err(RopeError::ShapeMismatch { .. })
    ));
    let bad_ids = PositionIds::new(vec![0, 1], 1, 2).unwrap();
    assert!(matches!(
        rope.apply(
            ok,
            TensorLayout::Bhsd,
            Role::Query,
            Positions::Ids(&bad_ids)
        ),
        Err(RopeError::PositionIdsShape { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Random shapes, pairings, rotary widths and offsets: fused equals reference bitwise.
    #[test]
    fn random_shapes_equal_the_reference(
        b in 1usize..3, h in 1usize..4, s in 1usize..20, half in 1usize..9,
        interleaved in any::<bool>(), bshd in any::<bool>(), partial in 0usize..3,
        offset in 0usize..5000, seed in any::<u64>(),
    ) {
        let d = 2 * half;
        let rotary = (d - 2 * partial.min(half - 1)).max(2);
        let layout = if interleaved { Layout::Interleaved } else { Layout::HalfSplit };
        let rotation = if rotary == d {
            Rotation::Full
        } else {
            Rotation::NeoxPartial { rotary_dims: rotary }
        };
        let rope = RopeConfig::new(d).with_layout(layout).with_rotation(rotation).init().unwrap();
        let (tl, shape) = if bshd {
            (TensorLayout::Bshd, [b, s, h, d])
        } else {
            (TensorLayout::Bhsd, [b, h, s, d])
        };
        let x = SeededRng::new(seed).normals(shape.iter().product());
        let [(y, g), (yr, gr)] = run_both(&rope, &x, shape, tl, Role::Key, Positions::Offset(offset));
        same(&y, &yr, "values");
        same(&g, &gr, "gradients");
    }
}
