#!/usr/bin/env python3
"""Golden inv_freq / attention factors for the `rigor-rope` crate.

WHAT
    Writes `rope_golden.json` (next to this script): for every context-extension
    variant rigor-rope implements, the inverse frequencies (one per 2-D chunk)
    and the attention factor, for at least two real model configurations each.

    Every function below is a float64 numpy transcription of a function in
    HF transformers' `src/transformers/modeling_rope_utils.py` (torch replaced
    by numpy, the `config` object replaced by explicit arguments); the HF name
    is given in each docstring:

      default      -> _compute_default_rope_parameters
      linear       -> _compute_linear_scaling_rope_parameters
      ntk          -> the static NTK-aware base change
                      (base * factor ** (dim / (dim - 2)), as in HF's NTK helpers)
      dynamic      -> _compute_dynamic_ntk_parameters (at a given seq_len)
      yarn         -> _compute_yarn_parameters (incl. get_mscale, mscale /
                      mscale_all_dim, truncate, find_correction_dim/range,
                      linear_ramp_factor)
      longrope     -> _compute_longrope_parameters (short list when
                      seq_len <= original_max_position_embeddings, long list
                      beyond: the switch of dynamic_rope_update /
                      longrope_frequency_update)
      llama3       -> _compute_llama3_parameters
      proportional -> _compute_proportional_rope_parameters (Gemma p-RoPE:
                      int(p * head_dim // 2) frequencies kept, rest zero,
                      then inv_freq /= factor)
      neox_partial -> _compute_default_rope_parameters with
                      dim = int(head_dim * partial_rotary_factor)

WHY
    HF computes these in float32 (torch default dtype); rigor-rope computes
    them in float64. The golden values are float64, so the Rust tests compare
    at a relative tolerance of 1e-12 (pure float64 arithmetic; differences come
    only from pow/log/exp rounding) -- a real bug shows up as an O(1) relative
    error in some slot.

CONFIGURATIONS (real ones; sources in README.md)
    Llama-3.1-8B, Llama-3.2-1B (llama3), Qwen2.5-7B-Instruct (yarn factor 4),
    DeepSeek-V3 (yarn factor 40, mscale = mscale_all_dim = 1),
    gpt-oss-20b (yarn factor 32, truncate = False), Phi-3.5-mini-instruct and
    Phi-3-vision-128k-instruct (longrope), Llama-2-7B with linear/dynamic
    factors (as used by e.g. LongChat / CodeLlama-style fine-tunes), GPT-NeoX-20B
    and Pythia-6.9B (partial rotary 0.25), a Gemma-4-style global layer
    (proportional p = 0.25, head_dim 512, theta 1e6) and p = 0.75 at head_dim 128.

HOW TO RUN
    python3 -m venv /tmp/ropevenv
    /tmp/ropevenv/bin/pip install -r requirements.txt
    /tmp/ropevenv/bin/python generate_golden.py          # writes ./rope_golden.json
    /tmp/ropevenv/bin/python generate_golden.py --out -  # to stdout

    Deterministic: no randomness; rerunning reproduces the file byte for byte.
"""

import argparse
import json
import math
import os
import sys

import numpy as np


# --------------------------------------------------------------- HF mirrors

def default_params(dim, base):
    """_compute_default_rope_parameters: 1 / base ** (arange(0, dim, 2) / dim)."""
    inv_freq = 1.0 / (base ** (np.arange(0, dim, 2, dtype=np.int64).astype(np.float64) / dim))
    return inv_freq, 1.0


def linear_params(dim, base, factor):
    """_compute_linear_scaling_rope_parameters: default inv_freq / factor."""
    inv_freq, af = default_params(dim, base)
    return inv_freq / factor, af


def ntk_params(dim, base, factor):
    """Static NTK-aware: base * factor ** (dim / (dim - 2))."""
    base = base * factor ** (dim / (dim - 2))
    return default_params(dim, base)


def dynamic_params(dim, base, factor, max_position_embeddings, seq_len):
    """_compute_dynamic_ntk_parameters at `seq_len`."""
    seq_len = seq_len if seq_len is not None and seq_len > max_position_embeddings else max_position_embeddings
    base = base * ((factor * seq_len / max_position_embeddings) - (factor - 1)) ** (dim / (dim - 2))
    inv_freq = 1.0 / (base ** (np.arange(0, dim, 2, dtype=np.int64).astype(np.float64) / dim))
    return inv_freq, 1.0


def get_mscale(scale, mscale=1.0):
    """get_mscale inside _compute_yarn_parameters."""
    if scale <= 1:
        return 1.0
    return 0.1 * mscale * math.log(scale) + 1.0


