//! rigor-softmax's hostile-input campaign: every public entry point on `NaN`, `±∞`, masked
//! and fully masked rows, empty dimensions, n = 1 and n = 65 536, `±1e30` / `±3e38`, common
//! offsets up to 3e7 (where ulp(max) > 1), out-of-range dims, mismatched shapes and invalid
//! configurations, on every device, through the fused and the reference paths. Each case is
//! classified (correct against an `f64` reference / refused / panic / silent NaN / finite but
//! wrong / valid input refused / invalid input accepted); the counts are printed and every
//! failure fails the test.
//!
//! Documented results count as correct: a row holding `NaN` or `+∞` is a `NaN` row, a fully
//! masked row is zeros, and a value beyond `f32::MAX` is `±∞` (e.g. the spread of `±3e38`).

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use rigor_softmax::dispersion::spectral::PowerIteration;
use rigor_softmax::refit::{BetaCriterion, fit_polynomial, optimal_beta};
use rigor_softmax::{
    AdaptiveTemperature, AdaptiveTemperatureConfig, AsEntmax, Entmax, Llama4Temperature, Normalize,
    Normalizer, Polynomial, ScalableSoftmax, Sinks, Temperature, check_logits, diagnose, entmax,
    entmax_reference, entropy, lemma_2_1, log_softmax, normalize_along, prop_3_1_spread_bound,
    resolve_dim, scalable_softmax_learned, softmax_with_sink, spread, spread_needed,
    weights_entropy,
};
use rigor_testkit::campaign::{Campaign, Outcome, accepted, compare, refused};

const NEG: f32 = f32::NEG_INFINITY;

fn normalizers() -> Vec<Normalizer> {
    vec![
        Normalizer::softmax(),
        Normalizer::softmax_with_temperature(0.01).unwrap(),
        Normalizer::softmax_with_temperature(1e3).unwrap(),
        Normalizer::adaptive(),
        Normalizer::adaptive_with(AdaptiveTemperatureConfig {
            entropy_epsilon: 0.0,
            ..Default::default()
        })
        .unwrap(),
        Normalizer::scalable(1.0).unwrap(),
        Normalizer::scalable(30.0).unwrap(),
        Normalizer::sparsemax(),
        Normalizer::entmax(1.5).unwrap(),
        Normalizer::entmax(1.1).unwrap(),
        Normalizer::entmax(4.0).unwrap(),
        Normalizer::softmax1(),
        Normalizer::softpick(),
    ]
}

/// Rows of four (so that they stack into one matrix).
fn rows() -> Vec<(&'static str, Vec<f32>)> {
    let base = [1.0f32, 0.0, -1.0, 0.5];
    let mut out = vec![
        ("plain", base.to_vec()),
        ("±1e30", vec![1e30, 0.0, -1e30, 1e30]),
        ("±3e38", vec![3e38, 3e38, -3e38, 1.0]),
        ("all −3e38", vec![-3e38; 4]),
        ("3e38 and a mask", vec![3e38, NEG, 2.9e38, -3e38]),
        ("one unmasked", vec![NEG, 2.0, NEG, NEG]),
        ("fully masked", vec![NEG; 4]),
        ("NaN", vec![f32::NAN, 1.0, 2.0, 3.0]),
        ("all NaN", vec![f32::NAN; 4]),
        ("NaN and masks", vec![f32::NAN, NEG, NEG, NEG]),
        ("+∞", vec![f32::INFINITY, 1.0, 2.0, NEG]),
        ("zeros", vec![0.0; 4]),
        ("subnormal", vec![-1e-30, 1e-30, 0.0, 5e-39]),
        ("tiny spread", vec![1.0, 1.0 + 1e-7, 1.0, 1.0]),
    ];
    for (name, c) in [
        ("+1e6", 1e6f32),
        ("+3e7", 3e7),
        ("−3e7", -3e7),
        ("+1e30", 1e30),
    ] {
        out.push((name, base.iter().map(|&v| v + c).collect()));
    }
    // ulp(4e7) = 4: entries 0, 4, 8 apart, which f32 holds exactly.
    out.push(("ulp 4 at 4e7", vec![4e7, 4e7 + 4.0, 4e7 - 4.0, 4e7 + 8.0]));
    out
}

