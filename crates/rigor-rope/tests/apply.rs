//! Application: device output against an independent f64 host oracle for every variant, both
//! tensor layouts, offsets and ids, cache growth, dynamic recomputation, and interop with
//! burn's `RotaryEncoding`.
//!
//! Tolerances: device tables are f32 built from f64 angles, inputs are O(1), so outputs agree
//! with the f64 oracle to ~1e-6 per element; 2e-5 absolute + 1e-5 relative leaves room for
//! the two-term sum in f32.

mod common;

use burn::nn::RotaryEncodingConfig;
use burn::tensor::Tensor;
use common::*;
use rigor_rope::*;
use rigor_testkit::for_each_device;

const ATOL: f64 = 2e-5;
const RTOL: f64 = 1e-5;

/// Oracle for `[b, h, s, d]` input at positions `pos[b][s]` (per axis for multi-axis).
fn oracle(
    rope: &Rope,
    x: &[f32],
    shape: [usize; 4],
    pos: &dyn Fn(usize, usize, usize) -> usize,
    role: Role,
) -> Vec<f64> {
    let [b, h, s, d] = shape;
    let cfg = rope.config();
    let r = rope.rotary_dim();
    let slot_axes = cfg.axes.slot_axes(r / 2);
    let mut out = Vec::with_capacity(x.len());
    for bi in 0..b {
        for hi in 0..h {
            for si in 0..s {
                let off = ((bi * h + hi) * s + si) * d;
                let v = to_f64(&x[off..off + d]);
                // HF: seq_len = max(position_ids) + 1 over the whole batch (dynamic variants)
                let seq_len = (0..b)
                    .flat_map(|bb| (0..s).map(move |t| (bb, t)))
                    .flat_map(|(bb, t)| (0..cfg.axes.count()).map(move |a| (bb, t, a)))
                    .map(|(bb, t, a)| pos(bb, t, a))
                    .max()
                    .unwrap_or(0)
                    + 1;
                let f = rope.frequencies(seq_len);
                let mut y = v[..].to_vec();
                for (k, &axis) in slot_axes.iter().enumerate() {
                    let t = pos(bi, si, axis) as f64;
                    let mut sc = f.attention_factor;
                    if let Some(xp) = &cfg.xpos {
                        let z = xp.zeta(r)[k].powf(t / xp.scale_base);
                        sc *= if role == Role::Query { z } else { 1.0 / z };
                    }
                    let (a, bb) = cfg.layout.chunk_coords(k, r);
                    let (sn, cs) = (t * f.inv_freq[k]).sin_cos();
                    y[a] = sc * (cs * v[a] - sn * v[bb]);
                    y[bb] = sc * (sn * v[a] + cs * v[bb]);
                }
                out.extend(y);
            }
        }
    }
    out
}

fn variants() -> Vec<(&'static str, RopeConfig)> {
    let d = 16;
    vec![
        ("rope half-split", RopeConfig::new(d)),
        (
            "rope interleaved",
            RopeConfig::new(d).with_layout(Layout::Interleaved),
        ),
        (
            "p-rope 0.5",
            RopeConfig::new(d).with_rotation(Rotation::Proportional { p: 0.5 }),
        ),
        ("nope", RopeConfig::new(d).with_rotation(Rotation::NoPE)),
        (
            "neox partial 8",
            RopeConfig::new(d).with_rotation(Rotation::NeoxPartial { rotary_dims: 8 }),
        ),
        (
            "linear x4",
            RopeConfig::new(d).with_scaling(Scaling::Linear { factor: 4.0 }),
        ),
        (
            "ntk x4",
            RopeConfig::new(d).with_scaling(Scaling::Ntk { factor: 4.0 }),
        ),
        (
            "dynamic x2 L0=8",
            RopeConfig::new(d).with_scaling(Scaling::DynamicNtk {
                factor: 2.0,
                original_max_position_embeddings: 8,
            }),
        ),
        (
            "yarn x8 L0=16",
            RopeConfig::new(d)
                .with_theta(500.0)
                .with_scaling(Scaling::Yarn(YarnConfig::new(8.0, 16))),
        ),
        (
            "longrope",
            RopeConfig::new(d).with_scaling(Scaling::LongRope(LongRopeConfig {
                short_factor: vec![1.0, 1.1, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0],
                long_factor: vec![1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0],
                original_max_position_embeddings: 8,
                max_position_embeddings: 64,
                attention_factor: None,
            })),
        ),
        (
            "llama3",
            RopeConfig::new(d)
                .with_theta(500.0)
                .with_scaling(Scaling::Llama3(Llama3Config {
                    factor: 8.0,
                    low_freq_factor: 1.0,
                    high_freq_factor: 4.0,
                    original_max_position_embeddings: 64,
                })),
        ),
        (
            "xpos",
            RopeConfig::new(d).with_xpos(XPosConfig {
                scale_base: 16.0,
                gamma: 0.4,
            }),
        ),
    ]
}

