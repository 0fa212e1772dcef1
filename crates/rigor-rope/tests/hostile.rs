//! rigor-rope's hostile-input campaign: every public entry point that encodes (`Rope::apply`,
//! `apply_reference`, `apply_qk`, `apply_qk_reference`, `RotaryEmbedding::forward` /
//! `encode` in both tensor layouts) on `NaN`, `±∞`, `±1e30`, `±3e38`, positions at 0, 1e6 and
//! the largest allowed one, ids up to it, empty batch / heads / sequence, mismatched shapes,
//! offsets and ids past [`MAX_POSITION`], and the configuration and frequency helpers with
//! invalid values — on every device. Each case is classified against an `f64` reference
//! rotation (see `rigor_testkit::campaign`); the counts are printed and every failure fails
//! the test.
//!
//! Documented results count as correct: `NaN`/`±∞` reach only the outputs that read them (a
//! coordinate and its pair partner), computed as $x_i\cos - x_j\sin$, $x_j\cos + x_i\sin$ in
//! `f64` (so `∞ · sin 0` is `NaN` there too), and values beyond `f32::MAX` are `±∞`.

use burn::tensor::{Device, Tensor, TensorData};
use rigor_rope::{
    Layout, MAX_POSITION, PositionIds, Positions, Role, RopeConfig, Rotation, Scaling,
    TensorLayout, XPosConfig, YarnConfig, default_inv_freq,
};
use rigor_testkit::campaign::{Campaign, Outcome, accepted, refused};

const D: usize = 8;

fn inputs() -> Vec<(&'static str, Vec<f32>)> {
    let plain: Vec<f32> = (0..D).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
    let mut nan = plain.clone();
    nan[1] = f32::NAN;
    let mut inf = plain.clone();
    inf[6] = f32::INFINITY;
    let mut ninf = plain.clone();
    ninf[0] = f32::NEG_INFINITY;
    vec![
        ("plain", plain),
        ("NaN at 1", nan),
        ("+∞ at 6", inf),
        ("−∞ at 0", ninf),
        (
            "±1e30",
            (0..D)
                .map(|i| if i % 3 == 0 { -1e30 } else { 1e30 })
                .collect(),
        ),
        (
            "±3e38",
            (0..D)
                .map(|i| if i % 2 == 0 { 3e38 } else { -3e38 })
                .collect(),
        ),
        ("3e38 all", vec![3e38; D]),
        ("subnormal", vec![1e-40; D]),
        ("zeros", vec![0.0; D]),
    ]
}

/// The coordinates of chunk `k`, written out (not the crate's own `Layout::chunk_coords`).
fn pair(layout: Layout, k: usize) -> (usize, usize) {
    match layout {
        Layout::HalfSplit => (k, k + D / 2),
        Layout::Interleaved => (2 * k, 2 * k + 1),
    }
}

/// The rotation of one token's head vector at position `p` in `f64`.
fn oracle(x: &[f32], p: f64, layout: Layout, inv_freq: &[f64]) -> Vec<f64> {
    let mut y: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    for (k, &g) in inv_freq.iter().enumerate() {
        let (i, j) = pair(layout, k);
        let (a, b) = (f64::from(x[i]), f64::from(x[j]));
        let (s, c) = (p * g).sin_cos();
        y[i] = a * c - b * s;
        y[j] = b * c + a * s;
    }
    y
}

/// `|got − want| ≤ tol · max(1, ‖pair‖)` per coordinate, with `NaN` ↔ `NaN`, infinities
/// matched and references beyond `f32::MAX` expected as `±∞`.
fn check(got: &[f32], want: &[f64], x: &[f32], layout: Layout, tol: f64) -> Outcome {
    if got.len() != want.len() {
        return Outcome::Wrong(format!("length {} vs {}", got.len(), want.len()));
    }
    let max = f64::from(f32::MAX);
    for (c, (&a, &b)) in got.iter().zip(want).enumerate() {
        let t = c % D;
        let slot = match layout {
            Layout::HalfSplit => t % (D / 2),
            Layout::Interleaved => t / 2,
        };
        let (i, j) = pair(layout, slot);
        let base = c - t;
        let norm = f64::from(x[base + i]).hypot(f64::from(x[base + j]));
        let a = f64::from(a);
        let b = if b.abs() > max {
            b.signum() * f64::INFINITY
        } else {
            b
        };
        let ok = if b.is_nan() {
            a.is_nan()
        } else if b.is_infinite() {
            a == b
        } else if !a.is_finite() {
            // A finite reference of magnitude near f32::MAX may round to ±∞ in f32.
            if b.abs() > 0.999 * max && a.is_infinite() && a.signum() == b.signum() {
                true
            } else {
                return Outcome::SilentNan(format!("[{c}] = {a}, reference {b}"));
            }
        } else {
            (a - b).abs() <= tol * norm.max(1.0)
        };
        if !ok {
            return Outcome::Wrong(format!("[{c}] = {a}, reference {b}"));
        }
    }
    Outcome::Correct
}

