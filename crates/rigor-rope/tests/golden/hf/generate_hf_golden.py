#!/usr/bin/env python3
"""Golden RoPE data from HF transformers itself, for real models' config.json.

WHAT
    For every `configs/NAME.json` (the RoPE-relevant fields of a published
    config.json, in the transformers-v4 form: `rope_scaling`, `rope_theta`,
    `rotary_pct`, `rope_local_base_freq`, ...) this script

      1. loads the dict into the installed transformers' config class for its
         `model_type` (`AutoConfig.for_model`), exactly as `from_pretrained`
         would after reading config.json;
      2. writes `configs/NAME.v5.json`: the same fields as transformers 5.x
         serialises them (`config.to_dict()`, restricted to the RoPE fields),
         i.e. the v5 form with `rope_parameters`;
      3. builds the model's own rotary-embedding module (e.g.
         `LlamaRotaryEmbedding`, `Gemma3RotaryEmbedding`) from that config and
         records its `inv_freq` buffer(s) and `attention_scaling`, per layer
         type for per-layer-type models (Gemma 3) and under "default"
         otherwise; checks them against a direct call of
         `ROPE_INIT_FUNCTIONS[rope_type](config, layer_type=...)` (or the
         module's `compute_default_rope_parameters` for "default"), and
         against the same computation from the v5 form;
      4. for `dynamic` and `longrope` also records the values at
         seq_len = original_max_position_embeddings, +1 (the switch point
         `dynamic_rope_update` uses) and 2x, as `dynamic_rope_update` calls
         the init function;
      5. adds model-specific extras read from transformers' modeling code:
         Llama 4's NoPE layers and query temperature scale
         (`modeling_llama4.py`: 1 + attn_scale * log1p(floor((pos + 1) /
         floor_scale)), float32), M-RoPE sections and the axis (0 = t, 1 = h,
         2 = w) each frequency slot takes (by running the rotary module's own
         `recomposition_frequencies` on axis-tagged input), and DeepSeek-V3's
         softmax-scale multiplier (`yarn_apply_mscale`).

    Output: `hf_rope_golden.json` next to this script.

WHY
    `rigor_rope::hf` parses config.json (both the v4 `rope_scaling` and the v5
    `rope_parameters` forms) into RoPE frequencies. These files pin what HF
    transformers itself computes for real models, including the quirks of its
    config conversion (Phi-3's top-level `original_max_position_embeddings`,
    Gemma 3's `rope_local_base_freq`, GPT-NeoX's `rotary_pct`, `type` vs
    `rope_type`, Qwen2.5-VL's `"type": "mrope"`).

    dtype: transformers' RoPE init functions take no dtype argument and build
    their tensors with an explicit `dtype=torch.float` (float32), so the
    values here are float32, as transformers computes them (each stored as the
    exact float64 of the float32). Compare a float64 implementation at a
    relative tolerance of ~1e-6, not bit-exactly.

HOW TO RUN
    python3 -m venv /tmp/hfvenv
    /tmp/hfvenv/bin/pip install -r crates/rigor-rope/tests/golden/hf/requirements.txt
    /tmp/hfvenv/bin/python crates/rigor-rope/tests/golden/hf/generate_hf_golden.py

    Deterministic (no randomness, no network, CPU only); a few seconds. It
    rewrites `configs/*.v5.json` and `hf_rope_golden.json`; with the pinned
    versions the output is byte-identical run to run.
"""

import copy
import glob
import importlib
import json
import math
import os
import sys

import torch
import transformers
from transformers import AutoConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS, yarn_apply_mscale

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = os.path.join(HERE, "configs")
OUT = os.path.join(HERE, "hf_rope_golden.json")

