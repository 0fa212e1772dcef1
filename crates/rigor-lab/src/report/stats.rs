//! The statistics a reproduction table needs.
//!
//! - [`mean_std`]: mean and sample standard deviation $s = \sqrt{\tfrac{1}{k-1}\sum (x_i-\bar x)^2}$.
//! - [`paired_t_test`]: $t = \bar d / (s_d/\sqrt k)$ on the differences $d_i = b_i - a_i$
//!   (k seeds), two-sided p from Student's t with k − 1 degrees of freedom.
//! - [`mcnemar_exact`]: for paired binary outcomes (the same test sets scored by two
//!   normalizers), the exact two-sided binomial test on the discordant pairs.
//! - [`pearson`]: $r = \sum (x_i-\bar x)(y_i-\bar y) / \sqrt{\sum (x_i-\bar x)^2 \sum (y_i-\bar y)^2}$;
//!   [`pearson_bootstrap`]: its percentile bootstrap confidence interval over resampled pairs.
//! - [`micro_f1`]: micro-averaged F1 of token predictions over a label set.

use serde::{Deserialize, Serialize};

use rigor_confidence::regression::special::{ln_gamma, student_t_two_sided};

use crate::error::{LabError, Result};

/// Mean and sample standard deviation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for a single value).
    pub std: f64,
    /// Number of values.
    pub count: usize,
}

/// Mean and sample standard deviation of `xs`.
///
/// # Errors
/// [`LabError::Stats`] for an empty slice.
pub fn mean_std(xs: &[f64]) -> Result<MeanStd> {
    if xs.is_empty() {
        return Err(LabError::Stats("mean of no values"));
    }
    let k = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / k;
    let std = if xs.len() > 1 {
        (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt()
    } else {
        0.0
    };
    Ok(MeanStd {
        mean,
        std,
        count: xs.len(),
    })
}

/// Result of a paired t-test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedTest {
    /// Mean difference $\bar d$ (second minus first).
    pub mean_diff: f64,
    /// t statistic (`±∞` when all differences are equal and non-zero; 0 when all are 0).
    pub t: f64,
    /// Degrees of freedom, k − 1.
    pub df: usize,
    /// Two-sided p-value.
    pub p: f64,
}

/// Paired t-test of `b` against `a` (equal lengths ≥ 2).
///
/// # Errors
/// [`LabError::Stats`] for unequal lengths or fewer than two pairs;
/// [`LabError::Confidence`] if the t statistic is `NaN` (a `NaN` in the samples).
pub fn paired_t_test(a: &[f64], b: &[f64]) -> Result<PairedTest> {
    if a.len() != b.len() {
        return Err(LabError::Stats("paired test needs equal-length samples"));
    }
    if a.len() < 2 {
        return Err(LabError::Stats("paired test needs at least two pairs"));
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let ms = mean_std(&d)?;
    let df = d.len() - 1;
    let se = ms.std / (d.len() as f64).sqrt();
    let (t, p) = if se == 0.0 {
        if ms.mean == 0.0 {
            (0.0, 1.0)
        } else {
            (ms.mean.signum() * f64::INFINITY, 0.0)
        }
    } else {
        let t = ms.mean / se;
        (t, student_t_two_sided(t, df as f64)?)
    };
    Ok(PairedTest {
        mean_diff: ms.mean,
        t,
        df,
        p,
    })
}

/// Exact two-sided McNemar test: `b` pairs where only the first method is right, `c` where only
/// the second is. $p = \min(1, 2\\,P[X \le \min(b,c)])$, $X \sim \mathrm{Bin}(b+c, \tfrac12)$;
/// 1 when there is no discordant pair.
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    // log-space binomial pmf, summed from the tail.
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut tail = 0.0;
    for i in 0..=k {
        tail += (ln_choose(n, i) + ln_half_n).exp();
    }
    (2.0 * tail).min(1.0)
}

fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_std_matches_hand_values() {
        let ms = mean_std(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(ms.mean, 2.5);
        assert!((ms.std - 1.290_994_448_735_805_6).abs() < 1e-12);
        assert_eq!(mean_std(&[5.0]).unwrap().std, 0.0);
        assert!(mean_std(&[]).is_err());
    }

    #[test]
    fn student_t_p_values_match_tables() {
        // Two-sided critical values: t_{0.975, 4} = 2.776445, t_{0.975, 30} = 2.042272,
        // t_{0.995, 2} = 9.924843 (standard tables, 6 digits).
        assert!((student_t_two_sided(2.776_445, 4.0).unwrap() - 0.05).abs() < 1e-5);
        assert!((student_t_two_sided(2.042_272, 30.0).unwrap() - 0.05).abs() < 1e-5);
        assert!((student_t_two_sided(9.924_843, 2.0).unwrap() - 0.01).abs() < 1e-5);
        assert!((student_t_two_sided(0.0, 5.0).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn paired_t_test_on_a_known_example() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [1.5, 2.1, 3.9, 4.2, 5.8];
        let t = paired_t_test(&a, &b).unwrap();
        // d = (0.5, 0.1, 0.9, 0.2, 0.8): mean 0.5, sd 0.353553, t = 3.162278, df 4.
        assert!((t.mean_diff - 0.5).abs() < 1e-12);
        assert!((t.t - 3.162_277_66).abs() < 1e-6);
        assert_eq!(t.df, 4);
        // p = 0.03411 (R: t.test(b, a, paired = TRUE)).
        assert!((t.p - 0.034_11).abs() < 1e-4, "p {}", t.p);
        let same = paired_t_test(&a, &a).unwrap();
        assert_eq!((same.t, same.p), (0.0, 1.0));
        assert!(paired_t_test(&a, &b[..3]).is_err());
    }

    #[test]
    fn mcnemar_exact_matches_binomial() {
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        // b = 0, c = 5: 2 · 0.5⁵ = 0.0625.
        assert!((mcnemar_exact(0, 5) - 0.0625).abs() < 1e-12);
        // b = 2, c = 8: 2 · (1 + 10 + 45)/1024 = 0.109375.
        assert!((mcnemar_exact(2, 8) - 0.109_375).abs() < 1e-12);
        assert_eq!(mcnemar_exact(5, 5), 1.0);
    }
}

/// Pearson's correlation coefficient of paired samples
/// $r = \frac{\sum_i (x_i-\bar x)(y_i-\bar y)}{\sqrt{\sum_i (x_i-\bar x)^2}\sqrt{\sum_i (y_i-\bar y)^2}}$,
/// computed in `f64` after centring (no cancellation from large means).
///
/// # Errors
/// [`LabError::Stats`] for fewer than two pairs, unequal lengths, a non-finite value, or a
/// constant sample (r is undefined, never reported as `NaN`).
pub fn pearson(x: &[f64], y: &[f64]) -> Result<f64> {
    if x.len() != y.len() {
        return Err(LabError::Stats("pearson: samples of unequal length"));
    }
    if x.len() < 2 {
        return Err(LabError::Stats("pearson: need at least two pairs"));
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(LabError::Stats("pearson: a value is not finite"));
    }
    let k = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / k, y.iter().sum::<f64>() / k);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return Err(LabError::Stats("pearson: a sample is constant"));
    }
    Ok((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Pearson's r with a percentile bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// r on the full sample.
    pub r: f64,
    /// Lower end of the interval (`None` without resamples, or when too few resamples had a
    /// defined r).
    pub lo: Option<f64>,
    /// Upper end of the interval.
    pub hi: Option<f64>,
    /// Confidence level of the interval (e.g. 0.95).
    pub level: f64,
    /// Resamples drawn; resamples with a constant side (undefined r) are skipped.
    pub resamples: usize,
    /// Number of pairs.
    pub count: usize,
}

/// [`pearson`] plus a percentile bootstrap interval at `level` from `resamples` resamples of
/// the pairs with replacement (drawn from `rng`). With `resamples == 0` only r is computed.
/// The interval is left out (`None`) when fewer than half the resamples have a defined r.
///
/// # Errors
/// As [`pearson`]; [`LabError::Stats`] unless `0 < level < 1`.
pub fn pearson_bootstrap(
    x: &[f64],
    y: &[f64],
    resamples: usize,
    level: f64,
    rng: &mut crate::rng::LabRng,
) -> Result<Correlation> {
    if !(level > 0.0 && level < 1.0) {
        return Err(LabError::Stats(
            "pearson_bootstrap: level must be in (0, 1)",
        ));
    }
    let r = pearson(x, y)?;
    let n = x.len();
    let mut rs = Vec::with_capacity(resamples);
    let (mut bx, mut by) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..resamples {
        for i in 0..n {
            let j = crate::rng::index(rng, n);
            bx[i] = x[j];
            by[i] = y[j];
        }
        if let Ok(v) = pearson(&bx, &by) {
            rs.push(v);
        }
    }
    let (lo, hi) = if resamples > 0 && rs.len() * 2 >= resamples {
        rs.sort_by(f64::total_cmp);
        let q = |p: f64| rs[((p * (rs.len() - 1) as f64).round() as usize).min(rs.len() - 1)];
        let tail = (1.0 - level) / 2.0;
        (Some(q(tail)), Some(q(1.0 - tail)))
    } else {
        (None, None)
    };
    Ok(Correlation {
        r,
        lo,
        hi,
        level,
        resamples,
        count: n,
    })
}

/// Micro-averaged F1 of predicted against true token ids over the label set `labels`:
/// $$ F_1^{\mu} = \frac{2\\,TP}{2\\,TP + FP + FN}, $$
/// summing over the labels $c$: $TP_c$ = predicted $c$ and true $c$, $FP_c$ = predicted
/// $c$ but true $\ne c$, $FN_c$ = true $c$ but predicted $\ne c$. When every
/// prediction and every target lies in `labels` this equals accuracy; a prediction outside
/// the set (e.g. a separator token where a bit belongs) is a false negative only, which is
/// how micro-F1 differs from accuracy on an LM's free-form output.
///
/// # Errors
/// [`LabError::Stats`] for unequal lengths, an empty input, an empty label set, or when no
/// target and no prediction is in `labels` (F1 undefined).
pub fn micro_f1(predicted: &[i64], target: &[i64], labels: &[i64]) -> Result<f64> {
    if predicted.len() != target.len() {
        return Err(LabError::Stats(
            "micro_f1: predictions and targets differ in length",
        ));
    }
    if predicted.is_empty() || labels.is_empty() {
        return Err(LabError::Stats("micro_f1: empty input or label set"));
    }
    let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
    for (p, t) in predicted.iter().zip(target) {
        let (p_in, t_in) = (labels.contains(p), labels.contains(t));
        if p == t {
            tp += u64::from(t_in);
        } else {
            fp += u64::from(p_in);
            fn_ += u64::from(t_in);
        }
    }
    let denom = 2 * tp + fp + fn_;
    if denom == 0 {
        return Err(LabError::Stats(
            "micro_f1: no prediction or target in the label set",
        ));
    }
    Ok(2.0 * tp as f64 / denom as f64)
}
