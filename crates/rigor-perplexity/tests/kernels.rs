//! The fused Flex token statistics against the composed reference (`token_stats_reference`)
//! and an `f64` host oracle: random rows with masked entries, the parallel path, `f64` logits,
//! autodiff devices, and hostile rows (huge finite logits, masked targets, `NaN` / `+∞`, fully
//! masked rows, out-of-range targets, one-word and empty vocabularies).
#![cfg(feature = "flex")]

mod common;

use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use proptest::prelude::*;
use rigor_perplexity::kernel::fused_available;
use rigor_perplexity::metrics::token::STATS;
use rigor_perplexity::{PerplexityError, token_stats, token_stats_reference};

fn flex() -> Device {
    Device::flex()
}

fn logits(rows: &[Vec<f32>], device: &Device) -> Tensor<2> {
    common::logits2(rows, device)
}

fn targets(t: &[i64], device: &Device) -> Tensor<1, Int> {
    common::ids(t, [t.len()], device)
}

fn host(t: Tensor<2>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec().unwrap()
}

/// The five statistics of one row in `f64` (the module docs' formulas, computed directly).
fn oracle(row: &[f32], t: usize) -> [f64; STATS] {
    let x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|&v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    let p: Vec<f64> = e.iter().map(|&v| v / s).collect();
    let nll = (m - x[t]) + s.ln();
    let entropy: f64 = -p
        .iter()
        .filter(|&&q| q > 0.0)
        .map(|&q| q * q.ln())
        .sum::<f64>();
    let brier: f64 = p
        .iter()
        .enumerate()
        .map(|(j, &q)| (q - if j == t { 1.0 } else { 0.0 }).powi(2))
        .sum();
    [
        0.5 * nll,
        f64::from(u8::from(x[t] >= m)),
        1.0 / s,
        entropy,
        brier,
    ]
}

fn close(got: f32, want: f64, what: &str) {
    if want.is_infinite() {
        assert_eq!(f64::from(got), want, "{what}");
        return;
    }
    let err = (f64::from(got) - want).abs();
    assert!(
        err <= 2e-5 * (1.0 + want.abs()),
        "{what}: {got:e} vs {want:e} (|err| {err:e})"
    );
}

