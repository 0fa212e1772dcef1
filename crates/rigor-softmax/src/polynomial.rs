//! Polynomials in the coefficient order of `numpy.polyval`: **highest power first**.
//!
//! The adaptive-temperature rule of *Softmax is not Enough* (Veličković et al., ICML 2025, §4)
//! is a quartic in the entropy written for `jnp.polyval`, which reads
//! `[c_0, c_1, …, c_d]` as $c_0 x^d + c_1 x^{d-1} + \dots + c_d$. Evaluating the same list with
//! ascending powers gives a different, wrong function (a public port made exactly this mistake),
//! so the order is part of the type: build with [`Polynomial::highest_first`] or
//! [`Polynomial::ascending`] and the storage is always highest-first.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SoftmaxError, finite};

/// A real polynomial $p(x) = \sum_{i=0}^{d} c_i x^{d-i}$ (coefficients highest power first).
///
/// Always has at least one coefficient and only finite coefficients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f64>", into = "Vec<f64>")]
pub struct Polynomial {
    coefficients: Vec<f64>,
}

impl Polynomial {
    /// The polynomial with coefficients `c` given highest power first (numpy `polyval` order).
    ///
    /// # Errors
    /// [`SoftmaxError::EmptyPolynomial`] for an empty list and
    /// [`SoftmaxError::InvalidParameter`] for a `NaN`/infinite coefficient.
    pub fn highest_first(coefficients: impl Into<Vec<f64>>) -> Result<Self> {
        let coefficients = coefficients.into();
        if coefficients.is_empty() {
            return Err(SoftmaxError::EmptyPolynomial);
        }
        for &c in &coefficients {
            finite("polynomial coefficient", c)?;
        }
        Ok(Self { coefficients })
    }

    /// The polynomial with coefficients given lowest power first ($c_0 + c_1 x + \dots$).
    ///
    /// # Errors
    /// As [`Polynomial::highest_first`].
    pub fn ascending(coefficients: impl Into<Vec<f64>>) -> Result<Self> {
        let mut c = coefficients.into();
        c.reverse();
        Self::highest_first(c)
    }

    /// The coefficients, highest power first.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// The degree (the constant polynomial has degree 0).
    pub fn degree(&self) -> usize {
        self.coefficients.len() - 1
    }

    /// $p(x)$ by Horner's rule, in `f64`.
    pub fn eval(&self, x: f64) -> f64 {
        self.coefficients.iter().fold(0.0, |acc, &c| acc * x + c)
    }

    /// The derivative $p^\prime(x)$ as a polynomial (the zero constant for a constant $p$).
    pub fn derivative(&self) -> Polynomial {
        let d = self.degree();
        if d == 0 {
            return Polynomial {
                coefficients: vec![0.0],
            };
        }
        let coefficients = self.coefficients[..d]
            .iter()
            .enumerate()
            .map(|(i, &c)| c * (d - i) as f64)
            .collect();
        Polynomial { coefficients }
    }

    /// $\max_{x \in [lo, hi]} p(x)$, found from the end points and the real roots of $p^\prime$
    /// (roots are bracketed on a fine grid and refined by bisection to machine precision).
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidParameter`] unless `lo <= hi` are finite.
    pub fn max_on(&self, lo: f64, hi: f64) -> Result<f64> {
        finite("lo", lo)?;
        finite("hi", hi)?;
        if lo > hi {
            return Err(SoftmaxError::InvalidParameter {
                name: "lo",
                value: lo,
                reason: "must be <= hi",
            });
        }
        let dp = self.derivative();
        let mut best = self.eval(lo).max(self.eval(hi));
        const GRID: usize = 4096;
        let step = (hi - lo) / GRID as f64;
        let mut a = lo;
        let mut fa = dp.eval(a);
        for i in 1..=GRID {
            let b = if i == GRID { hi } else { lo + step * i as f64 };
            let fb = dp.eval(b);
            if fa == 0.0 {
                best = best.max(self.eval(a));
            } else if fa.signum() != fb.signum() {
                let (mut l, mut r, mut fl) = (a, b, fa);
                for _ in 0..200 {
                    let m = 0.5 * (l + r);
                    if m <= l || m >= r {
                        break;
                    }
                    let fm = dp.eval(m);
                    if fm.signum() == fl.signum() {
                        l = m;
                        fl = fm;
                    } else {
                        r = m;
                    }
                }
                best = best.max(self.eval(0.5 * (l + r)));
            }
            a = b;
            fa = fb;
        }
        Ok(best)
    }

    /// Evaluates $p$ element-wise on a tensor by Horner's rule (on the tensor's device; the
    /// coefficients are applied as `f64` scalars, so no precision is lost in the constants).
    /// Differentiable with respect to `x`.
    pub fn eval_tensor<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let (first, rest) = self
            .coefficients
            .split_first()
            .expect("Polynomial always has a coefficient");
        if rest.is_empty() {
            return x.zeros_like().add_scalar(*first);
        }
        let mut acc = x.clone().mul_scalar(*first).add_scalar(rest[0]);
        for &c in &rest[1..] {
            acc = acc.mul(x.clone()).add_scalar(c);
        }
        acc
    }
}

impl TryFrom<Vec<f64>> for Polynomial {
    type Error = SoftmaxError;
    fn try_from(value: Vec<f64>) -> Result<Self> {
        Self::highest_first(value)
    }
}

impl From<Polynomial> for Vec<f64> {
    fn from(p: Polynomial) -> Self {
        p.coefficients
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyval_order_is_highest_power_first() {
        // 2x^2 + 3x + 5 at x = 10 is 235; the reversed reading 5x^2 + 3x + 2 would be 532.
        let p = Polynomial::highest_first([2.0, 3.0, 5.0]).unwrap();
        assert_eq!(p.eval(10.0), 235.0);
        let q = Polynomial::ascending([5.0, 3.0, 2.0]).unwrap();
        assert_eq!(p, q);
    }

    #[test]
    fn derivative_and_max() {
        // -(x-1)^2 + 4 = -x^2 + 2x + 3, max 4 at x = 1.
        let p = Polynomial::highest_first([-1.0, 2.0, 3.0]).unwrap();
        assert_eq!(p.derivative().coefficients(), &[-2.0, 2.0]);
        assert!((p.max_on(-5.0, 5.0).unwrap() - 4.0).abs() < 1e-12);
        // On an interval without the critical point the max is at an end.
        assert!((p.max_on(2.0, 3.0).unwrap() - 3.0).abs() < 1e-12);
    }

    #[test]
    fn invalid_polynomials_are_errors() {
        assert_eq!(
            Polynomial::highest_first(Vec::<f64>::new()),
            Err(SoftmaxError::EmptyPolynomial)
        );
        assert!(matches!(
            Polynomial::highest_first([1.0, f64::NAN]),
            Err(SoftmaxError::InvalidParameter { .. })
        ));
        let p = Polynomial::highest_first([1.0]).unwrap();
        assert!(p.max_on(1.0, 0.0).is_err());
    }
}
