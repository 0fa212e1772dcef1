//! Boole (union) bounds for copying an $n$-token string (S3, Remark 3.5 / Prop. 3.6 —
//! **as derived here**; the exact statement in arXiv 2601.22950 was not available to check).
//!
//! Let $\gamma_k = 1 - T(b \mid o_{<k})(b_k)$ be the model's error probability at copy step
//! $k$ given the correct prefix. Then:
//!
//! 1. **Sampled copy.** The copy is fully correct with probability exactly
//!    $\prod_k (1 - \gamma_k) = e^{-n\\,\operatorname{pplx}(b)}$, and by Boole's inequality
//!    $$\Pr[\text{wrong}] \le \sum_k \gamma_k, \qquad \Pr[\text{correct}] \ge 1 - \sum_k \gamma_k .$$
//! 2. **Through perplexity.** Since $\gamma \le -\log(1-\gamma)$,
//!    $\sum_k \gamma_k \le n\\,\operatorname{pplx}(b)$, so
//!    $\Pr[\text{wrong}] \le \min(1, n\\,\operatorname{pplx}(b))$: a low perplexity certifies
//!    a sampled copy only while $\operatorname{pplx} \ll 1/n$ — the bound degrades linearly
//!    with length, which is the room Lemma 3.1's counterexamples live in.
//! 3. **Greedy copy.** If every $\gamma_k < \tfrac12$, the correct token is the unique
//!    arg-max at every step, so the greedy copy is correct (any vocabulary size).
//!
//! The chain checked by the tests:
//! $1 - n\operatorname{pplx} \le 1 - \sum\gamma_k \le \prod(1-\gamma_k) = e^{-n \operatorname{pplx}}$.

use serde::{Deserialize, Serialize};

use crate::error::{PerplexityError, Result, in_closed};

/// The bounds of the module docs for one string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BooleBounds {
    /// Length $n$.
    pub n: usize,
    /// $\sum_k \gamma_k$.
    pub error_sum: f64,
    /// Boole: $\Pr[\text{sampled copy wrong}] \le \min(1, \sum_k\gamma_k)$.
    pub wrong_upper: f64,
    /// Boole: $\Pr[\text{sampled copy correct}] \ge \max(0, 1 - \sum_k\gamma_k)$.
    pub correct_lower: f64,
    /// Exact $\Pr[\text{sampled copy correct}] = \prod_k(1-\gamma_k)$.
    pub correct_exact: f64,
    /// $\operatorname{pplx}(b) = -\frac1n\sum_k \log(1-\gamma_k)$ (nats).
    pub log_perplexity: f64,
    /// $\min(1, n \operatorname{pplx}(b)) \ge$ [`wrong_upper`](Self::wrong_upper).
    pub wrong_upper_from_pplx: f64,
    /// Every $\gamma_k < \tfrac12$: the greedy copy is certified correct.
    pub greedy_certified: bool,
}

/// The Boole bounds for per-step error probabilities $\gamma_1..\gamma_n$.
///
/// # Errors
/// [`PerplexityError::InvalidParameter`] if `gammas` is empty or some $\gamma_k \notin [0, 1]$.
pub fn boole_bounds(gammas: &[f64]) -> Result<BooleBounds> {
    if gammas.is_empty() {
        return Err(PerplexityError::InvalidParameter {
            name: "gammas",
            value: 0.0,
            reason: "need at least one copy step",
        });
    }
    for &g in gammas {
        in_closed(
            "gamma_k",
            g,
            0.0,
            1.0,
            "every error probability must be in [0, 1]",
        )?;
    }
    let n = gammas.len();
    let error_sum: f64 = gammas.iter().sum();
    let nll: f64 = gammas.iter().map(|g| -(-g).ln_1p()).sum();
    let log_perplexity = nll / n as f64;
    Ok(BooleBounds {
        n,
        error_sum,
        wrong_upper: error_sum.min(1.0),
        correct_lower: (1.0 - error_sum).max(0.0),
        correct_exact: (-nll).exp(),
        log_perplexity,
        wrong_upper_from_pplx: nll.min(1.0),
        greedy_certified: gammas.iter().all(|&g| g < 0.5),
    })
}

/// [`boole_bounds`] for $n$ steps of the same error probability $\gamma$ (Prop. 3.2's
/// setting): $\Pr[\text{correct}] = (1-\gamma)^n \ge 1 - n\gamma$.
///
/// # Errors
/// As [`boole_bounds`] (and `n == 0`).
pub fn boole_bounds_uniform(gamma: f64, n: usize) -> Result<BooleBounds> {
    if n == 0 {
        return Err(PerplexityError::InvalidParameter {
            name: "n",
            value: 0.0,
            reason: "need at least one copy step",
        });
    }
    in_closed(
        "gamma",
        gamma,
        0.0,
        1.0,
        "an error probability must be in [0, 1]",
    )?;
    // In closed form (no n-element list: n may be any usize).
    let nf = n as f64;
    let error_sum = nf * gamma;
    let nll = -nf * (-gamma).ln_1p();
    Ok(BooleBounds {
        n,
        error_sum,
        wrong_upper: error_sum.min(1.0),
        correct_lower: (1.0 - error_sum).max(0.0),
        correct_exact: (-nll).exp(),
        log_perplexity: -(-gamma).ln_1p(),
        wrong_upper_from_pplx: nll.min(1.0),
        greedy_certified: gamma < 0.5,
    })
}
