//! The theorem kit (feature `proptest`): `proptest` strategies for the settings of
//! *Perplexity Cannot Always Tell Right from Wrong* (S3) and checkers that return a
//! [`Verdict`] — on the closed forms, and on **your** [`CausalLm`].
//!
//! | statement | checker | strategies |
//! |---|---|---|
//! | §4 iso-perplexity: $\operatorname{pplx}(a^\prime, \gamma - \Delta\gamma) = \operatorname{pplx}(a, \gamma)$ at the critical accuracy $a^\prime$, and a more accurate, more confident model wins | [`check_iso_perplexity`] | [`accuracy_confidence`] |
//! | §3 Lemma 3.1: a string copied **wrongly** within $\xi$ of the perplexity of one copied right | [`check_lemma_3_1`] | [`bit_string`] |
//!
//! Lemma 3.1 is an existence statement for long enough strings: its verdict `holds` when a
//! counterexample was found; `false` does not refute the lemma (the string may be too short, or
//! the premise — $\alpha$ copied right with confidence above $\tfrac12$ — may fail; the detail
//! says which).
//!
//! ```
//! use rigor_perplexity::theorems::check_iso_perplexity;
//!
//! // docs/paper-facts.md S3's worked case: a = 0.5, γ = 0.4, Δγ = 0.2 ⇒ a' ≈ 0.646.
//! let v = check_iso_perplexity(0.5, 0.4, 0.2, 1e-12).unwrap();
//! assert!(v.holds, "{v}");
//! ```

use core::fmt;
use std::ops::Range;

use burn::tensor::Device;
use proptest::prelude::*;
use serde::Serialize;

use crate::error::{PerplexityError, Result};
use crate::eval::lm::CausalLm;
use crate::theory::counterexample::CounterexampleConfig;
use crate::theory::iso::critical_accuracy;

/// The outcome of checking one statement on concrete inputs.
///
/// `worst_margin` is the smallest margin over the cases (each checker says in what unit):
/// positive when every case holds, negative by how much the worst case fails.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The statement, with paper and section.
    pub statement: &'static str,
    /// Whether it held (for Lemma 3.1: whether its conclusion was observed).
    pub holds: bool,
    /// Cases checked.
    pub cases: usize,
    /// Cases that violated it.
    pub violations: usize,
    /// Smallest margin over the cases; `+∞` with no cases.
    pub worst_margin: f64,
    /// A one-line account of the worst case (or of what was found).
    pub detail: String,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.holds { "holds" } else { "does not hold" };
        write!(f, "{}: {state} ", self.statement)?;
        write!(
            f,
            "({} of {} cases; worst margin {:+.3e}; {})",
            self.violations, self.cases, self.worst_margin, self.detail
        )
    }
}

/// Statement of the iso-perplexity relation as reported in [`Verdict::statement`].
pub const ISO_PERPLEXITY: &str =
    "Perplexity Cannot Always Tell, §4 (iso-perplexity, critical accuracy)";
/// Statement of Lemma 3.1 as reported in [`Verdict::statement`].
pub const LEMMA_3_1: &str =
    "Perplexity Cannot Always Tell, Lemma 3.1 (wrong copies at equal perplexity)";

/// $-a\ln(1-\gamma) - (1-a)\ln\gamma$, linear in $a$ (also outside $[0, 1]$).
fn pplx_linear(a: f64, gamma: f64) -> f64 {
    -a * (1.0 - gamma).ln() - (1.0 - a) * gamma.ln()
}

