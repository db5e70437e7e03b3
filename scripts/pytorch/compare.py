#!/usr/bin/env python3
"""The lab's ViT-B/16 training step against PyTorch's, for memory, side by side on this machine.

For each method (FT, VPT-deep with 50 prompts) at one batch size, one after the other (never at
once: each needs gigabytes and both cores):
  the lab   npm run bench -- --hosts node --backends wasm --presets vit_b16 --modes <m> --batch <b>
            --kernels lab --runs 1 --threads 1   (a warm-up step and a measured one, in a process of
            its own; the row's processPeakBytes is the process's peak resident memory)
  PyTorch   /usr/bin/python3 scripts/pytorch/vit_memory.py --mode <m> --batch <b>   (two steps,
            AdamW, one thread; its peak resident memory)
and prints the markdown table of docs/memory.md ("Against PyTorch") (MB = 10^6 bytes).

  /usr/bin/python3 scripts/pytorch/compare.py [--batch 4] [--modes ft,vpt_deep] [--out results.json]

Needs Debian's python3-torch (apt-get install python3-torch) and the repository's npm install.
Every process it starts runs in its own process group and is stopped with it (Ctrl-C, SIGTERM).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
live: list = []


def stop_all(*_):
    for p in live:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    sys.exit(130)


def run(cmd: list) -> str:
    """Runs cmd in its own process group; its stdout, or an error naming it."""
    p = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    live.append(p)
    try:
        out, err = p.communicate()
    finally:
        live.remove(p)
        try:
            os.killpg(p.pid, signal.SIGKILL)  # anything it left in its group
        except ProcessLookupError:
            pass
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... exited with {p.returncode}:\n{err[-2000:]}")
    return out


def lab(mode: str, batch: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "rows.json")
        run(["npm", "run", "--silent", "bench", "--", "--hosts", "node", "--backends", "wasm", "--presets", "vit_b16", "--modes", mode,
             "--batch", str(batch), "--kernels", "lab", "--runs", "1", "--threads", "1", "--out", out])
        with open(out) as f:
            rows = json.load(f)["rows"]
    row = next(r for r in rows if r["preset"] == "vit_b16" and r["mode"] == mode)
    if row.get("error"):
        raise SystemExit(f"the lab's {mode} step failed: {row['error']}")
    return row


def torch(mode: str, batch: int) -> dict:
    lines = [l for l in run(["/usr/bin/python3", "scripts/pytorch/vit_memory.py", "--mode", mode, "--batch", str(batch)]).splitlines() if l.startswith("{")]
    return json.loads(lines[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--modes", default="ft,vpt_deep")
    ap.add_argument("--out")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    results = []
    for mode in a.modes.split(","):
        l = lab(mode, a.batch)
        t = torch(mode, a.batch)
        results.append({"mode": mode, "batch": a.batch, "lab": l, "pytorch": t})
        print(f"{mode}: lab {l['processPeakBytes'] / 1e6:.0f} MB, PyTorch {t['peak_mb']} MB", file=sys.stderr, flush=True)
    name = {"ft": "FT", "vpt_deep": "VPT-deep (50 prompts)"}
    print("| ViT-B/16 224 px, batch %d | lab: process peak MB | lab: WASM heap MB | lab: tensor peak MB | lab: planned MB | PyTorch 1.13: process peak MB | lab ÷ PyTorch |" % a.batch)
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        l, t = r["lab"], r["pytorch"]
        micro = f" ({-(-r['batch'] // l['microBatch'])} × {l['microBatch']})" if l.get("microBatch") else ""
        print(f"| {name.get(r['mode'], r['mode'])}{micro} | {l['processPeakBytes'] / 1e6:,.0f} | {l['heapBytes'] / 1e6:,.0f} | {l['peakBytes'] / 1e6:,.0f} | "
              f"{l['estimateBytes'] / 1e6:,.0f} | {t['peak_mb']:,} | {l['processPeakBytes'] / 1e6 / t['peak_mb']:.2f} |")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
