//! The Bayesian agent: drawn stage-1 beliefs, then the ideal observer at stage 2.

use super::knowledge::Knowledge;
use super::{Agent, AgentError, OptionProbs};
use crate::design::prompt::{AdviceMessage, OwnAnswer, Stage, StagePrompt};
use crate::observer;

/// Answers stage 1 with its [`Knowledge`] belief $p$ and stage 2 with the exact K-option
/// posterior $p^\prime$ of [`crate::observer::posterior`] given the advice — whatever the display
/// (the ideal observer has no choice-supportive bias).
#[derive(Debug, Clone)]
pub struct BayesianAgent {
    knowledge: Knowledge,
}

impl BayesianAgent {
    /// An ideal observer with these beliefs.
    pub fn new(knowledge: Knowledge) -> Self {
        Self { knowledge }
    }
}

/// Checks the indices a stage-2 prompt refers to.
pub(crate) fn check_final_prompt(
    n: usize,
    advice: &AdviceMessage,
    own: &OwnAnswer,
) -> Result<(), AgentError> {
    let bad_index =
        advice.recommends.is_some_and(|j| j >= n) || matches!(own, OwnAnswer::Shown(i) if *i >= n);
    if bad_index || !(0.0..=1.0).contains(&advice.stated_accuracy) {
        return Err(AgentError::InvalidOutput {
            reason: format!(
                "prompt refers to an option or accuracy out of range: {advice:?}, {own:?}"
            ),
        });
    }
    Ok(())
}

impl Agent for BayesianAgent {
    fn name(&self) -> String {
        let c = self.knowledge.config();
        format!(
            "bayesian(skill={}, spread={}, seed={})",
            c.skill, c.spread, c.seed
        )
    }

    fn respond(&self, prompt: &StagePrompt) -> Result<OptionProbs, AgentError> {
        let prior = self.knowledge.belief(prompt.question())?;
        match prompt.stage() {
            Stage::Initial => Ok(prior.clone()),
            Stage::Final { advice, own_answer } => {
                check_final_prompt(prior.len(), advice, own_answer)?;
                let post = observer::posterior(
                    prior.as_slice(),
                    advice.recommends,
                    advice.stated_accuracy,
                )
                .and_then(OptionProbs::new)
                .map_err(|e| AgentError::InvalidOutput {
                    reason: e.to_string(),
                })?;
                Ok(post)
            }
        }
    }
}
