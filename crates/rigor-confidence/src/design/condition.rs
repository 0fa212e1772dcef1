//! The factorial design: answer display × advice type × stated advice accuracy.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ConfidenceError, Result};

/// The direction of the advice **relative to the agent's own stage-1 answer** (paper S5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdviceType {
    /// The advisor recommends the option the agent chose at stage 1 (supporting advice).
    Same,
    /// The advisor recommends an option other than the agent's stage-1 answer (opposing
    /// advice, "criticism").
    Opposite,
    /// The advisor states its accuracy but recommends no option; the ideal observer keeps
    /// $c^\prime = c$. (Interpretation: docs/paper-facts.md S5 only names the condition; see the
    /// crate docs.)
    Neutral,
}

impl AdviceType {
    /// All three, in the order Same, Opposite, Neutral.
    pub const ALL: [AdviceType; 3] = [AdviceType::Same, AdviceType::Opposite, AdviceType::Neutral];

    /// Lower-case name used in trial ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            AdviceType::Same => "same",
            AdviceType::Opposite => "opposite",
            AdviceType::Neutral => "neutral",
        }
    }
}

impl fmt::Display for AdviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the stage-2 prompt shows the agent its own stage-1 answer (paper S5: Shown, or
/// Hidden as "xx").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerDisplay {
    /// "Your initial answer was: B".
    Shown,
    /// "Your initial answer was: xx".
    Hidden,
}

impl AnswerDisplay {
    /// Both, in the order Shown, Hidden.
    pub const ALL: [AnswerDisplay; 2] = [AnswerDisplay::Shown, AnswerDisplay::Hidden];

    /// Lower-case name used in trial ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            AnswerDisplay::Shown => "shown",
            AnswerDisplay::Hidden => "hidden",
        }
    }
}

impl fmt::Display for AnswerDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One cell of the design. Accuracy is an integer percentage, as in the paper
/// ($a \in \\{50, 60, \dots, 100\\}\\%$), so cells compare and hash exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cell {
    /// Own answer shown or hidden.
    pub display: AnswerDisplay,
    /// Advice direction relative to the stage-1 answer.
    pub advice: AdviceType,
    /// Stated (and, by construction of the plan, actual) advice accuracy in percent.
    pub accuracy_percent: u32,
}

impl Cell {
    /// The stated accuracy $a$ as a probability.
    pub fn accuracy(&self) -> f64 {
        f64::from(self.accuracy_percent) / 100.0
    }

    /// `"shown-opposite-70"`: the prefix of this cell's trial ids.
    pub fn key(&self) -> String {
        format!("{}-{}-{}", self.display, self.advice, self.accuracy_percent)
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} / {} / {}%",
            self.display, self.advice, self.accuracy_percent
        )
    }
}

/// The factorial design before validation. [`DesignConfig::default`] is the paper's:
/// 2 displays × 3 advice types × accuracies {50, 60, 70, 80, 90, 100}%, 20 trials per cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignConfig {
    /// Displays to run.
    pub displays: Vec<AnswerDisplay>,
    /// Advice types to run.
    pub advice_types: Vec<AdviceType>,
    /// Stated accuracies in percent, each in `0..=100`.
    pub accuracies_percent: Vec<u32>,
    /// Trials per cell.
    pub trials_per_cell: usize,
    /// Seed of the plan (which questions go to which cell, advice options, trial order).
    pub seed: u64,
}

impl Default for DesignConfig {
    fn default() -> Self {
        Self {
            displays: AnswerDisplay::ALL.to_vec(),
            advice_types: AdviceType::ALL.to_vec(),
            accuracies_percent: vec![50, 60, 70, 80, 90, 100],
            trials_per_cell: 20,
            seed: 0,
        }
    }
}

impl DesignConfig {
    /// Validates the config: non-empty lists without duplicates, accuracies ≤ 100,
    /// at least one trial per cell.
    pub fn validate(self) -> Result<Design> {
        let bad = |reason: String| ConfidenceError::InvalidConfig {
            what: "design",
            reason,
        };
        if self.displays.is_empty() || self.advice_types.is_empty() {
            return Err(bad("needs at least one display and one advice type".into()));
        }
        if self.accuracies_percent.is_empty() {
            return Err(bad("needs at least one accuracy".into()));
        }
        if let Some(a) = self.accuracies_percent.iter().find(|&&a| a > 100) {
            return Err(bad(format!("accuracy {a}% is above 100%")));
        }
        if self.trials_per_cell == 0 {
            return Err(bad("trials_per_cell must be at least 1".into()));
        }
        let dup = |n: usize, u: usize| n != u;
        if dup(
            self.displays.len(),
            self.displays.iter().collect::<HashSet<_>>().len(),
        ) || dup(
            self.advice_types.len(),
            self.advice_types.iter().collect::<HashSet<_>>().len(),
        ) || dup(
            self.accuracies_percent.len(),
            self.accuracies_percent.iter().collect::<HashSet<_>>().len(),
        ) {
            return Err(bad(
                "a display, advice type or accuracy is listed twice".into()
            ));
        }
        Ok(Design { config: self })
    }
}

/// A validated [`DesignConfig`].
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    config: DesignConfig,
}

impl Design {
    /// The config it was built from.
    pub fn config(&self) -> &DesignConfig {
        &self.config
    }

    /// Every cell, displays outermost, then advice types, then accuracies.
    pub fn cells(&self) -> Vec<Cell> {
        let c = &self.config;
        c.displays
            .iter()
            .flat_map(|&display| {
                c.advice_types.iter().flat_map(move |&advice| {
                    c.accuracies_percent
                        .iter()
                        .map(move |&accuracy_percent| Cell {
                            display,
                            advice,
                            accuracy_percent,
                        })
                })
            })
            .collect()
    }

    /// Total number of planned stage-2 trials.
    pub fn n_trials(&self) -> usize {
        self.cells().len() * self.config.trials_per_cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_design_is_the_papers_full_factorial() {
        let d = DesignConfig::default().validate().unwrap();
        assert_eq!(d.cells().len(), 2 * 3 * 6);
        assert_eq!(d.n_trials(), 36 * 20);
    }

    #[test]
    fn invalid_designs_are_rejected() {
        let mut c = DesignConfig::default();
        c.accuracies_percent.push(101);
        assert!(c.validate().is_err());
        let mut c = DesignConfig::default();
        c.accuracies_percent.push(50);
        assert!(c.validate().is_err());
        let c = DesignConfig {
            trials_per_cell: 0,
            ..DesignConfig::default()
        };
        assert!(c.validate().is_err());
    }
}
