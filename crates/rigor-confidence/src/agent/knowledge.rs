//! What a simulated agent "knows": a seeded stage-1 belief for every question.
//!
//! For question $q$ with correct option $k^\*$ the belief is
//! $p = \operatorname{softmax}(\ell)$ with $\ell_k = s\\,z_k + m\\,\mathbb 1[k = k^\*]$,
//! $z_k \sim \mathcal N(0, 1)$ drawn from a generator seeded by (seed, question id). The
//! skill $m$ moves mass to the right answer; the spread $s$ sets how (over)confident the
//! beliefs are. For two options the log-odds in favour of the right answer are
//! $\mathcal N(m, 2s^2)$, so stage-1 accuracy is $\Phi(m / (s\sqrt 2))$ (0.76 for the defaults).
//!
//! The belief is a pure function of the question, so an agent re-derives it at stage 2
//! without remembering stage 1 — as a language model re-reads the question.

use std::collections::HashMap;

use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::{AgentError, OptionProbs};
use crate::design::prompt::PromptQuestion;
use crate::design::question::QuestionSet;
use crate::error::{ConfidenceError, Result, finite};
use crate::seed;

/// Parameters of the drawn beliefs (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeConfig {
    /// Skill $m$: logit bonus of the correct option.
    pub skill: f64,
    /// Spread $s \ge 0$: standard deviation of the per-option logit noise.
    pub spread: f64,
    /// Seed of the draws.
    pub seed: u64,
}

impl Default for KnowledgeConfig {
    fn default() -> Self {
        Self {
            skill: 1.0,
            spread: 1.0,
            seed: 0,
        }
    }
}

impl KnowledgeConfig {
    /// Validates the config and draws a belief for every question of `questions`.
    pub fn build(self, questions: &QuestionSet) -> Result<Knowledge> {
        finite("skill", self.skill)?;
        if finite("spread", self.spread)? < 0.0 {
            return Err(ConfidenceError::InvalidParameter {
                name: "spread",
                value: self.spread,
                reason: "must be >= 0",
            });
        }
        let beliefs = questions
            .questions()
            .iter()
            .map(|q| {
                let mut rng = seed::rng(self.seed, &["knowledge", &q.id]);
                let logits: Vec<f64> = (0..q.n_options())
                    .map(|k| {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        self.spread * z + if k == q.correct { self.skill } else { 0.0 }
                    })
                    .collect();
                Ok((q.id.clone(), OptionProbs::from_log_probs(&logits)?))
            })
            .collect::<Result<HashMap<_, _>>>()?;
        Ok(Knowledge {
            config: self,
            beliefs,
        })
    }
}

/// Seeded stage-1 beliefs, one per question id.
#[derive(Debug, Clone, PartialEq)]
pub struct Knowledge {
    config: KnowledgeConfig,
    beliefs: HashMap<String, OptionProbs>,
}

impl Knowledge {
    /// The config the beliefs were drawn with.
    pub fn config(&self) -> KnowledgeConfig {
        self.config
    }

    /// The belief about a prompt's question; an error if the question is unknown or its
    /// number of options differs from the one the belief was drawn for.
    pub fn belief(&self, q: &PromptQuestion) -> core::result::Result<&OptionProbs, AgentError> {
        let b = self
            .beliefs
            .get(&q.id)
            .ok_or_else(|| AgentError::UnknownQuestion { id: q.id.clone() })?;
        if b.len() != q.options.len() {
            return Err(AgentError::InvalidOutput {
                reason: format!(
                    "question `{}` has {} options but the belief has {}",
                    q.id,
                    q.options.len(),
                    b.len()
                ),
            });
        }
        Ok(b)
    }
}