def yarn_params(dim, base, factor, original_max_position_embeddings,
                beta_fast=32.0, beta_slow=1.0, attention_factor=None,
                mscale=None, mscale_all_dim=None, truncate=True):
    """_compute_yarn_parameters."""
    if attention_factor is None:
        if mscale and mscale_all_dim:
            attention_factor = float(get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim))
        else:
            attention_factor = get_mscale(factor)

    def find_correction_dim(num_rotations, dim, base, max_position_embeddings):
        return (dim * math.log(max_position_embeddings / (num_rotations * 2 * math.pi))) / (2 * math.log(base))

    def find_correction_range(low_rot, high_rot, dim, base, max_position_embeddings, truncate):
        low = find_correction_dim(low_rot, dim, base, max_position_embeddings)
        high = find_correction_dim(high_rot, dim, base, max_position_embeddings)
        if truncate:
            low = math.floor(low)
            high = math.ceil(high)
        return max(low, 0), min(high, dim - 1)

    def linear_ramp_factor(min_, max_, n):
        if min_ == max_:
            max_ += 0.001
        linear_func = (np.arange(n, dtype=np.float64) - min_) / (max_ - min_)
        return np.clip(linear_func, 0, 1)

    pos_freqs = base ** (np.arange(0, dim, 2).astype(np.float64) / dim)
    inv_freq_extrapolation = 1.0 / pos_freqs
    inv_freq_interpolation = 1.0 / (factor * pos_freqs)
    low, high = find_correction_range(beta_fast, beta_slow, dim, base,
                                      original_max_position_embeddings, truncate)
    inv_freq_extrapolation_factor = 1 - linear_ramp_factor(low, high, dim // 2)
    inv_freq = (inv_freq_interpolation * (1 - inv_freq_extrapolation_factor)
                + inv_freq_extrapolation * inv_freq_extrapolation_factor)
    return inv_freq, attention_factor, (float(low), float(high))


def longrope_params(dim, base, short_factor, long_factor,
                    original_max_position_embeddings, max_position_embeddings,
                    seq_len, attention_factor=None):
    """_compute_longrope_parameters (+ the short/long switch at seq_len)."""
    factor = max_position_embeddings / original_max_position_embeddings
    if attention_factor is None:
        if factor <= 1.0:
            attention_factor = 1.0
        else:
            attention_factor = math.sqrt(1 + math.log(factor) / math.log(original_max_position_embeddings))
    if seq_len > original_max_position_embeddings:
        ext_factors = np.array(long_factor, dtype=np.float64)
    else:
        ext_factors = np.array(short_factor, dtype=np.float64)
    inv_freq_shape = np.arange(0, dim, 2, dtype=np.int64).astype(np.float64) / dim
    inv_freq = 1.0 / (ext_factors * base ** inv_freq_shape)
    return inv_freq, attention_factor


def llama3_params(dim, base, factor, low_freq_factor, high_freq_factor, old_context_len):
    """_compute_llama3_parameters."""
    inv_freq, af = default_params(dim, base)
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    inv_freq_llama = np.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)
    return inv_freq_llama, af


