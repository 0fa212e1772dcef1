//! A simulated agent with the two planted biases of the paper's model (S5): a
//! choice-supportive boost when its own answer is Shown, and asymmetric weights on
//! supporting vs opposing advice.
//!
//! At stage 2 the agent re-derives its belief $p$ (its [`Knowledge`]), takes as anchor $i$
//! the shown answer (Shown) or its own most probable option (Hidden, which is its stage-1
//! answer), and sets
//!
//! $$\eta = \beta_0 + \beta_c \operatorname{logit} p_i + w_\text{shown}\\,\mathbb 1[\text{Shown}] +
//!   w_\text{same}\\,\mathbb 1[\text{Same}]\\,\Delta + w_\text{opp}\\,\mathbb 1[\text{Opposite}]\\,\Delta,$$
//!
//! where $\Delta$ is the ideal observer's log-odds update of option $i$
//! ([`crate::observer::log_odds_update`]) at the stated accuracy $a$ capped into
//! $[1 - a_\text{cap}, a_\text{cap}]$ (so that 100% advice carries finite evidence), and
//! Same/Opposite is whether the advice recommends $i$. Its final confidence in $i$ is a draw
//!
//! $$c^\prime \sim \operatorname{Beta}(\mu\varphi, (1-\mu)\varphi), \qquad \mu = \sigma(\eta),$$
//!
//! (exactly $\mu$ when $\varphi = \infty$), and the remaining $1 - c^\prime$ is shared among the
//! other options in proportion to their Bayesian posterior. This is model D of
//! [`crate::regression`] with known parameters, so fitting can be checked for recovery. The
//! ideal observer is $\beta_0 = 0, \beta_c = 1, w_\text{shown} = 0, w_\text{same} = w_\text{opp} = 1$.
//!
//! The Beta draw is seeded by (seed, question id, rendered prompt): the response is a pure
//! function of the prompt, like a language model decoded at temperature 0.

use rand_distr::{Beta, Distribution};
use serde::{Deserialize, Serialize};

use super::bayesian::check_final_prompt;
use super::knowledge::Knowledge;
use super::{Agent, AgentError, OptionProbs};
use crate::design::prompt::{OwnAnswer, Stage, StagePrompt};
use crate::error::{ConfidenceError, Result, finite};
use crate::logodds::{logit, sigmoid};
use crate::{observer, seed};

/// The planted parameters (symbols as in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BiasParams {
    /// $\beta_0$: intercept on the log-odds scale.
    pub intercept: f64,
    /// $\beta_c$: weight of the prior log-odds.
    pub prior_weight: f64,
    /// $w_\text{shown}$: log-odds bonus for the shown answer (choice-supportive bias).
    pub shown_bonus: f64,
    /// $w_\text{same}$: multiplier of the Bayesian evidence of supporting advice.
    pub same_weight: f64,
    /// $w_\text{opp}$: multiplier of the Bayesian evidence of opposing advice.
    pub opposite_weight: f64,
    /// $\varphi > 0$: Beta precision of the response noise; `f64::INFINITY` for none.
    pub precision: f64,
    /// $a_\text{cap} \in (0.5, 1)$: stated accuracies are capped into $[1-a_\text{cap}, a_\text{cap}]$.
    pub accuracy_cap: f64,
}

impl BiasParams {
    /// No bias: the ideal observer's weights, with noise of precision $\varphi$.
    pub fn unbiased(precision: f64) -> Self {
        Self {
            intercept: 0.0,
            prior_weight: 1.0,
            shown_bonus: 0.0,
            same_weight: 1.0,
            opposite_weight: 1.0,
            precision,
            accuracy_cap: 0.99,
        }
    }

    /// Biases in the direction and rough size reported for Gemma 3 12B (docs/paper-facts.md S5):
    /// opposing advice weighted 2.4× Bayes, supporting 1.2×, and a shown-answer bonus of
    /// 1.5 log-odds. These are illustrative planted values, not fitted to the paper's data.
    pub fn paper_like() -> Self {
        Self {
            shown_bonus: 1.5,
            same_weight: 1.2,
            opposite_weight: 2.4,
            ..Self::unbiased(30.0)
        }
    }

