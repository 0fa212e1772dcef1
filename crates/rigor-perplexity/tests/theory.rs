//! S3's closed forms: the worked critical-accuracy checks of docs/paper-facts.md S3,
//! iso-perplexity curves, Remark 3.4 against a device softmax, the Boole bounds, and the SVG
//! plot.

mod common;

use common::{assert_close, ids, logits2};
use rigor_perplexity::*;
use rigor_testkit::for_each_device;

/// docs/paper-facts.md S3: a = 0.5, γ = 0.4, Δγ/γ = 0.5 ⇒ a′ ≈ 0.646; a = 0.9 ⇒ a′ ≈ 0.763.
/// The tolerance is the rounding of the quoted values (3 decimals).
#[test]
fn worked_critical_accuracy_checks() {
    let a1 = critical_accuracy(0.5, 0.4, 0.5 * 0.4).unwrap();
    let a2 = critical_accuracy(0.9, 0.4, 0.5 * 0.4).unwrap();
    assert_close(a1, 0.646, 5e-4, 0.0, "a = 0.5");
    assert_close(a2, 0.763, 5e-4, 0.0, "a = 0.9");
    // the closed form by hand: pplx(0.9, 0.4) = −0.9 ln 0.6 − 0.1 ln 0.4
    let p = -0.9 * 0.6f64.ln() - 0.1 * 0.4f64.ln();
    assert_close(pplx(0.9, 0.4).unwrap(), p, 1e-15, 0.0, "pplx");
    assert_close(
        a2,
        (p + 0.2f64.ln()) / (0.2f64.ln() - 0.8f64.ln()),
        1e-15,
        0.0,
        "a′ formula",
    );
    // "a less accurate, more confident model wins": accuracy 0.8 < 0.9 at confidence 0.8
    assert!(pplx(0.8, 0.2).unwrap() < pplx(0.9, 0.4).unwrap());
}

#[test]
fn pplx_edge_cases_and_domain() {
    assert_eq!(pplx(1.0, 0.0).unwrap(), 0.0);
    assert_eq!(pplx(0.5, 0.0).unwrap(), f64::INFINITY);
    assert_close(
        pplx(0.3, 0.5).unwrap(),
        2f64.ln(),
        1e-15,
        0.0,
        "γ = ½ is accuracy-free",
    );
    for (a, g) in [(1.1, 0.2), (-0.1, 0.2), (0.5, 1.5), (f64::NAN, 0.2)] {
        assert!(matches!(
            pplx(a, g),
            Err(PerplexityError::InvalidParameter { .. })
        ));
    }
    assert!(critical_accuracy(0.5, 0.5, 0.1).is_err(), "γ must be < ½");
    assert!(critical_accuracy(0.5, 0.4, 0.41).is_err(), "Δγ ≤ γ");
    assert!(critical_accuracy(0.5, 0.4, -0.01).is_err(), "Δγ ≥ 0");
}

#[test]
fn iso_curves_have_constant_perplexity_and_pass_through_the_worked_cases() {
    let confidences = IsoPerplexityGrid::linspace(0.51, 0.999, 200);
    let level = pplx(0.9, 0.4).unwrap();
    let curve = iso_curve(level, &confidences).unwrap();
    assert!(curve.points.len() > 50);
    for &(c, a) in &curve.points {
        assert_close(pplx(a, 1.0 - c).unwrap(), level, 1e-12, 0.0, "on the curve");
    }
    // the critical accuracy is the curve at confidence 1 − (γ − Δγ) = 0.8
    assert_close(
        iso_accuracy(level, 0.2).unwrap(),
        critical_accuracy(0.9, 0.4, 0.2).unwrap(),
        1e-15,
        0.0,
        "a′ on curve",
    );
    let grid = IsoPerplexityGrid::new(vec![0.5, 0.9], vec![0.6, 0.8]).unwrap();
    assert_close(grid.values[1][0], level, 1e-15, 0.0, "grid[a=0.9][c=0.6]");
    assert!(IsoPerplexityGrid::new(vec![], vec![0.6]).is_err());
    assert!(iso_curve(-1.0, &confidences).is_err());
}

/// Remark 3.4: the folded confidence is the softmax of binary logits [ln(1−γ), ln γ] / θ,
/// computed on the device; and the tempered model's perplexity is pplx(a, γ_θ).
#[test]
fn temperature_fold_matches_device_softmax() {
    for_each_device(|device| {
        for &(gamma, theta) in &[(0.4, 0.5), (0.1, 2.0), (0.3, 1.0), (0.01, 0.25)] {
            let folded = temperature_fold(gamma, theta).unwrap();
            let row = vec![
                ((1.0 - gamma).ln() / theta) as f32,
                (gamma.ln() / theta) as f32,
            ];
            let p =
                burn::tensor::activation::softmax(logits2(std::slice::from_ref(&row), device), 1)
                    .try_into_vec_as::<f32>()
                    .unwrap();
            assert_close(f64::from(p[1]), folded, 1e-6, 0.0, "γ_θ vs softmax");
            // 10 tokens, accuracy 0.7: measured perplexity of the tempered model vs the formula
            let rows: Vec<Vec<f32>> = (0..10).map(|_| row.clone()).collect();
            let targets: Vec<i64> = (0..10).map(|i| i64::from(i >= 7)).collect();
            let mut acc = EvalConfig::new().init().unwrap();
            acc.update_flat(logits2(&rows, device), ids(&targets, [10], device), None)
                .unwrap();
            assert_close(
                acc.log_perplexity().unwrap(),
                pplx(0.7, folded).unwrap(),
                2e-6,
                1e-6,
                "pplx_θ",
            );
        }
        assert!(temperature_fold(0.2, 0.0).is_err());
        assert!(temperature_fold(1.2, 1.0).is_err());
        assert_eq!(temperature_fold(0.0, 3.0).unwrap(), 0.0);
        assert_close(
            tempered_confidence(0.6, 0.5).unwrap(),
            0.36 / (0.36 + 0.16),
            1e-15,
            0.0,
            "c_θ",
        );
    });
}

#[test]
fn boole_bounds_closed_forms() {
    let b = boole_bounds_uniform(0.01, 10).unwrap();
    assert_close(b.error_sum, 0.1, 1e-15, 0.0, "Σγ");
    assert_close(b.correct_lower, 0.9, 1e-15, 0.0, "1 − Σγ");
    assert_close(b.correct_exact, 0.99f64.powi(10), 1e-15, 0.0, "(1−γ)^n");
    assert_close(b.log_perplexity, -(0.99f64.ln()), 1e-15, 0.0, "pplx");
    assert!(b.greedy_certified);
    let big = boole_bounds(&[0.6, 0.7]).unwrap();
    assert_eq!(big.wrong_upper, 1.0);
    assert_eq!(big.correct_lower, 0.0);
    assert!(!big.greedy_certified);
    assert!(boole_bounds(&[]).is_err());
    assert!(boole_bounds(&[0.1, 1.5]).is_err());
}

#[test]
fn iso_perplexity_plot_writes_an_svg() {
    let dir = std::env::temp_dir().join(format!("rigor-ppl-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("iso.svg");
    let cs = IsoPerplexityGrid::linspace(0.5, 0.99, 50);
    let curves = vec![iso_curve(0.5, &cs).unwrap(), iso_curve(0.7, &cs).unwrap()];
    let markers = vec![Marker {
        confidence: 0.6,
        accuracy: 0.9,
        label: "A".into(),
    }];
    plot_iso_perplexity(&path, "iso", &curves, &markers).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline") && svg.contains("circle"));
    std::fs::remove_dir_all(&dir).unwrap();
}
