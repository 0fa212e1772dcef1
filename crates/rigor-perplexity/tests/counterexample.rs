//! Lemma 3.1's counterexample search on a hand-built copy model.
//!
//! The model (tensor ops only) copies bit $k$ with confidence $1-\gamma$, except at the last
//! step, where it repeats bit $n-2$: it mis-copies exactly the strings whose last two bits
//! differ, and then gives the true last bit probability $\gamma$. So a wrong copy costs
//! $\Delta = \log(1-\gamma) - \log\gamma$ of NLL in one step out of $n$, and its perplexity is
//! within $\Delta/n$ of a right copy — Lemma 3.1's mechanism, with every quantity known in
//! closed form for the host oracle.

mod common;

use burn::tensor::{Int, Tensor, TensorData};
use common::assert_close;
use rigor_perplexity::*;
use rigor_testkit::for_each_device;

struct CopyModel {
    n: usize,
    gamma: f64,
}

impl CausalLm for CopyModel {
    fn logits(&self, tokens: Tensor<2, Int>) -> rigor_perplexity::Result<Tensor<3>> {
        let [b, l] = tokens.dims();
        let n = self.n;
        assert_eq!(l, 2 * n, "copy-task prompt b, SEP, b[..n-1]");
        let device = tokens.device();
        let src = tokens.narrow(1, 0, n);
        let pred = Tensor::cat(
            vec![src.clone().narrow(1, 0, n - 1), src.narrow(1, n - 2, 1)],
            1,
        );
        let onehot = pred.one_hot::<3>(3).float(); // [b, n, 3]
        let (lc, lw) = ((1.0 - self.gamma).ln() as f32, self.gamma.ln() as f32);
        let base = Tensor::<3>::from_data(TensorData::new(vec![lw, lw, -1e30], [1, 1, 3]), &device);
        let copy = onehot.mul_scalar(lc - lw) + base;
        Ok(Tensor::cat(
            vec![Tensor::<3>::zeros([b, n, 3], &device), copy],
            1,
        ))
    }
}

fn bits(mask: u64, n: usize) -> Vec<bool> {
    (0..n).map(|i| mask >> i & 1 == 1).collect()
}

#[test]
fn finds_exactly_the_last_bit_flips_of_the_zero_string() {
    for_each_device(|device| {
        let (n, gamma) = (16, 0.1);
        let model = CopyModel { n, gamma };
        let alpha = vec![false; n];
        let delta = (1.0 - gamma).ln() - gamma.ln();
        let gap = delta / n as f64; // 0.137
        let found = CounterexampleConfig::new(0.2)
            .init()
            .unwrap()
            .search(&model, &alpha, device)
            .unwrap();
        assert_eq!(found.candidates, n);
        assert_close(
            found.alpha_score.log_perplexity,
            -(1.0 - gamma).ln(),
            1e-6,
            0.0,
            "pplx(α)",
        );
        let flipped: Vec<Vec<usize>> = found.found.iter().map(|c| c.flipped.clone()).collect();
        assert_eq!(flipped, vec![vec![n - 2], vec![n - 1]]);
        for c in &found.found {
            assert_eq!(
                c.score.first_error,
                Some(n - 1),
                "the last step is the wrong one"
            );
            assert_close(c.gap, gap, 1e-6, 0.0, "gap = Δ/n");
            let want = (-((n - 1) as f64) * (1.0 - gamma).ln() - gamma.ln()) / n as f64;
            assert_close(c.score.log_perplexity, want, 1e-6, 0.0, "pplx(β)");
        }
        // below the gap, nothing qualifies
        let none = CounterexampleConfig::new(0.1)
            .init()
            .unwrap()
            .search(&model, &alpha, device)
            .unwrap();
        assert!(none.found.is_empty());
    });
}

/// Lemma 3.1: for any ξ, a long enough α has a counterexample (here ξ = 0.05 needs n > Δ/ξ ≈ 44).
#[test]
fn lemma_3_1_counterexamples_appear_once_n_exceeds_delta_over_xi() {
    for_each_device(|device| {
        let (gamma, xi) = (0.1f64, 0.05);
        let threshold = ((1.0 - gamma).ln() - gamma.ln()) / xi;
        let finder = CounterexampleConfig::new(xi).init().unwrap();
        for n in [8usize, 32, 48, 96] {
            let r = finder
                .search(&CopyModel { n, gamma }, &vec![false; n], device)
                .unwrap();
            assert_eq!(
                !r.found.is_empty(),
                n as f64 > threshold,
                "n = {n}, threshold {threshold:.1}"
            );
        }
    });
}

