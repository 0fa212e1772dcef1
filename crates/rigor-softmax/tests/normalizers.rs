//! Behaviour of every normalizer on every compiled-in device: masks, fully masked rows,
//! NaN/Inf, dims, agreement with Burn's own ops and an independent f64 oracle.

mod common;

use burn::tensor::activation;
use burn::tensor::{Device, Tensor};
use common::{assert_close, host, rows, softmax_f64, tensor2};
use rigor_softmax::*;
use rigor_testkit::for_each_device;

const NEG: f32 = f32::NEG_INFINITY;

fn all_normalizers() -> Vec<Normalizer> {
    vec![
        Normalizer::softmax(),
        Normalizer::softmax_with_temperature(0.5).unwrap(),
        Normalizer::adaptive(),
        Normalizer::scalable(0.43).unwrap(),
        Normalizer::sparsemax(),
        Normalizer::entmax(1.5).unwrap(),
        Normalizer::entmax(3.0).unwrap(),
        Normalizer::softmax1(),
    ]
}

fn sample(device: &Device) -> Tensor<2> {
    tensor2(
        &[
            vec![0.3, -1.2, 2.5, 0.0, 1.1],
            vec![1.0, NEG, 3.0, NEG, -2.0],
            vec![NEG, NEG, 7.0, NEG, NEG],
            vec![NEG, NEG, NEG, NEG, NEG],
            vec![0.0, 0.0, 0.0, 0.0, 0.0],
        ],
        device,
    )
}

#[test]
fn rows_are_distributions_and_masks_get_zero_weight() {
    for_each_device(|device| {
        for norm in all_normalizers() {
            let out = rows(norm.apply(sample(device), -1).unwrap());
            for (r, row) in out.iter().enumerate() {
                assert!(
                    row.iter().all(|v| v.is_finite() && *v >= 0.0),
                    "{norm} row {r}: {row:?}"
                );
                let s: f32 = row.iter().sum();
                if r == 3 {
                    assert!(
                        row.iter().all(|&v| v == 0.0),
                        "{norm}: fully masked row {row:?}"
                    );
                } else if norm.sums_to_one() {
                    assert!((s - 1.0).abs() < 1e-5, "{norm} row {r} sums to {s}");
                } else {
                    assert!(s > 0.0 && s < 1.0, "{norm} row {r} sums to {s}");
                }
            }
            assert_eq!(out[1][1], 0.0, "{norm}: masked entry");
            assert_eq!(out[1][3], 0.0, "{norm}: masked entry");
            if norm.sums_to_one() {
                assert!(
                    (out[2][2] - 1.0).abs() < 1e-6,
                    "{norm}: single unmasked item gets all weight"
                );
                for v in &out[4] {
                    assert!(
                        (v - 0.2).abs() < 1e-6,
                        "{norm}: equal logits give uniform weights"
                    );
                }
            }
        }
    });
}

#[test]
fn softmax_matches_f64_oracle_and_burn() {
    for_each_device(|device| {
        let x = tensor2(
            &[
                vec![0.3, -1.2, 2.5, 0.0, 1.1],
                vec![10.0, -10.0, 3.0, 2.0, 1.0],
            ],
            device,
        );
        for theta in [0.25, 1.0, 3.0] {
            let t = Temperature::new(theta).unwrap();
            let ours = rows(softmax(x.clone(), -1, t).unwrap());
            for (r, row) in ours.iter().enumerate() {
                let input = &rows(x.clone())[r];
                assert_close(row, &softmax_f64(input, theta), 1e-6, "softmax vs f64");
            }
            let burn = host(activation::softmax(x.clone().div_scalar(theta), 1));
            let flat: Vec<f64> = ours.concat().iter().map(|&v| f64::from(v)).collect();
            assert_close(&burn, &flat, 1e-6, "burn softmax vs ours");
            let burn_log = host(activation::log_softmax(x.clone().div_scalar(theta), 1));
            let ours_log: Vec<f64> = host(log_softmax(x.clone(), 1, t).unwrap())
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            assert_close(&burn_log, &ours_log, 1e-5, "burn log_softmax vs ours");
        }
        let burn_quiet = host(activation::quiet_softmax(x.clone(), 1));
        let ours: Vec<f64> = host(softmax1(x, -1).unwrap())
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        assert_close(&burn_quiet, &ours, 1e-6, "burn quiet_softmax vs softmax1");
    });
}

#[test]
fn log_softmax_and_entropy_of_masked_rows() {
    for_each_device(|device| {
        let x = sample(device);
        let lp = rows(log_softmax(x.clone(), -1, Temperature::ONE).unwrap());
        assert_eq!(lp[1][1], f32::NEG_INFINITY);
        assert_eq!(lp[2][2], 0.0);
        assert!(
            lp[3].iter().all(|&v| v == f32::NEG_INFINITY),
            "fully masked: {:?}",
            lp[3]
        );
        assert!(lp.iter().flatten().all(|v| !v.is_nan()));
        let h = host(entropy(x, -1, Temperature::ONE).unwrap());
        assert_eq!(h.len(), 5);
        assert!(h.iter().all(|v| v.is_finite() && *v >= 0.0), "{h:?}");
        assert_eq!(h[2], 0.0, "one unmasked item has zero entropy");
        assert_eq!(h[3], 0.0, "fully masked row has zero entropy");
        assert!(
            (h[4] - 5f32.ln()).abs() < 1e-6,
            "uniform row has entropy ln n"
        );
    });
}