fn tensor(rows: &[Vec<f32>], device: &Device) -> Tensor<2> {
    common::tensor2(rows, device)
}

/// The tolerance of a normalizer's f32 result against its f64 reference.
fn tol(n: &Normalizer) -> f64 {
    if n.is_sparse() { 2e-5 } else { 2e-6 }
}

fn check_rows(got: Tensor<2>, want: &[Vec<f64>], tol: f64) -> Outcome {
    let got = common::host(got);
    let want: Vec<f64> = want.iter().flatten().copied().collect();
    compare(&got, &want, tol)
}

fn normalizer_cases(c: &mut Campaign, device: &Device, dev: &str) {
    let rows = rows();
    for n in normalizers() {
        let name = n.name();
        for (label, row) in &rows {
            let want = vec![common::oracle(&n, row)];
            let x = || tensor(std::slice::from_ref(row), device);
            let input = format!("{dev} {name} {label}");
            c.case("Normalizer::apply", &input, || {
                accepted(n.apply(x(), -1), |p| check_rows(p, &want, tol(&n)))
            });
            c.case("Normalizer::apply_reference", &input, || {
                accepted(n.apply_reference(x(), -1), |p| {
                    check_rows(p, &want, tol(&n))
                })
            });
            c.case("Normalizer::apply_with_beta", &input, || {
                accepted(n.apply_with_beta(x(), -1), |(p, _)| {
                    check_rows(p, &want, tol(&n))
                })
            });
            c.case("normalize_along (trait)", &input, || {
                accepted(normalize_along(&n, x(), -1), |p| {
                    check_rows(p, &want, tol(&n))
                })
            });
            let poisoned = row.iter().any(|v| v.is_nan() || *v == f32::INFINITY);
            c.case("Normalizer::apply_checked", &input, || {
                if poisoned {
                    refused(n.apply_checked(x(), -1))
                } else {
                    accepted(n.apply_checked(x(), -1), |p| check_rows(p, &want, tol(&n)))
                }
            });
            // The same row along a non-last dim of a 3-D tensor.
            c.case("Normalizer::apply (dim 1 of 3)", &input, || {
                let t = Tensor::<3>::from_data(TensorData::new(row.clone(), [1, 4, 1]), device);
                accepted(n.apply(t, 1), |p| {
                    compare(&common::host(p), &want[0], tol(&n))
                })
            });
        }
        // Shapes: n = 1, empty dims, out-of-range dims.
        let one = [vec![-4.0f32], vec![1e30], vec![NEG]];
        let want_one: Vec<Vec<f64>> = one.iter().map(|r| common::oracle(&n, r)).collect();
        c.case("Normalizer::apply", &format!("{dev} {name} n = 1"), || {
            accepted(n.apply(tensor(&one, device), -1), |p| {
                check_rows(p, &want_one, tol(&n))
            })
        });
        for shape in [[3usize, 0], [0, 4], [0, 0]] {
            for path in ["apply", "apply_reference"] {
                c.case(
                    &format!("Normalizer::{path}"),
                    &format!("{dev} {name} empty {shape:?}"),
                    || {
                        let t = Tensor::<2>::zeros(shape, device);
                        let r = if path == "apply" {
                            n.apply(t, -1)
                        } else {
                            n.apply_reference(t, -1)
                        };
                        accepted(r, |p| {
                            if p.dims() == shape {
                                Outcome::Correct
                            } else {
                                Outcome::Wrong(format!("shape {:?}", p.dims()))
                            }
                        })
                    },
                );
            }
        }
        for dim in [2isize, -3, isize::MAX, isize::MIN] {
            c.case(
                "Normalizer::apply",
                &format!("{dev} {name} dim {dim}"),
                || refused(n.apply(tensor(&[vec![1.0, 2.0]], device), dim)),
            );
            c.case(
                "Normalizer::apply_reference",
                &format!("{dev} {name} dim {dim}"),
                || refused(n.apply_reference(tensor(&[vec![1.0, 2.0]], device), dim)),
            );
        }
    }
}