/// Checks the iso-perplexity relation at $(a, \gamma, \Delta\gamma)$: the critical accuracy
/// $a^\prime$ ([`critical_accuracy`]) of a model with error rate
/// $\gamma^\prime = \gamma - \Delta\gamma$ ties on perplexity
/// ($\lvert\operatorname{pplx}(a^\prime, \gamma^\prime) - \operatorname{pplx}(a, \gamma)\rvert \le$
/// `tol`, nats), and one of accuracy $a^\prime + 0.01$ beats it (strictly lower perplexity).
/// Two cases; the margins are in nats (the tie's is −|difference|, so 0 when exact).
/// $\Delta\gamma = \gamma$ (a perfectly confident model,
/// $a^\prime = 1$) has only the tie's limit and is reported as one case.
///
/// # Errors
/// [`PerplexityError::InvalidParameter`] outside [`critical_accuracy`]'s domain or for a bad
/// `tol`.
pub fn check_iso_perplexity(
    accuracy: f64,
    gamma: f64,
    delta_gamma: f64,
    tol: f64,
) -> Result<Verdict> {
    if !(tol.is_finite() && tol >= 0.0) {
        return Err(PerplexityError::InvalidParameter {
            name: "tol",
            value: tol,
            reason: "must be finite and >= 0",
        });
    }
    let a2 = critical_accuracy(accuracy, gamma, delta_gamma)?;
    let g2 = gamma - delta_gamma;
    let level = pplx_linear(accuracy, gamma);
    let mut v = Verdict {
        statement: ISO_PERPLEXITY,
        holds: true,
        cases: 1,
        violations: 0,
        worst_margin: f64::INFINITY,
        detail: format!("a = {accuracy}, γ = {gamma}, Δγ = {delta_gamma}: a' = {a2:.6}"),
    };
    if g2 <= 0.0 {
        v.worst_margin = 0.0;
        v.detail
            .push_str(" (perfect confidence: the tie is the limit a' = 1)");
        return Ok(v);
    }
    let tie = -(pplx_linear(a2, g2) - level).abs();
    let better = level - pplx_linear(a2 + 0.01, g2);
    v.cases = 2;
    v.worst_margin = tie.min(better);
    v.violations = usize::from(tie < -tol) + usize::from(better <= 0.0);
    v.holds = v.violations == 0;
    v.detail.push_str(&format!(
        ", pplx(a', γ') − pplx(a, γ) = {:+.3e}, pplx(a' + 0.01, γ') − pplx(a, γ) = {:+.3e}",
        pplx_linear(a2, g2) - level,
        -better
    ));
    Ok(v)
}

/// Runs Lemma 3.1's construction on `model` ([`crate::CounterexampleFinder`] with `config`):
/// starting from `alpha`, which the model must copy right, searches strings within the
/// configured Hamming distance that it copies wrongly at a perplexity within ξ. `holds` when at
/// least one was found (see the [module docs](self) for what `false` means); one case per
/// candidate scored, the margin is ξ − the smallest gap found (nats per bit), `−∞` if none.
///
/// A premise failure (`alpha` copied wrongly, or empty) is a verdict that does not hold, with
/// the reason in its detail.
///
/// # Errors
/// As [`CounterexampleConfig::init`] and [`crate::CounterexampleFinder::search`] otherwise
/// (too many candidates, model errors).
pub fn check_lemma_3_1<M: CausalLm + ?Sized>(
    model: &M,
    alpha: &[bool],
    config: CounterexampleConfig,
    device: &Device,
) -> Result<Verdict> {
    let xi = config.xi;
    let report = match config.init()?.search(model, alpha, device) {
        Ok(report) => report,
        Err(PerplexityError::Premise { detail }) => {
            return Ok(Verdict {
                statement: LEMMA_3_1,
                holds: false,
                cases: 0,
                violations: 0,
                worst_margin: f64::NEG_INFINITY,
                detail: format!("premise fails: {detail}"),
            });
        }
        Err(e) => return Err(e),
    };
    let best = report
        .found
        .iter()
        .map(|c| c.gap)
        .fold(f64::INFINITY, f64::min);
    let found = report.found.len();
    Ok(Verdict {
        statement: LEMMA_3_1,
        holds: found > 0,
        cases: report.candidates,
        violations: 0,
        worst_margin: if found > 0 {
            xi - best
        } else {
            f64::NEG_INFINITY
        },
        detail: if found > 0 {
            format!(
                "{found} of {} strings at Hamming distance ≤ {} are copied wrongly within ξ = {xi} (smallest gap {best:.3e} nats/bit; α: {:.4} nats/bit, n = {})",
                report.candidates,
                report.found[0].flipped.len().max(1),
                report.alpha_score.log_perplexity,
                alpha.len()
            )
        } else {
            format!(
                "no wrong copy within ξ = {xi} among {} candidates (n = {}; the lemma needs long enough strings)",
                report.candidates,
                alpha.len()
            )
        },
    })
}

/// `(accuracy, γ, Δγ)` in the domain of [`critical_accuracy`]: $a \in [0, 1]$,
/// $\gamma \in$ `gamma` (clamped to $(0, \tfrac12)$), $\Delta\gamma = f\gamma$ with
/// $f \in [0, 0.99)$.
pub fn accuracy_confidence(gamma: Range<f64>) -> impl Strategy<Value = (f64, f64, f64)> {
    let lo = gamma.start.clamp(1e-6, 0.5 - 1e-6);
    let hi = gamma.end.clamp(lo + 1e-9, 0.5 - 1e-9);
    (0.0f64..=1.0, lo..hi, 0.0f64..0.99).prop_map(|(a, g, f)| (a, g, f * g))
}

/// Bit strings of length `n ∈ len`.
pub fn bit_string(len: Range<usize>) -> impl Strategy<Value = Vec<bool>> {
    proptest::collection::vec(any::<bool>(), len)
}