#[test]
fn any_dim_works_and_bad_dims_are_errors() {
    for_each_device(|device| {
        let x = Tensor::<3>::random(
            [2, 3, 4],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            device,
        );
        for norm in all_normalizers() {
            for dim in [0isize, 1, 2, -1, -2, -3] {
                let out = norm.apply(x.clone(), dim).unwrap();
                assert_eq!(out.dims(), [2, 3, 4]);
                if norm.sums_to_one() {
                    let d = resolve_dim(dim, 3).unwrap();
                    let sums = host(out.sum_dim(d));
                    assert!(
                        sums.iter().all(|s| (s - 1.0).abs() < 1e-5),
                        "{norm} dim {dim}: {sums:?}"
                    );
                }
            }
            assert_eq!(
                norm.apply(x.clone(), 3).unwrap_err(),
                SoftmaxError::DimOutOfRange { dim: 3, rank: 3 }
            );
            assert!(norm.apply(x.clone(), -4).is_err());
        }
        assert!(softmax(x.clone(), 5, Temperature::ONE).is_err());
        assert!(entropy(x.clone(), -9, Temperature::ONE).is_err());
        assert!(sparsemax(x.clone(), 3).is_err());
        assert!(spread(x, 3).is_err());
    });
}

#[test]
fn nan_and_pos_inf_rows_are_nan_and_checked_apply_reports_them() {
    for_each_device(|device| {
        let x = tensor2(
            &[
                vec![1.0, f32::NAN, 0.0],
                vec![1.0, f32::INFINITY, 0.0],
                vec![1.0, 2.0, NEG],
            ],
            device,
        );
        for norm in all_normalizers() {
            let out = rows(norm.apply(x.clone(), -1).unwrap());
            assert!(
                out[0].iter().all(|v| v.is_nan()),
                "{norm}: NaN row {:?}",
                out[0]
            );
            assert!(
                out[1].iter().all(|v| v.is_nan()),
                "{norm}: +inf row {:?}",
                out[1]
            );
            assert!(
                out[2].iter().all(|v| v.is_finite()),
                "{norm}: clean row {:?}",
                out[2]
            );
            assert_eq!(
                norm.apply_checked(x.clone(), -1).unwrap_err(),
                SoftmaxError::NonFiniteLogits { nan: 1, pos_inf: 1 }
            );
        }
        let clean = tensor2(&[vec![1.0, NEG]], device);
        assert!(check_logits(&clean).is_ok());
    });
}

#[test]
fn invalid_configurations_are_errors() {
    assert!(matches!(
        Temperature::new(0.0),
        Err(SoftmaxError::InvalidTemperature { .. })
    ));
    assert!(Temperature::new(-1.0).is_err());
    assert!(Temperature::new(f64::NAN).is_err());
    assert!(Temperature::new(f64::INFINITY).is_err());
    assert!(matches!(
        Normalizer::entmax(1.0),
        Err(SoftmaxError::InvalidAlpha { .. })
    ));
    assert!(Normalizer::entmax(0.5).is_err());
    assert!(Normalizer::entmax(f64::NAN).is_err());
    assert!(Entmax::new(1.5).unwrap().with_iterations(0).is_err());
    assert!(matches!(
        Normalizer::scalable(0.0),
        Err(SoftmaxError::InvalidScale { .. })
    ));
    assert!(Normalizer::scalable(f64::NAN).is_err());
    assert!(Normalizer::softmax_with_temperature(0.0).is_err());
    let empty = AdaptiveTemperatureConfig {
        polynomial: vec![],
        ..Default::default()
    };
    assert_eq!(empty.init().unwrap_err(), SoftmaxError::EmptyPolynomial);
    let nan_coef = AdaptiveTemperatureConfig {
        polynomial: vec![1.0, f64::NAN],
        ..Default::default()
    };
    assert!(nan_coef.init().is_err());
    let nan_threshold = AdaptiveTemperatureConfig {
        threshold: f64::NAN,
        ..Default::default()
    };
    assert!(nan_threshold.init().is_err());
    let negative_eps = AdaptiveTemperatureConfig {
        entropy_epsilon: -1.0,
        ..Default::default()
    };
    assert!(negative_eps.init().is_err());
}

#[test]
fn normalizers_round_trip_through_serde_and_revalidate() {
    for norm in all_normalizers() {
        let json = serde_json::to_string(&norm).unwrap();
        let back: Normalizer = serde_json::from_str(&json).unwrap();
        assert_eq!(back, norm, "{json}");
    }
    let bad = r#"{"kind":"softmax","temperature":-1.0}"#;
    assert!(serde_json::from_str::<Normalizer>(bad).is_err());
    let bad = r#"{"kind":"entmax","alpha":0.9,"iterations":40}"#;
    assert!(serde_json::from_str::<Normalizer>(bad).is_err());
}

#[test]
fn apply_with_beta_reports_the_scaling() {
    for_each_device(|device| {
        let x = sample(device);
        let (_, beta) = Normalizer::softmax_with_temperature(0.5)
            .unwrap()
            .apply_with_beta(x.clone(), -1)
            .unwrap();
        assert!(host(beta.unwrap()).iter().all(|&b| b == 2.0));
        let (_, beta) = Normalizer::scalable(0.5)
            .unwrap()
            .apply_with_beta(x.clone(), -1)
            .unwrap();
        let b = host(beta.unwrap());
        // rows have 5, 3, 1, 0 (clamped to 1) and 5 unmasked items.
        let expected = [5f64.ln(), 3f64.ln(), 0.0, 0.0, 5f64.ln()].map(|v| 0.5 * v);
        assert_close(&b, &expected, 1e-6, "ssmax beta");
        let (_, beta) = Normalizer::sparsemax().apply_with_beta(x, -1).unwrap();
        assert!(beta.is_none());
    });
}
