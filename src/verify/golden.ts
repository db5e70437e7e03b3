/**
 * Compare the engine against a golden file made by the reference implementations (see
 * test/fixtures/README.md): logits, hidden states, loss, every weight gradient, both VPT
 * variants and Grad-CAM. Runs on whatever tfjs backend is active, in Node or in the browser.
 */
import * as tf from '@tensorflow/tfjs';
import type { ViTConfig } from '../model/config';
import type { ParamSet } from '../model/params';
import { paramsFromCanonical, toCanonicalTensor, toComputeTensor, disposeParams } from '../model/params';
import { clsFeatures, crossEntropy, forward, forwardFeatures, gradCam, type PromptMode, type ViT } from '../model/vit';
import { kernelsFor } from '../kernels';
import type { Kernels } from '../model/ops';
import type { HostTensor } from '../domain/tensor';
import type { CanonicalCheckpoint } from '../weights/types';
import { mapSourceKey } from '../weights/layouts';
import { LabError, clip } from '../domain/errors';

/** The fixtures README's tolerance: 1e-4 on CPU/WASM, 1e-3 on WebGPU/WebGL. */
export function toleranceFor(backend: string): number {
  return backend === 'cpu' || backend === 'wasm' ? 1e-4 : 1e-3;
}

export interface VerifyRow {
  name: string;
  maxAbsError: number;
  /** max(1, max|golden|): the error is judged relative to this. */
  scale: number;
  ok: boolean;
  note?: string;
}

export interface VerifyReport {
  rows: VerifyRow[];
  tolerance: number;
  backend: string;
  /** Worst max|a − b| / scale over all rows. */
  worst: number;
  pass: boolean;
}

/** Golden tensors that are inputs to the check rather than outputs to compare. */
const INPUT_KEYS = new Set(['pixel_values', 'labels', 'head.weight', 'head.bias', 'vpt.prompts']);

export function compareArrays(name: string, got: ArrayLike<number>, want: HostTensor, tol: number, note?: string): VerifyRow {
  if (got.length !== want.data.length) {
    return { name, maxAbsError: Infinity, scale: 1, ok: false, note: `size ${got.length} vs golden ${want.data.length} [${want.shape}]` };
  }
  let err = 0,
    peak = 0,
    badGot = 0,
    badWant = 0;
  for (let i = 0; i < got.length; i++) {
    // A non-finite value on either side is a failure, never a comparison: an expected +Inf would
    // make the scale infinite and pass any error against it.
    if (!Number.isFinite(want.data[i])) {
      badWant++;
      continue;
    }
    if (!Number.isFinite(got[i])) {
      badGot++;
      continue;
    }
    const e = Math.abs(got[i] - want.data[i]);
    if (e > err) err = e;
    peak = Math.max(peak, Math.abs(want.data[i]));
  }
  const scale = Math.max(1, peak);
  if (badGot || badWant) {
    const what = [badWant ? `${badWant} non-finite expected value(s)` : '', badGot ? `${badGot} non-finite computed value(s)` : ''].filter(Boolean).join(', ');
    return { name, maxAbsError: Infinity, scale, ok: false, note: note ? `${note}; ${what}` : what };
  }
  return { name, maxAbsError: err, scale, ok: err <= tol * scale, note };
}

/** Split [L, P, D] golden prompts into per-layer compute tensors `prompts.{i}`. */
function promptParams(prompts: HostTensor): ParamSet {
  const [layers, p, d] = prompts.shape;
  const out: ParamSet = {};
  for (let i = 0; i < layers; i++) out[`prompts.${i}`] = tf.tensor2d(prompts.data.subarray(i * p * d, (i + 1) * p * d), [p, d]);
  return out;
}

const GOLDEN_HINT =
  'Use the golden file made with this checkpoint (e.g. hf_tiny_golden.safetensors for hf_tiny_model.safetensors), as test/fixtures/README.md describes.';

function take(golden: Map<string, HostTensor>, key: string): HostTensor {
  const t = golden.get(key);
  if (!t) throw new LabError('golden/invalid', `The golden file has no '${clip(key, 120)}'.`, GOLDEN_HINT);
  return t;
}