#[test]
fn every_variant_matches_the_f64_oracle_with_offset_and_ids_in_both_layouts() {
    for_each_device(|device| {
        let mut rng = SeededRng::new(7);
        let shape = [2, 3, 5, 16];
        let x = rng.normals(shape.iter().product());
        for (name, cfg) in variants() {
            let rope = cfg.init().unwrap();
            for role in [Role::Query, Role::Key] {
                // offset 11 (KV cache)
                let got = rope
                    .apply(
                        tensor4(x.clone(), shape, device),
                        TensorLayout::Bhsd,
                        role,
                        Positions::Offset(11),
                    )
                    .unwrap();
                let want = oracle(&rope, &x, shape, &|_, s, _| 11 + s, role);
                assert_close(
                    &host(got),
                    &want,
                    ATOL,
                    RTOL,
                    &format!("{name} offset {role:?}"),
                );
                // per-token ids, different per sequence
                let ids: Vec<usize> = vec![0, 3, 4, 9, 20, 7, 2, 2, 30, 1];
                let pid = PositionIds::new(ids.clone(), 2, 5).unwrap();
                let got = rope
                    .apply(
                        tensor4(x.clone(), shape, device),
                        TensorLayout::Bhsd,
                        role,
                        Positions::Ids(&pid),
                    )
                    .unwrap();
                let want = oracle(&rope, &x, shape, &|b, s, _| ids[b * 5 + s], role);
                assert_close(
                    &host(got),
                    &want,
                    ATOL,
                    RTOL,
                    &format!("{name} ids {role:?}"),
                );
                // [b, s, h, d] gives the same numbers, transposed
                let bshd = tensor4(x.clone(), shape, device).swap_dims(1, 2);
                let got = rope
                    .apply(bshd, TensorLayout::Bshd, role, Positions::Ids(&pid))
                    .unwrap()
                    .swap_dims(1, 2);
                assert_close(
                    &host(got),
                    &want,
                    ATOL,
                    RTOL,
                    &format!("{name} bshd {role:?}"),
                );
            }
        }
    });
}

#[test]
fn multi_axis_variants_match_the_oracle() {
    for_each_device(|device| {
        let mut rng = SeededRng::new(8);
        let shape = [1, 2, 6, 16];
        let x = rng.normals(shape.iter().product());
        let grid: Vec<usize> = vec![
            0, 0, 1, 1, 2, 2, // t
            0, 0, 0, 1, 1, 1, // h
            0, 1, 2, 0, 1, 2, // w
        ];
        for (name, cfg, axes) in [
            (
                "mrope [2,3,3]",
                RopeConfig::new(16).with_axes(Axes::MRope {
                    sections: vec![2, 3, 3],
                }),
                3,
            ),
            (
                "mrope interleaved layout",
                RopeConfig::new(16)
                    .with_layout(Layout::Interleaved)
                    .with_axes(Axes::MRope {
                        sections: vec![4, 2, 2],
                    }),
                3,
            ),
            ("axial 2d", RopeConfig::new(16).with_axes(Axes::Axial2d), 2),
        ] {
            let rope = cfg.init().unwrap();
            let ids = grid[grid.len() - axes * 6..].to_vec();
            let pid = PositionIds::multi_axis(ids.clone(), axes, 1, 6).unwrap();
            let got = rope
                .apply(
                    tensor4(x.clone(), shape, device),
                    TensorLayout::Bhsd,
                    Role::Query,
                    Positions::Ids(&pid),
                )
                .unwrap();
            let want = oracle(&rope, &x, shape, &|_, s, a| ids[a * 6 + s], Role::Query);
            assert_close(&host(got), &want, ATOL, RTOL, name);
        }
    });
}

