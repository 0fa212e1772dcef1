//! Beta regression with a logit link, fitted by maximum likelihood (Ferrari &
//! Cribari-Neto, 2004).
//!
//! For responses $y_i \in (0, 1)$ and covariates $x_i$:
//! $y_i \sim \operatorname{Beta}(\mu_i\varphi, (1-\mu_i)\varphi)$, $\mu_i = \sigma(x_i^\top\beta)$,
//! so $\mathbb E(y_i) = \mu_i$ and $\operatorname{Var}(y_i) = \mu_i(1-\mu_i)/(1+\varphi)$. The
//! log-likelihood is
//!
//! $$\ell(\beta, \varphi) = \sum_i \ln\Gamma(\varphi) - \ln\Gamma(\mu_i\varphi) - \ln\Gamma((1-\mu_i)\varphi) +
//!   (\mu_i\varphi - 1)\ln y_i + ((1-\mu_i)\varphi - 1)\ln(1-y_i).$$
//!
//! With $y^\*_i = \operatorname{logit} y_i$ and $\mu^\*_i = \psi(\mu_i\varphi) - \psi((1-\mu_i)\varphi)$
//! the score is $\partial\ell/\partial\beta = \sum_i \varphi (y^\*_i - \mu^\*_i)\\,\mu_i(1-\mu_i)\\,x_i$
//! and, in $\tau = \ln\varphi$,
//! $\partial\ell/\partial\tau = \varphi\sum_i \big[\mu_i(y^\*_i - \mu^\*_i) + \ln(1-y_i) - \psi((1-\mu_i)\varphi) + \psi(\varphi)\big]$.
//!
//! **Optimiser** (hand-rolled: there are at most six parameters): damped Newton on
//! $(\beta, \tau)$ with the analytic score, the Hessian by central differences of the score,
//! Levenberg damping whenever $-H$ is not positive definite, and a backtracking line search
//! that never lets $\ell$ decrease. Start: least squares of $\operatorname{logit} y$ on $x$,
//! and $\varphi$ from the moment relation above. Converged when every score component is below
//! `tolerance` × n.

use serde::{Deserialize, Serialize};

use super::linalg::{cholesky, cholesky_solve};
use super::special::{digamma, ln_gamma};
use crate::error::{ConfidenceError, Result};
use crate::logodds::{logit, sigmoid};

const MU_FLOOR: f64 = 1e-12;
const TAU_RANGE: (f64, f64) = (-10.0, 20.0);

/// Settings of the optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BetaFitConfig {
    /// Maximum Newton iterations.
    pub max_iter: usize,
    /// Convergence threshold on the score, per observation.
    pub tolerance: f64,
}

impl Default for BetaFitConfig {
    fn default() -> Self {
        Self {
            max_iter: 200,
            tolerance: 1e-9,
        }
    }
}

/// A fitted beta regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BetaFit {
    /// $\hat\beta$.
    pub beta: Vec<f64>,
    /// $\hat\varphi$.
    pub precision: f64,
    /// $\ell(\hat\beta, \hat\varphi)$.
    pub log_likelihood: f64,
    /// Newton iterations used.
    pub iterations: usize,
}

fn mu_of(x: &[f64], beta: &[f64]) -> f64 {
    let eta: f64 = x.iter().zip(beta).map(|(a, b)| a * b).sum();
    sigmoid(eta).clamp(MU_FLOOR, 1.0 - MU_FLOOR)
}

/// $\ell(\beta, \varphi)$ of the module docs.
pub fn beta_log_likelihood(x: &[Vec<f64>], y: &[f64], beta: &[f64], precision: f64) -> f64 {
    let phi = precision;
    let lg_phi = ln_gamma(phi);
    x.iter()
        .zip(y)
        .map(|(xi, &yi)| {
            let mu = mu_of(xi, beta);
            lg_phi - ln_gamma(mu * phi) - ln_gamma((1.0 - mu) * phi)
                + (mu * phi - 1.0) * yi.ln()
                + ((1.0 - mu) * phi - 1.0) * (1.0 - yi).ln()
        })
        .sum()
}

fn ll_theta(x: &[Vec<f64>], y: &[f64], theta: &[f64]) -> f64 {
    let p = theta.len() - 1;
    let tau = theta[p];
    if !(TAU_RANGE.0..=TAU_RANGE.1).contains(&tau) {
        return f64::NEG_INFINITY;
    }
    beta_log_likelihood(x, y, &theta[..p], tau.exp())
}

/// Score $\nabla_{(\beta,\tau)}\ell$.
fn score(x: &[Vec<f64>], y: &[f64], theta: &[f64]) -> Vec<f64> {
    let p = theta.len() - 1;
    let phi = theta[p].exp();
    let psi_phi = digamma(phi);
    let mut g = vec![0.0; p + 1];
    for (xi, &yi) in x.iter().zip(y) {
        let mu = mu_of(xi, &theta[..p]);
        let psi_b = digamma((1.0 - mu) * phi);
        let ystar = logit(yi);
        let mustar = digamma(mu * phi) - psi_b;
        let w = phi * (ystar - mustar) * mu * (1.0 - mu);
        for j in 0..p {
            g[j] += w * xi[j];
        }
        g[p] += phi * (mu * (ystar - mustar) + (1.0 - yi).ln() - psi_b + psi_phi);
    }
    g
}

