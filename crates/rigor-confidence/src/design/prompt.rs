//! What an agent sees at each stage: a self-contained prompt value.
//!
//! A [`StagePrompt`] carries everything its stage needs and nothing else — no trial id, no
//! correct answer, no reference to an earlier call. The stage-2 prompt is built afresh from
//! the question, the advice and (when Shown) the label of the stage-1 answer; it is how the
//! paper's "fresh call (no memory)" is enforced (S5).
//!
//! ## Templates
//!
//! [`StagePrompt::render`] produces the text sent to language models. Stage 1:
//!
//! ```text
//! Answer the following question with the letter of one option.
//!
//! Question: What is the latitude of Oslo (Norway)?
//! A. 59.9° N
//! B. 47.3° N
//!
//! Answer:
//! ```
//!
//! Stage 2 (`{a}` is the stated accuracy in percent, the own answer is `xx` when Hidden,
//! and the advice line reads `no recommendation` for Neutral advice):
//!
//! ```text
//! Answer the following question with the letter of one option.
//!
//! Question: What is the latitude of Oslo (Norway)?
//! A. 59.9° N
//! B. 47.3° N
//!
//! Your initial answer was: A
//! Advice from another LLM, which answers such questions correctly 70% of the time: B
//! Taking your initial answer and the advice into account, give your final answer.
//!
//! Answer:
//! ```

use serde::{Deserialize, Serialize};

use super::question::{Question, option_label};

/// The question as an agent sees it: text and options, without the correct answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptQuestion {
    /// The question's id (not rendered; simulated agents use it to look up their knowledge).
    pub id: String,
    /// The question text.
    pub text: String,
    /// The options, labelled `A`, `B`, … in order.
    pub options: Vec<String>,
}

impl From<&Question> for PromptQuestion {
    fn from(q: &Question) -> Self {
        Self {
            id: q.id.clone(),
            text: q.text.clone(),
            options: q.options.clone(),
        }
    }
}

/// The advisor's message in a stage-2 prompt.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdviceMessage {
    /// The recommended option (`None` for Neutral advice).
    pub recommends: Option<usize>,
    /// The stated accuracy $a \in [0, 1]$.
    pub stated_accuracy: f64,
}

/// The agent's own stage-1 answer as shown in the stage-2 prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnAnswer {
    /// The stage-1 answer is shown (its option index).
    Shown(usize),
    /// The stage-1 answer is replaced by `xx`.
    Hidden,
}

/// Which stage a prompt belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Stage {
    /// Stage 1: the question only.
    Initial,
    /// Stage 2: the question, the advice, and the own answer shown or hidden.
    Final {
        /// The advisor's message.
        advice: AdviceMessage,
        /// The own stage-1 answer, or `xx`.
        own_answer: OwnAnswer,
    },
}

/// A self-contained prompt for one stage (see the module docs for the templates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StagePrompt {
    question: PromptQuestion,
    stage: Stage,
}

impl StagePrompt {
    /// The stage-1 prompt for a question.
    pub fn initial(question: &Question) -> Self {
        Self {
            question: question.into(),
            stage: Stage::Initial,
        }
    }

    /// A stage-2 prompt. The runner only builds these with `recommends` and `Shown` indices
    /// in range; agents must still not assume it for prompts built by users.
    pub fn final_stage(question: &Question, advice: AdviceMessage, own_answer: OwnAnswer) -> Self {
        Self {
            question: question.into(),
            stage: Stage::Final { advice, own_answer },
        }
    }

    /// The question.
    pub fn question(&self) -> &PromptQuestion {
        &self.question
    }

    /// The stage.
    pub fn stage(&self) -> &Stage {
        &self.stage
    }

    /// Number of options $K$.
    pub fn n_options(&self) -> usize {
        self.question.options.len()
    }

    /// The prompt text for a language model (templates in the module docs).
    pub fn render(&self) -> String {
        let mut s =
            String::from("Answer the following question with the letter of one option.\n\n");
        s.push_str(&format!("Question: {}\n", self.question.text));
        for (i, o) in self.question.options.iter().enumerate() {
            s.push_str(&format!("{}. {}\n", option_label(i), o));
        }
        if let Stage::Final { advice, own_answer } = &self.stage {
            let own = match own_answer {
                OwnAnswer::Shown(i) => option_label(*i).to_string(),
                OwnAnswer::Hidden => "xx".to_string(),
            };
            let rec = match advice.recommends {
                Some(j) => option_label(j).to_string(),
                None => "no recommendation".to_string(),
            };
            s.push_str(&format!("\nYour initial answer was: {own}\n"));
            s.push_str(&format!(
                "Advice from another LLM, which answers such questions correctly {:.0}% of the time: {rec}\n",
                advice.stated_accuracy * 100.0
            ));
            s.push_str(
                "Taking your initial answer and the advice into account, give your final answer.\n",
            );
        }
        s.push_str("\nAnswer:");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> Question {
        Question::new("q", "Which?", vec!["x".into(), "y".into()], 1).unwrap()
    }

    #[test]
    fn hidden_prompt_never_names_the_initial_answer() {
        let advice = AdviceMessage {
            recommends: Some(1),
            stated_accuracy: 0.7,
        };
        let hidden = StagePrompt::final_stage(&q(), advice, OwnAnswer::Hidden).render();
        assert!(hidden.contains("Your initial answer was: xx\n"));
        assert!(hidden.contains("correctly 70% of the time: B\n"));
        let shown = StagePrompt::final_stage(&q(), advice, OwnAnswer::Shown(0)).render();
        assert!(shown.contains("Your initial answer was: A\n"));
        let initial = StagePrompt::initial(&q()).render();
        assert!(!initial.contains("initial answer"));
        assert!(initial.ends_with("B. y\n\nAnswer:"));
    }
}
