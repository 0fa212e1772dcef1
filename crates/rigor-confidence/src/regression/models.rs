//! Models A–D: what moves the final confidence in the initially chosen option.
//!
//! Each trial gives one row: the response $y = \operatorname{clamp}(c^\prime_\text{obs}, \varepsilon)$
//! (final confidence in the initial answer $i$), the prior log-odds
//! $L = \operatorname{logit}\operatorname{clamp}(c, \varepsilon)$, the Shown indicator $S$, and
//! the ideal observer's signed advice evidence $\Delta$ for option $i$
//! ([`crate::observer::log_odds_update`]: $+\ln\frac{a}{1-a}$ for Same, $-\ln\frac{a}{1-a}$ for
//! Opposite, 0 for Neutral, with two options). Trials with an infinite $\Delta$ ($a = 100\\%$)
//! are left out and counted, because no finite weight on infinite evidence is meaningful.
//! With $y \sim \operatorname{Beta}(\mu\varphi, (1-\mu)\varphi)$ and
//! $\operatorname{logit}\mu = \eta$:
//!
//! | model | $\eta$ | bias it allows |
//! |---|---|---|
//! | A | $\beta_0 + \beta_c L + w\\,\Delta$ | none (a rescaled Bayesian) |
//! | B | A $+ \\, w_\text{shown} S$ | choice-supportive |
//! | C | $\beta_0 + \beta_c L + w_\text{same}\\,\mathbb 1[\text{Same}]\Delta + w_\text{opp}\\,\mathbb 1[\text{Opp}]\Delta$ | asymmetric advice |
//! | D | C $+ \\, w_\text{shown} S$ | both |
//!
//! A ⊂ B ⊂ D and A ⊂ C ⊂ D (C = A when $w_\text{same} = w_\text{opp}$). The ideal observer is
//! $\beta_0 = 0$, $\beta_c = 1$, $w = w_\text{same} = w_\text{opp} = 1$, $w_\text{shown} = 0$.
//! Model A keeps one advice weight so that "asymmetric advice" is tested as
//! $w_\text{same} \ne w_\text{opp}$ rather than as "advice matters at all".

use std::fmt;

use serde::{Deserialize, Serialize};

use super::beta::{BetaFit, BetaFitConfig, fit_beta_regression};
use crate::design::condition::AdviceType;
use crate::design::trial::CompletedTrial;
use crate::error::{ConfidenceError, Result};
use crate::logodds::{check_epsilon, clamp, clamped_logit};

/// One of the nested models (table in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ModelSpec {
    /// Prior + one advice weight.
    A,
    /// A + Shown term.
    B,
    /// Prior + separate Same / Opposite advice weights.
    C,
    /// C + Shown term.
    D,
}

impl ModelSpec {
    /// A, B, C, D.
    pub const ALL: [ModelSpec; 4] = [ModelSpec::A, ModelSpec::B, ModelSpec::C, ModelSpec::D];

    /// Whether the model has the Shown term.
    pub fn has_shown(self) -> bool {
        matches!(self, ModelSpec::B | ModelSpec::D)
    }

    /// Whether the model has separate Same / Opposite weights.
    pub fn has_separate_advice(self) -> bool {
        matches!(self, ModelSpec::C | ModelSpec::D)
    }

    /// Names of the regression coefficients, in column order (the precision φ comes last
    /// in fits).
    pub fn coefficient_names(self) -> Vec<&'static str> {
        let mut v = vec!["intercept", "prior_weight"];
        if self.has_separate_advice() {
            v.extend(["same_weight", "opposite_weight"]);
        } else {
            v.push("advice_weight");
        }
        if self.has_shown() {
            v.push("shown_bonus");
        }
        v
    }

    /// The covariate row of a data row.
    pub fn row(self, r: &RegressionRow) -> Vec<f64> {
        let mut v = vec![1.0, r.prior_logit];
        if self.has_separate_advice() {
            v.push(if r.advice == AdviceType::Same {
                r.evidence
            } else {
                0.0
            });
            v.push(if r.advice == AdviceType::Opposite {
                r.evidence
            } else {
                0.0
            });
        } else {
            v.push(r.evidence);
        }
        if self.has_shown() {
            v.push(f64::from(u8::from(r.shown)));
        }
        v
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "model {self:?}")
    }
}

/// One trial as a regression row (symbols in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegressionRow {
    /// $L = \operatorname{logit}\operatorname{clamp}(c)$.
    pub prior_logit: f64,
    /// $S$.
    pub shown: bool,
    /// The advice type.
    pub advice: AdviceType,
    /// $\Delta$ (finite).
    pub evidence: f64,
    /// $y = \operatorname{clamp}(c^\prime_\text{obs})$.
    pub y: f64,
}

