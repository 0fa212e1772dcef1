//! Bad input is a clear, structured error — never a panic, never a silent NaN.

mod common;

use burn::tensor::{Int, Tensor, TensorData};
use common::*;
use rigor_rope::*;
use rigor_testkit::for_each_device;

fn err(cfg: RopeConfig) -> RopeError {
    cfg.init().expect_err("config must be rejected")
}

#[test]
fn odd_or_zero_head_dim_is_rejected() {
    assert_eq!(
        err(RopeConfig::new(63)),
        RopeError::InvalidHeadDim { head_dim: 63 }
    );
    assert_eq!(
        err(RopeConfig::new(0)),
        RopeError::InvalidHeadDim { head_dim: 0 }
    );
}

#[test]
fn p_outside_unit_interval_is_rejected() {
    for p in [-0.1, 1.5, f64::NAN] {
        let e = err(RopeConfig::new(64).with_rotation(Rotation::Proportional { p }));
        assert!(
            matches!(e, RopeError::ProportionOutOfRange { .. }),
            "{p}: {e}"
        );
    }
    assert!(
        RopeConfig::new(64)
            .with_rotation(Rotation::Proportional { p: 0.0 })
            .init()
            .is_ok()
    );
    assert!(
        RopeConfig::new(64)
            .with_rotation(Rotation::Proportional { p: 1.0 })
            .init()
            .is_ok()
    );
}

#[test]
fn factor_below_one_is_rejected_for_every_variant() {
    let bad = 0.5;
    for (variant, s) in [
        ("linear", Scaling::Linear { factor: bad }),
        ("ntk", Scaling::Ntk { factor: bad }),
        (
            "dynamic",
            Scaling::DynamicNtk {
                factor: bad,
                original_max_position_embeddings: 4096,
            },
        ),
        ("yarn", Scaling::Yarn(YarnConfig::new(bad, 4096))),
        (
            "llama3",
            Scaling::Llama3(Llama3Config {
                factor: bad,
                ..Llama3Config::llama_3_1()
            }),
        ),
    ] {
        assert_eq!(
            err(RopeConfig::new(64).with_scaling(s)),
            RopeError::FactorBelowOne {
                variant,
                factor: bad
            }
        );
    }
}

#[test]
fn beta_fast_not_above_beta_slow_is_rejected() {
    for (fast, slow) in [(1.0, 1.0), (1.0, 32.0), (32.0, 0.0)] {
        assert_eq!(
            err(RopeConfig::new(64).with_scaling(Scaling::Yarn(
                YarnConfig::new(4.0, 4096).with_betas(fast, slow)
            ))),
            RopeError::BetaOrder {
                beta_fast: fast,
                beta_slow: slow
            }
        );
    }
}

#[test]
fn llama3_low_above_high_is_rejected_and_equal_is_a_collapsed_ramp() {
    let c = Llama3Config {
        low_freq_factor: 4.0,
        high_freq_factor: 2.0,
        ..Llama3Config::llama_3_1()
    };
    assert_eq!(
        err(RopeConfig::new(64).with_scaling(Scaling::Llama3(c))),
        RopeError::FreqFactorOrder {
            low: 4.0,
            high: 2.0
        }
    );
    // Llama 4 Scout: low = high = 1; every frequency is kept or divided by the factor.
    let c = Llama3Config {
        low_freq_factor: 1.0,
        high_freq_factor: 1.0,
        ..Llama3Config::llama_3_1()
    };
    let rope = RopeConfig::new(128)
        .with_theta(500_000.0)
        .with_scaling(Scaling::Llama3(c.clone()))
        .init()
        .unwrap();
    let plain = rigor_rope::default_inv_freq(128, 500_000.0).unwrap();
    for (g, g0) in rope.frequencies(1).inv_freq.iter().zip(plain) {
        assert!(g.is_finite());
        assert!(
            *g == g0 || (*g - g0 / c.factor).abs() <= 1e-15 * g0,
            "{g} vs {g0}"
        );
    }
}

#[test]
fn mismatched_longrope_factor_lengths_are_rejected() {
    let mk = |s: usize, l: usize| {
        Scaling::LongRope(LongRopeConfig {
            short_factor: vec![1.0; s],
            long_factor: vec![2.0; l],
            original_max_position_embeddings: 4096,
            max_position_embeddings: 131072,
            attention_factor: None,
        })
    };
    assert_eq!(
        err(RopeConfig::new(96).with_scaling(mk(47, 48))),
        RopeError::LongRopeFactorLength {
            which: "short_factor",
            got: 47,
            expected: 48
        }
    );
    assert_eq!(
        err(RopeConfig::new(96).with_scaling(mk(48, 50))),
        RopeError::LongRopeFactorLength {
            which: "long_factor",
            got: 50,
            expected: 48
        }
    );
    assert!(RopeConfig::new(96).with_scaling(mk(48, 48)).init().is_ok());
}

