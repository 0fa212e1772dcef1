//! Adaptive-temperature softmax, *Softmax is not Enough* (Veličković et al., ICML 2025), §4.
//!
//! The paper's JAX listing, reproduced exactly (defaults of [`AdaptiveTemperatureConfig`]):
//!
//! $$p = \operatorname{softmax}(e), \qquad H = \sum_k -p_k \log(p_k + 10^{-9})$$
//! $$\beta = \begin{cases} 1 & H \le 0.5 \\\\
//!   \max\bigl(\mathrm{poly}(H), 1\bigr) & H > 0.5\end{cases}
//!   \qquad \mathrm{poly}(H) = -0.037H^4 + 0.481H^3 - 2.3H^2 + 4.917H - 1.791$$
//! $$\operatorname{out} = \operatorname{softmax}(\beta \cdot e)$$
//!
//! $\beta = 1/\theta \ge 1$ always, so the rule never *raises* the entropy; it only sharpens rows
//! whose entropy lies where the polynomial exceeds 1 ($H \in (\approx 0.849, \approx 5.94)$ for
//! the paper's fit, with its peak $\beta \approx 2.42$ near $H \approx 4.41$). The polynomial is
//! evaluated **highest power first** (`numpy.polyval` order).
//!
//! In the paper's code the gradient flows through β (there is no `stop_gradient`), which is the
//! default here; [`AdaptiveTemperatureConfig::detach_beta`] treats β as a constant instead.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SoftmaxError, finite};
use crate::normalizer::Normalizer;
use crate::normalizer::softmax::{entropy_from_logs, log_softmax_resolved, softmax_resolved};
use crate::polynomial::Polynomial;
use crate::validate::{resolve_dim, scale_keeping_masks};

/// The paper's fitted polynomial β(H), highest power first.
pub const PAPER_POLYNOMIAL: [f64; 5] = [-0.037, 0.481, -2.3, 4.917, -1.791];
/// The paper's entropy threshold: rows with H ≤ 0.5 nats are left alone.
pub const PAPER_THRESHOLD: f64 = 0.5;
/// The $\varepsilon$ inside the paper's entropy, $\log(p + \varepsilon)$.
pub const PAPER_ENTROPY_EPSILON: f64 = 1e-9;

/// Hyper-parameters of the adaptive-temperature rule; the defaults are the paper's.
///
/// Validate with [`AdaptiveTemperatureConfig::init`] (or `AdaptiveTemperature::try_from`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveTemperatureConfig {
    /// β(H) coefficients, highest power first (numpy `polyval` order).
    pub polynomial: Vec<f64>,
    /// Rows whose entropy (nats) is `<=` this keep β = 1.
    pub threshold: f64,
    /// $\varepsilon$ in the entropy estimate $H = -\sum p \log(p + \varepsilon)$; `0` gives the
    /// exact entropy.
    pub entropy_epsilon: f64,
    /// If `true`, β is a constant for autodiff (no gradient flows through the entropy).
    /// The paper's code lets the gradient flow (`false`).
    pub detach_beta: bool,
}

impl Default for AdaptiveTemperatureConfig {
    fn default() -> Self {
        Self {
            polynomial: PAPER_POLYNOMIAL.to_vec(),
            threshold: PAPER_THRESHOLD,
            entropy_epsilon: PAPER_ENTROPY_EPSILON,
            detach_beta: false,
        }
    }
}

impl AdaptiveTemperatureConfig {
    /// Validates the configuration.
    ///
    /// # Errors
    /// [`SoftmaxError::EmptyPolynomial`], or [`SoftmaxError::InvalidParameter`] for a
    /// non-finite coefficient or threshold, or an ε that is negative or not finite.
    pub fn init(self) -> Result<AdaptiveTemperature> {
        AdaptiveTemperature::try_from(self)
    }
}

/// A validated adaptive-temperature rule (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    try_from = "AdaptiveTemperatureConfig",
    into = "AdaptiveTemperatureConfig"
)]
pub struct AdaptiveTemperature {
    polynomial: Polynomial,
    threshold: f64,
    entropy_epsilon: f64,
    detach_beta: bool,
}

impl Default for AdaptiveTemperature {
    /// The paper's rule.
    fn default() -> Self {
        AdaptiveTemperatureConfig::default()
            .init()
            .expect("the paper's configuration is valid")
    }
}

impl TryFrom<AdaptiveTemperatureConfig> for AdaptiveTemperature {
    type Error = SoftmaxError;
    fn try_from(c: AdaptiveTemperatureConfig) -> Result<Self> {
        let polynomial = Polynomial::highest_first(c.polynomial)?;
        let threshold = finite("threshold", c.threshold)?;
        let entropy_epsilon = finite("entropy_epsilon", c.entropy_epsilon)?;
        if entropy_epsilon < 0.0 {
            return Err(SoftmaxError::InvalidParameter {
                name: "entropy_epsilon",
                value: entropy_epsilon,
                reason: "must be >= 0",
            });
        }
        Ok(Self {
            polynomial,
            threshold,
            entropy_epsilon,
            detach_beta: c.detach_beta,
        })
    }
}