# model_type of the (text) config -> (modeling module, rotary-embedding class), as the model builds it
ROTARY = {
    "llama": ("llama", "LlamaRotaryEmbedding"),
    "mistral": ("mistral", "MistralRotaryEmbedding"),
    "qwen2": ("qwen2", "Qwen2RotaryEmbedding"),
    "qwen3": ("qwen3", "Qwen3RotaryEmbedding"),
    "phi3": ("phi3", "Phi3RotaryEmbedding"),
    "deepseek_v3": ("deepseek_v3", "DeepseekV3RotaryEmbedding"),
    "gemma3_text": ("gemma3", "Gemma3RotaryEmbedding"),
    "gpt_neox": ("gpt_neox", "GPTNeoXRotaryEmbedding"),
    "qwen2_5_vl_text": ("qwen2_5_vl", "Qwen2_5_VLRotaryEmbedding"),
    "llama4_text": ("llama4", "Llama4TextRotaryEmbedding"),
    "qwen3_vl_text": ("qwen3_vl", "Qwen3VLTextRotaryEmbedding"),
}

# Fields kept in the v5 dump besides those of the v4 fixture (which transformers may rename or drop).
V5_FIELDS = {
    "model_type", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim",
    "num_hidden_layers", "max_position_embeddings", "original_max_position_embeddings",
    "rope_parameters", "partial_rotary_factor", "rope_interleave",
    "sliding_window", "use_sliding_window", "max_window_layers", "layer_types", "sliding_window_pattern",
    "no_rope_layers", "no_rope_layer_interval", "attn_temperature_tuning", "floor_scale", "attn_scale",
    "attention_chunk_size", "use_qk_norm", "query_pre_attn_scalar",
    "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "kv_lora_rank", "q_lora_rank",
}

# Values of published configs that transformers 5.x rejects; coerced before loading (and reported).
COERCIONS = {
    # Llama 4's published configs carry the transformers-4.51 default `4`; 5.x's strict config wants a bool.
    ("llama4_text", "attn_temperature_tuning"): lambda v: bool(v) if isinstance(v, int) and not isinstance(v, bool) else v,
}

LLAMA4_TEMPERATURE_POSITIONS = [0, 1, 8191, 8192, 100000]


def f32list(t):
    """A float32 tensor as a list of Python floats (the exact float64 of each float32)."""
    assert t.dtype == torch.float32, t.dtype
    return [float(x) for x in t.tolist()]


def load(fields):
    """The config object transformers builds from `fields`, and the list of coercions applied."""
    fields = copy.deepcopy(fields)
    model_type = fields.pop("model_type")
    applied = []

    def coerce(mt, d):
        for (cmt, key), fn in COERCIONS.items():
            if cmt == mt and key in d:
                new = fn(d[key])
                if type(new) is not type(d[key]) or new != d[key]:
                    applied.append({"field": key, "from": d[key], "to": new})
                d[key] = new

    coerce(model_type, fields)
    if "text_config" in fields:
        coerce(fields["text_config"].get("model_type"), fields["text_config"])
    return AutoConfig.for_model(model_type, **fields), applied


def text_config(config):
    """The config the decoder (and so its rotary module) is built from."""
    return config.get_text_config() if hasattr(config, "get_text_config") else config


def v5_form(config, v4_fields):
    """`config.to_dict()` restricted to the RoPE fields: the transformers-5.x form of the fixture."""
    keep = V5_FIELDS | set(v4_fields)

    def restrict(d):
        return {k: d[k] for k in sorted(d) if k in keep and not k.startswith("_")}

    full = config.to_dict()
    if "text_config" in full and v4_fields.get("model_type") == full.get("model_type"):
        # multimodal wrapper (Qwen2.5-VL): v5 nests the decoder fields under text_config
        return {"model_type": full["model_type"], "text_config": restrict(full["text_config"])}
    return restrict(full)


def rotary_module(tc):
    module, cls = ROTARY[tc.model_type]
    mod = importlib.import_module(f"transformers.models.{module}.modeling_{module}")
    return getattr(mod, cls)(config=tc)


def is_nested(tc):
    rp = tc.rope_parameters or {}
    return bool(tc.nested_rope_parameter_keys(rp))