#[test]
fn mrope_sections_must_sum_to_half_the_rotary_dim() {
    assert_eq!(
        err(RopeConfig::new(128).with_axes(Axes::MRope {
            sections: vec![16, 24, 20]
        })),
        RopeError::MropeSections {
            sections: vec![16, 24, 20],
            sum: 60,
            expected: 64
        }
    );
    assert!(
        RopeConfig::new(128)
            .with_axes(Axes::MRope {
                sections: vec![16, 24, 24]
            })
            .init()
            .is_ok()
    );
}

#[test]
fn other_bad_parameters_are_rejected() {
    assert!(matches!(
        err(RopeConfig::new(64).with_theta(f64::NAN)),
        RopeError::InvalidParameter { name: "theta", .. }
    ));
    assert!(matches!(
        err(RopeConfig::new(64).with_theta(1.0)),
        RopeError::InvalidParameter { name: "theta", .. }
    ));
    assert!(matches!(
        err(RopeConfig::new(64).with_rotation(Rotation::NeoxPartial { rotary_dims: 15 })),
        RopeError::InvalidRotaryDims { .. }
    ));
    assert!(matches!(
        err(RopeConfig::new(64).with_rotation(Rotation::NeoxPartial { rotary_dims: 66 })),
        RopeError::InvalidRotaryDims { .. }
    ));
    assert!(matches!(
        err(RopeConfig::new(6).with_axes(Axes::Axial2d)),
        RopeError::Unsupported { .. }
    ));
    assert!(matches!(
        err(RopeConfig::new(64)
            .with_axes(Axes::Axial2d)
            .with_scaling(Scaling::Yarn(YarnConfig::new(4.0, 64)))),
        RopeError::Unsupported { .. }
    ));
    assert!(matches!(
        err(RopeConfig::new(2).with_scaling(Scaling::Ntk { factor: 2.0 })),
        RopeError::Unsupported { .. }
    ));
    assert!(matches!(
        err(RopeConfig::new(64).with_xpos(XPosConfig {
            scale_base: 0.0,
            gamma: 0.4
        })),
        RopeError::InvalidParameter { .. }
    ));
    assert!(matches!(
        Rotation::neox_from_pct(1.5, 64),
        Err(RopeError::InvalidParameter { .. })
    ));
}

#[test]
fn position_ids_of_the_wrong_shape_are_rejected() {
    for_each_device(|device| {
        let rope = RopeConfig::new(8).init().unwrap();
        let x = || Tensor::<4>::ones([2, 1, 3, 8], device);
        // flat length does not match [batch, seq]
        assert!(matches!(
            PositionIds::new(vec![0; 5], 2, 3),
            Err(RopeError::PositionIdsShape { .. })
        ));
        // right length, wrong seq for the tensor
        let ids = PositionIds::new(vec![0; 8], 2, 4).unwrap();
        let e = rope
            .apply(x(), TensorLayout::Bhsd, Role::Query, Positions::Ids(&ids))
            .unwrap_err();
        assert_eq!(
            e,
            RopeError::PositionIdsShape {
                got: vec![1, 2, 4],
                expected: vec![1, 2, 3],
                axes: 1
            }
        );
        // wrong batch
        let ids = PositionIds::new(vec![0; 9], 3, 3).unwrap();
        assert!(matches!(
            rope.apply(x(), TensorLayout::Bhsd, Role::Query, Positions::Ids(&ids)),
            Err(RopeError::PositionIdsShape { .. })
        ));
        // one axis for an M-RoPE config
        let mrope = RopeConfig::new(8)
            .with_axes(Axes::MRope {
                sections: vec![2, 1, 1],
            })
            .init()
            .unwrap();
        let ids = PositionIds::new(vec![0; 6], 2, 3).unwrap();
        assert!(matches!(
            mrope.apply(x(), TensorLayout::Bhsd, Role::Query, Positions::Ids(&ids)),
            Err(RopeError::PositionIdsShape { axes: 3, .. })
        ));
        // batch 1 broadcasts
        let ids = PositionIds::new(vec![0, 1, 2], 1, 3).unwrap();
        assert!(
            rope.apply(x(), TensorLayout::Bhsd, Role::Query, Positions::Ids(&ids))
                .is_ok()
        );
        // negative ids from a device tensor
        let t = Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, -1, 2], [1, 3]), device);
        assert_eq!(
            PositionIds::from_tensor(t),
            Err(RopeError::NegativePosition {
                value: -1,
                index: 1
            })
        );
        let t = Tensor::<2, Int>::from_data(TensorData::new(vec![4i64, 5, 6], [1, 3]), device);
        assert_eq!(PositionIds::from_tensor(t).unwrap().axis(0), &[4, 5, 6]);
    });
}

