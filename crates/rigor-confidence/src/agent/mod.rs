//! Agents: anything that maps a stage prompt to option probabilities.
//!
//! | agent | what | module |
//! |---|---|---|
//! | [`BayesianAgent`] | the ideal observer of S5 on top of drawn knowledge | [`bayesian`] |
//! | [`BiasedAgent`] | planted choice-supportive and asymmetric-advice biases (model D) | [`biased`] |
//! | [`HttpAgent`] | an OpenAI-compatible `/v1/completions` server returning logprobs | [`http`] |
//!
//! [`Knowledge`] gives the simulated agents their stage-1 beliefs.

pub mod bayesian;
pub mod biased;
pub mod http;
pub mod knowledge;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use bayesian::BayesianAgent;
pub use biased::{BiasParams, BiasedAgent};
pub use http::{HttpAgent, HttpAgentConfig};
pub use knowledge::{Knowledge, KnowledgeConfig};

use crate::design::prompt::StagePrompt;
use crate::error::{ConfidenceError, Result};

/// How far the sum of agent-reported probabilities may stray from 1 before it is rejected
/// (they are then renormalised exactly).
pub const SUM_TOLERANCE: f64 = 1e-6;

/// A probability distribution over a question's options: finite, non-negative, summing
/// to one (renormalised exactly on construction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f64>", into = "Vec<f64>")]
pub struct OptionProbs(Vec<f64>);

impl OptionProbs {
    /// Validates `probs`: at least two entries, each finite and ≥ 0, summing to
    /// $1 \pm$ [`SUM_TOLERANCE`].
    pub fn new(probs: Vec<f64>) -> Result<Self> {
        let bad = |reason: String| ConfidenceError::InvalidProbabilities {
            context: "option probabilities".into(),
            reason,
        };
        if probs.len() < 2 {
            return Err(bad(format!("need at least 2 options, got {}", probs.len())));
        }
        if let Some(p) = probs.iter().find(|p| !p.is_finite() || **p < 0.0) {
            return Err(bad(format!(
                "entry {p} is not a finite non-negative number"
            )));
        }
        let sum: f64 = probs.iter().sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(bad(format!("entries sum to {sum}, not 1")));
        }
        Ok(Self(probs.into_iter().map(|p| p / sum).collect()))
    }

    /// Probabilities from log-probabilities (or any scores), renormalised by a softmax over
    /// the options: $p_k = e^{\ell_k} / \sum_j e^{\ell_j}$. Entries may be $-\infty$ (zero
    /// probability) but not all of them, and none may be `NaN` or $+\infty$.
    pub fn from_log_probs(log_probs: &[f64]) -> Result<Self> {
        if log_probs.iter().any(|l| l.is_nan() || *l == f64::INFINITY) {
            return Err(ConfidenceError::InvalidProbabilities {
                context: "log-probabilities".into(),
                reason: format!("{log_probs:?} contains NaN or +inf"),
            });
        }
        let z = crate::logodds::log_sum_exp(log_probs);
        if z == f64::NEG_INFINITY {
            return Err(ConfidenceError::InvalidProbabilities {
                context: "log-probabilities".into(),
                reason: "every option has probability zero".into(),
            });
        }
        Self::new(log_probs.iter().map(|l| (l - z).exp()).collect())
    }

    /// The probabilities.
    pub fn as_slice(&self) -> &[f64] {
        &self.0
    }

    /// Number of options.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false` (at least two options); present for clippy's `len` convention.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Probability of option `i` (0 when out of range).
    pub fn get(&self, i: usize) -> f64 {
        self.0.get(i).copied().unwrap_or(0.0)
    }

    /// The chosen option: the most probable one; ties go to the lowest index (a model's
    /// greedy decode would pick one of them; the lowest index makes the choice reproducible).
    pub fn answer(&self) -> usize {
        let mut best = 0;
        for (i, &p) in self.0.iter().enumerate() {
            if p > self.0[best] {
                best = i;
            }
        }
        best
    }

    /// Confidence in the chosen option, $\max_k p_k$.
    pub fn confidence(&self) -> f64 {
        self.0[self.answer()]
    }
}

impl TryFrom<Vec<f64>> for OptionProbs {
    type Error = ConfidenceError;
    fn try_from(v: Vec<f64>) -> Result<Self> {
        Self::new(v)
    }
}

