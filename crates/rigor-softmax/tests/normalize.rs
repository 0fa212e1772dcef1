//! The open [`Normalize`] trait: every built-in implements it with the same values as
//! `Normalizer::apply` (masked and fully masked rows included) on every device; it is object
//! safe; `normalize_along` applies any implementor along any dim of any rank (empty tensors
//! too) and refuses a missing dim.

mod common;

use std::sync::Arc;

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use common::host;
use rigor_softmax::{
    AdaptiveTemperature, Entmax, Normalize, Normalizer, ScalableSoftmax, SoftmaxError, Temperature,
    normalize_along,
};
use rigor_testkit::for_each_device;

fn builtins() -> Vec<Normalizer> {
    vec![
        Normalizer::softmax(),
        Normalizer::softmax_with_temperature(2.0).unwrap(),
        Normalizer::adaptive(),
        Normalizer::scalable(0.5).unwrap(),
        Normalizer::softmax1(),
        Normalizer::sparsemax(),
        Normalizer::entmax(1.5).unwrap(),
        Normalizer::softpick(),
    ]
}

/// Scores `[2, 3, 4, 6]` with masked keys and one fully masked row.
fn scores(device: &Device) -> Tensor<4> {
    let mut v: Vec<f32> = (0..144)
        .map(|i| ((i * 37 % 23) as f32 - 11.0) / 3.0)
        .collect();
    for i in (0..144).step_by(7) {
        v[i] = f32::NEG_INFINITY;
    }
    for x in &mut v[6..12] {
        *x = f32::NEG_INFINITY;
    }
    Tensor::from_data(TensorData::new(v, [2, 3, 4, 6]), device)
}

#[test]
fn the_builtins_and_their_own_types_equal_normalizer_apply() {
    for_each_device(|device| {
        let x = scores(device);
        for n in builtins() {
            let want = host(n.apply(x.clone(), -1).unwrap());
            assert_eq!(host(n.normalize(x.clone()).unwrap()), want, "{n}");
            assert_eq!(Normalize::name(&n), n.name());
            assert_eq!(Normalize::sums_to_one(&n), n.sums_to_one());
            // The same normalizer through its own type.
            let own: Option<Arc<dyn Normalize>> = match &n {
                Normalizer::Softmax { temperature } => Some(Arc::new(*temperature)),
                Normalizer::Adaptive(rule) => Some(Arc::new(rule.clone())),
                Normalizer::Scalable { s } => Some(Arc::new(*s)),
                Normalizer::Entmax(e) => Some(Arc::new(*e)),
                _ => None,
            };
            if let Some(own) = own {
                assert_eq!(
                    host(own.normalize(x.clone()).unwrap()),
                    want,
                    "{n} (own type)"
                );
                assert_eq!(own.name(), n.name());
            }
        }
        // Sparsemax through Entmax's own type is α = 2.
        let sparse = Entmax::sparsemax().normalize(x.clone()).unwrap();
        let want = Normalizer::sparsemax().apply(x.clone(), -1).unwrap();
        let (a, b) = (host(sparse), host(want));
        assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-5));
        // A fully masked row (row 1 of head 0, batch 0) is zeros for every one.
        for n in builtins() {
            let w = host(n.normalize(x.clone()).unwrap());
            assert!(w[6..12].iter().all(|&v| v == 0.0), "{n}");
        }
    });
}

#[test]
fn a_list_of_trait_objects_mixes_builtins_and_their_types() {
    let list: Vec<Box<dyn Normalize>> = vec![
        Box::new(Normalizer::softmax()),
        Box::new(Temperature::new(0.5).unwrap()),
        Box::new(AdaptiveTemperature::default()),
        Box::new(ScalableSoftmax::new(1.0).unwrap()),
        Box::new(Entmax::new(1.5).unwrap()),
    ];
    let names: Vec<String> = list.iter().map(|n| n.name()).collect();
    assert_eq!(names[0], "softmax");
    assert!(names[1].starts_with("softmax(θ=0.5"));
    let x = scores(&Device::flex());
    for n in &list {
        assert_eq!(n.normalize(x.clone()).unwrap().dims(), [2, 3, 4, 6]);
    }
}

#[test]
fn normalize_along_any_dim_equals_apply() {
    for_each_device(|device| {
        let x3 = Tensor::<3>::random([3, 5, 7], Distribution::Normal(0.0, 2.0), device);
        for n in builtins() {
            for dim in [0isize, 1, 2, -1] {
                let want = host(n.apply(x3.clone(), dim).unwrap());
                let got = host(normalize_along(&n, x3.clone(), dim).unwrap());
                let worst = got
                    .iter()
                    .zip(&want)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(worst < 1e-6, "{n} dim {dim}: {worst:e}");
            }
            let as_dyn: &dyn Normalize = &n;
            assert!(matches!(
                normalize_along(as_dyn, x3.clone(), 3),
                Err(SoftmaxError::DimOutOfRange { .. })
            ));
            let empty = Tensor::<2>::zeros([0, 4], device);
            assert_eq!(normalize_along(&n, empty, -1).unwrap().dims(), [0, 4]);
            let empty = Tensor::<2>::zeros([4, 0], device);
            assert_eq!(normalize_along(&n, empty, -1).unwrap().dims(), [4, 0]);
        }
    });
}

