#!/usr/bin/env python3
"""Golden values for three attention normalisers, computed by RUNNING each
paper's own reference code (nothing here re-implements them).

REFERENCES (exact sources; none of their code is copied into this repository,
it is imported at run time from a separate checkout / pip install)

  softpick  Zuhri et al., "Softpick: No Attention Sink, No Massive Activations
            with Rectified Softmax", arXiv 2504.20966.
            repo   github.com/zaydzuhri/softpick-attention
            commit c97f4dc5f9fcec2e8afc2932db2cba6d7d7e5465
            path   naive_softpick_attn.py, function softpick(x, dim=-1, eps=1e-8)
            (The repo's Triton kernel flash_softpick_attn.py needs CUDA; the
            authors call it reference-only. It is not run here; see README.)

  asentmax  Vasylenko et al., "Long-Context Generalization with Sparse
            Attention" (ICLR 2026), arXiv 2506.16640.
            repo   github.com/deep-spin/asentmax
            commit be54bd3f9cfb9f17c80a8d956ea827f5cf93d07d
            path   synthetic/src/models/architectures/sparse_gemma.py,
                   class SparseGemma2Attention: __init__ (parameters, the
                   log_position buffer), _apply_length_scaling (the length
                   scaler) and attn_func (entmax.entmax_bisect, pip entmax==1.3).
            attn_scale_type="learn" (per-head learnable beta, gamma).
            The module needs transformers 4.46.3 (Gemma2 API of that release),
            so this part runs in a subprocess with a separate site dir.

  sinks     gpt-oss learnable attention sinks, as in HF transformers 5.25.0,
            transformers/models/gpt_oss/modeling_gpt_oss.py,
            function eager_attention_forward(module, query, key, value,
            attention_mask, scaling, dropout) called with a stub module
            (num_key_value_groups=1, sinks=<per-head tensor>, training=False).

HOW TO RUN (CPU only, about 12 s)

    git clone https://github.com/zaydzuhri/softpick-attention /tmp/softpick_src
    git -C /tmp/softpick_src checkout c97f4dc5f9fcec2e8afc2932db2cba6d7d7e5465
    git clone https://github.com/deep-spin/asentmax /tmp/asentmax_src
    git -C /tmp/asentmax_src checkout be54bd3f9cfb9f17c80a8d956ea827f5cf93d07d

    python3.11 -m venv /tmp/nnvenv
    /tmp/nnvenv/bin/pip install torch==2.15.0 transformers==5.25.0 numpy==2.4.6 \
        einops==0.8.2 entmax==1.3 triton==3.9.0
    # transformers 4.46.3 + what sparse_gemma.py imports, kept OUT of the venv:
    /tmp/nnvenv/bin/pip install --no-deps --target /tmp/asref_site \
        transformers==4.46.3 tokenizers==0.20.3 huggingface_hub==0.26.5 \
        adasplash==0.1.1b0 requests==2.32.3 urllib3==2.2.3 idna==3.10 \
        charset-normalizer==3.4.0 certifi==2024.8.30

    /tmp/nnvenv/bin/python generate_new_normalizers.py \
        --softpick-src /tmp/softpick_src --asentmax-src /tmp/asentmax_src \
        --asentmax-site /tmp/asref_site          # writes ./new_normalizers_golden.json

    Used for the committed file: Python 3.11.7, torch 2.15.0 (+cu132 build,
    run on CPU), transformers 5.25.0 (sinks) and 4.46.3 (asentmax subprocess),
    numpy 2.4.6, einops 0.8.2, entmax 1.3, triton 3.9.0 (only imported by
    sparse_gemma.py, never run), adasplash 0.1.1b0 (likewise).
    Deterministic: a rerun reproduces the file byte for byte.

CONVENTIONS: see README.md next to this file (null = -inf, cotangents,
float64, per-row parameter gradients, fully masked rows).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import types

import numpy as np

SEED = 20260521
NEG_INF = float("-inf")

SOFTPICK_COMMIT = "c97f4dc5f9fcec2e8afc2932db2cba6d7d7e5465"
ASENTMAX_COMMIT = "be54bd3f9cfb9f17c80a8d956ea827f5cf93d07d"

# ASEntmax settings: (name, alpha, beta, gamma). delta is the module default
# (config attn_scale_delta absent -> 1). Settings sharing an alpha run as the
# heads of one module (beta/gamma have shape (1, H, 1, 1)).
ASENTMAX_SETTINGS = [
    ("a1.5_b0.5_g0.25", 1.5, 0.5, 0.25),
    ("a1.5_b1.25_g-0.5", 1.5, 1.25, -0.5),
    ("a2_b0.75_g1", 2.0, 0.75, 1.0),
    ("a1.25_b0.25_g2", 1.25, 0.25, 2.0),
]
ASENTMAX_LONG_KLEN = 1024        # the second "sequence length"
SINKS = [0.0, 1.5, -2.0]         # one per head


# --------------------------------------------------------------------------
# Inputs (float32- and decimal-exact: multiples of 1/256 resp. 1/1024)
# --------------------------------------------------------------------------
def q(x, step):
    return np.round(np.asarray(x, dtype=np.float64) / step) * step


def build_cases():
    rng = np.random.default_rng(SEED)
    cases = []

    def add(name, rows, note=""):
        z = np.array(rows, dtype=np.float64)
        assert np.all(np.isnan(z) == False)  # noqa: E712
        assert np.array_equal(z.astype(np.float32).astype(np.float64), z)
        mask = np.isneginf(z)
        g = q(rng.uniform(-1.0, 1.0, size=z.shape), 1.0 / 1024)
        g[mask] = 0.0
        c = {"name": name}
        if note:
            c["note"] = note
        c["logits"] = z
        c["cotangent"] = g
        cases.append(c)

    add("ordinary_n5", q(rng.uniform(-4, 4, size=(3, 5)), 1 / 256))
    add("ordinary_n17", q(rng.uniform(-3, 3, size=(2, 17)), 1 / 256))
    m = q(rng.uniform(-3, 3, size=(3, 8)), 1 / 256)
    m[0, [1, 4, 5]] = NEG_INF
    m[1, :] = NEG_INF
    m[1, 6] = 1.25                       # a single unmasked entry, > 0
    m[2, [0, 7]] = NEG_INF
    add("masked", m, "-inf entries (null); row 1 has one unmasked entry")
    add("large_offset",
        np.stack([1000.0 + q(rng.uniform(-2, 2, size=6), 1 / 64),
                  50.0 + q(rng.uniform(-2, 2, size=6), 1 / 64)]),
        "row 0 = 1000 + small, row 1 = 50 + small")
    s = q(rng.uniform(-30, 30, size=(2, 9)), 1 / 16)
    s[0, 0], s[0, 1] = 30.0, -30.0
    add("spread_30", s, "values in [-30, 30]")
    add("edge", np.array([
        [-0.5, -1.75, -3.0, -0.25, -2.0, -1.0],      # all negative
        [0.0, 1.5, 0.0, -1.0, 0.75, 0.0],            # exact zeros
        [0.015625, -1.0, -2.5, -0.5, -4.0, -0.125],  # tiny positive max
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],              # all zero
    ]), "softpick edge rows: all negative, exact zeros, max = 1/64, all zero")
    cb = q(rng.uniform(-3, 3, size=(5, 5)), 1 / 256)
    cb[np.triu_indices(5, 1)] = NEG_INF
    add("causal_block", cb, "5x5 causal block: row i sees keys 0..i")
    return cases


FULLY_MASKED = np.full((1, 6), NEG_INF)


# --------------------------------------------------------------------------
# softpick: the authors' naive PyTorch reference
# --------------------------------------------------------------------------
def run_softpick(src):
    import torch
    sys.path.insert(0, src)
    import naive_softpick_attn as ref        # from the fetched checkout

    def one(z, c, eps):
        x = torch.tensor(z, dtype=torch.float64, requires_grad=True)
        w = ref.softpick(x, dim=-1) if eps is None else ref.softpick(x, dim=-1, eps=eps)
        (w * torch.tensor(c, dtype=torch.float64)).sum().backward()
        return w.detach().numpy(), x.grad.numpy()

    out = {}
    for case in build_cases():
        z, c = case["logits"], case["cotangent"]
        w, gz = one(z, c, None)
        w6, gz6 = one(z, c, 1e-6)
        # README closed form: d/dx_i = e^{x_i-m}/D * (1[x_i>0] c_i - sign(x_i) <c,w>)
        # (torch: relu'(0) = sign(0) = 0), plus -<c,w> * eps / D at the argmax
        # (autograd also differentiates the non-detached row max m).
        mx = np.max(z, axis=1, keepdims=True)
        fin = np.isfinite(z)
        D = np.sum(np.where(fin, np.abs(np.exp(z - mx) - np.exp(-mx)), 0.0),
                   axis=1, keepdims=True) + 1e-8
        e = np.where(fin, np.exp(z - mx), 0.0) / D
        dot = np.sum(c * w, axis=1, keepdims=True)
        ana = e * (np.where(z > 0, c, 0.0) - np.sign(z) * dot)
        ana[np.arange(z.shape[0]), np.argmax(z, axis=1)] -= (dot * 1e-8 / D)[:, 0]
        err = rel_err(ana, gz)
        print(f"softpick {case['name']}: README closed form vs autograd, max rel diff = {err:.2e}",
              file=sys.stderr)
        assert err < 1e-12, err
        out[case["name"]] = {"weights": w, "grad_logits": gz,
                             "weights_eps_1e-6": w6, "grad_logits_eps_1e-6": gz6}
    w, gz = one(FULLY_MASKED, np.zeros_like(FULLY_MASKED), None)
    out["__fully_masked__"] = {"weights": w, "grad_logits": gz}
    return out


# --------------------------------------------------------------------------
# ASEntmax: the authors' SparseGemma2Attention (run in a subprocess)
# --------------------------------------------------------------------------
def asentmax_child(src, site):
    sys.path.insert(0, site)
    root = os.path.join(src, "synthetic")
    sys.path.insert(0, root)
    import torch
    torch.set_default_dtype(torch.float64)   # parameters and log_position in f64
    import transformers
    assert transformers.__version__ == "4.46.3", transformers.__version__
    # Empty package shells so that src/__init__.py files (lightning, hydra, ...)
    # are not executed; sparse_gemma.py itself is imported unchanged.
    for name, sub in [("src", "src"), ("src.models", "src/models"),
                      ("src.models.architectures", "src/models/architectures")]:
        mod = types.ModuleType(name)
        mod.__path__ = [os.path.join(root, sub)]
        sys.modules[name] = mod
    import importlib
    sg = importlib.import_module("src.models.architectures.sparse_gemma")
    from transformers.models.gemma2.configuration_gemma2 import Gemma2Config

    groups = {}
    for name, alpha, beta, gamma in ASENTMAX_SETTINGS:
        groups.setdefault(alpha, []).append((name, beta, gamma))

    modules = {}
    for alpha, heads in groups.items():
        H = len(heads)
        cfg = Gemma2Config(
            vocab_size=16, hidden_size=8 * H, intermediate_size=8, num_hidden_layers=1,
            num_attention_heads=H, num_key_value_heads=H, head_dim=8,
            max_position_embeddings=ASENTMAX_LONG_KLEN, attn_logit_softcapping=None,
            final_logit_softcapping=None, query_pre_attn_scalar=8,
            entmax_alpha=alpha, attn_scale_type="learn", apply_rotary=False,
            apply_nape=False, use_fast_attn=False, attn_type="regular")
        attn = sg.SparseGemma2Attention(cfg, layer_idx=0).eval()
        assert attn.attn_scale_beta.shape == (1, H, 1, 1)
        with torch.no_grad():
            attn.attn_scale_beta.copy_(torch.tensor([b for _, b, _ in heads]).view(1, H, 1, 1))
            attn.attn_scale_gamma.copy_(torch.tensor([g for _, _, g in heads]).view(1, H, 1, 1))
        modules[alpha] = (attn, heads)

    def run(z, c, k_len):
        q_len, n = z.shape
        mask = np.isneginf(z)
        res = []
        for alpha, (attn, heads) in modules.items():
            H = len(heads)
            zt = torch.tensor(np.where(mask, 0.0, z), requires_grad=True)
            # "query_states" (B, H, q_len, dim): the scaler multiplies the last
            # dim elementwise, so passing the logits row gives s * z.
            qs = zt.view(1, 1, q_len, n).expand(1, H, q_len, n).clone()
            scaled = attn._apply_length_scaling(qs, None, q_len, k_len)
            ones = torch.ones(1, H, q_len, 1)
            with torch.no_grad():
                scale = attn._apply_length_scaling(ones, None, q_len, k_len)[0, :, :, 0]
                logpos = attn.log_position[0, 0, k_len - q_len:k_len, 0]
            additive = torch.tensor(np.where(mask, NEG_INF, 0.0))  # mask added AFTER scaling
            logits = scaled + additive
            w = attn.attn_func(logits)               # entmax_bisect(x, alpha, dim=-1)
            ct = torch.tensor(c)
            for h, (name, beta, gamma) in enumerate(heads):
                gz_rows, gb_rows, gg_rows = [], [], []
                for i in range(q_len):
                    gz, gb, gg = torch.autograd.grad(
                        (w[0, h, i] * ct[i]).sum(),
                        [zt, attn.attn_scale_beta, attn.attn_scale_gamma], retain_graph=True)
                    gz_rows.append(gz[i].tolist())
                    gb_rows.append(gb[0, h, 0, 0].item())
                    gg_rows.append(gg[0, h, 0, 0].item())
                res.append({
                    "setting": name, "alpha": alpha, "beta": beta, "gamma": gamma,
                    "scale": scale[h].tolist(), "log_position": logpos.tolist(),
                    "weights": w[0, h].detach().tolist(), "grad_logits": gz_rows,
                    "grad_beta": gb_rows, "grad_gamma": gg_rows,
                })
        return res

    out = {"delta": float(modules[1.5][0].attn_scale_delta)}
    for case in build_cases():
        z, c = case["logits"], case["cotangent"]
        lens = [z.shape[1], ASENTMAX_LONG_KLEN]
        out[case["name"]] = [{"k_len": k, "q_len": z.shape[0], "results": run(z, c, k)}
                             for k in lens]
    out["__fully_masked__"] = run(FULLY_MASKED, np.zeros_like(FULLY_MASKED), 6)
    json.dump(out, sys.stdout)


def run_asentmax(args):
    cmd = [sys.executable, os.path.abspath(__file__), "--child-asentmax",
           "--asentmax-src", args.asentmax_src, "--asentmax-site", args.asentmax_site]
    r = subprocess.run(cmd, check=True, stdout=subprocess.PIPE)
    return json.loads(r.stdout)


# --------------------------------------------------------------------------
# gpt-oss sinks: transformers' own eager_attention_forward
# --------------------------------------------------------------------------
def run_sinks():
    import torch
    import transformers
    from transformers.models.gpt_oss.modeling_gpt_oss import eager_attention_forward
    assert transformers.__version__ == "5.25.0", transformers.__version__
    H = len(SINKS)

    def run(z, c):
        q_len, n = z.shape
        mask = np.isneginf(z)
        sinks = torch.nn.Parameter(torch.tensor(SINKS, dtype=torch.float64))
        module = types.SimpleNamespace(num_key_value_groups=1, sinks=sinks, training=False)
        zt = torch.tensor(np.where(mask, 0.0, z), dtype=torch.float64, requires_grad=True)
        query = zt.view(1, 1, q_len, n).expand(1, H, q_len, n)
        key = torch.eye(n, dtype=torch.float64).view(1, 1, n, n).expand(1, H, n, n)  # q.k^T = z exactly
        value = torch.zeros(1, H, n, 1, dtype=torch.float64)
        amask = torch.tensor(np.where(mask, NEG_INF, 0.0), dtype=torch.float64).view(1, 1, q_len, n)
        _, w = eager_attention_forward(module, query, key, value, amask, scaling=1.0, dropout=0.0)
        ct = torch.tensor(c, dtype=torch.float64)
        res = []
        for h in range(H):
            gz_rows, gs_rows = [], []
            for i in range(q_len):
                gz, gs = torch.autograd.grad((w[0, h, i] * ct[i]).sum(), [zt, sinks],
                                             retain_graph=True)
                gz_rows.append(gz[i].tolist())
                gs_rows.append(gs[h].item())
            res.append({"sink": SINKS[h], "weights": w[0, h].detach().numpy(),
                        "grad_logits": np.array(gz_rows), "grad_sink": np.array(gs_rows)})
        # independent check: sink 0 == softmax1 = e^z / (1 + sum e^z)
        h0 = SINKS.index(0.0)
        with np.errstate(over="ignore"):
            mz = np.maximum(np.max(z, axis=1, keepdims=True), 0.0)
            e = np.exp(z - mz)
            s1 = e / (np.exp(-mz) + e.sum(axis=1, keepdims=True))
        err = np.max(np.abs(s1 - res[h0]["weights"]))
        assert err < 1e-15, err
        return res

    out = {}
    for case in build_cases():
        out[case["name"]] = run(case["logits"], case["cotangent"])
    out["__fully_masked__"] = run(FULLY_MASKED, q(np.linspace(-0.75, 0.5, 6)[None, :], 1 / 1024))
    return out


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------
def entmax_boundary_margin(z_scaled, p, alpha):
    """Smallest relative distance of any entry from the support boundary
    (alpha-1) z_i = tau; tau recovered from the support."""
    Xs = (alpha - 1.0) * z_scaled
    sup = p > 0
    tau = np.mean(Xs[sup] - p[sup] ** (alpha - 1.0))
    fin = np.isfinite(Xs)
    gaps = np.abs(Xs[fin] - tau)
    span = max(1.0, np.max(np.abs(Xs[fin])))
    return np.min(gaps) / span


def check_asentmax(cases, res):
    worst = 1.0
    for case in cases:
        z = case["logits"]
        for block in res[case["name"]]:
            for r in block["results"]:
                w = np.array(r["weights"])
                s = np.array(r["scale"])
                for i in range(z.shape[0]):
                    if np.sum(np.isfinite(z[i])) < 2:
                        continue
                    worst = min(worst, entmax_boundary_margin(s[i] * z[i], w[i], r["alpha"]))
                assert np.allclose(w.sum(axis=1), 1.0, atol=1e-12)
    print(f"asentmax: min relative margin to the support boundary = {worst:.2e}", file=sys.stderr)
    assert worst > 1e-5, worst


def rel_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b)))


def check_readme_formulas(cases, ae, sk):
    """The closed forms written in README.md reproduce the reference outputs
    (a check of the README, not a second reference)."""
    worst = 0.0
    for case in cases:
        z, c = case["logits"], case["cotangent"]
        fin = np.isfinite(z)
        zf = np.where(fin, z, 0.0)
        for block in ae[case["name"]]:
            k_len, q_len = block["k_len"], block["q_len"]
            for r in block["results"]:
                L = np.log(np.arange(k_len - q_len, k_len) + 2.0)
                s = 1.0 + r["beta"] * L ** r["gamma"]
                p = np.array(r["weights"])
                gp = np.where(p > 0, p ** (2.0 - r["alpha"]), 0.0)
                u = gp * (c - np.sum(c * gp, 1, keepdims=True) / np.sum(gp, 1, keepdims=True))
                gz = s[:, None] * u
                gb = np.sum(u * zf, 1) * L ** r["gamma"]
                gg = np.sum(u * zf, 1) * r["beta"] * L ** r["gamma"] * np.log(L)
                for a, b in ((s, r["scale"]), (gz, r["grad_logits"]), (gb, r["grad_beta"]),
                             (gg, r["grad_gamma"])):
                    worst = max(worst, rel_err(a, b))
        for r in sk[case["name"]]:
            m = np.maximum(np.max(z, 1, keepdims=True), r["sink"])
            e = np.exp(z - m)
            den = np.exp(r["sink"] - m) + e.sum(1, keepdims=True)
            w = e / den
            dot = np.sum(c * w, 1, keepdims=True)
            for a, b in ((w, r["weights"]), (w * (c - dot), r["grad_logits"]),
                         (-(np.exp(r["sink"] - m) / den * dot)[:, 0], r["grad_sink"])):
                worst = max(worst, rel_err(a, b))
    print(f"README closed forms vs reference outputs: max rel diff = {worst:.2e}", file=sys.stderr)
    assert worst < 1e-10, worst  # grad_beta of the 1000-offset rows: cancellation in sum(u*z), ~3e-12


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------
def fmt_float(x):
    x = float(x)
    if x == NEG_INF:
        return "null"
    if math.isnan(x):
        return '"NaN"'
    if not math.isfinite(x):
        raise ValueError(x)
    s = repr(x)
    if s.endswith(".0"):
        s = s[:-2]
    return "0" if s == "-0" else s


def to_json(obj, indent=0):
    pad = "  " * indent
    if isinstance(obj, dict):
        items = [f'{pad}  {json.dumps(k)}: {to_json(v, indent + 1).lstrip()}' for k, v in obj.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (list, tuple, dict, np.ndarray)) for v in obj):
            return pad + "[" + ", ".join(to_json(v) for v in obj) + "]"
        return pad + "[\n" + ",\n".join(to_json(v, indent + 1) for v in obj) + "\n" + pad + "]"
    if isinstance(obj, bool) or obj is None:
        return pad + json.dumps(obj)
    if isinstance(obj, (int, np.integer)):
        return pad + str(int(obj))
    if isinstance(obj, (float, np.floating)):
        return pad + fmt_float(obj)
    if isinstance(obj, str):
        return pad + json.dumps(obj)
    raise TypeError(type(obj))


def all_nan(a):
    return bool(np.all(np.isnan(np.asarray(a, dtype=np.float64))))


def assemble(sp, ae, sk):
    import torch
    import transformers
    cases = build_cases()
    inputs = [{k: v for k, v in c.items()} for c in cases]

    softpick = {"eps": 1e-8, "eps_kernel": 1e-6, "cases": []}
    for c in cases:
        r = sp[c["name"]]
        softpick["cases"].append({"name": c["name"], **r})
    fm = sp["__fully_masked__"]
    softpick["fully_masked"] = {
        "logits": FULLY_MASKED,
        "weights_all_nan": all_nan(fm["weights"]),
        "grad_logits_all_nan": all_nan(fm["grad_logits"]),
    }

    asentmax = {
        "delta": ae["delta"],
        "settings": [{"name": n, "alpha": a, "beta": b, "gamma": g} for n, a, b, g in ASENTMAX_SETTINGS],
        "cases": [],
    }
    for c in cases:
        asentmax["cases"].append({"name": c["name"], "lengths": ae[c["name"]]})
    fm = ae["__fully_masked__"]
    asentmax["fully_masked"] = {
        "logits": FULLY_MASKED, "k_len": 6,
        "weights_all_nan": all(all_nan(r["weights"]) for r in fm),
        "grad_logits_all_nan": all(all_nan(r["grad_logits"]) for r in fm),
        "grad_beta_all_nan": all(all_nan(r["grad_beta"]) for r in fm),
    }

    sinks = {"sinks": SINKS, "cases": []}
    for c in cases:
        sinks["cases"].append({"name": c["name"], "results": sk[c["name"]]})
    fm = sk["__fully_masked__"]
    sinks["fully_masked"] = {
        "logits": FULLY_MASKED,
        "cotangent": q(np.linspace(-0.75, 0.5, 6)[None, :], 1 / 1024),
        "results": fm,
    }
    for r in fm:
        assert np.all(np.asarray(r["weights"]) == 0.0)

    return {
        "meta": {
            "generator": "generate_new_normalizers.py",
            "torch": torch.__version__.split("+")[0],
            "transformers_sinks": transformers.__version__,
            "transformers_asentmax": "4.46.3",
            "entmax": "1.3",
            "numpy": np.__version__,
            "softpick_ref": f"github.com/zaydzuhri/softpick-attention@{SOFTPICK_COMMIT}:naive_softpick_attn.py softpick",
            "asentmax_ref": f"github.com/deep-spin/asentmax@{ASENTMAX_COMMIT}:synthetic/src/models/architectures/sparse_gemma.py SparseGemma2Attention (attn_scale_type=learn) + entmax.entmax_bisect",
            "sinks_ref": "transformers 5.25.0 transformers/models/gpt_oss/modeling_gpt_oss.py eager_attention_forward",
            "note": "float64; inputs are float32-exact; null = -inf; see README.md",
        },
        "inputs": inputs,
        "softpick": softpick,
        "asentmax": asentmax,
        "sinks": sinks,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softpick-src", default="/tmp/softpick_src")
    ap.add_argument("--asentmax-src", default="/tmp/asentmax_src")
    ap.add_argument("--asentmax-site", default="/tmp/asref_site")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "new_normalizers_golden.json"))
    ap.add_argument("--child-asentmax", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_asentmax:
        asentmax_child(args.asentmax_src, args.asentmax_site)
        return

    ae = run_asentmax(args)                  # before transformers 5.25 is imported here
    sp = run_softpick(args.softpick_src)
    sk = run_sinks()
    check_asentmax(build_cases(), ae)
    check_readme_formulas(build_cases(), ae, sk)
    data = assemble(sp, ae, sk)
    text = to_json(data) + "\n"
    parsed = json.loads(text)                # valid JSON, inputs round-trip
    for c_src, c_out in zip(data["inputs"], parsed["inputs"]):
        for key in ("logits", "cotangent"):
            src = np.asarray(c_src[key], dtype=np.float64)
            out = np.array([[NEG_INF if v is None else v for v in row] for row in c_out[key]])
            assert np.array_equal(src, out) and np.array_equal(src.astype(np.float32), out), c_src["name"]
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
