//! rigor-perplexity's hostile-input campaign: the accumulator (`update`, `update_flat`,
//! pooled results, `merge`), the per-token pass (`token_stats`, its reference and the
//! textbook NLL), the calibration helpers and the theory functions, on `NaN`, `±∞`, a `−∞`
//! logit at the target, fully masked rows, `±1e30` / `±3e38`, offsets up to 1e30, empty
//! batches, sequences and vocabularies, n = 1 and a 65 536-token vocabulary, targets outside
//! the vocabulary, mismatched shapes and invalid configurations — on every device. Each case
//! is classified against an `f64` reference (see `rigor_testkit::campaign`); the counts are
//! printed and every failure fails the test. An update that is refused must leave the
//! accumulator exactly as it was.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use rigor_perplexity::theory::counterexample::CounterexampleConfig;
use rigor_perplexity::{
    EvalConfig, IsoPerplexityGrid, LabelShift, PerplexityAccumulator, SlidingWindowConfig,
    boole_bounds, boole_bounds_uniform, critical_accuracy, equal_mass_bins, equal_width_index,
    iso_curve, pplx, temperature_fold, tempered_confidence, token_nll_reference, token_stats,
    token_stats_reference,
};
use rigor_testkit::campaign::{Campaign, Outcome, accepted, compare, compare64, refused};

const NEG: f32 = f32::NEG_INFINITY;

/// Rows of four logits and the target scored in each.
fn rows() -> Vec<(&'static str, Vec<f32>, i64)> {
    let base = vec![1.0f32, 0.0, -1.0, 0.5];
    let mut out = vec![
        ("plain", base.clone(), 0),
        ("plain, wrong target", base.clone(), 2),
        ("±1e30", vec![1e30, 0.0, -1e30, 1e30], 2),
        ("±3e38", vec![3e38, -3e38, 0.0, 1.0], 1),
        ("all 3e38", vec![3e38; 4], 3),
        ("masked others", vec![NEG, 2.0, NEG, NEG], 1),
        ("zeros", vec![0.0; 4], 0),
        ("subnormal", vec![1e-40, -1e-40, 0.0, 5e-39], 3),
    ];
    for (name, c) in [("+1e6", 1e6f32), ("+3e7", 3e7), ("−1e30", -1e30)] {
        out.push((name, base.iter().map(|&v| v + c).collect(), 0));
    }
    out
}

/// Rows the accumulator must refuse (documented errors), with the target.
fn poisoned_rows() -> Vec<(&'static str, Vec<f32>, i64)> {
    vec![
        ("NaN", vec![f32::NAN, 1.0, 2.0, 3.0], 1),
        ("+∞", vec![f32::INFINITY, 1.0, 2.0, 3.0], 1),
        ("fully masked", vec![NEG; 4], 0),
        ("−∞ at the target", vec![1.0, NEG, 2.0, 3.0], 1),
    ]
}

/// NLL = logsumexp(x) − x_t in f64 (NaN for NaN / +∞ rows, +∞ for a −∞ target).
fn nll64(row: &[f32], t: i64) -> f64 {
    let x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // (m − x_t) + ln Σ e^{x − m}: at |m| ~ 3e38 the sum m + ln 4 would lose the ln 4.
    (m - x[t as usize]) + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

fn logits3(rows: &[Vec<f32>], device: &Device) -> Tensor<3> {
    let v = rows.first().map_or(0, Vec::len);
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [1, rows.len(), v]), device)
}

fn targets2(t: &[i64], device: &Device) -> Tensor<2, Int> {
    Tensor::from_data(TensorData::new(t.to_vec(), [1, t.len()]), device)
}

fn fresh() -> PerplexityAccumulator {
    EvalConfig::new()
        .with_label_shift(LabelShift::None)
        .with_keep_samples(true)
        .init()
        .unwrap()
}

/// One good token already in, so that a refused update can be seen to change nothing.
fn primed(device: &Device) -> PerplexityAccumulator {
    let mut acc = fresh();
    acc.update(
        logits3(&[vec![1.0, 2.0, 3.0, 4.0]], device),
        targets2(&[3], device),
        None,
    )
    .unwrap();
    acc
}

