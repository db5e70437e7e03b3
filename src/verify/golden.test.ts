import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend/node';
import { wasmThreadsRunning } from '../backend/wasm';
import { loadCheckpoint } from '../weights/load';
import { parseSafetensors } from '../weights/formats/safetensors';
import { readAll } from '../weights/formats/archive';
import { formatReport, verifyGolden } from './golden';
import type { ViTConfig } from '../model/config';
import { randomParams, type ParamSet } from '../model/params';
import { crossEntropy, forward, type PromptMode } from '../model/vit';
import { kernelsFor } from '../kernels';
import { mulberry32 } from '../data/rng';
import { fixture } from '../weights/testutil';

const read = fixture;

const CASES: [string, string][] = [
  ['hf_tiny_model.safetensors', 'hf_tiny_golden.safetensors'],
  ['timm_tiny_model.safetensors', 'timm_tiny_golden.safetensors'],
  ['timm_tiny_google.npz', 'timm_tiny_golden.safetensors'],
];

// WASM on one thread (tfjs' SIMD build) and on two (its threaded build, src/backend/wasm.ts).
for (const [backend, threads] of [
  ['wasm', 1],
  ['wasm', 2],
  ['cpu', 1],
] as const) {
  describe(`golden fixtures on ${backend}${backend === 'wasm' ? `, ${threads} thread(s)` : ''}`, () => {
    beforeAll(async () => {
      await initNodeBackend(backend, { threads });
      if (backend === 'wasm') expect(wasmThreadsRunning()).toBe(threads);
    });
    for (const [weights, golden] of CASES) {
      it(`${weights} matches ${golden} (every tensor, tolerance 1e-4)`, async () => {
        const ckpt = await loadCheckpoint(read(weights), { name: weights });
        const g = readAll(parseSafetensors(read(golden), golden));
        const report = await verifyGolden(ckpt, g);
        const failed = report.rows.filter((r) => !r.ok);
        expect(failed, formatReport(report).join('\n')).toEqual([]);
        expect(report.tolerance).toBe(1e-4);
        // Every golden output was compared: logits, loss and one row per gradient at least.
        const names = report.rows.map((r) => r.name);
        expect(names).toContain('logits');
        expect(names).toContain('loss');
        expect(names.filter((n) => n.startsWith('grad/')).length).toBe([...g.keys()].filter((k) => k.startsWith('grad/')).length);
        if (g.has('gradcam'))
          expect(names).toEqual(expect.arrayContaining(['gradcam', 'vpt_shallow.logits', 'vpt_deep.grad.prompts', 'last_hidden_state', 'pooler_output']));
      });
    }
  });
}

describe('a golden file the verifier does not understand fails, never passes silently', () => {
  it('reports an unknown tensor as FAIL', async () => {
    await initNodeBackend('cpu');
    const ckpt = await loadCheckpoint(read('timm_tiny_model.safetensors'), { name: 'timm' });
    const g = readAll(parseSafetensors(read('timm_tiny_golden.safetensors'), 'g'));
    g.set('mystery', { shape: [1], data: new Float32Array([1]) });
    const report = await verifyGolden(ckpt, g);
    expect(report.pass).toBe(false);
    expect(report.rows.find((r) => r.name === 'mystery')?.ok).toBe(false);
  });

  it('a perturbed golden logit fails with its error printed', async () => {
    const ckpt = await loadCheckpoint(read('timm_tiny_model.safetensors'), { name: 'timm' });
    const g = readAll(parseSafetensors(read('timm_tiny_golden.safetensors'), 'g'));
    const logits = g.get('logits')!;
    const data = logits.data.slice();
    data[0] += 0.01;
    g.set('logits', { shape: logits.shape, data });
    const report = await verifyGolden(ckpt, g);
    expect(report.rows.find((r) => r.name === 'logits')!.ok).toBe(false);
    expect(formatReport(report).at(-1)).toMatch(/FAIL$/);
  });
});

/**
 * Nothing is wired to the fixtures' shapes: an independent float64 ViT written here from the
 * definition (no tfjs) agrees with the engine on other sizes — width 40, 5 heads, 2 layers,
 * 48 px images with 12 px patches, batch 3, 3 prompts — with and without prompts; and the
 * engine's gradients agree with finite differences of that reference.
 */
