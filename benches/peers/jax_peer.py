#!/usr/bin/env python3
"""JAX timings of the shapes rigor's criterion benches use, for side-by-side ratios.

Run it on the same machine, right before or after the Rust benches, with the same thread
count (XLA's CPU client uses every core unless told otherwise):

    pip install "jax[cpu]"
    python3 benches/peers/jax_peer.py            # prints a table, writes jax_peer.json
    python3 benches/peers/jax_peer.py --json out.json --repeats 7

Each op is `jax.jit`-compiled, warmed up twice, then timed `--repeats` times (best and median
reported, `block_until_ready` inside the timer). Ops and shapes, matching benches/:

- softmax, adaptive-temperature softmax (the listing of *Softmax is not Enough*, verbatim),
  forward, and forward + backward of sum(w * c): 4096 x 4096 and 1024 x 1024 (benches/softmax.rs);
- RoPE, half-split (HF ``rotate_half``) and interleaved, offset 0: [1, 32, 2048, 128]
  (benches/rope.rs);
- per-token NLL, ``log_softmax`` + gather + sum, and the five token statistics rigor
  computes (NLL, correct, confidence, entropy, Brier): [2048, 32000] (benches/perplexity.rs).
"""

import argparse
import json
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np


def adaptive_temperature_softmax(logits):
    original_probs = jax.nn.softmax(logits)
    poly_fit = jnp.array([-0.037, 0.481, -2.3, 4.917, -1.791])
    entropy = jnp.sum(-original_probs * jnp.log(original_probs + 1e-9), axis=-1, keepdims=True)
    beta = jnp.where(entropy > 0.5, jnp.maximum(jnp.polyval(poly_fit, entropy), 1.0), 1.0)
    return jax.nn.softmax(logits * beta)


def rotate_half(x):
    x1, x2 = jnp.split(x, 2, axis=-1)
    return jnp.concatenate([-x2, x1], axis=-1)


def rope_half(x, cos, sin):
    # cos/sin: [seq, d] (each frequency twice, HF layout)
    return x * cos + rotate_half(x) * sin


def rope_interleaved(x, cos, sin):
    # cos/sin: [seq, d/2]
    x = x.reshape(x.shape[:-1] + (-1, 2))
    a, b = x[..., 0], x[..., 1]
    out = jnp.stack([a * cos - b * sin, b * cos + a * sin], axis=-1)
    return out.reshape(out.shape[:-2] + (-1,))


def nll_sum(logits, targets):
    lp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.sum(jnp.take_along_axis(lp, targets[:, None], axis=-1))


def token_stats(logits, targets):
    m = jnp.max(logits, axis=-1, keepdims=True)
    z = logits - m
    e = jnp.exp(z)
    s = jnp.sum(e, axis=-1, keepdims=True)
    p = e / s
    x_t = jnp.take_along_axis(logits, targets[:, None], axis=-1)
    nll = (m - x_t) + jnp.log(s)
    correct = (x_t >= m).astype(logits.dtype)
    entropy = jnp.log(s) - jnp.sum(p * z, axis=-1, keepdims=True)
    p_t = jnp.exp(x_t - m) / s
    brier = jnp.sum(p * p, axis=-1, keepdims=True) - 2 * p_t + 1
    return jnp.concatenate([nll, correct, 1 / s, entropy, brier], axis=-1)


def timed(f, args, repeats):
    for _ in range(2):
        jax.block_until_ready(f(*args))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(f(*args))
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", default="jax_peer.json")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []

    def record(op, shape, f, inputs):
        best, median = timed(jax.jit(f), inputs, args.repeats)
        rows.append({"op": op, "shape": shape, "best_ms": best * 1e3, "median_ms": median * 1e3})
        print(f"{op:<34} {str(shape):<22} best {best * 1e3:9.2f} ms   median {median * 1e3:9.2f} ms", flush=True)

    for n in (1024, 4096):
        x = jnp.asarray(rng.standard_normal((n, n), dtype=np.float32))
        c = jnp.asarray(rng.standard_normal((n, n), dtype=np.float32))
        record("softmax", [n, n], lambda x: jax.nn.softmax(x, axis=-1), (x,))
        record("adaptive_softmax", [n, n], adaptive_temperature_softmax, (x,))
        record("softmax_fwd_bwd", [n, n], jax.grad(lambda x, c: jnp.sum(jax.nn.softmax(x) * c)), (x, c))
        record("adaptive_fwd_bwd", [n, n], jax.grad(lambda x, c: jnp.sum(adaptive_temperature_softmax(x) * c)), (x, c))

    b, h, s, d = 1, 32, 2048, 128
    x = jnp.asarray(rng.standard_normal((b, h, s, d), dtype=np.float32))
    inv = 10000.0 ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    ang = np.arange(s, dtype=np.float64)[:, None] * inv[None, :]
    cos_h = jnp.asarray(np.concatenate([np.cos(ang)] * 2, axis=-1).astype(np.float32))
    sin_h = jnp.asarray(np.concatenate([np.sin(ang)] * 2, axis=-1).astype(np.float32))
    cos_i = jnp.asarray(np.cos(ang).astype(np.float32))
    sin_i = jnp.asarray(np.sin(ang).astype(np.float32))
    record("rope_half_split", [b, h, s, d], rope_half, (x, cos_h, sin_h))
    record("rope_interleaved", [b, h, s, d], rope_interleaved, (x, cos_i, sin_i))

    t, v = 2048, 32000
    logits = jnp.asarray(3.0 * rng.standard_normal((t, v), dtype=np.float32))
    targets = jnp.asarray((np.arange(t) * 7919) % v, dtype=jnp.int32)
    record("log_softmax_gather_sum", [t, v], nll_sum, (logits, targets))
    record("token_stats", [t, v], token_stats, (logits, targets))

    meta = {"jax": jax.__version__, "devices": [str(dv) for dv in jax.devices()], "repeats": args.repeats}
    with open(args.json, "w") as fh:
        json.dump({"meta": meta, "results": rows}, fh, indent=2)
    print(f"wrote {args.json} ({meta})")


if __name__ == "__main__":
    main()