impl From<OptionProbs> for Vec<f64> {
    fn from(p: OptionProbs) -> Self {
        p.0
    }
}

/// Why an agent could not answer. The runner records the message in a failed trial record
/// and carries on; nothing is dropped from the results file.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AgentError {
    /// The server answered with a non-success HTTP status.
    #[error("HTTP {status} from {url}: {body}")]
    HttpStatus {
        /// The request URL.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// No answer within the configured timeout.
    #[error("timed out after {timeout_ms} ms waiting for {url}")]
    Timeout {
        /// The request URL.
        url: String,
        /// The timeout that expired, in milliseconds.
        timeout_ms: u128,
    },
    /// Connecting, sending or reading failed for another reason.
    #[error("transport error talking to {url}: {message}")]
    Transport {
        /// The request URL.
        url: String,
        /// The client's message.
        message: String,
    },
    /// The response body is not JSON, or not the documented structure.
    #[error("malformed response: {reason}")]
    MalformedResponse {
        /// What was wrong.
        reason: String,
    },
    /// The response has no logprobs (the server ignored or does not support `logprobs`).
    #[error("response has no logprobs: {reason}")]
    MissingLogprobs {
        /// Where they were expected.
        reason: String,
    },
    /// Some option labels do not appear among the returned top logprobs, so their
    /// probability is unknown (raise `top_logprobs`, or the model answers in another format).
    #[error("options {missing:?} are absent from the top logprobs (tokens seen: {seen:?})")]
    OptionsAbsent {
        /// The missing option labels.
        missing: Vec<String>,
        /// The tokens that were returned.
        seen: Vec<String>,
    },
    /// A simulated agent was asked about a question it has no knowledge of.
    #[error("agent has no knowledge of question `{id}`")]
    UnknownQuestion {
        /// The question id.
        id: String,
    },
    /// The agent's output is not a valid answer to this prompt (wrong number of options,
    /// probabilities that are not a distribution, an out-of-range index in the prompt).
    #[error("invalid agent output: {reason}")]
    InvalidOutput {
        /// What was wrong.
        reason: String,
    },
}

/// Something that answers stage prompts with option probabilities.
///
/// **No memory.** `respond` receives one self-contained [`StagePrompt`] by reference and
/// `&self`: no conversation, no trial id, no earlier response. The runner calls it once per
/// stage and builds every stage-2 prompt from the question, the advice and (if Shown) the
/// stage-1 answer label only, so an agent cannot carry information from stage 1 to stage 2
/// except through what the prompt states (interior mutability could still cheat; none of
/// rigor's agents use any, and a user agent that does is outside the paradigm).
pub trait Agent {
    /// A name identifying the agent and its settings; stored in the results file so that a
    /// run is never resumed with a different agent.
    fn name(&self) -> String;

    /// Probabilities over the prompt's options.
    fn respond(&self, prompt: &StagePrompt) -> core::result::Result<OptionProbs, AgentError>;
}

impl<A: Agent + ?Sized> Agent for &A {
    fn name(&self) -> String {
        (**self).name()
    }
    fn respond(&self, prompt: &StagePrompt) -> core::result::Result<OptionProbs, AgentError> {
        (**self).respond(prompt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_probs_reject_non_distributions() {
        assert!(OptionProbs::new(vec![0.5]).is_err());
        assert!(OptionProbs::new(vec![0.5, 0.6]).is_err());
        assert!(OptionProbs::new(vec![f64::NAN, 1.0]).is_err());
        assert!(OptionProbs::new(vec![-0.1, 1.1]).is_err());
        assert!(OptionProbs::from_log_probs(&[f64::NEG_INFINITY; 2]).is_err());
        let p = OptionProbs::from_log_probs(&[0.0, 0.0, f64::NEG_INFINITY]).unwrap();
        assert_eq!(p.as_slice(), &[0.5, 0.5, 0.0]);
        assert_eq!(p.answer(), 0);
        let json = serde_json::to_string(&p).unwrap();
        assert!(serde_json::from_str::<OptionProbs>("[0.2, 0.2]").is_err());
        assert_eq!(serde_json::from_str::<OptionProbs>(&json).unwrap(), p);
    }
}