#[test]
fn mrope_with_identical_axes_is_standard_rope() {
    for_each_device(|device| {
        let mut rng = SeededRng::new(9);
        let shape = [1, 2, 7, 32];
        let x = rng.normals(shape.iter().product());
        let std = RopeConfig::new(32).init().unwrap();
        let mrope = RopeConfig::new(32)
            .with_axes(Axes::MRope {
                sections: vec![4, 6, 6],
            })
            .init()
            .unwrap();
        let t: Vec<usize> = (3..10).collect();
        let ids: Vec<usize> = t.iter().chain(&t).chain(&t).copied().collect();
        let pid3 = PositionIds::multi_axis(ids, 3, 1, 7).unwrap();
        let pid1 = PositionIds::new(t, 1, 7).unwrap();
        let a = std
            .apply(
                tensor4(x.clone(), shape, device),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Ids(&pid1),
            )
            .unwrap();
        let b = mrope
            .apply(
                tensor4(x.clone(), shape, device),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Ids(&pid3),
            )
            .unwrap();
        let c = mrope
            .apply(
                tensor4(x, shape, device),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Offset(3),
            )
            .unwrap();
        let a = to_f64(&host(a));
        assert_close(&host(b), &a, 1e-6, 0.0, "m-rope t=h=w vs rope");
        assert_close(&host(c), &a, 1e-6, 0.0, "m-rope offset vs rope");
    });
}

/// burn's RotaryEncoding computes its frequencies and angles in f32 on the device, rigor in
/// f64; at positions < 64 and θ = 10⁴ the angle error is < 64·2⁻²³·… ≈ 1e-5, so 1e-4.
#[test]
fn interleaved_rope_equals_burn_rotary_encoding() {
    for_each_device(|device| {
        let mut rng = SeededRng::new(10);
        for (d, theta, start) in [
            (16usize, 10_000.0f32, 0usize),
            (64, 10_000.0, 5),
            (32, 500.0, 17),
        ] {
            let shape = [2, 3, 12, d];
            let x = rng.normals(shape.iter().product());
            let burn_rope = RotaryEncodingConfig::new(64, d)
                .with_theta(theta)
                .init(device);
            let want = burn_rope.apply(tensor4(x.clone(), shape, device), start);
            let ours = RopeConfig::new(d)
                .with_theta(f64::from(theta))
                .with_layout(Layout::Interleaved)
                .init()
                .unwrap()
                .apply(
                    tensor4(x, shape, device),
                    TensorLayout::Bhsd,
                    Role::Query,
                    Positions::Offset(start),
                )
                .unwrap();
            assert_close(
                &host(ours),
                &to_f64(&host(want)),
                1e-4,
                1e-4,
                &format!("burn interop d={d} start={start}"),
            );
        }
    });
}

#[test]
fn cache_grows_on_demand_without_panicking() {
    for_each_device(|device| {
        let rope = RopeConfig::new(8).init().unwrap();
        let mut rng = SeededRng::new(11);
        let x = rng.normals(8);
        let mut last = 0;
        for pos in [0usize, 15, 16, 100, 5_000, 1_000_000] {
            let got = rope
                .apply(
                    tensor4(x.clone(), [1, 1, 1, 8], device),
                    TensorLayout::Bhsd,
                    Role::Key,
                    Positions::Offset(pos),
                )
                .unwrap();
            assert!(rope.cached_len() > pos, "cache covers position {pos}");
            assert!(rope.cached_len() >= last, "cache never shrinks");
            last = rope.cached_len();
            let want = rotate_host(
                &to_f64(&x),
                pos as f64,
                &default_inv_freq(8, 10_000.0).unwrap(),
                &[1.0; 4],
                Layout::HalfSplit,
            );
            // position 1e6: the angle is formed in f64, so even there only f32 storage
            // rounding remains (an f32 angle would be off by ~0.03 rad).
            assert_close(&host(got), &want, 1e-5, 1e-5, &format!("pos {pos}"));
        }
    });
}

#[test]
fn positions_beyond_the_cache_are_computed_per_call() {
    for_each_device(|device| {
        let rope = RopeConfig::new(8).init().unwrap();
        let cap = MAX_CACHED_ELEMENTS / 8;
        let mut rng = SeededRng::new(12);
        let shape = [1, 2, 3, 8];
        let x = rng.normals(2 * 3 * 8);
        let run = |positions: Positions<'_>| {
            let y = rope.apply(
                tensor4(x.clone(), shape, device),
                TensorLayout::Bhsd,
                Role::Query,
                positions,
            );
            host(y.unwrap())
        };
        for offset in [cap - 1, 3_000_000, MAX_POSITION - 2] {
            let got = run(Positions::Offset(offset));
            let want = oracle(&rope, &x, shape, &|_, s, _| offset + s, Role::Query);
            assert_close(&got, &want, ATOL, RTOL, &format!("offset {offset}"));
        }
        // Ids mixing cached-range and huge positions: every row is the one of its own id.
        let ids = [5usize, 3_000_000, MAX_POSITION];
        let pid = PositionIds::new(ids.to_vec(), 1, 3).unwrap();
        let got = run(Positions::Ids(&pid));
        let want = oracle(&rope, &x, shape, &|_, s, _| ids[s], Role::Query);
        assert_close(&got, &want, ATOL, RTOL, "ids");
        assert_eq!(rope.cached_len(), 0, "nothing beyond the cache was cached");
        let _ = run(Positions::Offset(10));
        assert!((1..=cap).contains(&rope.cached_len()));
    });
}

