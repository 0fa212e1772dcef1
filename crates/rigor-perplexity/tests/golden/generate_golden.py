#!/usr/bin/env python3
"""Golden reference values for the `rigor-perplexity` crate.

WHAT
    Writes `perplexity_golden.json` (next to this script): fixed float32 logits and
    targets, and the float64 values of every pooled metric rigor reports, each computed with
    the definition of the library named below (re-implemented here in numpy, no torch):

      * torchmetrics `Perplexity(ignore_index=...)`:  exp(mean NLL over the targets that
        are not the ignore index)  -- the pooled token perplexity.  torchmetrics does not
        shift labels; the causal shift (logits[:, :-1] vs ids[:, 1:]) is applied first, as
        Hugging Face's causal-LM loss does.
      * lm-evaluation-harness (`lm_eval/api/metrics.py`, loglikelihood_rolling tasks):
          word_perplexity = exp(-sum(loglik) / sum(words))
          byte_perplexity = exp(-sum(loglik) / sum(bytes))
          bits_per_byte   = -sum(loglik) / (sum(bytes) * ln 2)
        with loglik = the summed token log-probability of a document, words =
        len(re.split(r"\\s+", doc)) and bytes = len(doc.encode("utf-8")) (lm-eval's
        `count_words` / `count_bytes`).  Each batch row is one document.
      * accuracy (target == first arg-max; no ties occur in these logits), mean confidence
        (max softmax probability), mean entropy (nats), multi-class Brier score
        sum_j (p_j - [j = t])^2, and the expected calibration error with equal-width bins
        (bin = min(floor(c * K), K - 1)) and equal-mass bins (scored tokens sorted by
        (confidence, correct), cut at ranks floor(k N / K)), both
        sum_k |B_k|/N * |acc(B_k) - conf(B_k)|.

WHY
    The Rust tests feed the same float32 logits to rigor's Burn accumulator (f32 on the
    device, f64 sums on the host) and compare.

HOW TO RUN
    python3 -m venv /tmp/pplvenv
    /tmp/pplvenv/bin/pip install -r requirements.txt
    /tmp/pplvenv/bin/python generate_golden.py            # writes ./perplexity_golden.json
    /tmp/pplvenv/bin/python generate_golden.py --out -    # writes to stdout

    Deterministic (fixed numpy seed): rerunning reproduces the file byte for byte.

CONVENTIONS
    * Logits are float32 values written with 9 significant digits (round-trips float32).
    * Ignored targets are -100; a row's padding positions carry -100.
    * Floats in results are written with 17 significant digits.
"""

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

IGNORE = -100


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def count_words(doc):  # lm_eval/tasks/wikitext/preprocess_wikitext.py & metrics: re.split(r"\s+", doc)
    return len(re.split(r"\s+", doc))


def count_bytes(doc):
    return len(doc.encode("utf-8"))


