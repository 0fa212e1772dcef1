#!/usr/bin/env python3
"""Golden values for rigor's SOAP optimizer (crates/rigor-optim/src/optimizer/soap.rs),
computed by RUNNING the SOAP authors' reference implementation.

REFERENCE (imported at run time; none of its code is copied into this repository)

    Vyas et al., "SOAP: Improving and Stabilizing Shampoo using Adam", ICLR 2025,
    arXiv 2409.11321.
    repo    github.com/nikhilvyas/SOAP
    commit  a1e553530fde97d0e6b307d7c82ac6d38b072340   (HEAD of master, 2024-12-02)
    path    soap.py, class SOAP(torch.optim.Optimizer)
    sha256  9e9021335ad02371584622fa256e73fe75f3eb74446a8d8a216e956534148f6b

    The repo is not a pip package (its README says: copy soap.py into your code base).
    This script finds soap.py in, in this order:
      1. --soap-src DIR (a directory that holds soap.py, e.g. a checkout at the commit),
      2. the SOAP_SRC environment variable (same meaning),
      3. a cache file ~/.cache/rigor-golden/SOAP-<commit>/soap.py, downloaded with
         urllib from raw.githubusercontent.com at the pinned commit when missing.
    The file's sha256 must equal the one above, or the script stops.

HOW TO RUN (CPU only, a few seconds)

    python3 -m venv /tmp/soapvenv
    /tmp/soapvenv/bin/pip install -r requirements.txt
    /tmp/soapvenv/bin/python generate_soap_golden.py            # writes ./soap_golden.json
    /tmp/soapvenv/bin/python generate_soap_golden.py --out -    # to stdout
    # offline, with a checkout:
    git clone https://github.com/nikhilvyas/SOAP /tmp/soap_src
    git -C /tmp/soap_src checkout a1e553530fde97d0e6b307d7c82ac6d38b072340
    /tmp/soapvenv/bin/python generate_soap_golden.py --soap-src /tmp/soap_src

    Used for the committed file: Python 3.11.7, torch 2.15.0 (+cu132 build, run on CPU),
    numpy 2.4.6.  Deterministic (fixed seeds): a rerun reproduces the file byte for byte.

WHAT IS COMPUTED (details, and the JSON schema, in README.md next to this file)

    For each case: a weight W0, a FIXED list of gradients G_1..G_T (p.grad = G_t before the
    t-th optimizer.step(); no loss function), and W after every call.  Everything is float64
    (torch.set_default_dtype(torch.float64): the reference allocates its factors with the
    default dtype).  Inputs are multiples of 1/256 in [-1, 1], exact in f32 and in decimal.

    Arrays per case:
      expected          the reference soap.py exactly as published.  NOTE: soap.py casts the
                        factors to float32 before torch.linalg.eigh / torch.linalg.qr
                        (`m.data.float()`), so its eigenbases carry float32 round-off even
                        when everything else is float64.
      expected_rigor    what rigor's documented algorithm gives, in float64: the reference
                        code with (a) the float32 down-cast disabled (class SOAPNoDowncast
                        below, which runs the reference's own methods with Tensor.float
                        temporarily made a no-op on float64 tensors) and, where the basis is
                        refreshed, (b) the QR power-iteration refresh replaced by a full eigh
                        of the accumulated factors (class SOAPEighRefresh below).  For the
                        rank-1 case: the reference with one warm-up call prepended (see
                        README).  Every expected_rigor array is also re-derived by an
                        independent numpy transcription of soap.rs's doc comment
                        (rigor_model below) and must agree to 1e-12.
    plus case-specific extra arrays (see CASES and README.md).
"""

import argparse
import contextlib
import hashlib
import importlib.util
import io
import json
import os
import platform
import sys
import urllib.request

import numpy as np
import torch

REF_REPO = "nikhilvyas/SOAP"
REF_COMMIT = "a1e553530fde97d0e6b307d7c82ac6d38b072340"
REF_PATH = "soap.py"
REF_SHA256 = "9e9021335ad02371584622fa256e73fe75f3eb74446a8d8a216e956534148f6b"
REF_URL = f"https://raw.githubusercontent.com/{REF_REPO}/{REF_COMMIT}/{REF_PATH}"

SEED = 20250712
GRID = 256.0  # inputs are multiples of 1/GRID

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)


# --------------------------------------------------------------------------------------
# Loading the reference
# --------------------------------------------------------------------------------------


