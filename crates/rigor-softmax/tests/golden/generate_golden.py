#!/usr/bin/env python3
"""Golden reference values for the `rigor-softmax` crate.

WHAT
    Writes `softmax_golden.json` (next to this script) holding float64
    reference outputs, and gradients, of every normaliser `rigor-softmax`
    implements:

      * softmax at temperature theta (softmax(z / theta)), log_softmax,
        exact Shannon entropy (nats, 0*log0 = 0) and the paper's entropy
        variant sum(-p * log(p + 1e-9));
      * the adaptive-temperature softmax of "Softmax is not Enough"
        (Velickovic et al., ICML 2025), transcribed EXACTLY from the paper's
        JAX listing, together with its per-row beta and its gradient
        (gradient flows through beta; there is no stop_gradient);
      * Scalable-Softmax / SSMax (arXiv 2501.19399): softmax((s * ln n) * z)
        with n = number of UNMASKED entries of the row, s = 0.43;
      * softmax1 / "quiet softmax": exp(z_i) / (1 + sum_j exp(z_j));
      * sparsemax (Martins & Astudillo 2016, sort-based closed form) and
        alpha-entmax (Peters et al. 2019) for alpha = 1.5 and alpha = 3, with
        tau found by float64 bisection; for alpha = 1.5 tau is also found by
        the exact sort-based algorithm and the two must agree to 1e-9; for
        alpha = 2 bisection must agree with sparsemax to 1e-9.

WHY
    The Rust tests compare rigor's Burn implementations (f32 on the test
    backends) against these values.  Everything here is computed in float64,
    but every input (logits and cotangents) is float32-representable, so a
    Rust f32 test reproduces its inputs bit for bit.

HOW TO RUN
    python3 -m venv /tmp/goldenvenv
    /tmp/goldenvenv/bin/pip install -r requirements.txt
    /tmp/goldenvenv/bin/python generate_golden.py            # writes ./softmax_golden.json
    /tmp/goldenvenv/bin/python generate_golden.py --out F    # writes F instead
    /tmp/goldenvenv/bin/python generate_golden.py --out -    # writes to stdout

    The output is deterministic (fixed numpy seed, no randomness in JAX):
    rerunning with the pinned versions reproduces the file byte for byte.

CONVENTIONS (shared with the Rust side)
    * A masked entry is a -inf logit; in the JSON, -inf (logits and
      log-probabilities) is written as `null`.  Masked entries get weight 0,
      gradient 0, and contribute 0 to every entropy.
    * A FULLY masked row (every logit -inf) gives all-zero weights, entropy 0,
      beta 1 and all-zero gradients (its log_softmax is all -inf, i.e. null).
      This is rigor's documented convention; JAX itself would give NaN there,
      so this script special-cases such rows.
    * `cotangent` is a fixed random upstream gradient g (0 where masked); each
      `*_grad` field is d/dlogits of sum(g * f(logits)), i.e. the vector-Jacobian
      product g^T J_f, which is what a backward pass computes.
    * Rows are processed one at a time on their unmasked entries only (the
      -inf entries are dropped, the op applied, and zeros scattered back).
      This is mathematically identical to applying the op to the full row
      with -inf entries, and avoids the NaNs that JAX's autodiff produces from
      0 * (-inf) (e.g. through beta * logits in the adaptive softmax).
    * Floats are written with 10 significant digits ("%.10g"); that is enough
      to round-trip every float32 input exactly.
"""

import argparse
import io
import json
import math
import os
import sys

import numpy as np

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")

SEED = 20250601
SSMAX_S = 0.43
POLY_FIT = [-0.037, 0.481, -2.3, 4.917, -1.791]  # highest power first
THETAS = {"1": 1.0, "0.5": 0.5, "2": 2.0}
NEG_INF = float("-inf")


# --------------------------------------------------------------------------
# The paper's listing, verbatim (inside a function that also returns beta).
# --------------------------------------------------------------------------
def adaptive_temperature_softmax(logits):
    original_probs = jax.nn.softmax(logits)
    poly_fit = jnp.array([-0.037, 0.481, -2.3, 4.917, -1.791])
    entropy = jnp.sum(-original_probs * jnp.log(original_probs + 1e-9), axis=-1, keepdims=True)
    beta = jnp.where(entropy > 0.5, jnp.maximum(jnp.polyval(poly_fit, entropy), 1.0), 1.0)
    return jax.nn.softmax(logits * beta), beta