fn unchanged(before: &PerplexityAccumulator, after: &PerplexityAccumulator) -> Outcome {
    if before.tokens() == after.tokens()
        && before.nll_sum().to_bits() == after.nll_sum().to_bits()
        && before.sequences().len() == after.sequences().len()
    {
        Outcome::Refused
    } else {
        Outcome::Wrong("a refused update changed the accumulator".into())
    }
}

fn accumulator_cases(c: &mut Campaign, device: &Device, dev: &str) {
    for (label, row, t) in rows() {
        let want = nll64(&row, t);
        let input = format!("{dev} {label}");
        c.case("PerplexityAccumulator::update", &input, || {
            let mut acc = fresh();
            accepted(
                acc.update(
                    logits3(std::slice::from_ref(&row), device),
                    targets2(&[t], device),
                    None,
                ),
                |s| {
                    compare64(&[s.nll_sum, acc.nll_sum()], &[want, want], 1e-6).and(compare64(
                        &[acc.log_perplexity().unwrap()],
                        &[want],
                        1e-6,
                    ))
                },
            )
        });
        c.case("PerplexityAccumulator::update_flat", &input, || {
            let mut acc = fresh();
            let l = Tensor::<2>::from_data(TensorData::new(row.clone(), [1, 4]), device);
            let tt = Tensor::<1, Int>::from_data(TensorData::new(vec![t], [1]), device);
            accepted(acc.update_flat(l, tt, None), |s| {
                compare64(&[s.nll_sum], &[want], 1e-6)
            })
        });
        c.case("PerplexityAccumulator::report", &input, || {
            let mut acc = fresh();
            acc.update(
                logits3(std::slice::from_ref(&row), device),
                targets2(&[t], device),
                None,
            )
            .unwrap();
            accepted(acc.report(), |r| {
                let k = &r.calibration;
                let ok = k.ece_equal_width.is_finite()
                    && k.mean_confidence.is_finite()
                    && k.mean_entropy.is_finite()
                    && k.brier.is_finite()
                    && k.ece_equal_mass.is_some_and(f64::is_finite);
                if ok {
                    Outcome::Correct
                } else {
                    Outcome::SilentNan(format!("{r:?}").chars().take(200).collect())
                }
            })
        });
    }
    for (label, row, t) in poisoned_rows() {
        c.case(
            "PerplexityAccumulator::update",
            &format!("{dev} {label}"),
            || {
                let mut acc = primed(device);
                let before = primed(device);
                match acc.update(logits3(&[row], device), targets2(&[t], device), None) {
                    Ok(s) => Outcome::Accepted(format!("{s:?}")),
                    Err(_) => unchanged(&before, &acc),
                }
            },
        );
    }
    // Masked / ignored poisoned rows are not scored: fine.
    c.case(
        "PerplexityAccumulator::update",
        &format!("{dev} NaN row masked out"),
        || {
            let mut acc = fresh();
            let mask =
                Tensor::<2, Bool>::from_data(TensorData::new(vec![true, false], [1, 2]), device);
            accepted(
                acc.update(
                    logits3(&[vec![1.0, 2.0, 3.0, 4.0], vec![f32::NAN; 4]], device),
                    targets2(&[3, 0], device),
                    Some(mask),
                ),
                |s| compare64(&[s.nll_sum], &[nll64(&[1.0, 2.0, 3.0, 4.0], 3)], 1e-6),
            )
        },
    );
    // Shapes.
    let refuse_update = |c: &mut Campaign, name: &str, l: Tensor<3>, t: Tensor<2, Int>| {
        c.case(
            "PerplexityAccumulator::update",
            &format!("{dev} {name}"),
            || {
                let mut acc = primed(device);
                let before = primed(device);
                match acc.update(l, t, None) {
                    Ok(s) => Outcome::Accepted(format!("{s:?}")),
                    Err(_) => unchanged(&before, &acc),
                }
            },
        );
    };
    refuse_update(
        c,
        "vocab 0",
        Tensor::zeros([1, 2, 0], device),
        targets2(&[0, 0], device),
    );
    refuse_update(
        c,
        "target = vocab",
        logits3(&[vec![0.0; 4]], device),
        targets2(&[4], device),
    );
    refuse_update(
        c,
        "target −5",
        logits3(&[vec![0.0; 4]], device),
        targets2(&[-5], device),
    );
    refuse_update(
        c,
        "target 2^30",
        logits3(&[vec![0.0; 4]], device),
        targets2(&[1 << 30], device),
    );
    refuse_update(
        c,
        "targets too short",
        logits3(&[vec![0.0; 4], vec![0.0; 4]], device),
        targets2(&[0], device),
    );
    for shape in [[0usize, 3, 4], [2, 0, 4], [0, 0, 4], [2, 1, 4]] {
        let [b, s, _] = shape;
        for shift in [LabelShift::None, LabelShift::Causal] {
            c.case(
                "PerplexityAccumulator::update",
                &format!("{dev} empty {shape:?} {shift:?}"),
                || {
                    let mut acc = EvalConfig::new().with_label_shift(shift).init().unwrap();
                    let scored = match shift {
                        LabelShift::None => b * s,
                        LabelShift::Causal => b * s.saturating_sub(1),
                    };
                    let t = Tensor::<2, Int>::zeros([b, s], device);
                    accepted(acc.update(Tensor::zeros(shape, device), t, None), |r| {
                        if r.tokens as usize == scored
                            && (scored > 0 || acc.log_perplexity().is_err())
                        {
                            Outcome::Correct
                        } else {
                            Outcome::Wrong(format!("{r:?}"))
                        }
                    })
                },
            );
        }
    }
    for n in [0usize, 1] {
        c.case(
            "PerplexityAccumulator::update_flat",
            &format!("{dev} {n} tokens, vocab 0"),
            || {
                let mut acc = fresh();
                refused(acc.update_flat(
                    Tensor::zeros([n, 0], device),
                    Tensor::<1, Int>::zeros([n], device),
                    None,
                ))
            },
        );
        c.case(
            "PerplexityAccumulator::update_flat",
            &format!("{dev} {n} tokens, empty"),
            || {
                let mut acc = fresh();
                accepted(
                    acc.update_flat(
                        Tensor::zeros([n, 4], device),
                        Tensor::<1, Int>::zeros([n], device),
                        None,
                    ),
                    |r| {
                        if r.tokens as usize == n {
                            Outcome::Correct
                        } else {
                            Outcome::Wrong(format!("{r:?}"))
                        }
                    },
                )
            },
        );
    }
    c.case(
        "PerplexityAccumulator::update_flat",
        &format!("{dev} mask length differs"),
        || {
            let mut acc = fresh();
            let mask = Tensor::<1, Bool>::from_data(TensorData::new(vec![true], [1]), device);
            refused(acc.update_flat(
                Tensor::zeros([2, 4], device),
                Tensor::<1, Int>::zeros([2], device),
                Some(mask),
            ))
        },
    );
    c.case(
        "PerplexityAccumulator::log_perplexity",
        &format!("{dev} nothing scored"),
        || refused(fresh().log_perplexity()),
    );
    c.case(
        "PerplexityAccumulator::merge",
        &format!("{dev} different configs"),
        || {
            let mut a = fresh();
            let b = EvalConfig::new().with_ece_bins(3).init().unwrap();
            refused(a.merge(&b))
        },
    );
    // A 65 536-token vocabulary with an offset.
    let row: Vec<f32> = (0..65_536)
        .map(|i| 1e6 + ((i * 7919) % 1000) as f32 / 100.0)
        .collect();
    let want = nll64(&row, 12_345);
    c.case(
        "PerplexityAccumulator::update",
        &format!("{dev} vocab 65536 +1e6"),
        || {
            let mut acc = fresh();
            accepted(
                acc.update(
                    logits3(std::slice::from_ref(&row), device),
                    targets2(&[12_345], device),
                    None,
                ),
                |s| compare64(&[s.nll_sum], &[want], 1e-4),
            )
        },
    );
}