fn host(t: Tensor<4>) -> Vec<f32> {
    t.try_into_vec_as::<f32>().expect("readback")
}

/// `[1, 1, seq, D]` from one row per position.
fn bhsd(rows: &[Vec<f32>], device: &Device) -> Tensor<4> {
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [1, 1, rows.len(), D]), device)
}

fn encode_cases(c: &mut Campaign, device: &Device, dev: &str) {
    for layout in [Layout::HalfSplit, Layout::Interleaved] {
        let rope = RopeConfig::new(D).with_layout(layout).init().unwrap();
        let g = default_inv_freq(D, 10_000.0).unwrap();
        for (label, x) in inputs() {
            // Two tokens: positions start, start + 1.
            for start in [0usize, 1_000_000, MAX_POSITION - 1] {
                let rows = vec![x.clone(), x.clone()];
                let flat: Vec<f32> = rows.iter().flatten().copied().collect();
                let want: Vec<f64> = (0..2)
                    .flat_map(|t| oracle(&x, (start + t) as f64, layout, &g))
                    .collect();
                let input = format!("{dev} {layout:?} {label} at {start}");
                let tol = 2e-6;
                c.case("Rope::apply", &input, || {
                    accepted(
                        rope.apply(
                            bhsd(&rows, device),
                            TensorLayout::Bhsd,
                            Role::Query,
                            Positions::Offset(start),
                        ),
                        |y| check(&host(y), &want, &flat, layout, tol),
                    )
                });
                c.case("Rope::apply_reference", &input, || {
                    accepted(
                        rope.apply_reference(
                            bhsd(&rows, device),
                            TensorLayout::Bhsd,
                            Role::Key,
                            Positions::Offset(start),
                        ),
                        |y| check(&host(y), &want, &flat, layout, tol),
                    )
                });
                let ids = PositionIds::new(vec![start, start + 1], 1, 2).unwrap();
                c.case("Rope::apply (ids)", &input, || {
                    accepted(
                        rope.apply(
                            bhsd(&rows, device),
                            TensorLayout::Bhsd,
                            Role::Query,
                            Positions::Ids(&ids),
                        ),
                        |y| check(&host(y), &want, &flat, layout, tol),
                    )
                });
                c.case("Rope::apply_qk", &input, || {
                    accepted(
                        rope.apply_qk(
                            bhsd(&rows, device),
                            bhsd(&rows, device),
                            TensorLayout::Bhsd,
                            Positions::Offset(start),
                        ),
                        |(q, k)| {
                            check(&host(q), &want, &flat, layout, tol).and(check(
                                &host(k),
                                &want,
                                &flat,
                                layout,
                                tol,
                            ))
                        },
                    )
                });
                c.case("Rope::apply_qk_reference", &input, || {
                    accepted(
                        rope.apply_qk_reference(
                            bhsd(&rows, device),
                            bhsd(&rows, device),
                            TensorLayout::Bhsd,
                            Positions::Offset(start),
                        ),
                        |(q, k)| {
                            check(&host(q), &want, &flat, layout, tol).and(check(
                                &host(k),
                                &want,
                                &flat,
                                layout,
                                tol,
                            ))
                        },
                    )
                });
                let module = RopeConfig::new(D)
                    .with_layout(layout)
                    .init_module()
                    .unwrap();
                c.case("RotaryEmbedding::forward ([b, s, d])", &input, || {
                    let q =
                        Tensor::<3>::from_data(TensorData::new(flat.clone(), [1, 2, D]), device);
                    accepted(
                        module.forward(q.clone(), q, Positions::Offset(start)),
                        |(q, k)| {
                            let q: Vec<f32> = q.try_into_vec_as::<f32>().unwrap();
                            let k: Vec<f32> = k.try_into_vec_as::<f32>().unwrap();
                            check(&q, &want, &flat, layout, tol)
                                .and(check(&k, &want, &flat, layout, tol))
                        },
                    )
                });
                let bshd = module.clone().with_tensor_layout(TensorLayout::Bshd);
                c.case("RotaryEmbedding::encode (Bshd)", &input, || {
                    let x4 =
                        Tensor::<4>::from_data(TensorData::new(flat.clone(), [1, 2, 1, D]), device);
                    accepted(bshd.encode(x4, Role::Key, Positions::Offset(start)), |y| {
                        check(&host(y), &want, &flat, layout, tol)
                    })
                });
            }
        }
    }
}