    /// Validates the parameters.
    pub fn validate(self) -> Result<Self> {
        finite("intercept", self.intercept)?;
        finite("prior_weight", self.prior_weight)?;
        finite("shown_bonus", self.shown_bonus)?;
        finite("same_weight", self.same_weight)?;
        finite("opposite_weight", self.opposite_weight)?;
        if self.precision.is_nan() || self.precision <= 0.0 {
            return Err(ConfidenceError::InvalidParameter {
                name: "precision",
                value: self.precision,
                reason: "must be > 0 (use f64::INFINITY for no noise)",
            });
        }
        if !(self.accuracy_cap > 0.5 && self.accuracy_cap < 1.0) {
            return Err(ConfidenceError::InvalidParameter {
                name: "accuracy_cap",
                value: self.accuracy_cap,
                reason: "must lie in (0.5, 1)",
            });
        }
        Ok(self)
    }
}

/// The biased simulated agent (see the module docs).
#[derive(Debug, Clone)]
pub struct BiasedAgent {
    knowledge: Knowledge,
    params: BiasParams,
    seed: u64,
}

impl BiasedAgent {
    /// An agent with these beliefs and planted parameters; `seed` drives the response noise.
    pub fn new(knowledge: Knowledge, params: BiasParams, seed: u64) -> Result<Self> {
        Ok(Self {
            knowledge,
            params: params.validate()?,
            seed,
        })
    }

    /// The planted parameters.
    pub fn params(&self) -> BiasParams {
        self.params
    }
}

impl Agent for BiasedAgent {
    fn name(&self) -> String {
        let c = self.knowledge.config();
        let p = self.params;
        format!(
            "biased(b0={}, bc={}, shown={}, same={}, opp={}, phi={}, cap={}, seed={}; skill={}, spread={}, kseed={})",
            p.intercept,
            p.prior_weight,
            p.shown_bonus,
            p.same_weight,
            p.opposite_weight,
            p.precision,
            p.accuracy_cap,
            self.seed,
            c.skill,
            c.spread,
            c.seed
        )
    }

    fn respond(&self, prompt: &StagePrompt) -> core::result::Result<OptionProbs, AgentError> {
        let prior = self.knowledge.belief(prompt.question())?;
        let (advice, own) = match prompt.stage() {
            Stage::Initial => return Ok(prior.clone()),
            Stage::Final { advice, own_answer } => (advice, own_answer),
        };
        let n = prior.len();
        check_final_prompt(n, advice, own)?;
        let invalid = |e: ConfidenceError| AgentError::InvalidOutput {
            reason: e.to_string(),
        };
        let p = self.params;
        let (anchor, shown) = match *own {
            OwnAnswer::Shown(i) => (i, true),
            OwnAnswer::Hidden => (prior.answer(), false),
        };
        let a = advice
            .stated_accuracy
            .clamp(1.0 - p.accuracy_cap, p.accuracy_cap);
        let delta = observer::log_odds_update(prior.as_slice(), anchor, advice.recommends, a)
            .map_err(invalid)?;
        let advice_term = match advice.recommends {
            None => 0.0,
            Some(j) if j == anchor => p.same_weight * delta,
            Some(_) => p.opposite_weight * delta,
        };
        let c = prior.get(anchor).clamp(1e-12, 1.0 - 1e-12);
        let eta = p.intercept
            + p.prior_weight * logit(c)
            + if shown { p.shown_bonus } else { 0.0 }
            + advice_term;
        let mu = sigmoid(eta);
        let c_final = if p.precision.is_infinite() || mu <= 0.0 || mu >= 1.0 {
            mu
        } else {
            let beta = Beta::new(mu * p.precision, (1.0 - mu) * p.precision).map_err(|e| {
                AgentError::InvalidOutput {
                    reason: format!("Beta({mu}·φ, (1−μ)·φ): {e}"),
                }
            })?;
            let mut rng = seed::rng(
                self.seed,
                &["biased", &prompt.question().id, &prompt.render()],
            );
            beta.sample(&mut rng)
        };
        let bayes = observer::posterior(prior.as_slice(), advice.recommends, a).map_err(invalid)?;
        let others: f64 = (0..n).filter(|&k| k != anchor).map(|k| bayes[k]).sum();
        let probs = (0..n)
            .map(|k| {
                if k == anchor {
                    c_final
                } else if others > 0.0 {
                    (1.0 - c_final) * bayes[k] / others
                } else {
                    (1.0 - c_final) / (n as f64 - 1.0)
                }
            })
            .collect();
        OptionProbs::new(probs).map_err(invalid)
    }
}