fn hessian(x: &[Vec<f64>], y: &[f64], theta: &[f64]) -> Vec<Vec<f64>> {
    let k = theta.len();
    let mut h = vec![vec![0.0; k]; k];
    for j in 0..k {
        let step = 1e-5 * (1.0 + theta[j].abs());
        let mut up = theta.to_vec();
        let mut down = theta.to_vec();
        up[j] += step;
        down[j] -= step;
        let (gu, gd) = (score(x, y, &up), score(x, y, &down));
        for i in 0..k {
            h[i][j] = (gu[i] - gd[i]) / (2.0 * step);
        }
    }
    (0..k)
        .map(|i| (0..k).map(|j| (h[i][j] + h[j][i]) / 2.0).collect())
        .collect()
}

fn check_inputs(x: &[Vec<f64>], y: &[f64]) -> Result<usize> {
    if x.len() != y.len() {
        return Err(ConfidenceError::LengthMismatch {
            what: "beta regression (rows of x vs y)",
            left: x.len(),
            right: y.len(),
        });
    }
    let p = x.first().map_or(0, Vec::len);
    if p == 0 {
        return Err(ConfidenceError::EmptyInput {
            what: "beta regression",
        });
    }
    if let Some(row) = x.iter().find(|r| r.len() != p) {
        return Err(ConfidenceError::LengthMismatch {
            what: "beta regression (row lengths)",
            left: row.len(),
            right: p,
        });
    }
    if let Some(v) = x.iter().flatten().find(|v| !v.is_finite()) {
        return Err(ConfidenceError::InvalidParameter {
            name: "covariate",
            value: *v,
            reason: "must be finite",
        });
    }
    if let Some(&v) = y.iter().find(|v| !(**v > 0.0 && **v < 1.0)) {
        return Err(ConfidenceError::InvalidParameter {
            name: "response y",
            value: v,
            reason: "beta regression needs y strictly inside (0, 1): clamp it first",
        });
    }
    if y.len() < p + 2 {
        return Err(ConfidenceError::FitFailed {
            model: "beta regression".into(),
            reason: format!("{} observations for {} parameters", y.len(), p + 1),
        });
    }
    Ok(p)
}

/// Least squares of $\operatorname{logit} y$ on $x$ (the starting point), or `None` if
/// $x^\top x$ is singular — a column is constant zero or collinear with others.
fn least_squares(x: &[Vec<f64>], y: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut xtx = vec![vec![0.0; p]; p];
    let mut xty = vec![0.0; p];
    for (xi, &yi) in x.iter().zip(y) {
        let t = logit(yi);
        for a in 0..p {
            xty[a] += xi[a] * t;
            for b in 0..p {
                xtx[a][b] += xi[a] * xi[b];
            }
        }
    }
    let scale = (0..p).map(|a| xtx[a][a]).fold(0.0, f64::max);
    // Reject designs whose normal matrix is singular relative to its scale.
    let l = cholesky(&xtx)?;
    let min_pivot = (0..p)
        .map(|a| l[a][a] * l[a][a])
        .fold(f64::INFINITY, f64::min);
    if min_pivot < 1e-10 * scale {
        return None;
    }
    Some(cholesky_solve(&l, &xty))
}