fn shape_and_position_cases(c: &mut Campaign, device: &Device, dev: &str) {
    let rope = RopeConfig::new(D).init().unwrap();
    let x = |b: usize, h: usize, s: usize, d: usize| Tensor::<4>::zeros([b, h, s, d], device);
    for shape in [[0usize, 2, 3, D], [1, 0, 3, D], [1, 2, 0, D]] {
        let [b, h, s, d] = shape;
        for start in [0usize, MAX_POSITION] {
            c.case(
                "Rope::apply",
                &format!("{dev} empty {shape:?} at {start}"),
                || {
                    accepted(
                        rope.apply(
                            x(b, h, s, d),
                            TensorLayout::Bhsd,
                            Role::Query,
                            Positions::Offset(start),
                        ),
                        |y| {
                            if y.dims() == shape {
                                Outcome::Correct
                            } else {
                                Outcome::Wrong(format!("{:?}", y.dims()))
                            }
                        },
                    )
                },
            );
            c.case(
                "Rope::apply_reference",
                &format!("{dev} empty {shape:?} at {start}"),
                || {
                    accepted(
                        rope.apply_reference(
                            x(b, h, s, d),
                            TensorLayout::Bhsd,
                            Role::Query,
                            Positions::Offset(start),
                        ),
                        |y| {
                            if y.dims() == shape {
                                Outcome::Correct
                            } else {
                                Outcome::Wrong(format!("{:?}", y.dims()))
                            }
                        },
                    )
                },
            );
            c.case(
                "Rope::apply_qk",
                &format!("{dev} empty {shape:?} at {start}"),
                || {
                    accepted(
                        rope.apply_qk(
                            x(b, h, s, d),
                            x(b, h, s, d),
                            TensorLayout::Bhsd,
                            Positions::Offset(start),
                        ),
                        |(q, _)| {
                            if q.dims() == shape {
                                Outcome::Correct
                            } else {
                                Outcome::Wrong(format!("{:?}", q.dims()))
                            }
                        },
                    )
                },
            );
        }
    }
    for (name, start) in [
        ("offset past MAX_POSITION", MAX_POSITION),
        ("offset usize::MAX", usize::MAX),
        ("offset usize::MAX − 1", usize::MAX - 1),
    ] {
        c.case("Rope::apply", &format!("{dev} {name}"), || {
            refused(rope.apply(
                x(1, 1, 2, D),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Offset(start),
            ))
        });
        c.case("Rope::apply_reference", &format!("{dev} {name}"), || {
            refused(rope.apply_reference(
                x(1, 1, 2, D),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Offset(start),
            ))
        });
        c.case("Rope::apply_qk", &format!("{dev} {name}"), || {
            refused(rope.apply_qk(
                x(1, 1, 2, D),
                x(1, 1, 2, D),
                TensorLayout::Bhsd,
                Positions::Offset(start),
            ))
        });
        c.case("Rope::cos_sin", &format!("{dev} {name}"), || {
            refused(rope.cos_sin(Role::Query, Positions::Offset(start), 1, 2, device))
        });
    }
    for (name, ids) in [
        ("id past MAX_POSITION", vec![0, MAX_POSITION + 1]),
        ("id usize::MAX", vec![usize::MAX, 0]),
    ] {
        let ids = PositionIds::new(ids, 1, 2).unwrap();
        c.case("Rope::apply (ids)", &format!("{dev} {name}"), || {
            refused(rope.apply(
                x(1, 1, 2, D),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Ids(&ids),
            ))
        });
    }
    let ids = PositionIds::new(vec![0, 1, 2], 1, 3).unwrap();
    c.case(
        "Rope::apply (ids)",
        &format!("{dev} ids for 3 tokens, tensor of 2"),
        || {
            refused(rope.apply(
                x(1, 1, 2, D),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Ids(&ids),
            ))
        },
    );
    let ids = PositionIds::new(vec![0, 1, 0, 1, 0, 1], 3, 2).unwrap();
    c.case(
        "Rope::apply (ids)",
        &format!("{dev} ids for batch 3, tensor of 2"),
        || {
            refused(rope.apply(
                x(2, 1, 2, D),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Ids(&ids),
            ))
        },
    );
    for d in [D - 2, D + 2, 0] {
        c.case("Rope::apply", &format!("{dev} head dim {d}"), || {
            refused(rope.apply(
                x(1, 1, 2, d),
                TensorLayout::Bhsd,
                Role::Query,
                Positions::Offset(0),
            ))
        });
        c.case(
            "Rope::apply_reference",
            &format!("{dev} head dim {d}"),
            || {
                refused(rope.apply_reference(
                    x(1, 1, 2, d),
                    TensorLayout::Bhsd,
                    Role::Query,
                    Positions::Offset(0),
                ))
            },
        );
    }
    c.case(
        "Rope::apply_qk",
        &format!("{dev} q and k sequences differ"),
        || {
            refused(rope.apply_qk(
                x(1, 1, 2, D),
                x(1, 1, 3, D),
                TensorLayout::Bhsd,
                Positions::Offset(0),
            ))
        },
    );
    c.case(
        "Rope::apply_qk",
        &format!("{dev} q and k batches differ"),
        || {
            refused(rope.apply_qk(
                x(1, 1, 2, D),
                x(2, 1, 2, D),
                TensorLayout::Bhsd,
                Positions::Offset(0),
            ))
        },
    );
    let module = RopeConfig::new(D).init_module().unwrap();
    c.case("RotaryEmbedding::forward", &format!("{dev} rank 2"), || {
        let t = Tensor::<2>::zeros([2, D], device);
        refused(module.forward(t.clone(), t, Positions::Offset(0)))
    });
    c.case(
        "RotaryEmbedding::forward",
        &format!("{dev} last dim wrong"),
        || {
            let t = Tensor::<3>::zeros([1, 2, D + 1], device);
            refused(module.forward(t.clone(), t, Positions::Offset(0)))
        },
    );
    c.case(
        "RotaryEmbedding::forward",
        &format!("{dev} offset usize::MAX"),
        || {
            let t = Tensor::<3>::zeros([1, 2, D], device);
            refused(module.forward(t.clone(), t, Positions::Offset(usize::MAX)))
        },
    );
    // xPos: positions beyond its range are an error, not an overflow to ∞.
    let xpos = RopeConfig::new(D)
        .with_xpos(XPosConfig::default())
        .init()
        .unwrap();
    c.case("Rope::apply (xPos)", &format!("{dev} position 1e6"), || {
        refused(xpos.apply(
            x(1, 1, 2, D),
            TensorLayout::Bhsd,
            Role::Query,
            Positions::Offset(1_000_000),
        ))
    });
}