fn token_cases(c: &mut Campaign, device: &Device, dev: &str) {
    let l = |rows: &[Vec<f32>]| {
        let v = rows.first().map_or(0, Vec::len);
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::<2>::from_data(TensorData::new(flat, [rows.len(), v]), device)
    };
    let t = |ids: &[i64]| {
        Tensor::<1, Int>::from_data(TensorData::new(ids.to_vec(), [ids.len()]), device)
    };
    for (label, row, target) in rows() {
        let want = nll64(&row, target);
        let input = format!("{dev} {label}");
        c.case("token_stats", &input, || {
            accepted(
                token_stats(l(std::slice::from_ref(&row)), t(&[target])),
                |s| {
                    let s: Vec<f32> = s.try_into_vec_as::<f32>().unwrap();
                    compare64(&[2.0 * f64::from(s[0])], &[want], 1e-6)
                },
            )
        });
        c.case("token_stats_reference", &input, || {
            accepted(
                token_stats_reference(l(std::slice::from_ref(&row)), t(&[target])),
                |s| {
                    let s: Vec<f32> = s.try_into_vec_as::<f32>().unwrap();
                    compare64(&[2.0 * f64::from(s[0])], &[want], 1e-6)
                },
            )
        });
        c.case("token_nll_reference", &input, || {
            // The textbook path overflows to +∞ where x − m does (documented): ±3e38.
            let spans = row
                .iter()
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(f64::from(v)), hi.max(f64::from(v)))
                });
            let want = if spans.1 - spans.0 > f64::from(f32::MAX) {
                f64::INFINITY
            } else {
                want
            };
            accepted(
                token_nll_reference(l(std::slice::from_ref(&row)), t(&[target])),
                |s| compare(&s.try_into_vec_as::<f32>().unwrap(), &[want], 1e-6),
            )
        });
    }
    for (name, rows, ids) in [
        ("target = vocab", vec![vec![0.0f32; 4]], vec![4i64]),
        ("target −1", vec![vec![0.0; 4]], vec![-1]),
        ("vocab 0", vec![vec![]], vec![0]),
        ("targets too many", vec![vec![0.0; 4]], vec![0, 1]),
    ] {
        c.case("token_stats", &format!("{dev} {name}"), || {
            refused(token_stats(l(&rows), t(&ids)))
        });
        c.case("token_stats_reference", &format!("{dev} {name}"), || {
            refused(token_stats_reference(l(&rows), t(&ids)))
        });
        c.case("token_nll_reference", &format!("{dev} {name}"), || {
            refused(token_nll_reference(l(&rows), t(&ids)))
        });
    }
    c.case("token_stats", &format!("{dev} no tokens"), || {
        accepted(
            token_stats(Tensor::<2>::zeros([0, 4], device), t(&[])),
            |s| {
                if s.dims() == [0, 5] {
                    Outcome::Correct
                } else {
                    Outcome::Wrong(format!("{:?}", s.dims()))
                }
            },
        )
    });
}