describe('other shapes against an independent float64 reference', () => {
  const cfg: ViTConfig = {
    imageSize: 48,
    patchSize: 12,
    channels: 3,
    hiddenSize: 40,
    numLayers: 2,
    numHeads: 5,
    mlpDim: 56,
    numClasses: 7,
    layerNormEps: 1e-6,
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
  };
  const B = 3,
    P = 3;
  let host: Record<string, { shape: number[]; data: Float64Array }>;
  let params: ParamSet;
  let pixels: Float64Array;
  const labels = [1, 6, 3];

  beforeAll(async () => {
    await initNodeBackend('cpu');
    const r = mulberry32(7);
    const rnd = (n: number, scale: number) => Float64Array.from({ length: n }, () => (r() * 2 - 1) * scale);
    params = randomParams(cfg, 3);
    host = {};
    // O(1)-ish weights so the numerics are exercised, as the fixtures do.
    for (const [n, t] of Object.entries(params)) {
      const scale = n.includes('norm') && n.endsWith('weight') ? 0 : 0.3;
      const data = n.includes('norm') && n.endsWith('weight') ? Float64Array.from({ length: t.size }, () => 1 + (r() - 0.5) * 0.4) : rnd(t.size, scale);
      host[n] = { shape: t.shape.slice(), data };
    }
    for (let i = 0; i < cfg.numLayers; i++) host[`prompts.${i}`] = { shape: [P, cfg.hiddenSize], data: rnd(P * cfg.hiddenSize, 0.5) };
    for (const t of Object.values(params)) t.dispose();
    params = {};
    for (const [n, t] of Object.entries(host)) params[n] = tf.tensor(Float32Array.from(t.data), t.shape);
    pixels = rnd(B * 3 * 48 * 48, 1);
  });

  for (const mode of ['none', 'shallow', 'deep'] as PromptMode[]) {
    it(`logits and loss agree (${mode} prompts)`, async () => {
      const ref = referenceLogits(host, cfg, pixels, B, mode);
      const got = tf.tidy(() =>
        forward({ cfg, params, kernels: kernelsFor(tf.getBackend()) }, tf.tensor4d(Float32Array.from(pixels), [B, 3, 48, 48]), {
          promptMode: mode,
        }).arraySync(),
      ) as number[][];
      let err = 0,
        peak = 0;
      for (let b = 0; b < B; b++)
        for (let k = 0; k < cfg.numClasses; k++) {
          err = Math.max(err, Math.abs(got[b][k] - ref[b][k]));
          peak = Math.max(peak, Math.abs(ref[b][k]));
        }
      expect(err).toBeLessThan(1e-4 * Math.max(1, peak));
    });
  }

  it('gradients agree with central finite differences of the reference (deep prompts)', async () => {
    const probe = ['blocks.1.attn.qkv.weight', 'blocks.0.mlp.fc1.bias', 'prompts.1', 'patch_embed.proj.weight', 'pos_embed', 'head.weight'];
    const names = probe;
    // The probed weights train (they are variables); the rest stay frozen.
    const vars = names.map((n) => tf.variable(params[n], true));
    const grads = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(pixels), [B, 3, 48, 48]);
      const y = tf.tensor1d(labels, 'int32');
      const p = { ...params, ...Object.fromEntries(names.map((n, i) => [n, vars[i]])) };
      const { grads: g } = tf.variableGrads(
        () => crossEntropy(forward({ cfg, params: p, kernels: kernelsFor(tf.getBackend()) }, x, { promptMode: 'deep' }), y),
        vars,
      );
      return vars.map((v) => g[v.name].dataSync() as Float32Array);
    });
    tf.dispose(vars);
    const r = mulberry32(99);
    for (let j = 0; j < names.length; j++) {
      const t = host[names[j]];
      for (let s = 0; s < 3; s++) {
        const i = Math.floor(r() * t.data.length);
        const h = 1e-5,
          orig = t.data[i];
        t.data[i] = orig + h;
        const up = referenceLoss(host, cfg, pixels, B, labels, 'deep');
        t.data[i] = orig - h;
        const down = referenceLoss(host, cfg, pixels, B, labels, 'deep');
        t.data[i] = orig;
        const fd = (up - down) / (2 * h);
        expect(Math.abs(grads[j][i] - fd), `${names[j]}[${i}] engine ${grads[j][i]} vs finite difference ${fd}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(fd)));
      }
    }
  });
});

// ---- the float64 reference: plain loops, compute layout as params.ts documents ----
type Host = Record<string, { shape: number[]; data: Float64Array }>;

function referenceLogits(p: Host, cfg: ViTConfig, pixels: Float64Array, B: number, mode: PromptMode): number[][] {
  const D = cfg.hiddenSize,
    ps = cfg.patchSize,
    g = cfg.imageSize / ps,
    S = cfg.imageSize,
    H = cfg.numHeads,
    hd = D / H;
  const out: number[][] = [];
  for (let b = 0; b < B; b++) {
    // tokens: CLS + patches, + pos
    let x: number[][] = [];
    x.push(Array.from({ length: D }, (_, d) => p['cls_token'].data[d] + p['pos_embed'].data[d]));
    for (let gy = 0; gy < g; gy++)
      for (let gx = 0; gx < g; gx++) {
        const tok = new Array(D).fill(0);
        for (let d = 0; d < D; d++) {
          let acc = p['patch_embed.proj.bias'].data[d];
          let k = 0;
          for (let c = 0; c < 3; c++)
            for (let ky = 0; ky < ps; ky++)
              for (let kx = 0; kx < ps; kx++, k++) {
                acc += pixels[((b * 3 + c) * S + gy * ps + ky) * S + gx * ps + kx] * p['patch_embed.proj.weight'].data[k * D + d];
              }
          tok[d] = acc + p['pos_embed'].data[(1 + gy * g + gx) * D + d];
        }
        x.push(tok);
      }
    for (let l = 0; l < cfg.numLayers; l++) {
      if (mode !== 'none' && (l === 0 || mode === 'deep')) {
        const pr = p[`prompts.${l}`].data,
          n = pr.length / D;
        const prompts = Array.from({ length: n }, (_, i) => Array.from(pr.subarray(i * D, (i + 1) * D)));
        x = l === 0 ? [x[0], ...prompts, ...x.slice(1)] : [x[0], ...prompts, ...x.slice(1 + n)];
      }
      const pre = `blocks.${l}.`;
      const a = x.map((t) => ln(t, p[pre + 'norm1.weight'].data, p[pre + 'norm1.bias'].data, cfg.layerNormEps));
      const qkv = a.map((t) => lin(t, p[pre + 'attn.qkv.weight'].data, p[pre + 'attn.qkv.bias'].data, 3 * D));
      const T = x.length;
      const ctx = Array.from({ length: T }, () => new Array(D).fill(0));
      for (let h = 0; h < H; h++)
        for (let i = 0; i < T; i++) {
          const s = new Array(T);
          let m = -Infinity;
          for (let j = 0; j < T; j++) {
            let dot = 0;
            for (let e = 0; e < hd; e++) dot += qkv[i][h * hd + e] * qkv[j][D + h * hd + e];
            s[j] = dot / Math.sqrt(hd);
            m = Math.max(m, s[j]);
          }
          let z = 0;
          for (let j = 0; j < T; j++) z += s[j] = Math.exp(s[j] - m);
          for (let j = 0; j < T; j++) for (let e = 0; e < hd; e++) ctx[i][h * hd + e] += (s[j] / z) * qkv[j][2 * D + h * hd + e];
        }
      x = x.map((t, i) => add(t, lin(ctx[i], p[pre + 'attn.proj.weight'].data, p[pre + 'attn.proj.bias'].data, D)));
      x = x.map((t) => {
        const n2 = ln(t, p[pre + 'norm2.weight'].data, p[pre + 'norm2.bias'].data, cfg.layerNormEps);
        const hdn = lin(n2, p[pre + 'mlp.fc1.weight'].data, p[pre + 'mlp.fc1.bias'].data, cfg.mlpDim).map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
        return add(t, lin(hdn, p[pre + 'mlp.fc2.weight'].data, p[pre + 'mlp.fc2.bias'].data, D));
      });
    }
    const cls = ln(x[0], p['norm.weight'].data, p['norm.bias'].data, cfg.layerNormEps);
    out.push(lin(cls, p['head.weight'].data, p['head.bias'].data, cfg.numClasses));
  }
  return out;
}

function referenceLoss(p: Host, cfg: ViTConfig, pixels: Float64Array, B: number, labels: number[], mode: PromptMode): number {
  const logits = referenceLogits(p, cfg, pixels, B, mode);
  let loss = 0;
  for (let b = 0; b < B; b++) {
    const m = Math.max(...logits[b]);
    const lse = m + Math.log(logits[b].reduce((a, v) => a + Math.exp(v - m), 0));
    loss += lse - logits[b][labels[b]];
  }
  return loss / B;
}

function ln(x: number[], w: Float64Array, b: Float64Array, eps: number): number[] {
  const mean = x.reduce((a, v) => a + v, 0) / x.length;
  const v = x.reduce((a, t) => a + (t - mean) ** 2, 0) / x.length;
  return x.map((t, i) => ((t - mean) / Math.sqrt(v + eps)) * w[i] + b[i]);
}

/** x [in] · W [in, out] + b */
function lin(x: number[], w: Float64Array, b: Float64Array, out: number): number[] {
  const y = Array.from(b.subarray(0, out));
  for (let i = 0; i < x.length; i++) for (let o = 0; o < out; o++) y[o] += x[i] * w[i * out + o];
  return y;
}

function add(a: number[], b: number[]): number[] {
  return a.map((v, i) => v + b[i]);
}

/** erf to ~1e-15 (series / continued fraction), independent of tfjs' approximation. */
function erf(x: number): number {
  const s = Math.sign(x),
    z = Math.abs(x);
  if (z < 3) {
    let sum = z,
      term = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  // Continued fraction for erfc at large z.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (z + f);
  return s * (1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f));
}