def _adaptive_probs(z):
    return adaptive_temperature_softmax(z)[0]


def _softmax_theta(theta):
    return lambda z: jax.nn.softmax(z / theta)


def _ssmax(z):
    # n = number of unmasked entries; z here only holds unmasked entries.
    n = z.shape[-1]
    return jax.nn.softmax((SSMAX_S * math.log(n)) * z)


def _softmax1(z):
    # exp(z_i) / (1 + sum_j exp(z_j)) == softmax([z, 0])[:n]: the extra logit 0
    # stands for the "1"; jax.nn.softmax subtracts max(max z, 0), so it is
    # stable for large positive and large negative z alike.
    zz = jnp.concatenate([z, jnp.zeros((1,), dtype=z.dtype)])
    return jax.nn.softmax(zz)[:-1]


_jit_softmax = {k: jax.jit(_softmax_theta(t)) for k, t in THETAS.items()}
_jit_log_softmax = jax.jit(jax.nn.log_softmax)
_jit_adaptive = jax.jit(adaptive_temperature_softmax)
_jit_ssmax = jax.jit(_ssmax)
_jit_softmax1 = jax.jit(_softmax1)


def _vjp(f, z, g):
    _, pullback = jax.vjp(f, z)
    return pullback(g)[0]


_jit_vjp = {
    "softmax": jax.jit(lambda z, g: _vjp(_softmax_theta(1.0), z, g)),
    "adaptive": jax.jit(lambda z, g: _vjp(_adaptive_probs, z, g)),
    "ssmax": jax.jit(lambda z, g: _vjp(_ssmax, z, g)),
    "softmax1": jax.jit(lambda z, g: _vjp(_softmax1, z, g)),
}


# --------------------------------------------------------------------------
# Entropies (numpy, float64).
# --------------------------------------------------------------------------
def entropy_exact(p):
    p = np.asarray(p, dtype=np.float64)
    q = p[p > 0]
    return float(-np.sum(q * np.log(q)))


def entropy_paper(p):
    p = np.asarray(p, dtype=np.float64)
    return float(np.sum(-p * np.log(p + 1e-9)))


# --------------------------------------------------------------------------
# Sparsemax / entmax (numpy, float64).
# --------------------------------------------------------------------------
def sparsemax(z):
    """Martins & Astudillo (2016), sort-based closed form. Returns (p, tau)."""
    z = np.asarray(z, dtype=np.float64)
    zs = np.sort(z)[::-1]
    k = np.arange(1, z.size + 1)
    cs = np.cumsum(zs)
    support = 1.0 + k * zs > cs
    kz = int(k[support][-1])
    tau = (cs[kz - 1] - 1.0) / kz
    return np.maximum(z - tau, 0.0), tau


def entmax_bisect(z, alpha, tol=1e-14, max_iter=300):
    """alpha-entmax: p = [(alpha-1) z - tau]_+^(1/(alpha-1)), sum p = 1.

    tau by float64 bisection until the bracket is below `tol` (or stops
    shrinking at float64 resolution). Returns (p, tau) with p renormalised.
    """
    z = np.asarray(z, dtype=np.float64)
    x = (alpha - 1.0) * z
    inv = 1.0 / (alpha - 1.0)
    mx = float(np.max(x))
    lo = mx - 1.0  # f(lo) >= 0: the max entry alone contributes 1
    hi = mx - (1.0 / z.size) ** (alpha - 1.0)  # f(hi) <= 0

    def f(t):
        return float(np.sum(np.maximum(x - t, 0.0) ** inv)) - 1.0

    for _ in range(max_iter):
        mid = 0.5 * (lo + hi)
        if hi - lo <= tol or mid in (lo, hi):
            break
        if f(mid) >= 0.0:
            lo = mid
        else:
            hi = mid
    tau = 0.5 * (lo + hi)
    p = np.maximum(x - tau, 0.0) ** inv
    return p / p.sum(), tau