#[test]
fn dynamic_ntk_recomputes_as_the_sequence_grows() {
    for_each_device(|device| {
        let l0 = 16;
        let rope = RopeConfig::new(8)
            .with_scaling(Scaling::DynamicNtk {
                factor: 4.0,
                original_max_position_embeddings: l0,
            })
            .init()
            .unwrap();
        assert_eq!(
            rope.frequencies(l0).inv_freq,
            default_inv_freq(8, 10_000.0).unwrap(),
            "plain RoPE up to L0"
        );
        assert_ne!(
            rope.frequencies(l0 + 1).inv_freq,
            rope.frequencies(l0).inv_freq
        );
        let x: Vec<f32> = (0..8).map(|i| i as f32 + 1.0).collect();
        for seq_end in [10usize, 16, 17, 40, 41] {
            // token at position seq_end − 1: HF's seq_len = max(position) + 1 = seq_end
            let got = rope
                .apply(
                    tensor4(x.clone(), [1, 1, 1, 8], device),
                    TensorLayout::Bhsd,
                    Role::Query,
                    Positions::Offset(seq_end - 1),
                )
                .unwrap();
            let f = rope.frequencies(seq_end);
            let want = rotate_host(
                &to_f64(&x),
                (seq_end - 1) as f64,
                &f.inv_freq,
                &[1.0; 4],
                Layout::HalfSplit,
            );
            assert_close(
                &host(got),
                &want,
                ATOL,
                RTOL,
                &format!("dynamic seq {seq_end}"),
            );
        }
    });
}

#[test]
fn p_rope_rotates_exactly_the_documented_coordinates() {
    for_each_device(|device| {
        // d = 16, p = 0.25 → R = 2: half-split rotates {0, 1, 8, 9}; interleaved {0, 1, 2, 3}
        for (layout, rotated) in [
            (Layout::HalfSplit, vec![0usize, 1, 8, 9]),
            (Layout::Interleaved, vec![0, 1, 2, 3]),
        ] {
            let rope = RopeConfig::new(16)
                .with_layout(layout)
                .with_rotation(Rotation::Proportional { p: 0.25 })
                .init()
                .unwrap();
            let x: Vec<f32> = (0..16).map(|i| 1.0 + i as f32).collect();
            let y = host(
                rope.apply(
                    tensor4(x.clone(), [1, 1, 1, 16], device),
                    TensorLayout::Bhsd,
                    Role::Query,
                    Positions::Offset(3),
                )
                .unwrap(),
            );
            for c in 0..16 {
                let moved = (y[c] - x[c]).abs() > 1e-4;
                assert_eq!(
                    moved,
                    rotated.contains(&c),
                    "{layout:?} coordinate {c}: {} -> {}",
                    x[c],
                    y[c]
                );
            }
        }
    });
}

#[test]
fn neox_partial_passes_the_tail_through() {
    for_each_device(|device| {
        let rope = RopeConfig::new(16)
            .with_rotation(Rotation::NeoxPartial { rotary_dims: 4 })
            .init()
            .unwrap();
        let x: Vec<f32> = (0..16).map(|i| 1.0 + i as f32).collect();
        let y = host(
            rope.apply(
                tensor4(x.clone(), [1, 1, 1, 16], device),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Offset(5),
            )
            .unwrap(),
        );
        assert_eq!(&y[4..], &x[4..], "tail untouched");
        // NeoX re-spaces: slot 1 of 2 has g = θ^(-2/4) = 0.01, not θ^(-2/16)
        assert_eq!(rope.frequencies(1).inv_freq, vec![1.0, 0.01]);
    });
}

#[test]
fn rotation_reference_op_is_public_and_matches_apply() {
    for_each_device(|device| {
        let rope = RopeConfig::new(8).init().unwrap();
        let x = Tensor::<4>::ones([1, 1, 3, 8], device);
        let (cos, sin) = rope
            .cos_sin(Role::Query, Positions::Offset(2), 1, 3, device)
            .unwrap();
        let manual = apply::rotate::rotate(
            x.clone(),
            cos.unsqueeze_dim(1),
            sin.unsqueeze_dim(1),
            Layout::HalfSplit,
        );
        let via = rope
            .apply(x, TensorLayout::Bhsd, Role::Query, Positions::Offset(2))
            .unwrap();
        assert_eq!(host(manual), host(via));
    });
}
