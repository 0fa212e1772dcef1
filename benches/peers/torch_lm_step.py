#!/usr/bin/env python3
"""PyTorch eager peer of benches/lm_step.rs: one training step of the same decoder LM.

Model (as rigor-nn's `DecoderLm` at that bench's config): byte vocabulary (256), d = 256,
4 pre-norm blocks (LayerNorm eps 1e-5 -> causal multi-head attention with separate q/k/v/o
linear layers with bias, 4 heads, RoPE half-split theta 1e4 on q and k, scale 1/sqrt(64)
-> residual; LayerNorm -> Linear(256, 1024) -> GELU (erf) -> Linear(1024, 256) -> residual),
final LayerNorm, untied head Linear(256, 256); no dropout. Step: next-token cross-entropy on
a [16, 257] batch (inputs [:, :-1], targets [:, 1:]), backward, AdamW(lr 1e-3).

Attention is written out (QK^T, mask, softmax, V) as rigor composes it; `--sdpa` uses
`torch.nn.functional.scaled_dot_product_attention` instead (PyTorch's fused CPU path).

    pip install torch --index-url https://download.pytorch.org/whl/cpu
    python3 benches/peers/torch_lm_step.py --threads 2 [--sdpa] [--json torch_lm_step.json]
"""

import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, SEQ, D, HEADS, LAYERS, VOCAB = 16, 256, 256, 4, 4, 256


def rope_tables(seq, head_dim, theta=10_000.0):
    inv = theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    ang = torch.arange(seq, dtype=torch.float64)[:, None] * inv[None, :]
    ang = torch.cat([ang, ang], dim=-1)
    return ang.cos().float(), ang.sin().float()


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


class Attention(nn.Module):
    def __init__(self, sdpa):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(D, D) for _ in range(4))
        self.sdpa = sdpa

    def forward(self, x, cos, sin, mask):
        b, s, _ = x.shape
        h, hd = HEADS, D // HEADS
        q = self.q(x).view(b, s, h, hd).transpose(1, 2)
        k = self.k(x).view(b, s, h, hd).transpose(1, 2)
        v = self.v(x).view(b, s, h, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if self.sdpa:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
            scores = scores.masked_fill(mask, float("-inf"))
            y = scores.softmax(dim=-1) @ v
        return self.o(y.transpose(1, 2).reshape(b, s, D))


class Block(nn.Module):
    def __init__(self, sdpa):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(D, eps=1e-5), nn.LayerNorm(D, eps=1e-5)
        self.attn = Attention(sdpa)
        self.mlp = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))

    def forward(self, x, cos, sin, mask):
        x = x + self.attn(self.n1(x), cos, sin, mask)
        return x + self.mlp(self.n2(x))


class DecoderLm(nn.Module):
    def __init__(self, sdpa):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, D)
        nn.init.normal_(self.emb.weight, std=0.02)
        self.blocks = nn.ModuleList(Block(sdpa) for _ in range(LAYERS))
        self.norm = nn.LayerNorm(D, eps=1e-5)
        self.head = nn.Linear(D, VOCAB)
        cos, sin = rope_tables(SEQ, D // HEADS)
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)
        self.register_buffer("mask", torch.triu(torch.ones(SEQ, SEQ, dtype=torch.bool), 1))

    def forward(self, tokens):
        x = self.emb(tokens)
        for blk in self.blocks:
            x = blk(x, self.cos, self.sin, self.mask)
        return self.head(self.norm(x))


def time_gemms():
    """Median of 20 products after 3 warm-ups at the step's shapes, in ms and GFLOP/s."""
    tokens = BATCH * SEQ
    d = D
    cases = [
        ("4096x256x256", torch.rand(tokens, d), torch.rand(d, d)),
        ("4096x256x1024", torch.rand(tokens, d), torch.rand(d, 4 * d)),
        ("4096x1024x256", torch.rand(tokens, 4 * d), torch.rand(4 * d, d)),
    ]
    q = torch.rand(BATCH, HEADS, SEQ, d // HEADS)
    cases.append(("scores_16x4x256x64x256", q, q.transpose(2, 3)))
    cases.append(("scores_16x4x256x64x256_contiguous_kt", q, q.transpose(2, 3).contiguous()))
    w = torch.rand(BATCH, HEADS, SEQ, SEQ)
    cases.append(("context_16x4x256x256x64", w, q))
    for name, a, b in cases:
        for _ in range(3):
            torch.matmul(a, b)
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            torch.matmul(a, b)
            times.append(time.perf_counter() - t0)
        t = statistics.median(times)
        flops = 2 * a.numel() * b.shape[-1]
        print(json.dumps({"gemm": name, "median_ms": t * 1e3, "gflops": flops / t / 1e9}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--sdpa", action="store_true")
    ap.add_argument("--json", default="torch_lm_step.json")
    ap.add_argument(
        "--gemm",
        action="store_true",
        help="also time the step's matrix products alone (as benches/lm_step.rs's lm_gemm group)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.gemm:
        time_gemms()
    torch.manual_seed(0)
    model = DecoderLm(args.sdpa)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    tokens = (torch.arange(BATCH * (SEQ + 1)) * 2_654_435_761 % VOCAB).view(BATCH, SEQ + 1)
    inputs, targets = tokens[:, :-1], tokens[:, 1:]

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(3):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    result = {
        "torch": torch.__version__,
        "threads": args.threads,
        "sdpa": args.sdpa,
        "best_s": min(times),
        "median_s": statistics.median(times),
        "params": sum(p.numel() for p in model.parameters()),
    }
    print(json.dumps(result))
    with open(args.json, "w") as fh:
        json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