fn long_row_cases(c: &mut Campaign, device: &Device, dev: &str) {
    // n = 65 536 with an offset of 1e6 and a masked tail.
    let row: Vec<f32> = (0..65_536)
        .map(|i| {
            if i % 17 == 0 {
                NEG
            } else {
                1e6 + ((i * 7919) % 1000) as f32 / 100.0
            }
        })
        .collect();
    for n in normalizers() {
        let want = vec![common::oracle(&n, &row)];
        let top = want[0].iter().copied().fold(0.0f64, f64::max);
        c.case(
            "Normalizer::apply",
            &format!("{dev} {} n = 65536 +1e6", n.name()),
            || {
                accepted(
                    n.apply(tensor(std::slice::from_ref(&row), device), -1),
                    |p| {
                        // Relative to the largest weight: a 65 536-term f32 sum.
                        check_rows(p, &want, 1e-4 * top.max(1e-3))
                    },
                )
            },
        );
    }
}

/// log-softmax in f64: (x − m)/θ − ln Σ e^{(x−m)/θ}; masks −∞, a fully masked row all −∞.
fn log_softmax64(row: &[f32], theta: f64) -> Vec<f64> {
    let x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
    if x.iter().any(|v| v.is_nan() || *v == f64::INFINITY) {
        return vec![f64::NAN; x.len()];
    }
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return x;
    }
    let z: Vec<f64> = x.iter().map(|&v| (v - m) / theta).collect();
    let lse = z.iter().map(|v| v.exp()).sum::<f64>().ln();
    z.iter().map(|v| v - lse).collect()
}

fn entropy64(p: &[f64]) -> f64 {
    if p.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    common::entropy_f64(p)
}

fn spread64(row: &[f32]) -> f64 {
    if row.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let un: Vec<f64> = row
        .iter()
        .filter(|v| **v > NEG)
        .map(|&v| f64::from(v))
        .collect();
    if un.is_empty() {
        return 0.0;
    }
    let d = un.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - un.iter().copied().fold(f64::INFINITY, f64::min);
    // Beyond f32's range the f32 result is +∞ (documented).
    if d > f64::from(f32::MAX) {
        f64::INFINITY
    } else {
        d
    }
}