/// The theorem kit's Lemma 3.1 checker on the same model: holds past n > Δ/ξ, does not below
/// (saying the strings are too short), and reports a premise failure as a verdict.
#[test]
fn kit_lemma_3_1_verdicts_follow_the_threshold() {
    use rigor_perplexity::theorems::check_lemma_3_1;
    let device = burn::tensor::Device::flex();
    let (gamma, xi) = (0.1f64, 0.05);
    for (n, holds) in [(32usize, false), (48, true)] {
        let v = check_lemma_3_1(
            &CopyModel { n, gamma },
            &vec![false; n],
            CounterexampleConfig::new(xi),
            &device,
        )
        .unwrap();
        assert_eq!(v.holds, holds, "n = {n}: {v}");
        assert_eq!(v.cases, n);
        if holds {
            assert!(v.worst_margin > 0.0 && v.worst_margin < xi, "{v}");
        } else {
            assert!(v.detail.contains("long enough"), "{v}");
        }
    }
    // 0…01 ends in differing bits: this model copies it wrongly, so the premise fails.
    let mut alpha = vec![false; 8];
    alpha[7] = true;
    let v = check_lemma_3_1(
        &CopyModel { n: 8, gamma },
        &alpha,
        CounterexampleConfig::new(xi),
        &device,
    )
    .unwrap();
    assert!(!v.holds && v.detail.starts_with("premise fails"), "{v}");
    // Bad input is an error, not a verdict: ξ ≤ 0 or NaN, an empty string, a budget overrun.
    let model = CopyModel { n: 8, gamma };
    for xi in [0.0, -1.0, f64::NAN] {
        assert!(
            check_lemma_3_1(&model, &[false; 8], CounterexampleConfig::new(xi), &device).is_err()
        );
    }
    assert!(check_lemma_3_1(&model, &[], CounterexampleConfig::new(xi), &device).is_err());
    let tight = CounterexampleConfig::new(xi)
        .with_max_flips(8)
        .with_max_candidates(10);
    assert!(check_lemma_3_1(&model, &[false; 8], tight, &device).is_err());
    // The iso-perplexity checker refuses out-of-domain values and bad tolerances.
    use rigor_perplexity::theorems::check_iso_perplexity;
    for (a, g, dg, tol) in [
        (1.5, 0.2, 0.1, 1e-9),
        (0.5, 0.6, 0.1, 1e-9),
        (0.5, 0.2, 0.3, 1e-9),
        (f64::NAN, 0.2, 0.1, 1e-9),
        (0.5, 0.2, 0.1, -1.0),
        (0.5, 0.2, 0.1, f64::NAN),
    ] {
        assert!(
            check_iso_perplexity(a, g, dg, tol).is_err(),
            "{a} {g} {dg} {tol}"
        );
    }
    let v = check_iso_perplexity(0.5, 0.2, 0.2, 1e-9).unwrap();
    assert!(v.holds && v.cases == 1, "perfect confidence: {v}");
}

/// Up to two flips from random α: the reported set equals the host oracle's set.
#[test]
fn multi_flip_search_matches_the_host_oracle() {
    for_each_device(|device| {
        let (n, gamma, xi) = (10usize, 0.2f64, 0.3);
        let model = CopyModel { n, gamma };
        let delta = (1.0 - gamma).ln() - gamma.ln(); // 1.386; Δ/n = 0.139 < ξ
        let finder = CounterexampleConfig::new(xi)
            .with_max_flips(2)
            .with_batch_size(7)
            .init()
            .unwrap();
        for seed in [0b11_0110_1001u64, 0b00_1011_0110, 0b11_1111_1111] {
            let alpha = bits(seed, n);
            assert_eq!(alpha[n - 1], alpha[n - 2], "premise: α copied right");
            let r = finder.search(&model, &alpha, device).unwrap();
            assert_eq!(r.candidates, n + n * (n - 1) / 2);
            let mut want = Vec::new();
            for i in 0..n {
                for j in i..n {
                    let mut beta = alpha.clone();
                    beta[i] = !beta[i];
                    if j > i {
                        beta[j] = !beta[j];
                    }
                    if beta[n - 1] != beta[n - 2] {
                        want.push((if j > i { vec![i, j] } else { vec![i] }, beta));
                    }
                }
            }
            want.sort_by_key(|(f, _)| (f.len(), f.clone()));
            let got: Vec<(Vec<usize>, Vec<bool>)> = r
                .found
                .iter()
                .map(|c| (c.flipped.clone(), c.beta.clone()))
                .collect();
            assert_eq!(got, want);
            for c in &r.found {
                assert_close(c.gap, delta / n as f64, 1e-6, 0.0, "gap");
            }
        }
    });
}

#[test]
fn premise_budget_and_parameters_are_checked() {
    for_each_device(|device| {
        let model = CopyModel { n: 6, gamma: 0.1 };
        let finder = CounterexampleConfig::new(0.5).init().unwrap();
        let wrong = bits(0b10_0000, 6); // last two bits differ: copied wrongly
        assert!(matches!(
            finder.search(&model, &wrong, device),
            Err(PerplexityError::Premise { .. })
        ));
        let small = CounterexampleConfig::new(0.5)
            .with_max_flips(3)
            .with_max_candidates(10)
            .init()
            .unwrap();
        assert!(matches!(
            small.search(&model, &[false; 6], device),
            Err(PerplexityError::TooManyCandidates {
                needed: 41,
                budget: 10
            })
        ));
        assert!(CounterexampleConfig::new(0.0).init().is_err());
        assert!(CounterexampleConfig::new(f64::NAN).init().is_err());
        assert!(
            CounterexampleConfig::new(0.1)
                .with_max_flips(0)
                .init()
                .is_err()
        );
        // ids that do not fit the model's vocabulary
        let odd = CounterexampleConfig::new(0.5)
            .with_task(CopyTask {
                zero: 0,
                one: 5,
                sep: 2,
            })
            .init()
            .unwrap();
        let zeros = FnLm(|t: Tensor<2, Int>| {
            let [b, l] = t.dims();
            Tensor::<3>::zeros([b, l, 3], &t.device())
        });
        assert!(matches!(
            odd.score(&zeros, &[vec![true; 6]], device),
            Err(PerplexityError::TargetOutOfRange { id: 5, .. })
        ));
    });
}