const shapeText = (s: readonly number[]) => `[${s.join(',')}]`;

/**
 * The golden file's inputs must fit the checkpoint before any tensor is built from them: a wrong
 * shape would otherwise surface as a raw tfjs message from deep inside the forward pass.
 */
export function checkGoldenInputs(cfg: ViTConfig, golden: Map<string, HostTensor>, headInCheckpoint: boolean): void {
  const bad = (what: string) =>
    new LabError(
      'golden/invalid',
      `The golden file does not fit this checkpoint (${cfg.imageSize} px, ${cfg.channels} channels, width ${cfg.hiddenSize}, ${cfg.numLayers} layers): ${what}.`,
      GOLDEN_HINT,
    );
  const px = take(golden, 'pixel_values');
  const n = px.shape[0] ?? 0;
  if (px.shape.length !== 4 || n < 1 || px.shape[1] !== cfg.channels || px.shape[2] !== cfg.imageSize || px.shape[3] !== cfg.imageSize) {
    throw bad(`'pixel_values' is ${shapeText(px.shape)}, expected [N,${cfg.channels},${cfg.imageSize},${cfg.imageSize}]`);
  }
  const labels = take(golden, 'labels');
  if (labels.shape.length !== 1 || labels.shape[0] !== n) throw bad(`'labels' is ${shapeText(labels.shape)}, expected [${n}] (one per image)`);
  const hw = golden.get('head.weight'),
    hb = golden.get('head.bias');
  if (!hw && !headInCheckpoint) throw bad('neither the checkpoint nor the golden file has a head, so there are no logits to compare');
  const classes = hw ? (hw.shape[0] ?? 0) : cfg.numClasses;
  if (hw && (hw.shape.length !== 2 || hw.shape[1] !== cfg.hiddenSize || classes < 1))
    throw bad(`'head.weight' is ${shapeText(hw.shape)}, expected [classes,${cfg.hiddenSize}]`);
  if (hb && (hb.shape.length !== 1 || hb.shape[0] !== classes)) throw bad(`'head.bias' is ${shapeText(hb.shape)}, expected [${classes}]`);
  if (hw && !hb) throw bad("it has 'head.weight' but no 'head.bias'");
  for (let i = 0; i < labels.data.length; i++) {
    const l = labels.data[i]!;
    if (!Number.isInteger(Math.round(l)) || Math.round(l) < 0 || Math.round(l) >= classes) throw bad(`label ${l} of image ${i} is outside [0, ${classes})`);
  }
  const pr = golden.get('vpt.prompts');
  if (pr && (pr.shape.length !== 3 || pr.shape[0] !== cfg.numLayers || (pr.shape[1] ?? 0) < 1 || pr.shape[2] !== cfg.hiddenSize)) {
    throw bad(`'vpt.prompts' is ${shapeText(pr.shape)}, expected [${cfg.numLayers},P,${cfg.hiddenSize}]`);
  }
}

/**
 * Run every check the golden file allows. The checkpoint is the model the golden file was made
 * with; a head in the golden file (the hub layout has none) is attached for the check.
 */
