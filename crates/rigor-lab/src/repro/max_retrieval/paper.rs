//! The paper's max-retrieval accuracies (`docs/paper-facts.md` S1; recovered from a secondary
//! source — check against the paper's Table before quoting).

/// `(n, baseline softmax %, adaptive temperature %)`.
pub const PAPER_ACCURACY: [(usize, f64, f64); 6] = [
    (16, 98.6, 98.6),
    (64, 94.3, 94.5),
    (256, 81.3, 82.1),
    (1024, 53.8, 57.7),
    (4096, 22.6, 24.9),
    (16384, 12.4, 14.0),
];

/// The paper's `(baseline, adaptive)` accuracy in percent at `n`, if it reports one.
pub fn paper_accuracy(n: usize) -> Option<(f64, f64)> {
    PAPER_ACCURACY
        .iter()
        .find(|(m, _, _)| *m == n)
        .map(|&(_, b, a)| (b, a))
}