def proportional_params(head_dim, base, partial_rotary_factor, factor=1.0):
    """_compute_proportional_rope_parameters (Gemma p-RoPE)."""
    rope_angles = int(partial_rotary_factor * head_dim // 2)
    inv_freq_rotated = 1.0 / (base ** (np.arange(0, 2 * rope_angles, 2, dtype=np.int64).astype(np.float64) / head_dim))
    nope_angles = head_dim // 2 - rope_angles
    if nope_angles > 0:
        inv_freq = np.concatenate((inv_freq_rotated, np.zeros(nope_angles, dtype=np.float64)))
    else:
        inv_freq = inv_freq_rotated
    inv_freq = inv_freq / factor
    return inv_freq, 1.0, rope_angles


# ----------------------------------------------------- real LongRoPE lists

# microsoft/Phi-3.5-mini-instruct config.json, rope_scaling (head_dim 96:
# 3072 hidden / 32 heads; theta 10000; original 4096; max 131072).
PHI35_LONG = [1.0800000429153442, 1.1100000143051147, 1.1399999856948853, 1.340000033378601, 1.5899999141693115, 1.600000023841858, 1.6200000047683716, 2.620000123977661, 3.2300000190734863, 3.2300000190734863, 4.789999961853027, 7.400000095367432, 7.700000286102295, 9.09000015258789, 12.199999809265137, 17.670000076293945, 24.46000099182129, 28.57000160217285, 30.420001983642578, 30.840002059936523, 32.590003967285156, 32.93000411987305, 42.320003509521484, 44.96000289916992, 50.340003967285156, 50.45000457763672, 57.55000305175781, 57.93000411987305, 58.21000289916992, 60.1400032043457, 62.61000442504883, 62.62000274658203, 62.71000289916992, 63.1400032043457, 63.1400032043457, 63.77000427246094, 63.93000411987305, 63.96000289916992, 63.970001220703125, 64.02999877929688, 64.06999969482422, 64.08000183105469, 64.12000274658203, 64.41000366210938, 64.4800033569336, 64.51000213623047, 64.52999877929688, 64.83999633789062]
PHI35_SHORT = [1.0, 1.0199999809265137, 1.0299999713897705, 1.0299999713897705, 1.0499999523162842, 1.0499999523162842, 1.0499999523162842, 1.0499999523162842, 1.0499999523162842, 1.0699999332427979, 1.0999999046325684, 1.1099998950958252, 1.1599998474121094, 1.1599998474121094, 1.1699998378753662, 1.2899998426437378, 1.339999794960022, 1.679999828338623, 1.7899998426437378, 1.8199998140335083, 1.8499997854232788, 1.8799997568130493, 1.9099997282028198, 1.9399996995925903, 1.9899996519088745, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0799996852874756, 2.0899996757507324, 2.189999580383301, 2.2199995517730713, 2.5899994373321533, 2.729999542236328, 2.749999523162842, 2.8399994373321533]
# microsoft/Phi-3-vision-128k-instruct config.json, rope_scaling ("su").
PHI3V_LONG = [1.0299999713897705, 1.0499999523162842, 1.0499999523162842, 1.0799999237060547, 1.2299998998641968, 1.2299998998641968, 1.2999999523162842, 1.4499999284744263, 1.5999999046325684, 1.6499998569488525, 1.8999998569488525, 2.859999895095825, 3.68999981880188, 5.419999599456787, 5.489999771118164, 5.489999771118164, 9.09000015258789, 11.579999923706055, 15.65999984741211, 15.769999504089355, 15.789999961853027, 18.360000610351562, 21.989999771118164, 23.079999923706055, 30.009998321533203, 32.35000228881836, 32.590003967285156, 35.56000518798828, 39.95000457763672, 53.840003967285156, 56.20000457763672, 57.95000457763672, 59.29000473022461, 59.77000427246094, 59.920005798339844, 61.190006256103516, 61.96000671386719, 62.50000762939453, 63.3700065612793, 63.48000717163086, 63.48000717163086, 63.66000747680664, 63.850006103515625, 64.08000946044922, 64.760009765625, 64.80001068115234, 64.81001281738281, 64.81001281738281]
PHI3V_SHORT = [1.05, 1.05, 1.05, 1.1, 1.1, 1.1, 1.2500000000000002, 1.2500000000000002, 1.4000000000000004, 1.4500000000000004, 1.5500000000000005, 1.8500000000000008, 1.9000000000000008, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.000000000000001, 2.1000000000000005, 2.1000000000000005, 2.2, 2.3499999999999996, 2.3499999999999996, 2.3499999999999996, 2.3499999999999996, 2.3999999999999995, 2.3999999999999995, 2.6499999999999986, 2.6999999999999984, 2.8999999999999977, 2.9499999999999975, 3.049999999999997, 3.049999999999997, 3.049999999999997]


def lst(a):
    return [float(x) for x in a]


def case(name, model, kind, params, inv_freq, attention_factor, **extra):
    c = {"name": name, "model": model, "kind": kind, "params": params,
         "inv_freq": lst(inv_freq), "attention_factor": float(attention_factor)}
    c.update(extra)
    return c


def build():
    cases = []
    # default (sanity anchor)
    for model, d, th in [("Llama-3.1-8B (no scaling)", 128, 500000.0), ("Llama-2-7B", 128, 10000.0)]:
        inv, af = default_params(d, th)
        cases.append(case(f"default/{model}", model, "default", {"head_dim": d, "theta": th}, inv, af))
    # linear
    for model, d, th, f in [("Llama-2-7B, linear x4 (LongChat-style)", 128, 10000.0, 4.0),
                            ("CodeLlama-style d64, linear x2", 64, 10000.0, 2.0)]:
        inv, af = linear_params(d, th, f)
        cases.append(case(f"linear/{model}", model, "linear", {"head_dim": d, "theta": th, "factor": f}, inv, af))
    # static NTK
    for model, d, th, f in [("Llama-2-7B, NTK-aware alpha 8", 128, 10000.0, 8.0),
                            ("Llama-1-7B, NTK-aware alpha 2", 128, 10000.0, 2.0)]:
        inv, af = ntk_params(d, th, f)
        cases.append(case(f"ntk/{model}", model, "ntk", {"head_dim": d, "theta": th, "factor": f}, inv, af))
    # dynamic NTK at several lengths
    for model, d, th, f, l0 in [("Llama-2-7B, dynamic x2", 128, 10000.0, 2.0, 4096),
                                ("Llama-1-7B d128, dynamic x4", 128, 10000.0, 4.0, 2048)]:
        for seq in [l0 // 2, l0, l0 + 1, 3 * l0]:
            inv, af = dynamic_params(d, th, f, l0, seq)
            cases.append(case(f"dynamic/{model}/seq{seq}", model, "dynamic",
                              {"head_dim": d, "theta": th, "factor": f,
                               "original_max_position_embeddings": l0, "seq_len": seq}, inv, af))
    # YaRN
    yarn_cfgs = [
        ("Qwen2.5-7B-Instruct (yarn x4)", 128, 1000000.0, 4.0, 32768, {}),
        ("DeepSeek-V3 (qk_rope_head_dim 64, mscale 1/1)", 64, 10000.0, 40.0, 4096,
         {"mscale": 1.0, "mscale_all_dim": 1.0}),
        ("gpt-oss-20b (truncate false)", 64, 150000.0, 32.0, 4096, {"truncate": False}),
        ("DeepSeek-V2-Lite-style (mscale 0.707 / all_dim 1)", 64, 10000.0, 40.0, 4096,
         {"mscale": 0.707, "mscale_all_dim": 1.0}),
    ]
    for model, d, th, f, l0, kw in yarn_cfgs:
        inv, af, (lo, hi) = yarn_params(d, th, f, l0, **kw)
        p = {"head_dim": d, "theta": th, "factor": f, "original_max_position_embeddings": l0,
             "beta_fast": 32.0, "beta_slow": 1.0}
        p.update(kw)
        cases.append(case(f"yarn/{model}", model, "yarn", p, inv, af, correction_range=[lo, hi]))
    # LongRoPE
    for model, short, long_ in [("Phi-3.5-mini-instruct", PHI35_SHORT, PHI35_LONG),
                                ("Phi-3-vision-128k-instruct", PHI3V_SHORT, PHI3V_LONG)]:
        assert len(short) == 48 and len(long_) == 48, model
        for seq in [4096, 4097]:
            inv, af = longrope_params(96, 10000.0, short, long_, 4096, 131072, seq)
            cases.append(case(f"longrope/{model}/seq{seq}", model, "longrope",
                              {"head_dim": 96, "theta": 10000.0, "original_max_position_embeddings": 4096,
                               "max_position_embeddings": 131072, "seq_len": seq,
                               "short_factor": short, "long_factor": long_}, inv, af))
    # Llama 3
    for model, d, th, f, lo, hi, l0 in [("Llama-3.1-8B", 128, 500000.0, 8.0, 1.0, 4.0, 8192),
                                        ("Llama-3.2-1B", 64, 500000.0, 32.0, 1.0, 4.0, 8192)]:
        inv, af = llama3_params(d, th, f, lo, hi, l0)
        cases.append(case(f"llama3/{model}", model, "llama3",
                          {"head_dim": d, "theta": th, "factor": f, "low_freq_factor": lo,
                           "high_freq_factor": hi, "original_max_position_embeddings": l0}, inv, af))
    # proportional (p-RoPE)
    for model, d, th, p in [("Gemma-4-style global layer (p 0.25)", 512, 1000000.0, 0.25),
                            ("p-RoPE 0.75, d128", 128, 10000.0, 0.75),
                            ("p 0 = NoPE, d64", 64, 10000.0, 0.0),
                            ("p 1 = RoPE, d64", 64, 10000.0, 1.0),
                            ("p 0.3, d10 (float rounding of p*d)", 10, 10000.0, 0.3)]:
        inv, af, angles = proportional_params(d, th, p)
        cases.append(case(f"proportional/{model}", model, "proportional",
                          {"head_dim": d, "theta": th, "p": p}, inv, af, rope_angles=angles))
    # GPT-NeoX partial rotary
    for model, d, th, pct in [("GPT-NeoX-20B", 96, 10000.0, 0.25), ("Pythia-6.9B", 128, 10000.0, 0.25)]:
        rot = int(d * pct)
        inv, af = default_params(rot, th)
        cases.append(case(f"neox_partial/{model}", model, "neox_partial",
                          {"head_dim": d, "theta": th, "rotary_pct": pct, "rotary_dims": rot}, inv, af))
    return {
        "generator": "crates/rigor-rope/tests/golden/generate_golden.py",
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "cases": cases,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "rope_golden.json"))
    args = ap.parse_args()
    data = json.dumps(build(), indent=1)
    if args.out == "-":
        sys.stdout.write(data + "\n")
    else:
        with open(args.out, "w") as f:
            f.write(data + "\n")
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
