//! Remark 3.4 (S3): temperature folds into confidence.
//!
//! A binary prediction with confidence $1-\gamma$ sampled at temperature $\theta$ has
//! confidence
//! $$c_\theta = \frac{(1-\gamma)^{1/\theta}}{(1-\gamma)^{1/\theta} + \gamma^{1/\theta}},
//! \qquad\text{i.e.}\qquad \operatorname{logit}(c_\theta) = \operatorname{logit}(1-\gamma)/\theta,$$
//! so every statement about a confidence-$(1-\gamma)$ model at temperature $\theta$ is a
//! statement about a confidence-$c_\theta$ model at temperature 1:
//! $\operatorname{pplx}\_\theta(a, \gamma) = \operatorname{pplx}(a, 1 - c_\theta)$.

use crate::error::{PerplexityError, Result, finite, in_closed};

/// The error rate $\gamma_\theta = 1 - c_\theta = \sigma\bigl((\log\gamma - \log(1-\gamma))/\theta\bigr)$
/// after folding temperature $\theta$ into confidence (Remark 3.4), computed through the
/// logit so it neither underflows nor overflows; $\gamma \in \\{0, 1\\}$ are fixed points.
///
/// # Errors
/// [`PerplexityError::InvalidParameter`] unless $\gamma \in [0, 1]$ and $\theta$ is finite and
/// $> 0$.
pub fn temperature_fold(gamma: f64, theta: f64) -> Result<f64> {
    let g = in_closed("gamma", gamma, 0.0, 1.0, "must be in [0, 1]")?;
    let t = finite("theta", theta)?;
    if t <= 0.0 {
        return Err(PerplexityError::InvalidParameter {
            name: "theta",
            value: theta,
            reason: "temperature must be > 0",
        });
    }
    if g == 0.0 || g == 1.0 {
        return Ok(g);
    }
    let z = (g.ln() - (1.0 - g).ln()) / t;
    Ok(if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    })
}

/// The folded confidence $c_\theta = 1 - \gamma_\theta$ (see [`temperature_fold`]).
///
/// # Errors
/// As [`temperature_fold`].
pub fn tempered_confidence(confidence: f64, theta: f64) -> Result<f64> {
    let c = in_closed("confidence", confidence, 0.0, 1.0, "must be in [0, 1]")?;
    Ok(1.0 - temperature_fold(1.0 - c, theta)?)
}
