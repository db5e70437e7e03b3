#!/usr/bin/env python3
"""PyTorch's memory for one ViT-B/16 training step on the CPU: the reference the lab's steps are
compared with (scripts/pytorch/compare.py runs both side by side; docs/memory.md ("Against PyTorch") has the table).

A plain nn.Module ViT-B/16 (random weights, timm's shapes: 224 px, 16 px patches, width 768, 12
layers, 12 heads, MLP 3072, exact GELU, pre-norm blocks, LayerNorm eps 1e-6), torch.optim.AdamW,
one thread, fp32. One process per case, since the peak resident set (getrusage's ru_maxrss) is a
process's high-water mark. Two steps, as the lab's benchmark runs a warm-up step and a measured one:
AdamW makes its moments in the first update, so the second step holds them through its backward.

  ft        every weight trains
  vpt_deep  the backbone is frozen (requires_grad False); 50 prompt tokens per layer and the head
            train; prompt dropout 0.1 (VPT's deep setting): inserted after CLS before layer 0,
            replacing the previous layer's prompt outputs before every later layer

Debian: apt-get install python3-torch (1.13), then
  /usr/bin/python3 scripts/pytorch/vit_memory.py --mode vpt_deep --batch 4
prints one JSON line: {"mode", "batch", "tokens", "baseline_mb", "peak_mb", "step_s", "loss"}.
MB = 10^6 bytes.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def rss_peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):  # x [B, T, D]
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)  # [3, B, H, T, hd]
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)  # [B, H, T, T]
        out = (attn @ v).transpose(1, 2).reshape(b, t, d)  # [B, T, D]
        return self.proj(out)


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, mlp)
        self.fc2 = nn.Linear(mlp, dim)

    def forward(self, x):  # [B, T, D]
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, image=224, patch=16, dim=768, depth=12, heads=12, mlp=3072, classes=10, prompts=0):
        super().__init__()
        grid = image // patch
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + grid * grid, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, heads, mlp) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)
        self.num_prompts = prompts
        # VPT-deep: one set of prompt tokens per layer, [L, P, D].
        self.prompts = nn.Parameter(torch.randn(depth, prompts, dim) * 0.02) if prompts else None
        self.prompt_dropout = nn.Dropout(0.1)

    def forward(self, pixels):  # [B, 3, S, S]
        b = pixels.shape[0]
        x = self.patch_embed(pixels).flatten(2).transpose(1, 2)  # [B, g², D]
        x = torch.cat([self.cls_token.expand(b, -1, -1), x], dim=1) + self.pos_embed  # [B, 1 + g², D]
        p = self.num_prompts
        for i, blk in enumerate(self.blocks):
            if p:
                prompts = self.prompt_dropout(self.prompts[i].expand(b, -1, -1))  # [B, P, D]
                rest = x[:, 1:, :] if i == 0 else x[:, 1 + p :, :]
                x = torch.cat([x[:, :1, :], prompts, rest], dim=1)  # [B, 1 + P + g², D]
            x = blk(x)
        return self.head(self.norm(x)[:, 0])  # [B, K]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["ft", "vpt_deep"], required=True)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--prompts", type=int, default=50)
    ap.add_argument("--steps", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = ViT(prompts=a.prompts if a.mode == "vpt_deep" else 0)
    if a.mode == "vpt_deep":
        for name, w in model.named_parameters():
            w.requires_grad_(name == "prompts" or name.startswith("head."))
    model.train()
    trainable = [w for w in model.parameters() if w.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-3, weight_decay=0.01)
    x = torch.randn(a.batch, 3, 224, 224)
    y = torch.arange(a.batch) % 10
    baseline = rss_peak_bytes()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    step_s = (time.perf_counter() - t0) / a.steps
    tokens = 1 + 14 * 14 + (a.prompts if a.mode == "vpt_deep" else 0)
    print(
        json.dumps(
            {
                "mode": a.mode,
                "batch": a.batch,
                "tokens": tokens,
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "trainable": sum(w.numel() for w in trainable),
                "baseline_mb": round(baseline / 1e6),
                "peak_mb": round(rss_peak_bytes() / 1e6),
                "step_s": round(step_s, 2),
                "loss": round(loss.item(), 4),
            }
        )
    )


if __name__ == "__main__":
    main()