fn function_cases(c: &mut Campaign, device: &Device, dev: &str) {
    for (label, row) in rows() {
        let x = || tensor(std::slice::from_ref(&row), device);
        let input = format!("{dev} {label}");
        for theta in [1.0, 0.01] {
            let t = Temperature::new(theta).unwrap();
            let want = log_softmax64(&row, theta);
            c.case("log_softmax", &format!("{input} θ={theta}"), || {
                accepted(log_softmax(x(), -1, t), |p| {
                    compare(&common::host(p), &want, 2e-5)
                })
            });
            let p = common::oracle(&Normalizer::softmax_with_temperature(theta).unwrap(), &row);
            let h = entropy64(&p);
            c.case("entropy", &format!("{input} θ={theta}"), || {
                accepted(entropy(x(), -1, t), |e| {
                    compare(&common::host(e), &[h], 1e-5)
                })
            });
        }
        let p = common::oracle(&Normalizer::softmax(), &row);
        let h = entropy64(&p);
        c.case("weights_entropy", &input, || {
            let w: Vec<f32> = p.iter().map(|&v| v as f32).collect();
            let w = Tensor::<2>::from_data(TensorData::new(w, [1, 4]), device);
            accepted(weights_entropy(w, -1), |e| {
                compare(&common::host(e), &[h], 1e-5)
            })
        });
        let s = spread64(&row);
        c.case("spread", &input, || {
            accepted(spread(x(), -1), |d| compare(&common::host(d), &[s], 1e-6))
        });
        c.case("diagnose", &input, || {
            accepted(diagnose(x(), -1, &Normalizer::adaptive()), |d| {
                let want = common::oracle(&Normalizer::adaptive(), &row);
                let h = entropy64(&want);
                let max = if want.iter().any(|v| v.is_nan()) {
                    f64::NAN
                } else {
                    want.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                };
                compare(&common::host(d.weights), &want, 2e-6)
                    .and(compare(&common::host(d.entropy), &[h], 1e-5))
                    .and(compare(&common::host(d.max_weight), &[max], 2e-6))
                    .and(compare(&common::host(d.spread), &[s], 1e-6))
            })
        });
        let poisoned = row.iter().any(|v| v.is_nan() || *v == f32::INFINITY);
        c.case("check_logits", &input, || {
            if poisoned {
                refused(check_logits(&x()))
            } else {
                accepted(check_logits(&x()), |()| Outcome::Correct)
            }
        });
        // Sinks: finite, huge and masked sink logits.
        for b in [0.0f32, 3e38, -3e38, NEG] {
            let want = sink64(&row, f64::from(b));
            c.case("softmax_with_sink", &format!("{input} b={b}"), || {
                let sink = Tensor::<2>::from_data(TensorData::new(vec![b], [1, 1]), device);
                accepted(softmax_with_sink(x(), -1, sink), |p| {
                    compare(&common::host(p), &want, 2e-6)
                })
            });
        }
        // SSMax with a learned scale (a tensor), and ASEntmax with large scales.
        for s in [1.0f32, 1e6] {
            let want = scaled_softmax64(&row, f64::from(s) * unmasked(&row).max(1.0).ln());
            c.case(
                "scalable_softmax_learned",
                &format!("{input} s={s}"),
                || {
                    let st = Tensor::<2>::from_data(TensorData::new(vec![s], [1, 1]), device);
                    accepted(scalable_softmax_learned(x(), -1, st), |p| {
                        compare(&common::host(p), &want, 2e-6)
                    })
                },
            );
        }
        for (beta, gamma) in [(0.0, 1.0), (1e6, 1.0)] {
            c.case("AsEntmax::apply", &format!("{input} β={beta}"), || {
                let a = AsEntmax::new(1.5).unwrap();
                // One query row after three keys: position p = 3, ℓ = ln(p + 2).
                let scale = a.delta() + beta * (5.0f64).ln().powf(gamma);
                let z: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
                let want = asentmax64(&z, scale, 1.5);
                let scores =
                    Tensor::<4>::from_data(TensorData::new(row.clone(), [1, 1, 1, 4]), device);
                let b = Tensor::<1>::from_data(TensorData::new(vec![beta as f32], [1]), device);
                let g = Tensor::<1>::from_data(TensorData::new(vec![gamma as f32], [1]), device);
                accepted(a.apply(scores, b, g), |p| {
                    compare(&common::host(p), &want, 2e-5)
                })
            });
        }
        c.case("Llama4Temperature (Normalize)", &input, || {
            let l = Llama4Temperature::new(8192.0, 0.1)
                .unwrap()
                .with_offset(1 << 40);
            // One query row at position offset: temperature τ = 1 + a ln(1 + ⌊(p+1)/f⌋).
            let tau = l.scale(1 << 40);
            let want = scaled_softmax64(&row, tau);
            accepted(normalize_along(&l, x(), -1), |p| {
                compare(&common::host(p), &want, 2e-6)
            })
        });
    }
}

fn unmasked(row: &[f32]) -> f64 {
    row.iter().filter(|v| **v > NEG).count() as f64
}

/// softmax(β x) in f64 with masks and the NaN convention (β ≥ 0; β = 0 is uniform).
fn scaled_softmax64(row: &[f32], beta: f64) -> Vec<f64> {
    let x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
    common::scaled_softmax64(&x, beta)
}

/// α-entmax of scale · z in f64 (masks stay masks).
fn asentmax64(z: &[f64], scale: f64, alpha: f64) -> Vec<f64> {
    if z.iter().any(|v| v.is_nan() || *v == f64::INFINITY) {
        return vec![f64::NAN; z.len()];
    }
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return vec![0.0; z.len()];
    }
    let s: Vec<f64> = z.iter().map(|&v| (v - m) * scale).collect();
    common::entmax_oracle(&s, alpha)
}