/// Fits the beta regression of `y` on the rows of `x` (include a column of ones for an
/// intercept). `model` names the fit in error messages.
pub fn fit_beta_regression(
    x: &[Vec<f64>],
    y: &[f64],
    config: &BetaFitConfig,
    model: &str,
) -> Result<BetaFit> {
    let p = check_inputs(x, y)?;
    let failed = |reason: String| ConfidenceError::FitFailed {
        model: model.to_string(),
        reason,
    };
    let beta0 = least_squares(x, y, p).ok_or_else(|| {
        failed("the design matrix is singular (a covariate is constant zero or collinear with others in these data)".into())
    })?;
    let n = y.len() as f64;
    let var: f64 = x
        .iter()
        .zip(y)
        .map(|(xi, &yi)| (yi - mu_of(xi, &beta0)).powi(2))
        .sum::<f64>()
        / n;
    let mean_mv: f64 = x
        .iter()
        .map(|xi| {
            let m = mu_of(xi, &beta0);
            m * (1.0 - m)
        })
        .sum::<f64>()
        / n;
    let phi0 = (mean_mv / var.max(1e-12) - 1.0).clamp(1.0, 1e4);
    let mut theta: Vec<f64> = beta0
        .into_iter()
        .chain(std::iter::once(phi0.ln()))
        .collect();
    let mut ll = ll_theta(x, y, &theta);
    if !ll.is_finite() {
        return Err(failed(format!(
            "non-finite log-likelihood {ll} at the start"
        )));
    }
    let mut lambda = 0.0;
    for it in 0..config.max_iter {
        let iterations = it + 1;
        let g = score(x, y, &theta);
        if g.iter().all(|v| v.abs() <= config.tolerance * n) {
            return finish(theta, ll, iterations, p);
        }
        let h = hessian(x, y, &theta);
        let k = theta.len();
        let scale = (0..k).map(|i| h[i][i].abs()).fold(1e-8, f64::max);
        let mut improved = false;
        for _ in 0..30 {
            let neg_h: Vec<Vec<f64>> = (0..k)
                .map(|i| {
                    (0..k)
                        .map(|j| -h[i][j] + if i == j { lambda * scale } else { 0.0 })
                        .collect()
                })
                .collect();
            let Some(l) = cholesky(&neg_h) else {
                lambda = if lambda == 0.0 { 1e-6 } else { lambda * 10.0 };
                continue;
            };
            let d = cholesky_solve(&l, &g);
            let mut s = 1.0;
            for _ in 0..40 {
                let cand: Vec<f64> = theta.iter().zip(&d).map(|(t, di)| t + s * di).collect();
                let cll = ll_theta(x, y, &cand);
                if cll.is_finite() && cll > ll {
                    improved = true;
                    theta = cand;
                    ll = cll;
                    break;
                }
                s /= 2.0;
            }
            if improved {
                lambda /= 10.0;
                if lambda < 1e-12 {
                    lambda = 0.0;
                }
                break;
            }
            lambda = if lambda == 0.0 { 1e-6 } else { lambda * 10.0 };
        }
        if !improved {
            // No ascent direction improves ℓ: we are at the optimum to working precision,
            // unless the score is still large.
            let g = score(x, y, &theta);
            let gmax = g.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            if gmax <= 1e-4 * n {
                return finish(theta, ll, iterations, p);
            }
            return Err(failed(stall_reason(&theta, p, gmax)));
        }
    }
    let gmax = score(x, y, &theta)
        .iter()
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    Err(failed(format!(
        "no convergence in {} iterations ({})",
        config.max_iter,
        stall_reason(&theta, p, gmax)
    )))
}

/// Explains a failed fit; the common cause is responses that are an exact function of the
/// covariates (the ideal observer), for which φ has no finite maximum-likelihood estimate.
fn stall_reason(theta: &[f64], p: usize, gmax: f64) -> String {
    if theta[p] > TAU_RANGE.1 - 2.0 {
        format!(
            "the precision diverges (φ > {:.1e}): the responses are an exact function of the \
             covariates, as for the noise-free ideal observer, so φ has no finite ML estimate",
            theta[p].exp()
        )
    } else {
        format!("line search stalled with score {gmax:.3e}")
    }
}

fn finish(theta: Vec<f64>, ll: f64, iterations: usize, p: usize) -> Result<BetaFit> {
    let tau = theta[p];
    Ok(BetaFit {
        beta: theta[..p].to_vec(),
        precision: tau.exp(),
        log_likelihood: ll,
        iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analytic_score_matches_finite_differences_of_the_log_likelihood() {
        let x: Vec<Vec<f64>> = (0..20)
            .map(|i| vec![1.0, (i as f64 - 10.0) / 5.0])
            .collect();
        let y: Vec<f64> = (0..20).map(|i| 0.05 + 0.9 * (i as f64 / 19.0)).collect();
        let theta = [0.2, 0.7, 1.3];
        let g = score(&x, &y, &theta);
        for j in 0..3 {
            let h = 1e-6;
            let mut up = theta.to_vec();
            let mut down = theta.to_vec();
            up[j] += h;
            down[j] -= h;
            let fd = (ll_theta(&x, &y, &up) - ll_theta(&x, &y, &down)) / (2.0 * h);
            assert!(
                (fd - g[j]).abs() < 1e-4 * (1.0 + fd.abs()),
                "{j}: {fd} vs {}",
                g[j]
            );
        }
    }

    #[test]
    fn singular_designs_and_bad_responses_are_errors() {
        let x: Vec<Vec<f64>> = (0..10).map(|i| vec![1.0, i as f64, 0.0]).collect();
        let y = vec![0.5; 10];
        assert!(matches!(
            fit_beta_regression(&x, &y, &BetaFitConfig::default(), "m"),
            Err(ConfidenceError::FitFailed { .. })
        ));
        let x: Vec<Vec<f64>> = (0..10).map(|i| vec![1.0, i as f64]).collect();
        let mut y = vec![0.5; 10];
        y[3] = 1.0;
        assert!(fit_beta_regression(&x, &y, &BetaFitConfig::default(), "m").is_err());
    }

    #[test]
    fn noise_free_responses_are_reported_as_a_diverging_precision() {
        // y exactly σ(0.3 + 0.8 x): the ML precision is infinite.
        let x: Vec<Vec<f64>> = (0..50)
            .map(|i| vec![1.0, (i as f64 - 25.0) / 10.0])
            .collect();
        let y: Vec<f64> = x.iter().map(|r| sigmoid(0.3 + 0.8 * r[1])).collect();
        let err = fit_beta_regression(&x, &y, &BetaFitConfig::default(), "m").unwrap_err();
        assert!(err.to_string().contains("precision diverges"), "{err}");
    }
}
