//! Least-squares polynomial fit by Householder QR (no normal equations).
//!
//! A 5-coefficient fit needs no linear-algebra dependency: a column-scaled Vandermonde matrix
//! and Householder QR in `f64` are accurate to ~1e-12 here, and keep the crate light.

use crate::error::{Result, SoftmaxError, finite};
use crate::polynomial::Polynomial;

/// Fits $p$ of degree `degree` minimising $\sum_i (p(x_i) - y_i)^2$ over samples `(x_i, y_i)`.
///
/// # Errors
/// [`SoftmaxError::InvalidParameter`] for a non-finite sample and
/// [`SoftmaxError::UnderdeterminedFit`] with fewer than `degree + 1` distinct `x` values.
pub fn fit_polynomial(samples: &[(f64, f64)], degree: usize) -> Result<Polynomial> {
    for &(x, y) in samples {
        finite("sample x", x)?;
        finite("sample y", y)?;
    }
    let k = degree + 1;
    let mut xs: Vec<f64> = samples.iter().map(|s| s.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    if xs.len() < k {
        return Err(SoftmaxError::UnderdeterminedFit {
            degree,
            samples: samples.len(),
            distinct: xs.len(),
            needed: k,
        });
    }
    let m = samples.len();
    // Column j holds x^j (ascending), scaled to unit norm for conditioning.
    let mut a = vec![vec![0.0f64; m]; k];
    for (i, &(x, _)) in samples.iter().enumerate() {
        let mut p = 1.0;
        for col in a.iter_mut() {
            col[i] = p;
            p *= x;
        }
    }
    let scale: Vec<f64> = a
        .iter()
        .map(|c| {
            c.iter()
                .map(|v| v * v)
                .sum::<f64>()
                .sqrt()
                .max(f64::MIN_POSITIVE)
        })
        .collect();
    for (col, s) in a.iter_mut().zip(&scale) {
        col.iter_mut().for_each(|v| *v /= s);
    }
    let mut b: Vec<f64> = samples.iter().map(|s| s.1).collect();
    // Householder QR: A = QR, then R c = Qᵀ b.
    for j in 0..k {
        let norm = a[j][j..].iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let alpha = if a[j][j] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = a[j][j..].to_vec();
        v[0] -= alpha;
        let vnorm2: f64 = v.iter().map(|x| x * x).sum();
        if vnorm2 == 0.0 {
            continue;
        }
        let reflect = |col: &mut [f64]| {
            let dot: f64 = col.iter().zip(&v).map(|(c, w)| c * w).sum();
            let f = 2.0 * dot / vnorm2;
            col.iter_mut().zip(&v).for_each(|(c, w)| *c -= f * w);
        };
        for col in a.iter_mut().skip(j) {
            reflect(&mut col[j..]);
        }
        reflect(&mut b[j..]);
    }
    let rmax = (0..k).map(|j| a[j][j].abs()).fold(0.0, f64::max);
    let mut c = vec![0.0f64; k];
    for j in (0..k).rev() {
        let r = a[j][j];
        if r.abs() <= 1e-13 * rmax {
            return Err(SoftmaxError::UnderdeterminedFit {
                degree,
                samples: m,
                distinct: xs.len(),
                needed: k,
            });
        }
        let s: f64 = (j + 1..k).map(|l| a[l][j] * c[l]).sum();
        c[j] = (b[j] - s) / r;
    }
    let ascending: Vec<f64> = c.iter().zip(&scale).map(|(c, s)| c / s).collect();
    Polynomial::ascending(ascending)
}