def original_max(tc, layer_type):
    rp = tc.rope_parameters[layer_type] if layer_type else tc.rope_parameters
    return rp.get("original_max_position_embeddings", tc.max_position_embeddings)


def rope_entries(tc, rotary):
    """{key: {...}} per layer type (nested rope_parameters) or under "default"."""
    out = {}
    layer_types = sorted(tc.rope_parameters) if is_nested(tc) else [None]
    for lt in layer_types:
        key = lt or "default"
        if lt is None:
            rope_type = rotary.rope_type
            inv_freq = rotary.inv_freq
            scaling = rotary.attention_scaling
        else:
            rope_type = rotary.rope_type[lt]
            inv_freq = getattr(rotary, f"{lt}_inv_freq")
            scaling = getattr(rotary, f"{lt}_attention_scaling")
        kwargs = {"layer_type": lt} if lt else {}

        # the same values from a direct call, as the module's __init__ makes it
        init_fn = rotary.compute_default_rope_parameters if rope_type == "default" else ROPE_INIT_FUNCTIONS[rope_type]
        direct, direct_scaling = init_fn(copy.deepcopy(tc), None, **kwargs) if lt else init_fn(copy.deepcopy(tc))
        assert torch.equal(direct, inv_freq), (key, "module buffer != init function")
        assert direct_scaling == scaling, (key, direct_scaling, scaling)

        entry = {
            "rope_type": rope_type,
            "rotary_dim": 2 * inv_freq.numel(),
            "inv_freq": f32list(inv_freq),
            "attention_factor": float(scaling),
        }
        if rope_type in ("dynamic", "longrope"):
            orig = original_max(tc, lt)
            entry["at_seq_len"] = {}
            for seq_len in (orig, orig + 1, 2 * orig):
                f, s = ROPE_INIT_FUNCTIONS[rope_type](copy.deepcopy(tc), None, seq_len=seq_len, **kwargs)
                entry["at_seq_len"][str(seq_len)] = {"inv_freq": f32list(f), "attention_factor": float(s)}
        out[key] = entry
    return out


def slot_axes(rotary, n_slots):
    """Axis (0 = t, 1 = h, 2 = w) of each frequency slot, from the module's own recomposition."""
    tagged = torch.arange(3, dtype=torch.float32).view(3, 1, 1, 1).expand(3, 1, 1, n_slots).clone()
    full = rotary.recomposition_frequencies(tagged)  # (1, 1, 2 * n_slots): the slots, then repeated
    axes = [int(a) for a in full[0, 0, :n_slots].tolist()]
    assert axes == [int(a) for a in full[0, 0, n_slots:].tolist()]
    return axes


def llama4_temperature(tc):
    """`Llama4TextAttention.forward`'s query scale on NoPE layers, float32 as it computes it."""
    positions = torch.tensor(LLAMA4_TEMPERATURE_POSITIONS)
    scales = torch.log1p(torch.floor((positions.float() + 1.0) / tc.floor_scale)) * tc.attn_scale + 1.0
    return {
        "formula": "1 + attn_scale * log1p(floor((pos + 1) / floor_scale)), float32, NoPE layers only",
        "floor_scale": tc.floor_scale,
        "attn_scale": tc.attn_scale,
        "positions": LLAMA4_TEMPERATURE_POSITIONS,
        "scale": f32list(scales),
    }


def compare(a, b, where):
    assert a.keys() == b.keys(), (where, a.keys(), b.keys())
    for k in a:
        assert a[k]["rope_type"] == b[k]["rope_type"], (where, k)
        assert a[k]["inv_freq"] == b[k]["inv_freq"], (where, k)
        assert a[k]["attention_factor"] == b[k]["attention_factor"], (where, k)
        assert a[k].get("at_seq_len") == b[k].get("at_seq_len"), (where, k)