/// Calibration helpers and theory functions (device-free).
fn host_cases(c: &mut Campaign) {
    c.case("equal_width_index", "NaN confidence", || {
        refused(equal_width_index(f64::NAN, 10))
    });
    c.case("equal_width_index", "0 bins", || {
        refused(equal_width_index(0.5, 0))
    });
    c.case("equal_width_index", "confidence 1.5", || {
        refused(equal_width_index(1.5, 10))
    });
    c.case("equal_width_index", "confidence 1 → last bin", || {
        accepted(equal_width_index(1.0, 10), |k| {
            compare64(&[k as f64], &[9.0], 0.0)
        })
    });
    c.case("equal_mass_bins", "NaN confidence", || {
        refused(equal_mass_bins(&mut [(0.5, true), (f32::NAN, false)], 2))
    });
    c.case("equal_mass_bins", "0 bins", || {
        refused(equal_mass_bins(&mut [(0.5, true)], 0))
    });
    c.case("equal_mass_bins", "no samples", || {
        accepted(equal_mass_bins(&mut [], 4), |b| {
            compare64(&[b.len() as f64], &[0.0], 0.0)
        })
    });
    for (a, g) in [(f64::NAN, 0.5), (0.5, f64::NAN), (-0.1, 0.5), (0.5, 1.5)] {
        c.case("pplx", &format!("a={a} γ={g}"), || refused(pplx(a, g)));
    }
    c.case("pplx", "a = 0.5, γ = 0 → +∞ (documented)", || {
        accepted(pplx(0.5, 0.0), |v| compare64(&[v], &[f64::INFINITY], 0.0))
    });
    for (a, g, d) in [
        (f64::NAN, 0.1, 0.01),
        (0.5, 0.1, f64::NAN),
        (0.5, 0.1, -1.0),
        (0.5, 0.1, 0.2),
    ] {
        c.case(
            "critical_accuracy",
            &format!("a={a} γ={g} Δγ={d}"),
            || refused(critical_accuracy(a, g, d)),
        );
    }
    c.case("iso_curve", "NaN level", || {
        refused(iso_curve(f64::NAN, &[0.5]))
    });
    c.case("iso_curve", "confidence 2", || {
        refused(iso_curve(1.0, &[2.0]))
    });
    c.case("IsoPerplexityGrid::new", "empty", || {
        refused(IsoPerplexityGrid::new(vec![], vec![0.5]))
    });
    c.case("IsoPerplexityGrid::new", "NaN accuracy", || {
        refused(IsoPerplexityGrid::new(vec![f64::NAN], vec![0.5]))
    });
    c.case("boole_bounds", "empty", || refused(boole_bounds(&[])));
    c.case("boole_bounds", "NaN γ", || {
        refused(boole_bounds(&[0.1, f64::NAN]))
    });
    c.case("boole_bounds", "γ > 1", || refused(boole_bounds(&[1.5])));
    c.case("boole_bounds_uniform", "n = 0", || {
        refused(boole_bounds_uniform(0.1, 0))
    });
    c.case("boole_bounds_uniform", "n = usize::MAX", || {
        accepted(boole_bounds_uniform(1e-30, usize::MAX), |b| {
            let s = format!("{b:?}");
            if s.contains("NaN") {
                Outcome::SilentNan(s)
            } else {
                Outcome::Correct
            }
        })
    });
    for (g, th) in [
        (f64::NAN, 1.0),
        (0.1, 0.0),
        (0.1, f64::INFINITY),
        (1.5, 1.0),
    ] {
        c.case("temperature_fold", &format!("γ={g} θ={th}"), || {
            refused(temperature_fold(g, th))
        });
        c.case("tempered_confidence", &format!("c={g} θ={th}"), || {
            refused(tempered_confidence(g, th))
        });
    }
    for (name, cfg) in [
        ("max_len 0", SlidingWindowConfig::new(0, 1)),
        ("max_len 1", SlidingWindowConfig::new(1, 1)),
        ("stride 0", SlidingWindowConfig::new(8, 0)),
        ("stride = max_len", SlidingWindowConfig::new(8, 8)),
        ("stride usize::MAX", SlidingWindowConfig::new(8, usize::MAX)),
    ] {
        c.case("SlidingWindowConfig::init", name, || refused(cfg.init()));
    }
    c.case("SlidingWindow::plan", "n = 0", || {
        let w = SlidingWindowConfig::new(8, 4).init().unwrap();
        compare64(&[w.plan(0).len() as f64], &[0.0], 0.0)
    });
    for xi in [f64::NAN, 0.0, -1.0, f64::INFINITY] {
        c.case("CounterexampleConfig::init", &format!("ξ={xi}"), || {
            refused(CounterexampleConfig::new(xi).init())
        });
    }
    c.case("EvalConfig::init", "0 bins", || {
        refused(EvalConfig::new().with_ece_bins(0).init())
    });
}

#[test]
fn hostile_inputs_never_panic_nan_or_mislead() {
    let mut c = Campaign::new("rigor-perplexity");
    host_cases(&mut c);
    for d in rigor_testkit::devices() {
        accumulator_cases(&mut c, &d.device, d.name);
        token_cases(&mut c, &d.device, d.name);
    }
    c.finish();
}