/// Softmax with a sink logit in f64.
fn sink64(row: &[f32], b: f64) -> Vec<f64> {
    if row.iter().any(|v| v.is_nan() || *v == f32::INFINITY) || b.is_nan() {
        return vec![f64::NAN; row.len()];
    }
    let x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
    let m = x.iter().copied().fold(b, f64::max);
    let e: Vec<f64> = x.iter().map(|&v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum::<f64>() + (b - m).exp();
    e.iter().map(|v| v / s).collect()
}

fn shape_and_config_cases(c: &mut Campaign, device: &Device, dev: &str) {
    let x = || tensor(&[vec![1.0, 2.0, 3.0]], device);
    c.case(
        "softmax_with_sink",
        &format!("{dev} sink of the wrong shape"),
        || {
            refused(softmax_with_sink(
                x(),
                -1,
                Tensor::<2>::zeros([1, 3], device),
            ))
        },
    );
    c.case(
        "softmax_with_sink",
        &format!("{dev} sink not broadcasting"),
        || {
            refused(softmax_with_sink(
                x(),
                -1,
                Tensor::<2>::zeros([2, 1], device),
            ))
        },
    );
    c.case("softmax_with_sink", &format!("{dev} empty rows"), || {
        accepted(
            softmax_with_sink(
                Tensor::<2>::zeros([2, 0], device),
                -1,
                Tensor::zeros([1, 1], device),
            ),
            |p| {
                if p.dims() == [2, 0] {
                    Outcome::Correct
                } else {
                    Outcome::Wrong(format!("{:?}", p.dims()))
                }
            },
        )
    });
    c.case(
        "scalable_softmax_learned",
        &format!("{dev} scale not broadcasting"),
        || {
            refused(scalable_softmax_learned(
                x(),
                -1,
                Tensor::<2>::ones([2, 2], device),
            ))
        },
    );
    c.case("entmax", &format!("{dev} dim 5"), || {
        refused(entmax(x(), 5, Entmax::new(1.5).unwrap()))
    });
    c.case("entmax_reference", &format!("{dev} dim -4"), || {
        refused(entmax_reference(x(), -4, Entmax::new(1.5).unwrap()))
    });
    c.case("log_softmax", &format!("{dev} empty"), || {
        accepted(
            log_softmax(Tensor::<2>::zeros([0, 3], device), -1, Temperature::ONE),
            |p| {
                if p.dims() == [0, 3] {
                    Outcome::Correct
                } else {
                    Outcome::Wrong(format!("{:?}", p.dims()))
                }
            },
        )
    });
    c.case("entropy", &format!("{dev} empty rows"), || {
        accepted(
            entropy(Tensor::<2>::zeros([2, 0], device), -1, Temperature::ONE),
            |h| {
                // The entropy of an empty row is 0 (an empty sum).
                compare(&common::host(h), &[0.0, 0.0], 0.0)
            },
        )
    });
    c.case("spread", &format!("{dev} empty rows"), || {
        accepted(spread(Tensor::<2>::zeros([2, 0], device), -1), |d| {
            compare(&common::host(d), &[0.0, 0.0], 0.0)
        })
    });
    c.case("diagnose", &format!("{dev} empty rows"), || {
        accepted(
            diagnose(
                Tensor::<2>::zeros([2, 0], device),
                -1,
                &Normalizer::softmax(),
            ),
            |d| {
                compare(&common::host(d.entropy), &[0.0, 0.0], 0.0).and(compare(
                    &common::host(d.unmasked),
                    &[0.0, 0.0],
                    0.0,
                ))
            },
        )
    });
    c.case(
        "AsEntmax::apply",
        &format!("{dev} β of the wrong length"),
        || {
            let a = AsEntmax::new(1.5).unwrap();
            refused(a.apply(
                Tensor::<4>::zeros([1, 2, 1, 3], device),
                Tensor::<1>::zeros([3], device),
                Tensor::<1>::ones([2], device),
            ))
        },
    );
    c.case(
        "AsEntmax::apply",
        &format!("{dev} more queries than keys"),
        || {
            let a = AsEntmax::new(1.5).unwrap();
            refused(a.apply(
                Tensor::<4>::zeros([1, 1, 4, 3], device),
                Tensor::<1>::zeros([1], device),
                Tensor::<1>::ones([1], device),
            ))
        },
    );
    c.case("AsEntmax::apply", &format!("{dev} empty keys"), || {
        let a = AsEntmax::new(1.5).unwrap();
        accepted(
            a.apply(
                Tensor::<4>::zeros([1, 1, 0, 0], device),
                Tensor::<1>::zeros([1], device),
                Tensor::<1>::ones([1], device),
            ),
            |p| {
                if p.dims() == [1, 1, 0, 0] {
                    Outcome::Correct
                } else {
                    Outcome::Wrong(format!("{:?}", p.dims()))
                }
            },
        )
    });
    c.case(
        "Sinks (Normalize)",
        &format!("{dev} wrong number of heads"),
        || {
            let s = Sinks::new(vec![0.0, 1.0]).unwrap();
            refused(Normalize::normalize(
                &s,
                Tensor::<4>::zeros([1, 3, 1, 3], device),
            ))
        },
    );
    c.case("Sinks (Normalize)", &format!("{dev} 3e38 sinks"), || {
        let s = Sinks::new(vec![3e38]).unwrap();
        let row = [1.0f32, 2.0, 3.0];
        let want = sink64(&row, 3e38);
        accepted(
            Normalize::normalize(
                &s,
                Tensor::<4>::from_data(TensorData::new(row.to_vec(), [1, 1, 1, 3]), device),
            ),
            |p| compare(&common::host(p), &want, 1e-6),
        )
    });
    c.case(
        "PowerIteration::sigma_max",
        &format!("{dev} NaN matrix"),
        || {
            let p = PowerIteration::new(50, 1e-6).unwrap();
            refused(p.sigma_max(Tensor::<2>::from_data(
                TensorData::new(vec![f32::NAN, 1.0, 0.0, 1.0], [2, 2]),
                device,
            )))
        },
    );
    c.case(
        "PowerIteration::sigma_max",
        &format!("{dev} empty matrix"),
        || {
            let p = PowerIteration::new(50, 1e-6).unwrap();
            refused(p.sigma_max(Tensor::<2>::zeros([0, 3], device)))
        },
    );
    c.case(
        "PowerIteration::sigma_max",
        &format!("{dev} zero matrix"),
        || {
            let p = PowerIteration::new(50, 1e-6).unwrap();
            accepted(p.sigma_max(Tensor::<2>::zeros([3, 3], device)), |s| {
                compare(&[s as f32], &[0.0], 0.0)
            })
        },
    );
    c.case(
        "PowerIteration::sigma_max",
        &format!("{dev} 1e30 matrix"),
        || {
            // σ_max of diag(1e30, 1) = 1e30 (the squared norm overflows f32).
            let p = PowerIteration::new(200, 1e-9).unwrap();
            let w = Tensor::<2>::from_data(
                TensorData::new(vec![1e30f32, 0.0, 0.0, 1.0], [2, 2]),
                device,
            );
            accepted(p.sigma_max(w), |s| compare(&[s as f32], &[1e30], 1e-4))
        },
    );
}

/// Device-free entry points: configs and scalar helpers.
fn host_cases(c: &mut Campaign) {
    let bad = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -1.0];
    for v in bad {
        c.case("Temperature::new", &format!("{v}"), || {
            refused(Temperature::new(v))
        });
        c.case("ScalableSoftmax::new", &format!("{v}"), || {
            refused(ScalableSoftmax::new(v))
        });
        c.case("Normalizer::scalable", &format!("{v}"), || {
            refused(Normalizer::scalable(v))
        });
        c.case(
            "Normalizer::softmax_with_temperature",
            &format!("{v}"),
            || refused(Normalizer::softmax_with_temperature(v)),
        );
        c.case("Llama4Temperature::new floor", &format!("{v}"), || {
            refused(Llama4Temperature::new(v, 0.1))
        });
    }
    for a in [f64::NAN, f64::INFINITY, 1.0, 0.5, -2.0] {
        c.case("Entmax::new", &format!("{a}"), || refused(Entmax::new(a)));
        c.case("Normalizer::entmax", &format!("{a}"), || {
            refused(Normalizer::entmax(a))
        });
        c.case("AsEntmax::new", &format!("{a}"), || {
            refused(AsEntmax::new(a))
        });
    }
    c.case("Entmax::with_iterations", "0", || {
        refused(Entmax::new(1.5).unwrap().with_iterations(0))
    });
    for d in [f64::NAN, f64::INFINITY] {
        c.case("AsEntmax::with_delta", &format!("{d}"), || {
            refused(AsEntmax::new(1.5).unwrap().with_delta(d))
        });
    }
    // δ < 0 is allowed (documented: finite); the scale δ + β ℓ^γ is the model's to keep > 0.
    c.case("AsEntmax::with_delta", "-1", || {
        accepted(AsEntmax::new(1.5).unwrap().with_delta(-1.0), |a| {
            compare(&[a.delta() as f32], &[-1.0], 0.0)
        })
    });
    c.case("AsEntmax::log_positions", "s_q > s_k", || {
        refused(AsEntmax::log_positions(3, 2))
    });
    c.case("AsEntmax::log_positions", "huge s_k", || {
        // Position k_len − 1 = 2^53: ln(2^53 + 2) is finite; no table of 2^53 entries.
        accepted(AsEntmax::log_positions(1, 1 << 53), |v| {
            compare(&[v[0] as f32], &[((1u64 << 53) as f64 + 1.0).ln()], 1e-6)
        })
    });
    c.case("AsEntmax::with_heads", "NaN β", || {
        refused(
            AsEntmax::new(1.5)
                .unwrap()
                .with_heads(vec![f64::NAN], vec![1.0]),
        )
    });
    c.case("AsEntmax::with_heads", "lengths differ", || {
        refused(
            AsEntmax::new(1.5)
                .unwrap()
                .with_heads(vec![1.0], vec![1.0, 1.0]),
        )
    });
    c.case("Sinks::new", "NaN", || refused(Sinks::new(vec![f64::NAN])));
    c.case("Sinks::new", "+∞", || {
        refused(Sinks::new(vec![f64::INFINITY]))
    });
    c.case("Sinks::new", "empty", || refused(Sinks::new(vec![])));
    c.case("Llama4Temperature::scale", "position usize::MAX", || {
        let l = Llama4Temperature::new(8192.0, 0.1).unwrap();
        let want = 1.0 + 0.1 * (1.0 + ((usize::MAX as f64) / 8192.0).floor()).ln();
        let got = l.scale(usize::MAX);
        compare(&[got as f32], &[want], 1e-6)
    });
    for (name, cfg) in [
        (
            "empty polynomial",
            AdaptiveTemperatureConfig {
                polynomial: vec![],
                ..Default::default()
            },
        ),
        (
            "NaN coefficient",
            AdaptiveTemperatureConfig {
                polynomial: vec![1.0, f64::NAN],
                ..Default::default()
            },
        ),
        (
            "+∞ threshold",
            AdaptiveTemperatureConfig {
                threshold: f64::INFINITY,
                ..Default::default()
            },
        ),
        (
            "ε < 0",
            AdaptiveTemperatureConfig {
                entropy_epsilon: -1e-9,
                ..Default::default()
            },
        ),
        (
            "ε NaN",
            AdaptiveTemperatureConfig {
                entropy_epsilon: f64::NAN,
                ..Default::default()
            },
        ),
    ] {
        c.case("AdaptiveTemperatureConfig::init", name, || {
            refused(cfg.init())
        });
    }
    c.case("AdaptiveTemperature::max_beta", "n = 0", || {
        refused(AdaptiveTemperature::default().max_beta(0))
    });
    c.case("AdaptiveTemperature::beta_for_entropy", "NaN", || {
        let b = AdaptiveTemperature::default().beta_for_entropy(f64::NAN);
        // Documented: NaN entropy gives NaN β.
        compare(&[b as f32], &[f64::NAN], 0.0)
    });
    for (n, s) in [(0usize, 1.0), (3, f64::NAN), (3, -1.0), (3, f64::INFINITY)] {
        c.case("lemma_2_1", &format!("n={n} δ={s}"), || {
            refused(lemma_2_1(n, s, Temperature::ONE))
        });
    }
    c.case("lemma_2_1", "δ = 1e300 (no overflow)", || {
        accepted(lemma_2_1(1 << 20, 1e300, Temperature::ONE), |b| {
            compare(&[b.lower as f32, b.tight_max as f32], &[0.0, 1.0], 1e-12)
        })
    });
    for w in [0.0, 1.0, f64::NAN, 2.0] {
        c.case("spread_needed", &format!("w={w}"), || {
            refused(spread_needed(4, w, Temperature::ONE))
        });
    }
    c.case("spread_needed", "n = 0", || {
        refused(spread_needed(0, 0.5, Temperature::ONE))
    });
    for v in [f64::NAN, -1.0, f64::INFINITY] {
        c.case("prop_3_1_spread_bound", &format!("{v}"), || {
            refused(prop_3_1_spread_bound(v, 1.0, 1.0, 1.0))
        });
    }
    c.case("prop_3_1_spread_bound", "1e200 overflow", || {
        // 2 · 1e200 · 1e200 overflows f64: an error, not +∞.
        refused(prop_3_1_spread_bound(1e200, 1e200, 1.0, 1.0))
    });
    for (name, coeffs) in [
        ("empty", vec![]),
        ("NaN", vec![f64::NAN]),
        ("+∞", vec![1.0, f64::INFINITY]),
    ] {
        c.case("Polynomial::highest_first", name, || {
            refused(Polynomial::highest_first(coeffs.clone()))
        });
        c.case("Polynomial::ascending", name, || {
            refused(Polynomial::ascending(coeffs))
        });
    }
    let p = Polynomial::ascending(vec![1.0, -2.0, 1.0]).unwrap();
    c.case("Polynomial::max_on", "lo > hi", || {
        refused(p.max_on(2.0, 1.0))
    });
    c.case("Polynomial::max_on", "NaN bound", || {
        refused(p.max_on(f64::NAN, 1.0))
    });
    c.case("Polynomial::max_on", "[0, 3]", || {
        accepted(p.max_on(0.0, 3.0), |m| compare(&[m as f32], &[4.0], 1e-12))
    });
    c.case("fit_polynomial", "no samples", || {
        refused(fit_polynomial(&[], 2))
    });
    c.case("fit_polynomial", "NaN sample", || {
        refused(fit_polynomial(
            &[(0.0, 1.0), (f64::NAN, 2.0), (2.0, 3.0), (3.0, 1.0)],
            1,
        ))
    });
    c.case("fit_polynomial", "fewer samples than coefficients", || {
        refused(fit_polynomial(&[(0.0, 1.0), (1.0, 2.0)], 3))
    });
    c.case("fit_polynomial", "all at one x", || {
        refused(fit_polynomial(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)], 1))
    });
    for (name, t, m) in [
        ("w = 0", 0.0, 10.0),
        ("w = 1", 1.0, 10.0),
        ("NaN", f64::NAN, 10.0),
        ("β_max ≤ 0", 0.5, 0.0),
    ] {
        c.case("BetaCriterion::new", name, || {
            refused(BetaCriterion::new(t, m))
        });
    }
    let crit = BetaCriterion::new(0.9, 100.0).unwrap();
    c.case("optimal_beta", "empty row", || {
        refused(optimal_beta(&[], 0, &crit))
    });
    c.case("optimal_beta", "target out of range", || {
        refused(optimal_beta(&[1.0, 2.0], 2, &crit))
    });
    c.case("optimal_beta", "NaN row", || {
        refused(optimal_beta(&[1.0, f32::NAN], 0, &crit))
    });
    c.case("optimal_beta", "masked target", || {
        refused(optimal_beta(&[NEG, 2.0], 0, &crit))
    });
    c.case("PowerIteration::new", "0 iterations", || {
        refused(PowerIteration::new(0, 1e-6))
    });
    c.case("PowerIteration::new", "NaN tolerance", || {
        refused(PowerIteration::new(10, f64::NAN))
    });
    for (d, r) in [(3isize, 3usize), (-4, 3), (0, 0), (isize::MIN, 2)] {
        c.case("resolve_dim", &format!("{d} of rank {r}"), || {
            refused(resolve_dim(d, r))
        });
    }
}

#[test]
fn hostile_inputs_never_panic_nan_or_mislead() {
    let mut c = Campaign::new("rigor-softmax");
    host_cases(&mut c);
    for d in rigor_testkit::devices() {
        normalizer_cases(&mut c, &d.device, d.name);
        long_row_cases(&mut c, &d.device, d.name);
        function_cases(&mut c, &d.device, d.name);
        shape_and_config_cases(&mut c, &d.device, d.name);
    }
    c.finish();
}