def ece(conf, correct, bins, equal_mass):
    n = len(conf)
    if equal_mass:
        order = sorted(range(n), key=lambda i: (conf[i], correct[i]))
        groups = [order[(k * n) // bins:((k + 1) * n) // bins] for k in range(bins)]
    else:
        idx = np.minimum(np.floor(conf * bins).astype(int), bins - 1)
        groups = [[i for i in range(n) if idx[i] == k] for k in range(bins)]
    total = 0.0
    for g in groups:
        if not g:
            continue
        total += abs(sum(correct[i] for i in g) - sum(conf[i] for i in g)) / n
    return total


def metrics(logits, targets, scored, docs_rows, ece_bins):
    """logits [n, V] float32, targets [n], scored [n] bool, docs_rows [n] row index."""
    lp = log_softmax(logits)
    n_rows = int(docs_rows.max()) + 1 if len(docs_rows) else 0
    safe_t = np.where(scored, targets, 0)
    tok_lp = lp[np.arange(len(targets)), safe_t]
    p = np.exp(lp)
    conf = p.max(axis=-1)
    correct = (logits.argmax(axis=-1) == targets).astype(float)
    ent = -(p * lp).sum(axis=-1)
    onehot = np.zeros_like(p)
    onehot[np.arange(len(targets)), safe_t] = 1.0
    brier = ((p - onehot) ** 2).sum(axis=-1)
    s = scored
    nll = -tok_lp[s]
    loglik_per_doc = [float(tok_lp[s & (docs_rows == r)].sum()) for r in range(n_rows)]
    tokens_per_doc = [int((s & (docs_rows == r)).sum()) for r in range(n_rows)]
    out = {
        "tokens": int(s.sum()),
        "nll_sum": float(nll.sum()),
        "log_perplexity": float(nll.mean()),
        "perplexity_torchmetrics": float(np.exp(nll.mean())),
        "bits_per_token": float(nll.mean() / math.log(2)),
        "per_sequence_perplexity": [
            (math.exp(-ll / t) if t > 0 else None) for ll, t in zip(loglik_per_doc, tokens_per_doc)
        ],
        "per_sequence_tokens": tokens_per_doc,
        "doc_loglik": loglik_per_doc,
        "accuracy": float(correct[s].mean()),
        "mean_confidence": float(conf[s].mean()),
        "mean_entropy": float(ent[s].mean()),
        "brier": float(brier[s].mean()),
        "ece_bins": ece_bins,
        "ece_equal_width": ece(conf[s], correct[s], ece_bins, False),
        "ece_equal_mass": ece(conf[s], correct[s], ece_bins, True),
    }
    return out


def lm_eval(docs, doc_loglik):
    words = sum(count_words(d) for d in docs)
    nbytes = sum(count_bytes(d) for d in docs)
    ll = sum(doc_loglik)
    return {
        "words": words,
        "bytes": nbytes,
        "word_perplexity": math.exp(-ll / words),
        "byte_perplexity": math.exp(-ll / nbytes),
        "bits_per_byte": -ll / (nbytes * math.log(2)),
    }


def f32list(a):
    return [float(format(float(v), ".9g")) for v in np.asarray(a, dtype=np.float32).ravel()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).with_name("perplexity_golden.json")))
    args = ap.parse_args()
    rng = np.random.default_rng(20260131)
    cases = []

    # Case 1: causal LM batch [3, 9, 13] with right padding, causal shift, ignore -100.
    b, s, v = 3, 9, 13
    logits = (rng.standard_normal((b, s, v)) * 2.5).astype(np.float32)
    ids = rng.integers(0, v, size=(b, s))
    ids[1, 7:] = IGNORE
    ids[2, 4:] = IGNORE
    docs = [
        "The quick brown fox jumps over the lazy dog.",
        "  Perplexity   pools over tokens,\nnot texts.",
        "Veličković — naïve café",
    ]
    sl = logits[:, :-1, :].reshape(-1, v)
    st = ids[:, 1:].reshape(-1)
    rows = np.repeat(np.arange(b), s - 1)
    scored = st != IGNORE
    m = metrics(sl, st, scored, rows, ece_bins=10)
    m.update(lm_eval(docs, m["doc_loglik"]))
    cases.append({
        "name": "causal_batch",
        "label_shift": "causal",
        "ignore_index": IGNORE,
        "shape": [b, s, v],
        "logits": f32list(logits),
        "targets": ids.ravel().tolist(),
        "mask": None,
        "docs": docs,
        "expected": m,
    })

    # Case 2: flat [24, 7] logits with a boolean mask, no ignore index, no shift; some rows
    # are very confident so several equal-width bins are populated.
    n, v = 24, 7
    logits = (rng.standard_normal((n, v)) * np.linspace(0.5, 8.0, n)[:, None]).astype(np.float32)
    targets = rng.integers(0, v, size=n)
    # make half the targets the arg-max so accuracy is not tiny
    am = logits.argmax(axis=-1)
    targets[::2] = am[::2]
    mask = rng.random(n) < 0.75
    docs = ["one two three four five", "six\tseven\neight"]
    m = metrics(logits, targets, mask, np.zeros(n, dtype=int), ece_bins=5)
    m.update(lm_eval(docs, m["doc_loglik"]))
    cases.append({
        "name": "flat_masked",
        "label_shift": "none",
        "ignore_index": None,
        "shape": [n, v],
        "logits": f32list(logits),
        "targets": targets.tolist(),
        "mask": mask.tolist(),
        "docs": docs,
        "expected": m,
    })

    text = json.dumps({"generator": "generate_golden.py", "numpy": np.__version__, "cases": cases},
                      indent=1, allow_nan=False)
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(args.out).write_text(text + "\n")
    for c in cases:
        e = c["expected"]
        print(f"{c['name']}: tokens={e['tokens']} ppl={e['perplexity_torchmetrics']:.6f} "
              f"word_ppl={e['word_perplexity']:.4f} bpb={e['bits_per_byte']:.6f} "
              f"acc={e['accuracy']:.4f} ece_w={e['ece_equal_width']:.5f} ece_m={e['ece_equal_mass']:.5f}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