/// Configurations and frequency helpers (device-free).
fn config_cases(c: &mut Campaign) {
    for (name, cfg) in [
        ("head_dim 0", RopeConfig::new(0)),
        ("head_dim odd", RopeConfig::new(7)),
        ("θ NaN", RopeConfig::new(D).with_theta(f64::NAN)),
        ("θ +∞", RopeConfig::new(D).with_theta(f64::INFINITY)),
        ("θ = 1", RopeConfig::new(D).with_theta(1.0)),
        ("θ = 0.5", RopeConfig::new(D).with_theta(0.5)),
        ("θ < 0", RopeConfig::new(D).with_theta(-10.0)),
        (
            "p = 1.5",
            RopeConfig::new(D).with_rotation(Rotation::Proportional { p: 1.5 }),
        ),
        (
            "p NaN",
            RopeConfig::new(D).with_rotation(Rotation::Proportional { p: f64::NAN }),
        ),
        (
            "NeoX rotary_dims odd",
            RopeConfig::new(D).with_rotation(Rotation::NeoxPartial { rotary_dims: 3 }),
        ),
        (
            "NeoX rotary_dims > d",
            RopeConfig::new(D).with_rotation(Rotation::NeoxPartial { rotary_dims: 2 * D }),
        ),
        (
            "linear factor 0.5",
            RopeConfig::new(D).with_scaling(Scaling::Linear { factor: 0.5 }),
        ),
        (
            "linear factor NaN",
            RopeConfig::new(D).with_scaling(Scaling::Linear { factor: f64::NAN }),
        ),
        (
            "ntk factor +∞",
            RopeConfig::new(D).with_scaling(Scaling::Ntk {
                factor: f64::INFINITY,
            }),
        ),
        (
            "ntk with d = 2",
            RopeConfig::new(2).with_scaling(Scaling::Ntk { factor: 2.0 }),
        ),
        (
            "dynamic L0 = 0",
            RopeConfig::new(D).with_scaling(Scaling::DynamicNtk {
                factor: 2.0,
                original_max_position_embeddings: 0,
            }),
        ),
        (
            "yarn factor 0",
            RopeConfig::new(D).with_scaling(Scaling::Yarn(YarnConfig::new(0.0, 4096))),
        ),
        (
            "yarn L0 = 0",
            RopeConfig::new(D).with_scaling(Scaling::Yarn(YarnConfig::new(2.0, 0))),
        ),
        (
            "yarn betas reversed",
            RopeConfig::new(D).with_scaling(Scaling::Yarn(
                YarnConfig::new(2.0, 4096).with_betas(1.0, 32.0),
            )),
        ),
        (
            "xpos γ NaN",
            RopeConfig::new(D).with_xpos(XPosConfig {
                scale_base: 512.0,
                gamma: f64::NAN,
            }),
        ),
        (
            "xpos B = 0",
            RopeConfig::new(D).with_xpos(XPosConfig {
                scale_base: 0.0,
                gamma: 0.4,
            }),
        ),
    ] {
        c.case("RopeConfig::init", name, || refused(cfg.clone().init()));
        c.case("RopeConfig::init_module", name, || {
            refused(cfg.init_module())
        });
    }
    for (dim, theta) in [
        (0usize, 1e4),
        (7, 1e4),
        (8, f64::NAN),
        (8, 1.0),
        (8, -1.0),
        (8, f64::INFINITY),
    ] {
        c.case("default_inv_freq", &format!("dim {dim} θ {theta}"), || {
            refused(default_inv_freq(dim, theta))
        });
        c.case(
            "Scaling::frequencies",
            &format!("dim {dim} θ {theta}"),
            || refused(Scaling::None.frequencies(dim, theta, 16)),
        );
        c.case(
            "YarnConfig::correction_range",
            &format!("dim {dim} θ {theta}"),
            || refused(YarnConfig::new(2.0, 4096).correction_range(dim, theta)),
        );
    }
    c.case("Scaling::frequencies", "linear factor 0", || {
        refused(Scaling::Linear { factor: 0.0 }.frequencies(D, 1e4, 16))
    });
    c.case(
        "Scaling::frequencies",
        "dynamic, seq_len usize::MAX",
        || {
            accepted(
                Scaling::DynamicNtk {
                    factor: 2.0,
                    original_max_position_embeddings: 16,
                }
                .frequencies(D, 1e4, usize::MAX),
                |f| {
                    if f.inv_freq.iter().all(|g| g.is_finite() && *g >= 0.0) {
                        Outcome::Correct
                    } else {
                        Outcome::SilentNan(format!("{:?}", f.inv_freq))
                    }
                },
            )
        },
    );
    c.case("YarnConfig::correction_range", "yarn factor 0.5", || {
        refused(YarnConfig::new(0.5, 4096).correction_range(D, 1e4))
    });
    c.case("default_inv_freq", "dim 8, θ 1e4", || {
        accepted(default_inv_freq(D, 1e4), |g| {
            let want: Vec<f64> = (0..D / 2)
                .map(|k| 1e4f64.powf(-(2.0 * k as f64) / D as f64))
                .collect();
            rigor_testkit::campaign::compare64(&g, &want, 1e-15)
        })
    });
    for (name, ids, b, s) in [
        ("too few", vec![0usize], 1usize, 2usize),
        ("too many", vec![0, 1, 2], 1, 2),
    ] {
        c.case("PositionIds::new", name, || {
            refused(PositionIds::new(ids, b, s))
        });
    }
    c.case("PositionIds::multi_axis", "wrong length", || {
        refused(PositionIds::multi_axis(vec![0, 1], 3, 1, 2))
    });
    c.case("PositionIds::multi_axis", "batch · seq overflows", || {
        refused(PositionIds::multi_axis(vec![0], 3, usize::MAX, 2))
    });
}

#[test]
fn hostile_inputs_never_panic_nan_or_mislead() {
    let mut c = Campaign::new("rigor-rope");
    config_cases(&mut c);
    for d in rigor_testkit::devices() {
        encode_cases(&mut c, &d.device, d.name);
        shape_and_position_cases(&mut c, &d.device, d.name);
    }
    c.finish();
}
