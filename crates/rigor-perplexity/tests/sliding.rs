//! Strided sliding-window evaluation (HF "perplexity of fixed-length models" semantics).
//!
//! A bigram model (logits depend on the current token only) has the same per-token NLL with
//! any amount of context, so windowed evaluation must equal one full-sequence pass exactly
//! — which holds only if every token is scored exactly once. A "look-back" model (predicts
//! the token `K` positions back, uniform when the window does not reach that far) checks the
//! context each token actually gets.

mod common;

use std::cell::RefCell;

use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use common::{assert_close, nll_f64};
use rigor_perplexity::*;
use rigor_testkit::for_each_device;

struct Bigram {
    table: Tensor<2>, // [V, V]: row = current token
    calls: RefCell<Vec<Vec<i64>>>,
}

impl CausalLm for Bigram {
    fn logits(&self, tokens: Tensor<2, Int>) -> rigor_perplexity::Result<Tensor<3>> {
        let [b, l] = tokens.dims();
        self.calls.borrow_mut().extend(
            tokens
                .clone()
                .try_into_vec_as::<i64>()
                .unwrap()
                .chunks(l)
                .map(<[i64]>::to_vec),
        );
        let v = self.table.dims()[1];
        Ok(self
            .table
            .clone()
            .select(0, tokens.reshape([b * l]))
            .reshape([b, l, v]))
    }
}

fn sequence(n: usize, v: usize) -> Vec<i64> {
    (0..n)
        .map(|i| ((i * i * 7 + i * 3 + 1) % v) as i64)
        .collect()
}

#[test]
fn windowed_equals_full_pass_for_a_context_free_model() {
    for_each_device(|device| {
        device.seed(5);
        let v = 11;
        let model = Bigram {
            table: Tensor::<2>::random([v, v], Distribution::Normal(0.0, 2.0), device),
            calls: RefCell::new(Vec::new()),
        };
        let table: Vec<f32> = model.table.clone().try_into_vec_as::<f32>().unwrap();
        let row = |t: i64| &table[t as usize * v..(t as usize + 1) * v];
        let seq = sequence(53, v);
        let full: f64 = (1..seq.len())
            .map(|i| nll_f64(row(seq[i - 1]), seq[i] as usize))
            .sum();
        for (max_len, stride) in [(8, 3), (8, 7), (2, 1), (53, 10), (100, 50), (16, 1)] {
            for bos in [None, Some(4i64)] {
                let mut cfg = SlidingWindowConfig::new(max_len, stride);
                if let Some(b) = bos {
                    cfg = cfg.with_bos(b);
                }
                let sw = cfg.init().unwrap();
                model.calls.borrow_mut().clear();
                let mut acc = EvalConfig::new().init().unwrap();
                let s = sw.evaluate(&model, &seq, device, &mut acc).unwrap();
                // the bigram NLL of token i is set by the token before it *in the window*:
                // x_{i−1}, or BOS for the first real token of a window (token 0 always;
                // others only when stride = max_len − 1 makes windows disjoint)
                let want_n = if bos.is_some() {
                    seq.len()
                } else {
                    seq.len() - 1
                };
                let want = match bos {
                    None => full,
                    Some(b) => s
                        .windows
                        .iter()
                        .flat_map(|w| (w.score_from..w.end).map(move |i| (i, w.begin)))
                        .map(|(i, begin)| {
                            let prev = if i == begin { b } else { seq[i - 1] };
                            nll_f64(row(prev), seq[i] as usize)
                        })
                        .sum(),
                };
                if let Some(b) = bos
                    && stride < max_len - 1
                {
                    // overlapping windows: only token 0 is predicted from BOS
                    let first = nll_f64(row(b), seq[0] as usize);
                    assert_close(want, full + first, 1e-9, 1e-12, "oracle");
                }
                let what = format!("max_len {max_len} stride {stride} bos {bos:?}");
                assert_eq!(s.tokens_scored, want_n as u64, "{what}: exactly once");
                assert_close(acc.nll_sum(), want, 1e-4, 1e-6, &what);
                assert_close(s.nll_sum, want, 1e-4, 1e-6, &what);
                // the model saw exactly the planned windows, BOS first, never over max_len
                let calls = model.calls.borrow();
                assert_eq!(calls.len(), s.windows.len());
                for (call, w) in calls.iter().zip(&s.windows) {
                    let mut want: Vec<i64> = bos.into_iter().collect();
                    want.extend_from_slice(&seq[w.begin..w.end]);
                    assert_eq!(call, &want, "{what}");
                    assert!(call.len() <= max_len);
                }
            }
        }
    });
}