#[test]
fn wrong_head_dim_and_q_k_mismatch_are_rejected() {
    for_each_device(|device| {
        let rope = RopeConfig::new(8).init().unwrap();
        let e = rope
            .apply(
                Tensor::<4>::ones([1, 1, 3, 6], device),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Offset(0),
            )
            .unwrap_err();
        assert!(
            matches!(
                e,
                RopeError::ShapeMismatch {
                    op: "Rope::apply",
                    ..
                }
            ),
            "{e}"
        );
        let e = rope
            .apply_qk(
                Tensor::<4>::ones([1, 1, 3, 8], device),
                Tensor::<4>::ones([1, 1, 4, 8], device),
                TensorLayout::Bhsd,
                Positions::Offset(0),
            )
            .unwrap_err();
        assert!(
            matches!(
                e,
                RopeError::ShapeMismatch {
                    op: "Rope::apply_qk",
                    ..
                }
            ),
            "{e}"
        );
    });
}

#[test]
fn xpos_beyond_the_f32_range_is_an_error_not_a_nan() {
    for_each_device(|device| {
        let x = XPosConfig::default();
        let rope = RopeConfig::new(8).with_xpos(x).init().unwrap();
        let limit = x.max_position(8);
        let ok = rope
            .apply(
                Tensor::<4>::ones([1, 1, 1, 8], device),
                TensorLayout::Bhsd,
                Role::Key,
                Positions::Offset(limit),
            )
            .unwrap();
        assert!(
            host(ok).iter().all(|v| v.is_finite()),
            "finite at the limit"
        );
        let e = rope
            .apply(
                Tensor::<4>::ones([1, 1, 1, 8], device),
                TensorLayout::Bhsd,
                Role::Key,
                Positions::Offset(limit + 1),
            )
            .unwrap_err();
        assert_eq!(
            e,
            RopeError::XposOutOfRange {
                position: limit + 1,
                limit
            }
        );
    });
}

#[test]
fn positions_beyond_the_limit_are_errors_not_aborts() {
    for_each_device(|device| {
        let rope = RopeConfig::new(8).init().unwrap();
        let apply = |positions: Positions<'_>, seq: usize| {
            rope.apply(
                Tensor::<4>::ones([1, 1, seq, 8], device),
                TensorLayout::Bhsd,
                Role::Key,
                positions,
            )
        };
        let beyond = |position| RopeError::PositionOutOfRange {
            position,
            limit: MAX_POSITION,
        };
        assert!(apply(Positions::Offset(MAX_POSITION), 1).is_ok());
        assert_eq!(
            apply(Positions::Offset(MAX_POSITION), 2).unwrap_err(),
            beyond(MAX_POSITION + 1)
        );
        assert_eq!(
            apply(Positions::Offset(usize::MAX), 1).unwrap_err(),
            beyond(usize::MAX),
            "offset + length overflows"
        );
        let ids = PositionIds::new(vec![0, MAX_POSITION + 1], 1, 2).unwrap();
        assert_eq!(
            apply(Positions::Ids(&ids), 2).unwrap_err(),
            beyond(MAX_POSITION + 1)
        );
        let huge = PositionIds::new(vec![usize::MAX], 1, 1).unwrap();
        assert_eq!(
            apply(Positions::Ids(&huge), 1).unwrap_err(),
            beyond(usize::MAX)
        );
        assert_eq!(rope.cached_len(), 0, "a rejected call allocates no table");
        assert!(
            PositionIds::new(vec![], usize::MAX, 2).is_err(),
            "batch · seq overflows"
        );
    });
}

#[test]
fn permutation_helpers_reject_wrong_widths() {
    for_each_device(|device| {
        let perm = layout_permutation(8, 8, Layout::Interleaved, Layout::HalfSplit).unwrap();
        let w = Tensor::<2>::ones([4, 12], device);
        assert!(matches!(
            permute_projection(w, 2, &perm),
            Err(RopeError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            layout_permutation(8, 7, Layout::Interleaved, Layout::HalfSplit),
            Err(RopeError::InvalidRotaryDims { .. })
        ));
    });
}
