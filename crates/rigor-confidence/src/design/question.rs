//! Questions with two or more options, and sets of them loaded from JSON.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ConfidenceError, Result, io_error};

/// Most options a question may have: one per letter label `A`…`Z`.
pub const MAX_OPTIONS: usize = 26;

/// The letter label of option `index` (`0 → 'A'`, `1 → 'B'`, …).
///
/// Labels exist for `index < MAX_OPTIONS`; questions are validated against that bound.
pub fn option_label(index: usize) -> char {
    debug_assert!(index < MAX_OPTIONS);
    (b'A' + (index as u8 % MAX_OPTIONS as u8)) as char
}

/// A multiple-choice question: the stage-1 stimulus of the paradigm (paper S5: "the correct
/// latitude of a city vs a foil").
///
/// Build with [`Question::new`], which validates; deserialised questions are validated by
/// [`QuestionSet::new`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// Unique id within its set (used for trial records and agent knowledge look-ups).
    pub id: String,
    /// The question text shown to the agent.
    pub text: String,
    /// The options, shown with labels `A`, `B`, … in this order.
    pub options: Vec<String>,
    /// Index of the correct option.
    pub correct: usize,
}

impl Question {
    /// A validated question: 2 to 26 distinct, non-empty options and `correct` in range.
    pub fn new(
        id: impl Into<String>,
        text: impl Into<String>,
        options: Vec<String>,
        correct: usize,
    ) -> Result<Self> {
        let q = Self {
            id: id.into(),
            text: text.into(),
            options,
            correct,
        };
        q.validate()?;
        Ok(q)
    }

    /// Checks the invariants [`Question::new`] guarantees.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| ConfidenceError::InvalidQuestion {
            id: self.id.clone(),
            reason,
        };
        if self.id.is_empty() {
            return Err(bad("the id is empty".into()));
        }
        if self.options.len() < 2 || self.options.len() > MAX_OPTIONS {
            return Err(bad(format!(
                "needs 2 to {MAX_OPTIONS} options, has {}",
                self.options.len()
            )));
        }
        if self.correct >= self.options.len() {
            return Err(bad(format!(
                "correct index {} is out of range for {} options",
                self.correct,
                self.options.len()
            )));
        }
        let mut seen = HashSet::new();
        for o in &self.options {
            if o.trim().is_empty() {
                return Err(bad("an option is empty".into()));
            }
            if !seen.insert(o.as_str()) {
                return Err(bad(format!("option `{o}` appears twice")));
            }
        }
        Ok(())
    }

    /// Number of options $K$.
    pub fn n_options(&self) -> usize {
        self.options.len()
    }
}

/// A validated set of questions with unique ids.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct QuestionSet {
    questions: Vec<Question>,
}

impl QuestionSet {
    /// Validates every question and the uniqueness of ids; an empty set is an error.
    pub fn new(questions: Vec<Question>) -> Result<Self> {
        if questions.is_empty() {
            return Err(ConfidenceError::EmptyInput {
                what: "question set",
            });
        }
        let mut ids = HashSet::new();
        for q in &questions {
            q.validate()?;
            if !ids.insert(q.id.as_str()) {
                return Err(ConfidenceError::InvalidQuestion {
                    id: q.id.clone(),
                    reason: "the id is used by more than one question".into(),
                });
            }
        }
        Ok(Self { questions })
    }

    /// Parses a JSON array of `{"id", "text", "options", "correct"}` objects.
    ///
    /// ```
    /// use rigor_confidence::QuestionSet;
    /// let set = QuestionSet::from_json(r#"[{"id": "q1", "text": "Which is larger?",
    ///     "options": ["2", "3"], "correct": 1}]"#).unwrap();
    /// assert_eq!(set.len(), 1);
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let questions: Vec<Question> =
            serde_json::from_str(json).map_err(|e| ConfidenceError::CorruptRecord {
                path: "<questions json>".into(),
                line: e.line(),
                message: e.to_string(),
            })?;
        Self::new(questions)
    }

    /// Reads [`QuestionSet::from_json`] from a file.
    pub fn from_json_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| io_error(path, &e))?;
        let questions: Vec<Question> =
            serde_json::from_str(&text).map_err(|e| ConfidenceError::CorruptRecord {
                path: path.display().to_string(),
                line: e.line(),
                message: e.to_string(),
            })?;
        Self::new(questions)
    }

    /// The questions, in order.
    pub fn questions(&self) -> &[Question] {
        &self.questions
    }

    /// Number of questions.
    pub fn len(&self) -> usize {
        self.questions.len()
    }

    /// Always `false` (an empty set cannot be built); present for clippy's `len` convention.
    pub fn is_empty(&self) -> bool {
        self.questions.is_empty()
    }

    /// The question with this id.
    pub fn get(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// A stable fingerprint of the set's content (ids, texts, options, answers), stored in
    /// results files so that a run is never resumed against different questions.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_string(&self.questions).unwrap_or_default();
        crate::seed::fingerprint(&json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_questions_are_rejected_with_their_id() {
        let one = Question::new("q", "t", vec!["a".into()], 0);
        assert!(matches!(one, Err(ConfidenceError::InvalidQuestion { ref id, .. }) if id == "q"));
        assert!(Question::new("q", "t", vec!["a".into(), "b".into()], 2).is_err());
        assert!(Question::new("q", "t", vec!["a".into(), "a".into()], 0).is_err());
        let q = Question::new("q", "t", vec!["a".into(), "b".into()], 1).unwrap();
        assert!(QuestionSet::new(vec![q.clone(), q]).is_err());
        assert!(QuestionSet::new(vec![]).is_err());
    }

    #[test]
    fn json_loading_validates() {
        let bad = r#"[{"id": "q1", "text": "t", "options": ["x", "y"], "correct": 5}]"#;
        assert!(QuestionSet::from_json(bad).is_err());
        assert!(QuestionSet::from_json("not json").is_err());
    }
}