def dump(obj, indent=0):
    """JSON with sorted keys, 2-space indent, and lists of scalars kept on one line."""
    pad = "  " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad}  {json.dumps(k)}: {dump(v, indent + 1)}' for k, v in sorted(obj.items())]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(obj, list) and all(not isinstance(x, (dict, list)) for x in obj):
        return "[" + ", ".join(json.dumps(x) for x in obj) + "]"
    if isinstance(obj, list):
        return "[\n" + ",\n".join(f"{pad}  {dump(x, indent + 1)}" for x in obj) + f"\n{pad}]"
    if isinstance(obj, float):
        assert math.isfinite(obj), obj
    return json.dumps(obj)


def write(path, obj):
    with open(path, "w") as f:
        f.write(dump(obj) + "\n")


def main():
    torch.set_grad_enabled(False)
    models = {}
    names = sorted(
        os.path.basename(p)[: -len(".json")]
        for p in glob.glob(os.path.join(CONFIGS, "*.json"))
        if not p.endswith(".v5.json")
    )
    for name in names:
        with open(os.path.join(CONFIGS, f"{name}.json")) as f:
            v4 = json.load(f)
        config, coerced = load(v4)
        tc = text_config(config)
        rotary = rotary_module(tc)
        rope = rope_entries(tc, rotary)

        v5 = v5_form(config, v4)
        write(os.path.join(CONFIGS, f"{name}.v5.json"), v5)
        config5, _ = load(v5)
        tc5 = text_config(config5)
        compare(rope, rope_entries(tc5, rotary_module(tc5)), f"{name}: v4 vs v5 form")

        head_dim = getattr(tc, "head_dim", None) or tc.hidden_size // tc.num_attention_heads
        no_rope = getattr(tc, "no_rope_layers", None)
        entry = {
            "source": f"configs/{name}.json",
            "source_v5": f"configs/{name}.v5.json",
            "config_class": type(tc).__name__,
            "rotary_class": type(rotary).__name__,
            "head_dim": head_dim,
            "num_hidden_layers": tc.num_hidden_layers,
            "layer_types": list(tc.layer_types) if getattr(tc, "layer_types", None) else None,
            "nope_layers": [i for i, use_rope in enumerate(no_rope) if not use_rope] if no_rope else [],
            "rope": rope,
        }
        if coerced:
            entry["coerced_on_load"] = coerced
        rp = tc.rope_parameters
        if not is_nested(tc) and "mrope_section" in rp:
            entry["mrope_section"] = list(rp["mrope_section"])
            if "mrope_interleaved" in rp:
                entry["mrope_interleaved"] = rp["mrope_interleaved"]
            entry["slot_axes"] = slot_axes(rotary, head_dim // 2)
        if tc.model_type == "llama4_text" and tc.attn_temperature_tuning:
            entry["attn_temperature"] = llama4_temperature(tc)
        if tc.model_type == "deepseek_v3":
            entry["attn_softmax_scale"] = {
                "formula": "qk_head_dim ** -0.5 * yarn_get_mscale(factor, mscale_all_dim) ** 2 (yarn_apply_mscale)",
                "qk_head_dim": tc.qk_head_dim,
                "multiplier": float(yarn_apply_mscale(tc.rope_parameters, 1.0)),
                "scale": float(yarn_apply_mscale(tc.rope_parameters, tc.qk_head_dim ** (-0.5))),
            }
        models[name] = entry
        print(f"{name:28s} {entry['rotary_class']:28s} " + ", ".join(
            f"{k}: {v['rope_type']} x{len(v['inv_freq'])} af={v['attention_factor']:.6g}" for k, v in rope.items()))

    golden = {
        "generator": "generate_hf_golden.py",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__.split("+")[0],
        "python_version": sys.version.split()[0],
        "dtype": "float32",
        "dtype_note": "transformers' RoPE init functions take no dtype and compute in float32; "
        "values are the exact float64 of those float32 results",
        "models": models,
    }
    write(OUT, golden)
    print(f"wrote {os.path.relpath(OUT)} ({len(models)} models)")


if __name__ == "__main__":
    main()
