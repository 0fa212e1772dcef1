//! Learning-rate schedules as pure functions of the step, so a run resumed from a checkpoint
//! at step s continues with exactly the rate it would have had.
//!
//! With $T$ total steps, base rate $\eta$, floor $\eta_{\min}$ and $W$ warm-up steps, step
//! $t \in \\{0,\dots,T-1\\}$ uses
//!
//! - constant: $\eta$;
//! - cosine: $\eta_{\min} + \tfrac12(\eta-\eta_{\min})(1+\cos(\pi t/T))$;
//! - warm-up + cosine: $\eta\\,(t+1)/W$ for $t < W$, then the cosine over the
//!   remaining $T-W$ steps.
//!
//! (Burn's `burn::lr_scheduler` offers the same shapes as stateful objects; a pure function is
//! simpler to checkpoint, test and write into `results.json`.)

use serde::{Deserialize, Serialize};

use crate::error::{LabError, Result};

/// A learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LrSchedule {
    /// The same rate at every step.
    Constant {
        /// η.
        lr: f64,
    },
    /// Cosine decay from `lr` to `min_lr` over the run.
    Cosine {
        /// η at step 0.
        lr: f64,
        /// η at the end.
        min_lr: f64,
    },
    /// Linear warm-up to `lr` over `warmup` steps, then cosine decay to `min_lr`.
    WarmupCosine {
        /// Peak η.
        lr: f64,
        /// Warm-up steps W.
        warmup: usize,
        /// η at the end.
        min_lr: f64,
    },
}

impl LrSchedule {
    /// Checks that every rate is finite and `> 0` (floors `≥ 0` and `≤ lr`).
    ///
    /// # Errors
    /// [`LabError::InvalidConfig`] naming the offending rate.
    pub fn validate(&self) -> Result<()> {
        let (lr, min_lr) = match *self {
            Self::Constant { lr } => (lr, 0.0),
            Self::Cosine { lr, min_lr } | Self::WarmupCosine { lr, min_lr, .. } => (lr, min_lr),
        };
        if !(lr.is_finite() && lr > 0.0) {
            return Err(LabError::config(
                "LrSchedule::lr",
                lr,
                "must be finite and > 0",
            ));
        }
        if !(min_lr.is_finite() && (0.0..=lr).contains(&min_lr)) {
            return Err(LabError::config(
                "LrSchedule::min_lr",
                min_lr,
                "must be finite and in [0, lr]",
            ));
        }
        Ok(())
    }

    /// The rate at 0-based `step` of a `total`-step run.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let cosine = |lr: f64, min_lr: f64, t: usize, span: usize| {
            let frac = if span == 0 {
                1.0
            } else {
                (t as f64 / span as f64).min(1.0)
            };
            min_lr + 0.5 * (lr - min_lr) * (1.0 + (std::f64::consts::PI * frac).cos())
        };
        match *self {
            Self::Constant { lr } => lr,
            Self::Cosine { lr, min_lr } => cosine(lr, min_lr, step, total),
            Self::WarmupCosine { lr, warmup, min_lr } => {
                if step < warmup {
                    lr * (step + 1) as f64 / warmup as f64
                } else {
                    cosine(lr, min_lr, step - warmup, total.saturating_sub(warmup))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_the_schedules() {
        let c = LrSchedule::Cosine {
            lr: 1.0,
            min_lr: 0.1,
        };
        assert_eq!(c.lr_at(0, 100), 1.0);
        assert!((c.lr_at(50, 100) - 0.55).abs() < 1e-12);
        assert!((c.lr_at(100, 100) - 0.1).abs() < 1e-12);
        let w = LrSchedule::WarmupCosine {
            lr: 1.0,
            warmup: 10,
            min_lr: 0.0,
        };
        assert!((w.lr_at(0, 110) - 0.1).abs() < 1e-12);
        assert!((w.lr_at(9, 110) - 1.0).abs() < 1e-12);
        assert!((w.lr_at(10, 110) - 1.0).abs() < 1e-12);
        assert!(w.lr_at(109, 110) < 0.01);
        assert_eq!(LrSchedule::Constant { lr: 0.3 }.lr_at(7, 10), 0.3);
    }

    #[test]
    fn invalid_rates_are_rejected() {
        assert!(LrSchedule::Constant { lr: 0.0 }.validate().is_err());
        assert!(
            LrSchedule::Cosine {
                lr: 0.1,
                min_lr: 0.2
            }
            .validate()
            .is_err()
        );
        assert!(LrSchedule::Constant { lr: f64::NAN }.validate().is_err());
        assert!(
            LrSchedule::WarmupCosine {
                lr: 0.1,
                warmup: 3,
                min_lr: 0.0
            }
            .validate()
            .is_ok()
        );
    }
}