/// Random rows in [−12, 12] with about one entry in six masked (never the whole row).
fn rows_strategy() -> impl Strategy<Value = (Vec<Vec<f32>>, Vec<i64>)> {
    (1usize..6, 1usize..300).prop_flat_map(|(r, v)| {
        (
            proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![5 => -12.0f32..12.0, 1 => Just(f32::NEG_INFINITY)],
                    v,
                )
                .prop_map(|mut row| {
                    if row.iter().all(|x| x.is_infinite()) {
                        row[0] = 0.0;
                    }
                    row
                }),
                r,
            ),
            proptest::collection::vec(0..v as i64, r),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn fused_equals_the_reference_and_the_f64_oracle((rows, t) in rows_strategy()) {
        let device = flex();
        let fused = host(token_stats(logits(&rows, &device), targets(&t, &device)).unwrap());
        let reference = host(token_stats_reference(logits(&rows, &device), targets(&t, &device)).unwrap());
        for (i, row) in rows.iter().enumerate() {
            let want = oracle(row, t[i] as usize);
            for c in 0..STATS {
                let what = format!("row {i} column {c}");
                close(fused[i * STATS + c], want[c], &format!("fused {what}"));
                let r = f64::from(reference[i * STATS + c]);
                if r.is_finite() {
                    close(fused[i * STATS + c], r, &format!("fused vs reference {what}"));
                }
            }
        }
    }
}

#[test]
fn fused_path_is_taken_on_flex_and_flex_autodiff() {
    let x = Tensor::<2>::zeros([2, 3], &flex());
    assert!(fused_available(&x));
    assert!(fused_available(&x.clone().cast(DType::F64)));
    assert!(fused_available(&Tensor::<2>::zeros(
        [2, 3],
        &flex().autodiff()
    )));
}

#[test]
fn the_parallel_path_and_autodiff_devices_equal_the_reference() {
    let (n, v) = (257, 3001);
    let mut rng = <rand::rngs::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(7);
    let mut next = || (rand::RngExt::random::<u32>(&mut rng) >> 8) as f32 / (1u32 << 24) as f32;
    let rows: Vec<Vec<f32>> = (0..n)
        .map(|_| (0..v).map(|_| 20.0 * next() - 10.0).collect())
        .collect();
    let t: Vec<i64> = (0..n as i64).map(|i| (i * 37) % v as i64).collect();
    let reference =
        host(token_stats_reference(logits(&rows, &flex()), targets(&t, &flex())).unwrap());
    for device in [flex(), flex().autodiff()] {
        let fused = host(token_stats(logits(&rows, &device), targets(&t, &device)).unwrap());
        for (i, (&a, &b)) in fused.iter().zip(&reference).enumerate() {
            close(a, f64::from(b), &format!("{device:?} entry {i}"));
        }
    }
}

#[test]
fn f64_logits_match_the_oracle_to_f64_rounding() {
    let device = flex();
    let rows = vec![vec![0.5f32, -1.25, 3.0, 2.0], vec![-7.0, -7.0, 1e-3, 4.5]];
    let x = logits(&rows, &device).cast(DType::F64);
    let stats = token_stats(x, targets(&[2, 1], &device)).unwrap();
    assert_eq!(stats.dtype(), DType::F64);
    let got: Vec<f64> = stats.into_data().convert::<f64>().try_to_vec().unwrap();
    for (i, (row, t)) in rows.iter().zip([2, 1]).enumerate() {
        let want = oracle(row, t);
        for c in 0..STATS {
            let g = got[i * STATS + c];
            assert!(
                (g - want[c]).abs() < 1e-12 * (1.0 + want[c].abs()),
                "{i} {c}: {g} vs {}",
                want[c]
            );
        }
    }
}

#[test]
fn hostile_rows() {
    let device = flex();
    let inf = f32::INFINITY;
    let rows = vec![
        vec![3e38, -3e38, 0.0, 1.0], // span beyond f32::MAX: NLL of −3e38 is finite
        vec![1e30, 1e30, -1e30, 5.0], // tie at the maximum: correct
        vec![0.0, f32::NEG_INFINITY, 1.0, 2.0], // masked target: NLL = +∞
        vec![0.0, f32::NAN, 1.0, 2.0], // NaN row
        vec![0.0, inf, 1.0, 2.0],    // +∞ row
        vec![f32::NEG_INFINITY; 4],  // fully masked row
        vec![1e-45, -1e-45, 0.0, -0.0], // subnormals: uniform
    ];
    let t = [1, 0, 1, 0, 2, 0, 3];
    let s = host(token_stats(logits(&rows, &device), targets(&t, &device)).unwrap());
    let row = |i: usize| &s[i * STATS..(i + 1) * STATS];
    for i in [0, 1, 6] {
        let want = oracle(&rows[i], t[i] as usize);
        for (c, (&g, &w)) in row(i).iter().zip(&want).enumerate() {
            close(g, w, &format!("row {i} column {c}"));
        }
    }
    assert!(
        row(0)[0].is_finite() && row(0)[0] > 1e38,
        "half NLL {}",
        row(0)[0]
    );
    assert_eq!(row(1)[1], 1.0, "a tie at the maximum is correct");
    assert_eq!(row(2)[0], f32::INFINITY, "masked target");
    assert!(
        row(2)[2..].iter().all(|v| v.is_finite()),
        "other columns finite: {:?}",
        row(2)
    );
    for i in [3, 4, 5] {
        assert!(row(i).iter().all(|v| v.is_nan()), "row {i}: {:?}", row(i));
    }
}

#[test]
fn out_of_range_targets_are_errors_not_a_panic() {
    let device = flex();
    let rows = vec![vec![0.0f32, 1.0], vec![2.0, 1.0], vec![0.5, 0.5]];
    for t in [[2, 0, 1], [0, -1, 1]] {
        let e = token_stats(logits(&rows, &device), targets(&t, &device)).unwrap_err();
        assert!(
            matches!(e, PerplexityError::TargetOutOfRange { vocab: 2, .. }),
            "{e}"
        );
        assert!(token_stats_reference(logits(&rows, &device), targets(&t, &device)).is_err());
    }
}

#[test]
fn one_word_empty_vocabulary_and_no_tokens() {
    let device = flex();
    let s = host(
        token_stats(
            logits(&[vec![4.0], vec![-2.0]], &device),
            targets(&[0, 0], &device),
        )
        .unwrap(),
    );
    assert_eq!(s, vec![0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    let empty_vocab = Tensor::<2>::from_data(TensorData::new(Vec::<f32>::new(), [3, 0]), &device);
    assert!(token_stats(empty_vocab, targets(&[0, 0, 0], &device)).is_err());
    let none = Tensor::<2>::from_data(TensorData::new(Vec::<f32>::new(), [0, 7]), &device);
    let s = token_stats(none, targets(&[], &device)).unwrap();
    assert_eq!(s.dims(), [0, STATS]);
}
