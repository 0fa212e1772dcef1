#!/usr/bin/env python3
"""Golden values for rigor-softmax's `Llama4Temperature` from HF transformers' own Llama 4
attention (transformers 5.25, `transformers/models/llama4/modeling_llama4.py`,
`Llama4TextAttention.forward`: on NoPE layers with `attn_temperature_tuning`, queries are
scaled by `log1p(floor((p + 1) / floor_scale)) * attn_scale + 1` at position `p`).

A tiny NoPE layer (hidden 16, 2 heads of 8, no biases, eager attention, causal mask) runs on
12 random tokens; the script saves the input, the q/k projection weights and the attention
weights the module returns. rigor's test rebuilds the unscaled scores `q kᵀ / √d` from the same
weights and applies `Llama4Temperature` to them. A second run continues after 5 cached tokens
(positions 5..12) to check the offset.

    pip install torch==2.15.0 transformers==5.25.0
    python3 generate_llama4_golden.py      # writes llama4_golden.json beside this file
"""

import json
import pathlib

import torch
import transformers
from transformers import DynamicCache
from transformers.models.llama4.configuration_llama4 import Llama4TextConfig
from transformers.models.llama4.modeling_llama4 import Llama4TextAttention

FLOOR_SCALE, ATTN_SCALE, SEQ, PREFIX = 4, 0.1, 12, 5


def causal(s_q, s_k, offset):
    m = torch.full((1, 1, s_q, s_k), float("-inf"))
    for i in range(s_q):
        m[0, 0, i, : offset + i + 1] = 0.0
    return m


def main():
    torch.manual_seed(0)
    config = Llama4TextConfig(
        hidden_size=16,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=8,
        num_hidden_layers=1,
        no_rope_layers=[0],  # layer 0 is NoPE: the layers temperature tuning acts on
        attn_temperature_tuning=True,
        floor_scale=FLOOR_SCALE,
        attn_scale=ATTN_SCALE,
        use_qk_norm=False,
        attention_bias=False,
    )
    config._attn_implementation = "eager"
    attn = Llama4TextAttention(config, 0).eval()
    assert not attn.use_rope and attn.attn_temperature_tuning
    x = torch.randn(1, SEQ, 16)
    with torch.no_grad():
        _, weights = attn(x, None, causal(SEQ, SEQ, 0))
        # Decode the last SEQ - PREFIX tokens after PREFIX cached ones.
        cache = DynamicCache(config=config)
        attn(x[:, :PREFIX], None, causal(PREFIX, PREFIX, 0), cache=cache)
        _, weights_cached = attn(x[:, PREFIX:], None, causal(SEQ - PREFIX, SEQ, PREFIX), cache=cache)
    positions = torch.arange(SEQ).float()
    scales = torch.log1p(torch.floor((positions + 1.0) / FLOOR_SCALE)) * ATTN_SCALE + 1.0
    out = {
        "source": f"transformers {transformers.__version__}, Llama4TextAttention (NoPE layer, eager)",
        "torch": torch.__version__,
        "floor_scale": FLOOR_SCALE,
        "attn_scale": ATTN_SCALE,
        "head_dim": 8,
        "heads": 2,
        "scaling": attn.scaling,
        "x": x[0].tolist(),
        "q_proj": attn.q_proj.weight.tolist(),
        "k_proj": attn.k_proj.weight.tolist(),
        "weights": weights[0].tolist(),
        "prefix": PREFIX,
        "weights_cached": weights_cached[0].tolist(),
        "scales": scales.tolist(),
    }
    path = pathlib.Path(__file__).with_name("llama4_golden.json")
    path.write_text(json.dumps(out))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