impl From<AdaptiveTemperature> for AdaptiveTemperatureConfig {
    fn from(a: AdaptiveTemperature) -> Self {
        Self {
            polynomial: a.polynomial.into(),
            threshold: a.threshold,
            entropy_epsilon: a.entropy_epsilon,
            detach_beta: a.detach_beta,
        }
    }
}

impl AdaptiveTemperature {
    /// The β(H) polynomial.
    pub fn polynomial(&self) -> &Polynomial {
        &self.polynomial
    }

    /// The entropy threshold (nats).
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The ε in the entropy estimate.
    pub fn entropy_epsilon(&self) -> f64 {
        self.entropy_epsilon
    }

    /// Whether β is detached from the autodiff graph.
    pub fn detach_beta(&self) -> bool {
        self.detach_beta
    }

    /// β for a given entropy, on the host: `1` if `h <= threshold`, else `max(poly(h), 1)`.
    /// A `NaN` entropy gives a `NaN` β (as a `NaN` row gives `NaN` weights on the device).
    pub fn beta_for_entropy(&self, h: f64) -> f64 {
        if h.is_nan() {
            f64::NAN
        } else if h > self.threshold {
            self.polynomial.eval(h).max(1.0)
        } else {
            1.0
        }
    }

    /// The largest β the rule can produce for rows of `n` items (entropy in `[0, ln n]`).
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidParameter`] if `n == 0`.
    pub fn max_beta(&self, n: usize) -> Result<f64> {
        if n == 0 {
            return Err(SoftmaxError::InvalidParameter {
                name: "n",
                value: 0.0,
                reason: "must be >= 1",
            });
        }
        let hi = (n as f64).ln();
        if hi <= self.threshold {
            return Ok(1.0);
        }
        let lo = self.threshold.max(0.0);
        Ok(self.polynomial.max_on(lo, hi)?.max(1.0))
    }

    /// The paper's entropy estimate $H = \sum_k -p_k\log(p_k + \varepsilon)$ of softmax(`logits`),
    /// with masked entries contributing 0, along a resolved `dim` (kept with size 1).
    pub(crate) fn entropy_estimate<const D: usize>(
        &self,
        logits: Tensor<D>,
        dim: usize,
    ) -> Tensor<D> {
        if self.entropy_epsilon == 0.0 {
            // Exact entropy from log-softmax: log p is finite wherever the logit is (even
            // where p underflows to 0), so neither value nor gradient meets 0 · (−∞); the
            // form log(p) with −∞ zeroed afterwards had a NaN gradient at every p = 0.
            let log_p = log_softmax_resolved(logits, dim);
            let p = log_p.clone().exp();
            return entropy_from_logs(p, log_p, dim);
        }
        let p = softmax_resolved(logits, dim);
        let log_p = p.clone().add_scalar(self.entropy_epsilon).log();
        (p * log_p).sum_dim(dim).neg()
    }

    /// β per row along a resolved `dim` (kept with size 1), from the entropy estimate.
    pub(crate) fn beta_resolved<const D: usize>(&self, logits: Tensor<D>, dim: usize) -> Tensor<D> {
        let h = self.entropy_estimate(logits, dim);
        let low = h.clone().lower_equal_elem(self.threshold);
        let beta = self
            .polynomial
            .eval_tensor(h)
            .clamp_min(1.0)
            .mask_fill(low, 1.0);
        if self.detach_beta {
            beta.detach()
        } else {
            beta
        }
    }

    /// Applies the rule along a resolved `dim`, returning the weights and β (size-1 `dim`).
    pub(crate) fn apply_resolved<const D: usize>(
        &self,
        logits: Tensor<D>,
        dim: usize,
    ) -> (Tensor<D>, Tensor<D>) {
        let beta = self.beta_resolved(logits.clone(), dim);
        let out = softmax_resolved(scale_keeping_masks(logits, beta.clone(), dim), dim);
        (out, beta)
    }
}

/// Adaptive-temperature softmax along `dim` with the rule `rule`
/// (use `&AdaptiveTemperature::default()` for the paper's).
///
/// $\operatorname{softmax}(\beta(H(e))\\, e)$ — see the [module docs](self) for $\beta(H)$.
/// Masked entries get weight 0; a fully masked row has $H = 0$, $\beta = 1$ and all-zero weights.
/// Rows with `NaN`/`+∞` are `NaN`. Fused on Flex (see [`crate::kernel`]);
/// [`adaptive_temperature_softmax_reference`] is the composed version.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn adaptive_temperature_softmax<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    rule: &AdaptiveTemperature,
) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(Normalizer::Adaptive(rule.clone()).apply_resolved(logits, dim))
}

/// [`adaptive_temperature_softmax`] through the composed reference ops only.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn adaptive_temperature_softmax_reference<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    rule: &AdaptiveTemperature,
) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(rule.apply_resolved(logits, dim).0)
}

/// As [`adaptive_temperature_softmax`], also returning β per row (the same shape as the
/// weights, with `dim` of size 1) for diagnostics. On the fused path β carries no gradient
/// (the weights' gradient still flows through β).
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn adaptive_temperature_softmax_with_beta<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    rule: &AdaptiveTemperature,
) -> Result<(Tensor<D>, Tensor<D>)> {
    let (p, beta) = Normalizer::Adaptive(rule.clone()).apply_with_beta(logits, dim)?;
    Ok((p, beta.expect("adaptive temperature reports β")))
}