/// Predicts the token `K` positions back with logit 10 (uniform if the window does not reach
/// that far back), so a scored token is "seen" only with ≥ K tokens of in-window context.
struct LookBack {
    k: usize,
    v: usize,
    device: Device,
}

impl CausalLm for LookBack {
    fn logits(&self, tokens: Tensor<2, Int>) -> rigor_perplexity::Result<Tensor<3>> {
        let [b, l] = tokens.dims();
        let host = tokens.try_into_vec_as::<i64>().unwrap();
        let mut out = vec![0f32; b * l * self.v];
        for r in 0..b {
            for t in 0..l {
                // position t predicts token t+1, which in a period-K sequence equals token t+1−K
                if t + 1 >= self.k {
                    let src = host[r * l + t + 1 - self.k];
                    out[(r * l + t) * self.v + src as usize] = 10.0;
                }
            }
        }
        Ok(Tensor::from_data(
            TensorData::new(out, [b, l, self.v]),
            &self.device,
        ))
    }
}

#[test]
fn tokens_get_at_least_max_len_minus_stride_context() {
    for_each_device(|device| {
        let (k, v) = (4, 6);
        let seq: Vec<i64> = (0..40).map(|i| (i % k) as i64).collect(); // period K
        let model = LookBack {
            k,
            v,
            device: device.clone(),
        };
        let confident = nll_f64(&[10.0, 0.0, 0.0, 0.0, 0.0, 0.0], 0);
        let uniform = (v as f64).ln();
        for (max_len, stride) in [(12, 8), (12, 9), (12, 10), (6, 1)] {
            let sw = SlidingWindowConfig::new(max_len, stride).init().unwrap();
            let mut acc = EvalConfig::new().init().unwrap();
            sw.evaluate(&model, &seq, device, &mut acc).unwrap();
            // host oracle: token i in a window starting at `begin` is confident iff i − begin ≥ K
            let mut want = 0.0;
            for w in sw.plan(seq.len()) {
                for i in w.score_from..w.end {
                    want += if i - w.begin >= k { confident } else { uniform };
                }
            }
            assert_close(
                acc.nll_sum(),
                want,
                1e-4,
                1e-6,
                &format!("{max_len}/{stride}"),
            );
            if max_len - stride >= k {
                // context ≥ K for every token past the first K: only tokens 1..K are uniform
                assert_close(
                    acc.nll_sum(),
                    (k - 1) as f64 * uniform + (seq.len() - k) as f64 * confident,
                    1e-4,
                    1e-6,
                    "full context",
                );
            }
        }
    });
}

#[test]
fn invalid_configurations_are_errors() {
    assert!(SlidingWindowConfig::new(1, 1).init().is_err());
    assert!(SlidingWindowConfig::new(8, 0).init().is_err());
    assert!(
        SlidingWindowConfig::new(8, 8).init().is_err(),
        "stride = max_len would skip tokens"
    );
    assert!(SlidingWindowConfig::new(8, 7).with_bos(0).init().is_ok());
    let sw = SlidingWindowConfig::new(4, 2).init().unwrap();
    assert!(sw.plan(0).is_empty() && sw.plan(1).is_empty());
    let device = Device::flex();
    let model = FnLm(|t: Tensor<2, Int>| {
        let [b, l] = t.dims();
        Tensor::<3>::zeros([b, l, 3], &t.device())
    });
    let mut shifted = EvalConfig::new()
        .with_label_shift(LabelShift::Causal)
        .init()
        .unwrap();
    assert!(matches!(
        sw.evaluate(&model, &[0, 1, 2], &device, &mut shifted),
        Err(PerplexityError::ConfigMismatch { .. })
    ));
    // a model that returns the wrong shape
    let bad = FnLm(|t: Tensor<2, Int>| Tensor::<3>::zeros([1, 1, 3], &t.device()));
    let mut acc = EvalConfig::new().init().unwrap();
    assert!(matches!(
        sw.evaluate(&bad, &[0, 1, 2], &device, &mut acc),
        Err(PerplexityError::ShapeMismatch { .. })
    ));
    // out-of-vocabulary tokens are caught as targets
    assert!(matches!(
        sw.evaluate(&model, &[0, 1, 7], &device, &mut acc),
        Err(PerplexityError::TargetOutOfRange { id: 7, .. })
    ));
}
