//! Continual-learning metrics from the accuracy matrix (S4: "`R[i][j]` (accuracy on task j after
//! task i), ACC, BWT = `mean_{i<T}(R[T][i] − R[i][i])`, forgetting").
//!
//! With `T` tasks and $R_{i,j}$ the accuracy on task `j` after training on task `i`
//! (0-based here):
//!
//! - $\mathrm{ACC} = \frac1T\sum_{j} R_{T-1,j}$ (Lopez-Paz & Ranzato, *Gradient Episodic
//!   Memory*, NeurIPS 2017, eq. 2);
//! - $\mathrm{BWT} = \frac1{T-1}\sum_{i<T-1} (R_{T-1,i} - R_{i,i})$ (ibid.);
//! - $\mathrm{FWT} = \frac1{T-1}\sum_{i\ge1} (R_{i-1,i} - \bar b_i)$ with $\bar b_i$ the
//!   accuracy of a baseline (e.g. the random init) on task `i` (ibid.);
//! - forgetting $f_j = \max_{l<T-1} R_{l,j} - R_{T-1,j}$, averaged over $j < T-1$ (Chaudhry
//!   et al., *Riemannian Walk*, ECCV 2018, eq. 7–8).

use crate::error::{OptimError, Result};

/// A validated `T × T` accuracy matrix, `T ≥ 1`, finite entries.
#[derive(Debug, Clone, PartialEq)]
pub struct AccuracyMatrix {
    r: Vec<Vec<f64>>,
}

impl AccuracyMatrix {
    /// From rows `r[i][j]` = accuracy on task `j` after training task `i`.
    ///
    /// Errors: empty or non-square, or a non-finite entry.
    pub fn new(r: Vec<Vec<f64>>) -> Result<Self> {
        let t = r.len();
        if t == 0 {
            return Err(OptimError::Undefined {
                what: "accuracy matrix",
                reason: "no tasks",
            });
        }
        if let Some(row) = r.iter().find(|row| row.len() != t) {
            return Err(OptimError::ShapeMismatch {
                what: "accuracy matrix",
                expected: format!("{t}×{t} (square)"),
                got: format!("a row of length {}", row.len()),
            });
        }
        let count = r.iter().flatten().filter(|x| !x.is_finite()).count();
        if count > 0 {
            return Err(OptimError::NonFinite {
                what: "accuracy matrix",
                count,
            });
        }
        Ok(Self { r })
    }

    /// Number of tasks `T`.
    pub fn tasks(&self) -> usize {
        self.r.len()
    }

    /// $R_{i,j}$: accuracy on task `on_task` after training through task `after_task`
    /// (0-based); `None` outside the $T \times T$ matrix.
    pub fn get(&self, after_task: usize, on_task: usize) -> Option<f64> {
        self.r.get(after_task)?.get(on_task).copied()
    }

    /// The rows.
    pub fn rows(&self) -> &[Vec<f64>] {
        &self.r
    }

    /// Average final accuracy ACC.
    pub fn acc(&self) -> f64 {
        let last = &self.r[self.tasks() - 1];
        last.iter().sum::<f64>() / last.len() as f64
    }

    /// Backward transfer BWT (negative = forgetting). Undefined for one task.
    pub fn bwt(&self) -> Result<f64> {
        let t = self.tasks();
        self.need_two("BWT")?;
        Ok((0..t - 1)
            .map(|i| self.r[t - 1][i] - self.r[i][i])
            .sum::<f64>()
            / (t - 1) as f64)
    }

    /// Forward transfer FWT against per-task baseline accuracies (`baseline.len() == T`;
    /// `baseline[0]` is unused).
    pub fn fwt(&self, baseline: &[f64]) -> Result<f64> {
        let t = self.tasks();
        self.need_two("FWT")?;
        if baseline.len() != t {
            return Err(OptimError::ShapeMismatch {
                what: "FWT baseline",
                expected: format!("{t} accuracies (one per task)"),
                got: format!("{}", baseline.len()),
            });
        }
        Ok((1..t).map(|i| self.r[i - 1][i] - baseline[i]).sum::<f64>() / (t - 1) as f64)
    }

    /// Chaudhry forgetting per task $f_j$, for $j < T-1$.
    pub fn forgetting_per_task(&self) -> Result<Vec<f64>> {
        let t = self.tasks();
        self.need_two("forgetting")?;
        Ok((0..t - 1)
            .map(|j| {
                let best = (0..t - 1)
                    .map(|l| self.r[l][j])
                    .fold(f64::NEG_INFINITY, f64::max);
                best - self.r[t - 1][j]
            })
            .collect())
    }

    /// Average forgetting (Chaudhry et al.).
    pub fn forgetting(&self) -> Result<f64> {
        let f = self.forgetting_per_task()?;
        Ok(f.iter().sum::<f64>() / f.len() as f64)
    }

    fn need_two(&self, what: &'static str) -> Result<()> {
        if self.tasks() < 2 {
            Err(OptimError::Undefined {
                what,
                reason: "needs at least 2 tasks",
            })
        } else {
            Ok(())
        }
    }
}
