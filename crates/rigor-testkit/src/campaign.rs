//! A hostile-input campaign: run many small cases against a public API, classify each
//! outcome, print the counts, and fail on any panic, silent NaN, finite-but-wrong result or
//! valid input refused.
//!
//! ```
//! use rigor_testkit::campaign::{Campaign, Outcome, compare};
//! let mut c = Campaign::new("demo");
//! c.case("sqrt", "4", || compare(&[2.0], &[2.0], 1e-6));
//! c.case("sqrt", "-1", || Outcome::Refused);
//! c.finish();
//! ```
//!
//! A process abort (e.g. an allocation the allocator refuses) cannot be caught: it ends the
//! test binary, which fails the test all the same.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What one case did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The result equals the `f64` reference (or the documented result, e.g. a `NaN` row for a
    /// `NaN` input).
    Correct,
    /// Invalid input refused with an error — the expected outcome for invalid input.
    Refused,
    /// Valid input refused with an error (a failure).
    WronglyRefused(String),
    /// Invalid input accepted (a failure).
    Accepted(String),
    /// `NaN`/`±∞` where the reference is finite (a failure).
    SilentNan(String),
    /// A finite result that differs from the reference (a failure).
    Wrong(String),
    /// The case panicked (a failure).
    Panic(String),
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Self::Correct => "correct",
            Self::Refused => "refused",
            Self::WronglyRefused(_) => "valid refused",
            Self::Accepted(_) => "invalid accepted",
            Self::SilentNan(_) => "silent NaN",
            Self::Wrong(_) => "finite but wrong",
            Self::Panic(_) => "panic",
        }
    }

    fn is_failure(&self) -> bool {
        !matches!(self, Self::Correct | Self::Refused)
    }

    fn detail(&self) -> &str {
        match self {
            Self::Correct | Self::Refused => "",
            Self::WronglyRefused(s)
            | Self::Accepted(s)
            | Self::SilentNan(s)
            | Self::Wrong(s)
            | Self::Panic(s) => s,
        }
    }

    /// Combines two checks of one case: the first failure wins.
    pub fn and(self, other: Outcome) -> Outcome {
        if self.is_failure() { self } else { other }
    }
}

const LABELS: [&str; 7] = [
    "correct",
    "refused",
    "valid refused",
    "invalid accepted",
    "silent NaN",
    "finite but wrong",
    "panic",
];

/// Counts outcomes per entry point and keeps every failure.
#[derive(Debug)]
pub struct Campaign {
    name: String,
    counts: BTreeMap<String, [usize; 7]>,
    failures: Vec<(String, String, Outcome)>,
}

impl Campaign {
    /// An empty campaign.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            counts: BTreeMap::new(),
            failures: Vec::new(),
        }
    }

    /// Runs one case of `entry` (a public function or method) on `input` (a short description),
    /// catching panics.
    pub fn case(&mut self, entry: &str, input: &str, body: impl FnOnce() -> Outcome) {
        // Quiet while the case runs: a caught panic is counted, not printed.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let result = catch_unwind(AssertUnwindSafe(body));
        std::panic::set_hook(hook);
        let outcome = match result {
            Ok(o) => o,
            Err(p) => Outcome::Panic(
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_else(|| "non-string panic".to_string()),
            ),
        };
        let i = LABELS.iter().position(|l| *l == outcome.label()).unwrap();
        self.counts.entry(entry.to_string()).or_insert([0; 7])[i] += 1;
        if outcome.is_failure() {
            self.failures
                .push((entry.to_string(), input.to_string(), outcome));
        }
    }

    /// Number of cases run.
    pub fn total(&self) -> usize {
        self.counts.values().map(|c| c.iter().sum::<usize>()).sum()
    }

    /// Prints the table of outcome counts per entry point, then panics listing the failures
    /// if there are any.
    pub fn finish(self) {
        let mut totals = [0usize; 7];
        println!("\n== hostile-input campaign: {} ==", self.name);
        println!(
            "{:<44} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
            "entry point", "correct", "refused", "v.ref", "inv.acc", "NaN", "wrong", "panic"
        );
        for (entry, c) in &self.counts {
            println!(
                "{:<44} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
                entry, c[0], c[1], c[2], c[3], c[4], c[5], c[6]
            );
            for (t, v) in totals.iter_mut().zip(c) {
                *t += v;
            }
        }
        println!(
            "{:<44} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
            "total", totals[0], totals[1], totals[2], totals[3], totals[4], totals[5], totals[6]
        );
        if !self.failures.is_empty() {
            let list: Vec<String> = self
                .failures
                .iter()
                .take(400)
                .map(|(e, i, o)| format!("  {e} [{i}]: {} — {}", o.label(), o.detail()))
                .collect();
            panic!(
                "{}: {} of {} cases failed:\n{}",
                self.name,
                self.failures.len(),
                totals.iter().sum::<usize>(),
                list.join("\n")
            );
        }
    }
}

/// Compares `f32` results to an `f64` reference element-wise with absolute tolerance `tol`
/// (relative above magnitude 1): a `NaN` reference requires `NaN`, `±∞` requires the same
/// infinity; otherwise a non-finite `got` is a silent NaN and a distance over `tol` is wrong.
/// A reference beyond `f32::MAX` in magnitude expects the `f32` infinity of its sign.
pub fn compare(got: &[f32], want: &[f64], tol: f64) -> Outcome {
    let max = f64::from(f32::MAX);
    let want: Vec<f64> = want
        .iter()
        .map(|&w| {
            if w.abs() > max {
                w.signum() * f64::INFINITY
            } else {
                w
            }
        })
        .collect();
    compare64(
        &got.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
        &want,
        tol,
    )
}

/// [`compare`] for `f64` results.
pub fn compare64(got: &[f64], want: &[f64], tol: f64) -> Outcome {
    if got.len() != want.len() {
        return Outcome::Wrong(format!("length {} vs {}", got.len(), want.len()));
    }
    for (i, (&a, &b)) in got.iter().zip(want).enumerate() {
        if b.is_nan() {
            if !a.is_nan() {
                return Outcome::Wrong(format!("[{i}] = {a}, reference NaN"));
            }
        } else if b.is_infinite() {
            if a != b {
                return Outcome::Wrong(format!("[{i}] = {a}, reference {b}"));
            }
        } else if !a.is_finite() {
            return Outcome::SilentNan(format!("[{i}] = {a}, reference {b}"));
        } else if (a - b).abs() > tol * b.abs().max(1.0) {
            return Outcome::Wrong(format!("[{i}] = {a}, reference {b}"));
        }
    }
    Outcome::Correct
}

/// A result that must be an error (invalid input).
pub fn refused<T: Debug, E>(r: Result<T, E>) -> Outcome {
    match r {
        Err(_) => Outcome::Refused,
        Ok(v) => {
            let mut s = format!("{v:?}");
            s.truncate(120);
            Outcome::Accepted(s)
        }
    }
}

/// A result that must be `Ok` (valid input): its value goes to `check`.
pub fn accepted<T, E: Debug>(r: Result<T, E>, check: impl FnOnce(T) -> Outcome) -> Outcome {
    match r {
        Ok(v) => check(v),
        Err(e) => {
            let mut s = format!("{e:?}");
            s.truncate(200);
            Outcome::WronglyRefused(s)
        }
    }
}