/// Softpick and Llama 4's temperature on hostile rows, against `f64` oracles: huge spans, a
/// large offset, masks, fully masked rows, and `NaN`/`+∞` rows (which must come out `NaN`).
#[test]
fn softpick_and_llama4_temperature_on_hostile_rows() {
    use rigor_softmax::Llama4Temperature;
    let rows: Vec<Vec<f32>> = vec![
        vec![1e30, 0.0, -1e30, 1e30],
        vec![3e38, -3e38, 1.0, f32::NEG_INFINITY],
        vec![-3e38, -3e38, -3e38, -3e38],
        vec![1e6 + 1.0, 1e6, 1e6 - 1.0, 1e6 - 0.5],
        vec![f32::NEG_INFINITY; 4],
        vec![2.0, -1.0, 0.0, f32::NEG_INFINITY],
        vec![f32::NAN, 1.0, 2.0, 3.0],
        vec![f32::INFINITY, 1.0, 2.0, 3.0],
    ];
    let softpick = |row: &[f32]| -> Vec<f64> {
        let x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
        if x.iter().any(|v| v.is_nan() || *v == f64::INFINITY) {
            return vec![f64::NAN; x.len()];
        }
        let m = x.iter().copied().fold(0.0f64, f64::max);
        let u: Vec<Option<f64>> = x
            .iter()
            .map(|&v| (v > f64::NEG_INFINITY).then(|| (v - m).exp() - (-m).exp()))
            .collect();
        let d: f64 = u.iter().flatten().map(|v| v.abs()).sum::<f64>() + 1e-8;
        u.iter()
            .map(|v| v.map_or(0.0, |v| v.max(0.0) / d))
            .collect()
    };
    let tempered = |row: &[f32], tau: f64| -> Vec<f64> {
        let x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
        if x.iter().any(|v| v.is_nan() || *v == f64::INFINITY) {
            return vec![f64::NAN; x.len()];
        }
        let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if m == f64::NEG_INFINITY {
            return vec![0.0; x.len()];
        }
        let e: Vec<f64> = x.iter().map(|&v| (tau * (v - m)).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    };
    let check = |got: &[f32], want: &[f64], what: &str| {
        for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
            if w.is_nan() {
                assert!(g.is_nan(), "{what}[{k}]: {g}, expected NaN");
            } else {
                assert!((f64::from(g) - w).abs() <= 1e-6, "{what}[{k}]: {g} vs {w}");
            }
        }
    };
    for_each_device(|device| {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        let x2 = Tensor::<2>::from_data(TensorData::new(flat.clone(), [rows.len(), 4]), device);
        let sp = host(Normalizer::softpick().apply(x2, -1).unwrap());
        // One head, rows = query positions 0..8 with floor_scale 2 so τ grows along the rows.
        let t = Llama4Temperature::new(2.0, 0.5).unwrap().with_offset(3);
        let x4 = Tensor::<4>::from_data(TensorData::new(flat, [1, 1, rows.len(), 4]), device);
        let l4 = host(t.normalize(x4).unwrap());
        for (i, row) in rows.iter().enumerate() {
            check(
                &sp[i * 4..i * 4 + 4],
                &softpick(row),
                &format!("softpick row {i} {row:?}"),
            );
            let tau = t.scale(3 + i);
            check(
                &l4[i * 4..i * 4 + 4],
                &tempered(row, tau),
                &format!("llama4 row {i} {row:?}"),
            );
        }
    });
}

/// Llama 4's temperature is softmax at θ = 1/τ(p) row by row, gradients included: on every
/// autodiff device, query rows at positions 3..6 (f = 2, a = 0.5, so τ steps at 3 and 5).
#[test]
fn llama4_temperature_gradients_equal_the_tempered_softmax_row_by_row() {
    use rigor_softmax::Llama4Temperature;
    rigor_testkit::for_each_autodiff_device(|device| {
        let t = Llama4Temperature::new(2.0, 0.5).unwrap().with_offset(3);
        let (rows, n) = (3usize, 7usize);
        let flat: Vec<f32> = (0..rows * n)
            .map(|i| ((i * 37) % 11) as f32 * 0.7 - 3.0)
            .collect();
        let cot: Vec<f32> = (0..rows * n).map(|i| ((i * 13) % 5) as f32 - 2.0).collect();
        let x = Tensor::<4>::from_data(TensorData::new(flat.clone(), [1, 1, rows, n]), device)
            .require_grad();
        let c = Tensor::<4>::from_data(TensorData::new(cot.clone(), [1, 1, rows, n]), device);
        let grads = (t.normalize(x.clone()).unwrap() * c).sum().backward();
        let got = host(x.grad(&grads).unwrap());
        for r in 0..rows {
            let theta = 1.0 / t.scale(3 + r);
            let xr = Tensor::<2>::from_data(
                TensorData::new(flat[r * n..(r + 1) * n].to_vec(), [1, n]),
                device,
            )
            .require_grad();
            let cr = Tensor::<2>::from_data(
                TensorData::new(cot[r * n..(r + 1) * n].to_vec(), [1, n]),
                device,
            );
            let w = Normalizer::softmax_with_temperature(theta)
                .unwrap()
                .apply(xr.clone(), -1)
                .unwrap();
            let g = (w * cr).sum().backward();
            let want = host(xr.grad(&g).unwrap());
            for k in 0..n {
                let (a, b) = (got[r * n + k], want[k]);
                assert!(
                    (a - b).abs() <= 1e-6 + 1e-5 * b.abs(),
                    "row {r} (θ = {theta}) [{k}]: {a} vs {b}"
                );
            }
        }
    });
}