/// Regression rows built from completed trials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionData {
    /// The rows.
    pub rows: Vec<RegressionRow>,
    /// The clamp $\varepsilon$ used.
    pub epsilon: f64,
    /// Trials left out because $\Delta$ is infinite ($a = 100\\%$).
    pub excluded_infinite_evidence: usize,
    /// Rows whose response was clamped to $\varepsilon$ or $1 - \varepsilon$. Clamping
    /// censors the tails, which pulls the weights towards zero when many responses sit at
    /// the boundary: if this is more than a few percent, use a smaller $\varepsilon$ (or
    /// read the weights as lower bounds).
    pub clamped_responses: usize,
}

impl RegressionData {
    /// Rows of `trials` with confidences clamped into $[\varepsilon, 1-\varepsilon]$.
    pub fn from_trials(trials: &[CompletedTrial], epsilon: f64) -> Result<Self> {
        check_epsilon(epsilon)?;
        let mut rows = Vec::with_capacity(trials.len());
        let mut excluded = 0;
        let mut clamped = 0;
        for t in trials {
            let evidence = t.bayes_log_odds_update()?;
            if !evidence.is_finite() {
                excluded += 1;
                continue;
            }
            let c = t.final_confidence();
            clamped += usize::from(c < epsilon || c > 1.0 - epsilon);
            rows.push(RegressionRow {
                prior_logit: clamped_logit(t.initial_confidence(), epsilon),
                shown: t.shown(),
                advice: t.advice(),
                evidence,
                y: clamp(t.final_confidence(), epsilon),
            });
        }
        Ok(Self {
            rows,
            epsilon,
            excluded_infinite_evidence: excluded,
            clamped_responses: clamped,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows at `indices` (repeats allowed, as in a bootstrap resample).
    pub fn subset(&self, indices: &[usize]) -> Self {
        Self {
            rows: indices
                .iter()
                .filter_map(|&i| self.rows.get(i).copied())
                .collect(),
            epsilon: self.epsilon,
            excluded_infinite_evidence: 0,
            clamped_responses: 0,
        }
    }

    /// Design matrix and responses for `model`.
    pub fn design(&self, model: ModelSpec) -> (Vec<Vec<f64>>, Vec<f64>) {
        (
            self.rows.iter().map(|r| model.row(r)).collect(),
            self.rows.iter().map(|r| r.y).collect(),
        )
    }
}

/// A named parameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedValue {
    /// Parameter name (a coefficient name, or `"precision"`).
    pub name: String,
    /// Value.
    pub value: f64,
}

/// A fitted model with its information criteria.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFit {
    /// Which model.
    pub model: ModelSpec,
    /// Coefficients then `precision` (φ).
    pub parameters: Vec<NamedValue>,
    /// Maximised log-likelihood $\hat\ell$.
    pub log_likelihood: f64,
    /// Observations $n$.
    pub n: usize,
    /// Free parameters $k$ (coefficients + $\varphi$).
    pub k: usize,
    /// $\mathrm{AIC} = 2k - 2\hat\ell$.
    pub aic: f64,
    /// $\mathrm{BIC} = k\ln n - 2\hat\ell$.
    pub bic: f64,
}

impl ModelFit {
    /// The value of a parameter by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.parameters
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value)
    }
}

/// Fits `model` to `data` by maximum likelihood.
pub fn fit_model(
    data: &RegressionData,
    model: ModelSpec,
    config: &BetaFitConfig,
) -> Result<ModelFit> {
    if data.is_empty() {
        return Err(ConfidenceError::EmptyInput {
            what: "regression data",
        });
    }
    let (x, y) = data.design(model);
    let BetaFit {
        beta,
        precision,
        log_likelihood,
        ..
    } = fit_beta_regression(&x, &y, config, &model.to_string())?;
    let names = model.coefficient_names();
    let mut parameters: Vec<NamedValue> = names
        .iter()
        .zip(&beta)
        .map(|(n, v)| NamedValue {
            name: (*n).to_string(),
            value: *v,
        })
        .collect();
    parameters.push(NamedValue {
        name: "precision".into(),
        value: precision,
    });
    let k = parameters.len();
    let n = data.len();
    Ok(ModelFit {
        model,
        parameters,
        log_likelihood,
        n,
        k,
        aic: 2.0 * k as f64 - 2.0 * log_likelihood,
        bic: k as f64 * (n as f64).ln() - 2.0 * log_likelihood,
    })
}

/// $\ell$ of held-out `data` under a fitted model.
pub fn held_out_log_likelihood(fit: &ModelFit, data: &RegressionData) -> f64 {
    let (x, y) = data.design(fit.model);
    let k = fit.parameters.len();
    let beta: Vec<f64> = fit.parameters[..k - 1].iter().map(|p| p.value).collect();
    super::beta::beta_log_likelihood(&x, &y, &beta, fit.parameters[k - 1].value)
}