def locate_soap(src_dir):
    if src_dir is None:
        src_dir = os.environ.get("SOAP_SRC")
    if src_dir is not None:
        path = os.path.join(src_dir, REF_PATH)
        if not os.path.isfile(path):
            sys.exit(f"no {REF_PATH} in {src_dir}")
    else:
        cache = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
        path = os.path.join(cache, "rigor-golden", f"SOAP-{REF_COMMIT}", REF_PATH)
        if not os.path.isfile(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            print(f"downloading {REF_URL}", file=sys.stderr)
            with urllib.request.urlopen(REF_URL, timeout=60) as r:
                data = r.read()
            with open(path + ".part", "wb") as f:
                f.write(data)
            os.replace(path + ".part", path)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != REF_SHA256:
        sys.exit(f"{path}: sha256 {digest} != pinned {REF_SHA256} (wrong commit?)")
    spec = importlib.util.spec_from_file_location("soap_reference", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.SOAP, path


# --------------------------------------------------------------------------------------
# Variants of the reference (only these two subclasses deviate from soap.py, and only
# where marked)
# --------------------------------------------------------------------------------------

_TENSOR_FLOAT = torch.Tensor.float


@contextlib.contextmanager
def keep_float64():
    """PATCH: inside this block `t.float()` returns t itself when t is float64.

    soap.py's get_orthogonal_matrix / get_orthogonal_matrix_QR do
    `m.data.float()` before eigh / qr and cast Q back afterwards; with this patch the same
    code runs in float64 end to end.  Nothing else is changed."""

    def _float(self, *args, **kwargs):
        if self.dtype == torch.float64:
            return self
        return _TENSOR_FLOAT(self, *args, **kwargs)

    torch.Tensor.float = _float
    try:
        yield
    finally:
        torch.Tensor.float = _TENSOR_FLOAT


def make_variants(SOAP):
    class SOAPNoDowncast(SOAP):
        """PATCHED reference: soap.py's own eigh / QR-refresh code, run in float64."""

        def get_orthogonal_matrix(self, mat):
            with keep_float64():
                return super().get_orthogonal_matrix(mat)

        def get_orthogonal_matrix_QR(self, state, max_precond_dim=10000, merge_dims=False):
            with keep_float64():
                return super().get_orthogonal_matrix_QR(state, max_precond_dim, merge_dims)

    class SOAPEighRefresh(SOAPNoDowncast):
        """PATCHED reference = rigor's refresh: the periodic refresh is a FULL float64
        eigendecomposition of the accumulated factors (soap.py's own get_orthogonal_matrix,
        eigenvalues descending), instead of one power-iteration step + QR warm-started from
        the previous basis.  Unlike soap.py's QR refresh, exp_avg_sq is NOT permuted (rigor
        keeps V as it is when the basis changes)."""

        def get_orthogonal_matrix_QR(self, state, max_precond_dim=10000, merge_dims=False):
            return self.get_orthogonal_matrix(state["GG"])

    return SOAPNoDowncast, SOAPEighRefresh


def reference_kwargs(hp):
    """SOAP(...) keyword arguments for rigor's SoapConfig fields `hp`."""
    return {
        "lr": hp["lr"],
        "betas": (hp["beta1"], hp["beta2"]),
        # soap.py: shampoo_beta < 0 means "use betas[1]", rigor: None means "use beta2".
        "shampoo_beta": -1 if hp["shampoo_beta"] is None else hp["shampoo_beta"],
        "eps": hp["epsilon"],
        "weight_decay": hp["weight_decay"],
        "precondition_frequency": hp["precondition_every"],
        # every side here is far below both limits: no side is left unpreconditioned by the
        # reference and no matrix is split into blocks by rigor (block_size).
        "max_precond_dim": 10000,
        "merge_dims": False,
        "precondition_1d": False,
        "normalize_grads": False,
        "data_format": "channels_first",
        "correct_bias": True,
    }


def run_optimizer(make_opt, w0, grads, warmup_grad=None):
    """W after each call, feeding p.grad = G_t.  With warmup_grad, one extra call with that
    gradient is made first and its output is not recorded."""
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    opt = make_opt([p])
    out = []
    if warmup_grad is not None:
        p.grad = torch.tensor(warmup_grad, dtype=torch.float64)
        opt.step()
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        out.append(p.detach().clone().numpy())
    return out


# --------------------------------------------------------------------------------------
# Independent numpy transcription of soap.rs's doc comment (cross-check, and diagnostics)
# --------------------------------------------------------------------------------------


def eig_desc(a):
    vals, vecs = np.linalg.eigh(a)
    return vals[::-1], vecs[:, ::-1]


def rigor_model(hp, w0, grads, decay_pre_update_w=False, dtype=np.float64):
    """rigor's SOAP as documented in soap.rs (float64).  decay_pre_update_w=True decays the
    weight from BEFORE the step (W - eta*k*N - eta*lam*W_old) instead of the updated one.
    dtype=np.float32 emulates an f32 device (tensors and scalars in f32, eigenvectors of the
    f32 factors computed in f64 and rounded to f32, as rigor does on the host)."""
    b1, b2, eps = hp["beta1"], hp["beta2"], hp["epsilon"]
    bs = hp["beta2"] if hp["shampoo_beta"] is None else hp["shampoo_beta"]
    lr, wd, f = hp["lr"], hp["weight_decay"], hp["precondition_every"]
    c = dtype  # scalar cast
    w = np.array(w0, dtype=dtype)
    out = []
    diag = {"eig_rel_gap_min": np.inf, "eig_min_over_max": np.inf, "sqrt_v_min_over_max": np.inf}

    def refresh(st):
        for key, qkey in (("L", "QL"), ("R", "QR")):
            vals, vecs = eig_desc(st[key].astype(np.float64))
            vecs = vecs.astype(dtype)
            gaps = (vals[:-1] - vals[1:]) / vals[0]
            diag["eig_rel_gap_min"] = min(diag["eig_rel_gap_min"], float(gaps.min()))
            diag["eig_min_over_max"] = min(diag["eig_min_over_max"], float(vals[-1] / vals[0]))
            st[qkey] = vecs

    st = None
    for g in grads:
        g = np.array(g, dtype=dtype)
        if st is None:
            st = {"t": 0, "M": np.zeros_like(g), "V": np.zeros_like(g)}
            if g.ndim == 2:  # first call on a matrix: factors and basis only
                st["L"] = c(1 - bs) * (g @ g.T)
                st["R"] = c(1 - bs) * (g.T @ g)
                refresh(st)
                out.append(w.copy())
                continue
        st["t"] += 1
        t = st["t"]
        st["M"] = c(b1) * st["M"] + c(1 - b1) * g
        if g.ndim == 2:
            ql, qr = st["QL"], st["QR"]
            g_rot = ql.T @ g @ qr
            m_rot = ql.T @ st["M"] @ qr
            st["V"] = c(b2) * st["V"] + c(1 - b2) * g_rot**2
            sv = np.sqrt(st["V"])
            diag["sqrt_v_min_over_max"] = min(diag["sqrt_v_min_over_max"], float(sv.min() / sv.max()))
            n = ql @ (m_rot / (sv + c(eps))) @ qr.T
            st["L"] = c(bs) * st["L"] + c(1 - bs) * (g @ g.T)
            st["R"] = c(bs) * st["R"] + c(1 - bs) * (g.T @ g)
            if t % f == 0:
                refresh(st)
        else:
            st["V"] = c(b2) * st["V"] + c(1 - b2) * g**2
            n = st["M"] / (np.sqrt(st["V"]) + c(eps))
        k = c(lr * np.sqrt(1 - b2**t) / (1 - b1**t))
        w_old = w
        w = w - k * n
        if wd > 0:
            w = w - c(lr * wd) * (w_old if decay_pre_update_w else w)
        out.append(w.copy())
    return out, diag


# --------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------


def base_hp(**over):
    hp = {
        "beta1": 0.95,
        "beta2": 0.95,
        "epsilon": 1e-8,
        "shampoo_beta": None,
        "precondition_every": 100,
        "block_size": 256,
        "weight_decay": 0.0,
        "lr": 0.01,
    }
    hp.update(over)
    return hp


CASES = [
    {
        "name": "square4_no_refresh",
        "description": "4x4, T = 6 calls (5 updates), precondition_every = 100 > T: only the "
        "first call's eigh basis is ever used. Default betas (0.95, 0.95), shampoo_beta = "
        "beta2, lr 0.01, no weight decay.",
        "shape": [4, 4],
        "steps": 6,
        "hp": base_hp(),
    },
    {
        "name": "square5_betas_shampoo_beta",
        "description": "5x5, T = 6, no refresh, betas (0.9, 0.99), shampoo_beta 0.9, eps 1e-8, "
        "lr 0.01.",
        "shape": [5, 5],
        "steps": 6,
        "hp": base_hp(beta1=0.9, beta2=0.99, shampoo_beta=0.9),
    },
    {
        "name": "square4_weight_decay",
        "description": "4x4, T = 6, no refresh, weight_decay 0.1 with lr 0.05. Decay is applied "
        "to the ALREADY UPDATED weight: W <- (W - lr*k*N) * (1 - lr*wd), in soap.py and in "
        "soap.rs's code. expected_if_decay_used_pre_update_w holds the other order "
        "(W - lr*k*N - lr*wd*W_old; differs by lr^2*wd*k*N per step).",
        "shape": [4, 4],
        "steps": 6,
        "hp": base_hp(lr=0.05, weight_decay=0.1),
        "extra_decay_order": True,
    },
    {
        "name": "square4_refresh_every_2",
        "description": "4x4, T = 6 calls, precondition_every = 2: the basis is refreshed after "
        "updates 2 and 4 (used by updates 3, 4, 5). soap.py refreshes with one power-iteration "
        "step + QR warm-started from the previous basis (and permutes exp_avg_sq); rigor does "
        "a full eigh (and leaves V alone): expected_rigor. expected_qr_refresh_f64 is soap.py's "
        "QR refresh run in float64.",
        "shape": [4, 4],
        "steps": 6,
        "hp": base_hp(precondition_every=2),
        "extra_qr_f64": True,
    },
    {
        "name": "vector6_adam",
        "description": "rank-1 parameter of length 6, T = 6, betas (0.9, 0.99), eps 1e-8, lr 0.01. "
        "soap.py (precondition_1d=False) gives Adam but SKIPS the first call (expected: "
        "W unchanged after call 1, call t>=2 is Adam step t-1 on G_t). rigor gives Adam from "
        "the first call, with SOAP's step size lr*sqrt(1-b2^t)/(1-b1^t) and eps added to "
        "sqrt(V) (expected_rigor = soap.py with a warm-up call prepended). "
        "expected_torch_adam = torch.optim.Adam (eps added to sqrt(V)/sqrt(1-b2^t)).",
        "shape": [6],
        "steps": 6,
        "hp": base_hp(beta1=0.9, beta2=0.99),
        "rank1": True,
    },
]


def grid_values(rng, shape):
    return np.round(rng.uniform(-1.0, 1.0, size=shape) * GRID) / GRID


def draw_inputs(case, index):
    """Deterministic inputs; a draw is rejected (next sub-seed) unless the eigenvalues are
    well separated, the factors full rank, and no rotated second moment nearly vanishes, so
    that an f32 implementation finds the same basis and the same update."""
    shape = tuple(case["shape"])
    for attempt in range(1000):
        rng = np.random.default_rng([SEED, index, attempt])
        w0 = grid_values(rng, shape)
        grads = [grid_values(rng, shape) for _ in range(case["steps"])]
        if len(shape) == 1:
            if min(np.abs(g).min() for g in grads) >= 4 / GRID:
                return w0, grads, attempt, {}
            continue
        _, diag = rigor_model(case["hp"], w0, grads)
        if (
            diag["eig_rel_gap_min"] >= 0.02
            and diag["eig_min_over_max"] >= 1e-3
            and diag["sqrt_v_min_over_max"] >= 2e-2
        ):
            return w0, grads, attempt, diag
    raise RuntimeError(f"no acceptable draw for {case['name']}")


def flat(a):
    return [float(x) for x in np.asarray(a, dtype=np.float64).reshape(-1)]


def max_abs(xs, ys):
    return float(max(np.abs(np.asarray(x) - np.asarray(y)).max() for x, y in zip(xs, ys)))


def build(SOAP):
    SOAPNoDowncast, SOAPEighRefresh = make_variants(SOAP)
    cases = []
    for index, case in enumerate(CASES):
        hp = case["hp"]
        kw = reference_kwargs(hp)
        w0, grads, attempt, diag = draw_inputs(case, index)

        ref = run_optimizer(lambda ps: SOAP(ps, **kw), w0, grads)
        if case.get("rank1"):
            rigor = run_optimizer(lambda ps: SOAP(ps, **kw), w0, grads, warmup_grad=grads[0])
        else:
            rigor = run_optimizer(lambda ps: SOAPEighRefresh(ps, **kw), w0, grads)
        model, _ = rigor_model(hp, w0, grads)
        model_err = max_abs(model, rigor)
        assert model_err < 1e-12, (case["name"], model_err)

        entry = {
            "name": case["name"],
            "description": case["description"],
            "shape": case["shape"],
            "steps": case["steps"],
            "hyperparameters": hp,
            "reference_kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()},
            "input_draw": {"seed": [SEED, index, attempt], "grid": 1 / GRID},
            "w0": flat(w0),
            "grads": [flat(g) for g in grads],
            "expected": [flat(w) for w in ref],
            "expected_rigor": [flat(w) for w in rigor],
        }
        emul, _ = rigor_model(hp, w0, grads, dtype=np.float32)
        checks = {
            "max_abs_expected_minus_expected_rigor": max_abs(ref, rigor),
            "max_abs_numpy_model_minus_expected_rigor": model_err,
            "max_abs_f32_emulation_minus_expected_rigor": max_abs(emul, rigor),
        }

        if not case.get("rank1"):
            # the float64 reference without any refresh replacement: equal to expected_rigor
            # whenever no refresh happens (cases 1-3).
            nodown = run_optimizer(lambda ps: SOAPNoDowncast(ps, **kw), w0, grads)
            if case.get("extra_qr_f64"):
                entry["expected_qr_refresh_f64"] = [flat(w) for w in nodown]
                checks["max_abs_expected_qr_refresh_f64_minus_expected_rigor"] = max_abs(nodown, rigor)
                checks["max_abs_expected_minus_expected_qr_refresh_f64"] = max_abs(ref, nodown)
            else:
                assert max_abs(nodown, rigor) == 0.0, case["name"]
        if case.get("extra_decay_order"):
            pre, _ = rigor_model(hp, w0, grads, decay_pre_update_w=True)
            entry["expected_if_decay_used_pre_update_w"] = [flat(w) for w in pre]
            checks["max_abs_expected_if_decay_used_pre_update_w_minus_expected_rigor"] = max_abs(pre, rigor)
        if case.get("rank1"):
            adam = run_optimizer(
                lambda ps: torch.optim.Adam(
                    ps, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["epsilon"], weight_decay=0.0
                ),
                w0,
                grads,
            )
            entry["expected_torch_adam"] = [flat(w) for w in adam]
            checks["max_abs_expected_torch_adam_minus_expected_rigor"] = max_abs(adam, rigor)
            # soap.py's skipped first call: expected[t] == rigor run on G_2..G_t
            shifted = run_optimizer(lambda ps: SOAP(ps, **kw), w0, grads[1:], warmup_grad=grads[0])
            assert np.array_equal(ref[0], np.asarray(w0)) and max_abs(ref[1:], shifted) == 0.0
        entry["checks"] = checks
        if diag:
            entry["conditioning"] = diag
        cases.append(entry)
        print(f"{case['name']}: draw {attempt}, " + ", ".join(f"{k}={v:.3g}" for k, v in {**checks, **diag}.items()), file=sys.stderr)
    return cases


def dumps(obj, indent=0):
    """JSON with one line per list of numbers (floats as Python repr: exact round trip)."""
    pad = " " * indent
    if isinstance(obj, dict):
        items = [f'{pad} {json.dumps(k)}: {dumps(v, indent + 1).lstrip()}' for k, v in obj.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(x, (list, dict)) for x in obj):
        items = [dumps(v, indent + 1) for v in obj]
        return pad + "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return pad + json.dumps(obj, allow_nan=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--soap-src", default=None, help="directory holding soap.py at the pinned commit")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "soap_golden.json"))
    args = ap.parse_args()

    SOAP, _ = locate_soap(args.soap_src)
    cases = build(SOAP)
    doc = {
        "meta": {
            "generator": "generate_soap_golden.py",
            "reference": {
                "repo": f"github.com/{REF_REPO}",
                "commit": REF_COMMIT,
                "path": REF_PATH,
                "class": "SOAP",
                "sha256": REF_SHA256,
            },
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "dtype": "float64",
            "layout": "all matrices flat, row-major; grads[t] is the gradient of call t+1, "
            "expected*[t] the weight after call t+1",
        },
        "cases": cases,
    }
    text = dumps(doc) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with io.open(args.out, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