export async function verifyGolden(ckpt: CanonicalCheckpoint, golden: Map<string, HostTensor>, tolerance?: number, kernels?: Kernels): Promise<VerifyReport> {
  const backend = tf.getBackend();
  const tol = tolerance ?? toleranceFor(backend);
  const rows: VerifyRow[] = [];
  const startTensors = tf.memory().numTensors;

  const pixelsHost = take(golden, 'pixel_values');
  const labelsHost = take(golden, 'labels');
  const cfg: ViTConfig = ckpt.config;
  checkGoldenInputs(cfg, golden, ckpt.tensors.has('head.weight'));
  const params = paramsFromCanonical(ckpt.tensors);
  for (const k of ['head.weight', 'head.bias']) {
    const g = golden.get(k);
    if (g) {
      params[k]?.dispose();
      params[k] = toComputeTensor(k, g);
    }
  }
  const model: ViT = { cfg, params, kernels: kernels ?? kernelsFor(backend) };
  /** The same model with the named weights as variables: they train, so they get gradients. */
  const vars = new Variables();
  const training = (names: string[], all: ParamSet = params): ViT => {
    const v = vars.of(names, all);
    return { ...model, params: { ...all, ...Object.fromEntries(names.map((n, i) => [n, v[i]])) } };
  };
  const pixels = tf.tensor4d(pixelsHost.data, pixelsHost.shape as [number, number, number, number]);
  const labels = tf.tensor1d(Array.from(labelsHost.data, Math.round), 'int32');
  const names = Object.keys(params).filter((n) => !n.startsWith('prompts.'));
  const compareTensor = async (name: string, t: tf.Tensor, note?: string) => {
    rows.push(compareArrays(name, await t.data(), take(golden, name), tol, note));
  };

  // Forward outputs.
  const features = tf.tidy(() => forwardFeatures(model, pixels));
  if (golden.has('last_hidden_state')) await compareTensor('last_hidden_state', features);
  if (golden.has('pooler_output')) {
    if (!params['pre_logits.fc.weight']) {
      rows.push({ name: 'pooler_output', maxAbsError: Infinity, scale: 1, ok: false, note: 'checkpoint has no pooler / pre_logits' });
    } else {
      const pooled = tf.tidy(() =>
        tf.tanh(model.kernels.linear(clsFeatures(features), params['pre_logits.fc.weight'] as tf.Tensor2D, params['pre_logits.fc.bias'] as tf.Tensor1D)),
      );
      await compareTensor('pooler_output', pooled);
      pooled.dispose();
    }
  }
  features.dispose();
  const logits = tf.tidy(() => forward(model, pixels));
  if (golden.has('logits')) await compareTensor('logits', logits);
  logits.dispose();

  // Loss and every weight gradient (the pooler is off the loss path).
  const onPath = names.filter((n) => !n.startsWith('pre_logits.'));
  const { value: loss, grads } = tf.tidy(() => tf.variableGrads(() => crossEntropy(forward(training(onPath), pixels), labels), vars.of(onPath, params)));
  if (golden.has('loss')) await compareTensor('loss', loss);
  const canonicalGrads = new Map<string, tf.Tensor>();
  for (const n of onPath) canonicalGrads.set(n, toCanonicalTensor(n, grads[vars.name(n)], cfg));
  for (const key of [...golden.keys()].filter((k) => k.startsWith('grad/')).sort()) {
    const source = key.slice(5);
    const mapped = source === 'head.weight' || source === 'head.bias' ? { canonical: source } : mapSourceKey(ckpt.layout, source, cfg);
    const g = mapped && canonicalGrads.get(mapped.canonical);
    if (!mapped || !g) {
      rows.push({ name: key, maxAbsError: Infinity, scale: 1, ok: false, note: 'no matching engine parameter' });
      continue;
    }
    let data = (await g.data()) as Float32Array;
    let note: string | undefined = mapped.canonical === source ? undefined : `vs ${mapped.canonical}`;
    if (mapped.rows) {
      const rowWidth = g.size / g.shape[0];
      data = data.subarray(mapped.rows[0] * rowWidth, mapped.rows[1] * rowWidth);
      note = `vs ${mapped.canonical}[${mapped.rows[0]}:${mapped.rows[1]}]`;
    }
    rows.push(compareArrays(key, data, take(golden, key), tol, note));
  }
  loss.dispose();
  for (const t of Object.values(grads)) t.dispose();
  for (const t of canonicalGrads.values()) t.dispose();
  vars.dispose();

  // Visual prompt tuning: frozen backbone, gradients for prompts and head only.
  if (golden.has('vpt.prompts')) {
    const promptsHost = take(golden, 'vpt.prompts');
    for (const mode of ['shallow', 'deep'] as PromptMode[]) {
      const pre = `vpt_${mode}`;
      if (!golden.has(`${pre}.logits`)) continue;
      const prompts = promptParams(promptsHost);
      const all = { ...params, ...prompts };
      const trainable = [...Object.keys(prompts), 'head.weight', 'head.bias'];
      const opts = { promptMode: mode };
      const vptLogits = tf.tidy(() => forward({ ...model, params: all }, pixels, opts));
      await compareTensor(`${pre}.logits`, vptLogits);
      vptLogits.dispose();
      const { value, grads: vg } = tf.tidy(() =>
        tf.variableGrads(() => crossEntropy(forward(training(trainable, all), pixels, opts), labels), vars.of(trainable, all)),
      );
      if (golden.has(`${pre}.loss`)) await compareTensor(`${pre}.loss`, value);
      if (golden.has(`${pre}.grad.prompts`)) {
        // Layers a shallow prompt never reaches have zero gradient (and no variable in use).
        const [layers, p, d] = promptsHost.shape;
        const stacked = new Float32Array(layers * p * d);
        for (let i = 0; i < layers; i++) {
          const g = vg[vars.name(`prompts.${i}`)];
          if (g) stacked.set((await g.data()) as Float32Array, i * p * d);
        }
        rows.push(compareArrays(`${pre}.grad.prompts`, stacked, take(golden, `${pre}.grad.prompts`), tol));
      }
      for (const h of ['head.weight', 'head.bias']) {
        if (!golden.has(`${pre}.grad.${h}`)) continue;
        const g = toCanonicalTensor(h, vg[vars.name(h)], cfg);
        await compareTensor(`${pre}.grad.${h}`, g);
        g.dispose();
      }
      value.dispose();
      for (const t of Object.values(vg)) t.dispose();
      vars.dispose();
      disposeParams(prompts);
    }
  }

  // Grad-CAM for each sample's own label.
  if (golden.has('gradcam')) {
    const cam = gradCam(model, pixels, labels);
    await compareTensor('gradcam', cam);
    cam.dispose();
  }

  // Anything the golden file holds that nothing above compared is a failure, never a silent pass.
  const compared = new Set(rows.map((r) => r.name));
  for (const key of golden.keys()) {
    if (!INPUT_KEYS.has(key) && !compared.has(key))
      rows.push({ name: key, maxAbsError: Infinity, scale: 1, ok: false, note: 'not understood by the verifier' });
  }

  pixels.dispose();
  labels.dispose();
  disposeParams(params);
  const leaked = tf.memory().numTensors - startTensors;
  if (leaked !== 0) rows.push({ name: 'tensor-leak', maxAbsError: leaked, scale: 1, ok: false, note: `${leaked} tensors left behind` });

  const worst = rows.reduce((w, r) => Math.max(w, r.maxAbsError / r.scale), 0);
  // A failed row with an infinite error gives an infinite worst (never NaN), and pass needs every row finite and ok.
  const pass = rows.length > 0 && rows.every((r) => r.ok && Number.isFinite(r.maxAbsError));
  return { rows, tolerance: tol, backend, worst, pass };
}