def entmax15_exact(z):
    """Exact sort-based 1.5-entmax (Peters, Niculae & Martins 2019, Alg. 2).

    Returns (p, tau) in the same parametrisation as entmax_bisect, i.e.
    p = [z/2 - tau]_+^2.
    """
    z = np.asarray(z, dtype=np.float64)
    x = z / 2.0
    mx = float(np.max(x))
    xs = np.sort(x - mx)[::-1]
    rho = np.arange(1, z.size + 1)
    mean = np.cumsum(xs) / rho
    mean_sq = np.cumsum(xs * xs) / rho
    ss = rho * (mean_sq - mean * mean)
    delta = (1.0 - ss) / rho
    tau_k = mean - np.sqrt(np.maximum(delta, 0.0))
    support_size = int(np.sum(tau_k <= xs))
    tau = float(tau_k[support_size - 1])
    p = np.maximum((x - mx) - tau, 0.0) ** 2
    return p, tau + mx


def sparse_family_vjp(p, g, alpha):
    """dz = s * (g - sum(g s)/sum(s)), s_i = p_i^(2-alpha) on the support."""
    p = np.asarray(p, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    if alpha == 2.0:
        s = (p > 0).astype(np.float64)
    else:
        s = np.where(p > 0, np.power(np.where(p > 0, p, 1.0), 2.0 - alpha), 0.0)
    return s * (g - np.sum(g * s) / np.sum(s))


# --------------------------------------------------------------------------
# Helpers.
# --------------------------------------------------------------------------
def f32(x):
    return float(np.float32(x))


def f32_array(a):
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def scatter(values, mask, n, fill=0.0):
    out = np.full(n, fill, dtype=np.float64)
    out[mask] = np.asarray(values, dtype=np.float64)
    return out


def paper_entropy_of_logits(z):
    return entropy_paper(np.asarray(jax.nn.softmax(jnp.asarray(z))))


def exact_entropy_of_logits(z):
    return entropy_exact(np.asarray(jax.nn.softmax(jnp.asarray(z))))


def scale_for_entropy(direction, target, entropy_fn, lo=0.0, hi=1e3, iters=200):
    """Bisection on c >= 0 so that entropy_fn(c * direction) == target.

    Entropy of softmax(c d) is non-increasing in c (dH/dc = -c Var_p(d)).
    """
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if entropy_fn(mid * direction) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


NOTES = []  # surprises / diagnostics, printed to stderr at the end


# --------------------------------------------------------------------------
# Per-row computation.
# --------------------------------------------------------------------------
def compute_row(z_full, g_full, full=True):
    z_full = np.asarray(z_full, dtype=np.float64)
    g_full = np.asarray(g_full, dtype=np.float64)
    n = z_full.size
    mask = np.isfinite(z_full)
    assert not np.any(np.isnan(z_full)) and not np.any(z_full == np.inf)
    m = int(mask.sum())
    r = {}

    if m == 0:
        # rigor's convention for a fully masked row (JAX would give NaN):
        # weights 0, entropies 0, beta 1, gradients 0, log-probs -inf.
        zeros = np.zeros(n)
        r["entropy"] = 0.0
        r["entropy_paper"] = 0.0
        r["softmax"] = {k: zeros for k in THETAS}
        r["adaptive"] = zeros
        r["adaptive_beta"] = 1.0
        if full:
            r["log_softmax"] = np.full(n, NEG_INF)
            for key in ("softmax_grad", "adaptive_grad", "ssmax", "ssmax_grad",
                        "softmax1", "softmax1_grad", "sparsemax", "sparsemax_grad",
                        "entmax15", "entmax15_grad", "entmax3"):
                r[key] = zeros
        return r

    z = z_full[mask]
    g = g_full[mask]
    zj = jnp.asarray(z, dtype=jnp.float64)
    gj = jnp.asarray(g, dtype=jnp.float64)

    sm = {k: np.asarray(_jit_softmax[k](zj)) for k in THETAS}
    p = sm["1"]
    r["entropy"] = entropy_exact(p)
    r["entropy_paper"] = entropy_paper(p)
    r["softmax"] = {k: scatter(v, mask, n) for k, v in sm.items()}

    ad, beta = _jit_adaptive(zj)
    ad = np.asarray(ad)
    beta = float(np.asarray(beta).reshape(-1)[0])
    r["adaptive"] = scatter(ad, mask, n)
    r["adaptive_beta"] = beta
    # Independent check of beta against numpy.
    h = r["entropy_paper"]
    beta_np = max(float(np.polyval(POLY_FIT, h)), 1.0) if h > 0.5 else 1.0
    assert abs(beta - beta_np) < 1e-12, (beta, beta_np)
    ad_np = np.exp(beta * z - np.max(beta * z))
    ad_np /= ad_np.sum()
    assert np.max(np.abs(ad - ad_np)) < 1e-14

    if not full:
        return r

    ls = np.asarray(_jit_log_softmax(zj))
    r["log_softmax"] = scatter(ls, mask, n, fill=NEG_INF)

    sg = np.asarray(_jit_vjp["softmax"](zj, gj))
    assert np.max(np.abs(sg - p * (g - np.sum(g * p)))) < 1e-14
    r["softmax_grad"] = scatter(sg, mask, n)

    ag = np.asarray(_jit_vjp["adaptive"](zj, gj))
    assert np.all(np.isfinite(ag))
    r["adaptive_grad"] = scatter(ag, mask, n)

    ss = np.asarray(_jit_ssmax(zj))
    ssg = np.asarray(_jit_vjp["ssmax"](zj, gj))
    c = SSMAX_S * math.log(m)
    assert np.max(np.abs(ssg - c * ss * (g - np.sum(g * ss)))) < 1e-14
    r["ssmax"] = scatter(ss, mask, n)
    r["ssmax_grad"] = scatter(ssg, mask, n)

    s1 = np.asarray(_jit_softmax1(zj))
    mm = max(float(np.max(z)), 0.0)
    s1_np = np.exp(z - mm) / (np.exp(-mm) + np.sum(np.exp(z - mm)))
    assert np.max(np.abs(s1 - s1_np)) < 1e-14
    s1g = np.asarray(_jit_vjp["softmax1"](zj, gj))
    assert np.max(np.abs(s1g - s1 * (g - np.sum(g * s1)))) < 1e-14
    r["softmax1"] = scatter(s1, mask, n)
    r["softmax1_grad"] = scatter(s1g, mask, n)

    sp, sp_tau = sparsemax(z)
    sp2, _ = entmax_bisect(z, 2.0)
    assert np.max(np.abs(sp - sp2)) < 1e-9, "entmax(alpha=2) bisection != sparsemax"
    e15, e15_tau = entmax15_exact(z)
    e15b, _ = entmax_bisect(z, 1.5)
    assert np.max(np.abs(e15 - e15b)) < 1e-9, "entmax15 bisection != exact"
    e3, e3_tau = entmax_bisect(z, 3.0)
    for q in (sp, e15, e3):
        assert abs(q.sum() - 1.0) < 1e-12
    # Keep every entry away from the support boundary (x_i == tau), so an f32
    # implementation finds the same support and the gradient is well defined.
    # (Beware: two entries whose (alpha-1)*z differ by exactly 1 put the
    # smaller one exactly on the boundary for sparsemax and for entmax3.)
    for name, x, tau in (("sparsemax", z, sp_tau), ("entmax15", z / 2.0, e15_tau),
                         ("entmax3", 2.0 * z, e3_tau)):
        margin = float(np.min(np.abs(x - tau)))
        assert margin > 1e-5 * max(1.0, float(np.max(np.abs(x)))), \
            f"{name}: entry within {margin:.3g} of tau (support boundary)"
    r["sparsemax"] = scatter(sp, mask, n)
    r["sparsemax_grad"] = scatter(sparse_family_vjp(sp, g, 2.0), mask, n)
    r["entmax15"] = scatter(e15, mask, n)
    r["entmax15_grad"] = scatter(sparse_family_vjp(e15, g, 1.5), mask, n)
    r["entmax3"] = scatter(e3, mask, n)
    return r


def fd_check_adaptive(z, g, eps=1e-6):
    """Central finite differences of sum(g * adaptive(z)) against autodiff."""
    z = np.asarray(z, dtype=np.float64)
    ag = np.asarray(_jit_vjp["adaptive"](jnp.asarray(z), jnp.asarray(g)))
    fd = np.zeros_like(z)
    for i in range(z.size):
        e = np.zeros_like(z)
        e[i] = eps
        fp = float(np.sum(g * np.asarray(_jit_adaptive(jnp.asarray(z + e))[0])))
        fm = float(np.sum(g * np.asarray(_jit_adaptive(jnp.asarray(z - e))[0])))
        fd[i] = (fp - fm) / (2 * eps)
    return float(np.max(np.abs(fd - ag)))


def make_case(name, logits, rng):
    logits = np.asarray(logits, dtype=np.float64)
    assert logits.ndim == 2
    for v in logits.flat:
        assert v == NEG_INF or (np.isfinite(v) and v == f32(v)), v
    mask = np.isfinite(logits)
    cot = f32_array(rng.standard_normal(logits.shape))
    cot = np.where(mask, cot, 0.0)
    rows = [compute_row(z, g) for z, g in zip(logits, cot)]

    def stack(key):
        return [row[key] for row in rows]

    case = {
        "name": name,
        "logits": logits,
        "cotangent": cot,
        "entropy": stack("entropy"),
        "entropy_paper": stack("entropy_paper"),
        "softmax": {k: [row["softmax"][k] for row in rows] for k in THETAS},
        "log_softmax": stack("log_softmax"),
        "softmax_grad": stack("softmax_grad"),
        "adaptive": stack("adaptive"),
        "adaptive_beta": stack("adaptive_beta"),
        "adaptive_grad": stack("adaptive_grad"),
        "ssmax_s": SSMAX_S,
        "ssmax": stack("ssmax"),
        "ssmax_grad": stack("ssmax_grad"),
        "softmax1": stack("softmax1"),
        "softmax1_grad": stack("softmax1_grad"),
        "sparsemax": stack("sparsemax"),
        "sparsemax_grad": stack("sparsemax_grad"),
        "entmax15": stack("entmax15"),
        "entmax15_grad": stack("entmax15_grad"),
        "entmax3": stack("entmax3"),
    }
    # Finite-difference check of the adaptive gradient (beta path included)
    # on every row with at least two unmasked entries.
    for z, g in zip(logits, cot):
        mk = np.isfinite(z)
        if mk.sum() >= 2:
            err = fd_check_adaptive(z[mk], g[mk])
            assert err < 1e-6, (name, err)
    return case


def make_large_case(name, logits):
    logits = np.asarray(logits, dtype=np.float64)
    for v in logits.flat:
        assert np.isfinite(v) and v == f32(v)
    rows = [compute_row(z, np.zeros_like(z), full=False) for z in logits]
    return {
        "name": name,
        "logits": logits,
        "entropy_paper": [r["entropy_paper"] for r in rows],
        "softmax": [r["softmax"]["1"] for r in rows],
        "adaptive": [r["adaptive"] for r in rows],
        "adaptive_beta": [r["adaptive_beta"] for r in rows],
    }


# --------------------------------------------------------------------------
# Case construction.
# --------------------------------------------------------------------------
def rows_hitting_entropy(rng, n, targets, entropy_fn):
    """One row per target: a fixed random direction scaled by bisection so
    that entropy_fn hits the target, then rounded to float32."""
    rows = []
    for t in targets:
        d = rng.standard_normal(n)
        c = scale_for_entropy(d, t, entropy_fn)
        rows.append(f32_array(c * d))
    return np.stack(rows)


def build_cases(rng):
    cases = []

    # random_small: n = 8, exact entropies spread over [0.1, ln 8].
    targets = [0.1, 0.35, 0.6, 0.85, 1.1, 1.4, 1.75, 2.05]
    cases.append(make_case("random_small",
                           rows_hitting_entropy(rng, 8, targets, exact_entropy_of_logits), rng))

    # threshold: n = 16, the PAPER entropy just below / just above 0.5.
    targets = [0.49, 0.4999, 0.5001, 0.51]
    logits = rows_hitting_entropy(rng, 16, targets, paper_entropy_of_logits)
    for row, t in zip(logits, targets):
        h = paper_entropy_of_logits(row)
        assert (h > 0.5) == (t > 0.5) and abs(h - t) < 1e-5, (h, t)
    cases.append(make_case("threshold", logits, rng))

    # beta_onset: n = 16, the PAPER entropy around h* = 0.848582, where
    # polyval(h) crosses 1 and beta starts to exceed 1. (Between 0.5 and h*
    # the max(., 1) clamps beta to 1, so the 0.5 threshold itself is
    # invisible in the outputs; this is where beta really starts to move.)
    targets = [0.84, 0.8485, 0.8487, 0.86]
    logits = rows_hitting_entropy(rng, 16, targets, paper_entropy_of_logits)
    cases.append(make_case("beta_onset", logits, rng))

    # beta_peak: n = 64 near-uniform (entropy close to ln 64 = 4.1589, the
    # largest an n = 64 row can reach), plus the exactly uniform row.
    targets = [4.10, 4.12, 4.14, 4.155]
    logits = rows_hitting_entropy(rng, 64, targets, paper_entropy_of_logits)
    logits = np.concatenate([logits, np.zeros((1, 64))])
    cases.append(make_case("beta_peak", logits, rng))

    # masked: n = 12 with -inf entries.
    n = 12
    rows = []
    z = f32_array(rng.standard_normal(n))
    z[[1, 5, 6, 10]] = NEG_INF  # scattered mask, moderate entropy
    rows.append(z)
    z = f32_array(0.3 * rng.standard_normal(n))
    z[7:] = NEG_INF  # causal-style prefix, near-uniform over 7 entries (beta > 1)
    rows.append(z)
    z = f32_array(3.0 * rng.standard_normal(n))
    z[[0, 2, 3, 11]] = NEG_INF  # peaked
    rows.append(z)
    z = np.full(n, NEG_INF)
    z[4] = f32(1.25)  # a single unmasked entry
    rows.append(z)
    z = np.full(n, NEG_INF)
    z[[3, 9]] = [f32(0.5), f32(0.5)]  # two tied unmasked entries
    rows.append(z)
    rows.append(np.full(n, NEG_INF))  # fully masked row
    cases.append(make_case("masked", np.stack(rows), rng))

    # ties_and_sparse: exact ties, large gaps (exact zeros in sparsemax /
    # entmax), and an all-equal row.
    rows = [
        [3.0, 3.0, 0.0, 0.0, -1.0, -2.0, -5.0, -5.0],
        [5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [1.0, 1.0, 1.0, 1.0, -10.0, -10.0, -10.0, -10.0],
        [2.0, 1.25, 0.25, 0.25, -1.0, -3.0, -3.0, 0.5],
        [0.75, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75],
        [-0.5, 4.0, -0.5, 2.5, 2.5, -7.0, 0.125, -0.5],
    ]
    cases.append(make_case("ties_and_sparse", f32_array(rows), rng))

    # large_spread: values up to +-30 (exp stays finite in f32 after the
    # max shift; exp(60) would not without it).
    rows = [
        [30.0, -30.0, 0.0, 29.75, -29.9, 15.0, -15.0, 1.0],
        [-30.0, -30.0, -29.25, -30.0, -28.5, -30.0, -30.0, -30.0],
        [30.0, 30.0, -30.0, 29.75, -30.0, 10.0, -10.0, 0.0],
    ]
    cases.append(make_case("large_spread", f32_array(rows), rng))
    return cases


def build_large_cases(rng):
    large = []
    for n in (1024, 4096, 16384):
        logits = f32_array(0.01 * rng.standard_normal((1, n)))
        large.append(make_large_case(f"near_uniform_{n}", logits))
    z = f32_array(0.01 * rng.standard_normal((1, 256)))
    z[0, 17] = f32(4.0)
    large.append(make_large_case("spike_256", z))
    return large


def build_polyval():
    hs = [0.0, 0.25, 0.5, 0.5000001, 0.849, 0.85, 1.0, 2.0, 3.0, 4.0, 4.41, 5.0, 5.94, 6.0, 8.0]
    vals = [float(jnp.polyval(jnp.array(POLY_FIT), jnp.float64(h))) for h in hs]
    for h, v in zip(hs, vals):
        assert abs(v - float(np.polyval(POLY_FIT, h))) < 1e-12
    betas = [1.0 if h <= 0.5 else max(v, 1.0) for h, v in zip(hs, vals)]
    return {"coefficients_highest_first": POLY_FIT, "h": hs, "value": vals, "beta": betas}


# --------------------------------------------------------------------------
# JSON writing with %.10g floats and null for -inf.
# --------------------------------------------------------------------------
def fmt_float(x):
    x = float(x)
    if x == NEG_INF:
        return "null"
    if not math.isfinite(x):
        raise ValueError(f"non-finite value {x!r} in golden data")
    s = f"{x:.10g}"
    return "0" if s == "-0" else s


def to_json(obj, indent=0, inline_depth=None):
    """Compact-but-readable JSON: numeric rows on one line each."""
    pad = "  " * indent
    if isinstance(obj, dict):
        items = [f'{pad}  {json.dumps(k)}: {to_json(v, indent + 1).lstrip()}' for k, v in obj.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (list, tuple, dict, np.ndarray)) for v in obj):
            return pad + "[" + ", ".join(to_json(v) for v in obj) + "]"
        items = [to_json(v, indent + 1) for v in obj]
        return pad + "[\n" + ",\n".join(items) + "\n" + pad + "]"
    if isinstance(obj, bool) or obj is None:
        return pad + json.dumps(obj)
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        return pad + str(int(obj))
    if isinstance(obj, (float, np.floating)):
        return pad + fmt_float(obj)
    if isinstance(obj, str):
        return pad + json.dumps(obj)
    raise TypeError(type(obj))


def check_roundtrip(text, data):
    """Every float32 input must parse back to the same float32.

    (The 10-digit decimal is not the float32 value's exact float64 expansion,
    but parsing it and rounding to f32 recovers the exact input; the golden
    outputs were computed from that exact f32 value.)"""
    parsed = json.loads(text)
    for c_src, c_out in zip(data["cases"] + data["large_cases"],
                            parsed["cases"] + parsed["large_cases"]):
        for key in ("logits", "cotangent"):
            if key not in c_src:
                continue
            src = np.asarray(c_src[key], dtype=np.float64)
            out = np.array([[NEG_INF if v is None else v for v in row] for row in c_out[key]])
            assert np.array_equal(src.astype(np.float32), out.astype(np.float32)), (c_src["name"], key)


def naive_nan_diagnostic(case):
    """Apply the JAX reference to the whole masked batch (no per-row
    compression) and report where JAX produces NaN."""
    z = jnp.asarray(case["logits"])
    g = jnp.asarray(case["cotangent"])
    fwd, beta = adaptive_temperature_softmax(z)
    _, pb = jax.vjp(lambda x: adaptive_temperature_softmax(x)[0], z)
    grad = pb(g)[0]
    _, pbs = jax.vjp(jax.nn.softmax, z)
    sgrad = pbs(g)[0]
    out = []
    for i in range(z.shape[0]):
        bad = [nm for nm, a in (("adaptive", fwd[i]), ("beta", beta[i]),
                                 ("adaptive_grad", grad[i]), ("softmax_grad", sgrad[i]))
               if bool(jnp.any(jnp.isnan(a)))]
        if bad:
            out.append(f"row {i}: {', '.join(bad)}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "softmax_golden.json"),
                    help="output path, or '-' for stdout (default: softmax_golden.json next to this script)")
    args = ap.parse_args()

    rng = np.random.default_rng(SEED)
    data = {
        "meta": {
            "generator": "generate_golden.py",
            "jax": jax.__version__,
            "numpy": np.__version__,
            "note": "float64 computation; inputs are float32-representable; null = -inf",
        },
        "polyval": build_polyval(),
        "cases": build_cases(rng),
        "large_cases": build_large_cases(rng),
    }
    text = to_json(data) + "\n"
    check_roundtrip(text, data)

    if args.out == "-":
        sys.stdout.write(text)
    else:
        with io.open(args.out, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)

    # Diagnostics on stderr.
    masked = next(c for c in data["cases"] if c["name"] == "masked")
    for line in naive_nan_diagnostic(masked):
        NOTES.append(f"naive JAX on 'masked' gives NaN in {line}")
    rs = next(c for c in data["cases"] if c["name"] == "random_small")
    for z, g, b, ag in zip(rs["logits"], rs["cotangent"], rs["adaptive_beta"], rs["adaptive_grad"]):
        if b > 1.0:
            fixed = np.asarray(_jit_vjp["softmax"](jnp.asarray(b * z), jnp.asarray(g))) * b
            NOTES.append(f"random_small beta={b:.4f}: max |adaptive_grad - grad with beta frozen| = "
                         f"{np.max(np.abs(ag - fixed)):.3g}")
    for c in data["cases"] + data["large_cases"]:
        hs = ", ".join(f"{h:.6g}" for h in c["entropy_paper"])
        bs = ", ".join(f"{b:.6g}" for b in c["adaptive_beta"])
        print(f"{c['name']}: entropy_paper=[{hs}] beta=[{bs}]", file=sys.stderr)
    for note in NOTES:
        print("NOTE:", note, file=sys.stderr)
    print(f"wrote {len(text)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