/**
 * tf.variableGrads differentiates with respect to variables, and a weight trains only when it is
 * one: the weights a check differentiates are wrapped in short-lived variables, disposed after use.
 */
class Variables {
  private readonly vars = new Map<string, tf.Variable>();
  /** The variables of `names` (made from `params` on first use), in that order. */
  of(names: string[], params: ParamSet): tf.Variable[] {
    return names.map((n) => {
      let v = this.vars.get(n);
      if (!v) this.vars.set(n, (v = tf.variable(params[n], true)));
      return v;
    });
  }
  name(n: string): string {
    return this.vars.get(n)!.name;
  }
  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

/** Text lines as `npm run verify` prints them; the last line is the verdict. */
export function formatReport(r: VerifyReport): string[] {
  // Names come from the golden file: escaped and cut like every echoed name.
  const names = r.rows.map((x) => clip(x.name, 120));
  const w = Math.max(...names.map((n) => n.length), 10);
  const lines = r.rows.map(
    (x, i) =>
      `${names[i]!.padEnd(w)}  max|err| ${x.maxAbsError.toExponential(2).padStart(9)}  scale ${x.scale.toPrecision(4).padStart(8)}  ${x.ok ? 'ok' : 'FAIL'}${x.note ? '  (' + x.note + ')' : ''}`,
  );
  lines.push(
    `verify: ${r.rows.length} tensors, worst ${r.worst.toExponential(2)} (tolerance ${r.tolerance.toExponential(0)} on ${r.backend}), ${r.pass ? 'PASS' : 'FAIL'}`,
  );
  return lines;
}
