/**
 * Where a step's memory goes: live tensor bytes through a function, attributed to the kernel that
 * made each buffer, with the breakdown at the peak.
 *
 * tf.memory().numBytes counts every Tensor object, so a tensor saved for the backward pass (a
 * clone sharing its buffer) is counted twice, and it is read only between steps, never at the
 * peak inside one. This probe counts *buffers* (tfjs data ids), as the backend allocates them,
 * at every allocation and free, by wrapping the engine's bookkeeping methods for the duration of
 * one call (diagnostics only: `npm run bench -- --memory`, and the planner's tests).
 *
 * Every buffer is labelled when it is made:
 *   - `params`           a tf.Variable's buffer, or one that existed before the probe started;
 *   - `saved:<kernel>`   made in the forward pass and kept by a gradient for the backward pass;
 *   - `fwd:<kernel>`     made in the forward pass (or outside any gradient) and not kept;
 *   - `bwd:<kernel>`     made while the backward pass runs (gradients and their temporaries);
 *   - `upload`           written from the host (inputs, labels, constants).
 */
import * as tf from '@tensorflow/tfjs';

interface EngineInternals {
  state: { tensorInfo: WeakMap<object, { bytes: number }>; scopeStack: { name: string }[]; numBytes: number };
  runKernel(name: string, inputs: unknown, attrs: unknown): unknown;
  trackTensor(t: tf.Tensor, backend: unknown): void;
  disposeTensor(t: tf.Tensor): void;
  keep<T>(t: T): T;
}

export interface MemoryBreakdown {
  /** Bytes by label (see the module comment), largest first. */
  byLabel: { label: string; bytes: number }[];
  /** Bytes by group: params, saved, fwd, bwd, upload. */
  byGroup: Record<'params' | 'saved' | 'fwd' | 'bwd' | 'upload', number>;
}

export interface MemoryProbeResult<T> {
  result: T;
  /** Live tensor bytes (unique buffers) before the call. */
  startBytes: number;
  /** Highest live tensor bytes (unique buffers) during the call. */
  peakBytes: number;
  /** Live tensor bytes after the call. */
  endBytes: number;
  /** What was live at the peak. */
  atPeak: MemoryBreakdown;
}

interface Live {
  bytes: number;
  label: string;
}

function groupOf(label: string): keyof MemoryBreakdown['byGroup'] {
  const g = label.split(':')[0];
  return (g === 'params' || g === 'saved' || g === 'fwd' || g === 'bwd' ? g : 'upload') as keyof MemoryBreakdown['byGroup'];
}

function breakdown(byLabel: Map<string, number>): MemoryBreakdown {
  const byGroup = { params: 0, saved: 0, fwd: 0, bwd: 0, upload: 0 };
  const list = [...byLabel.entries()].filter(([, b]) => b > 0).map(([label, bytes]) => ({ label, bytes }));
  for (const e of list) byGroup[groupOf(e.label)] += e.bytes;
  list.sort((a, b) => b.bytes - a.bytes);
  return { byLabel: list, byGroup };
}

/** Bytes of the distinct buffers behind `tensors` (a variable and its initial value share one). */
export function uniqueBytes(tensors: Iterable<tf.Tensor>): number {
  const seen = new Set<object>();
  let bytes = 0;
  for (const t of tensors) {
    if (t.isDisposed || seen.has(t.dataId)) continue;
    seen.add(t.dataId);
    bytes += t.size * (t.dtype === 'bool' ? 1 : 4);
  }
  return bytes;
}

/**
 * Run `fn` (sync or async) with buffer-level accounting. Buffers that exist before the call count
 * as `params`; `live` names them (parameters, inputs) so that shared buffers count once, otherwise
 * the engine's tensor byte count is taken. Not re-entrant.
 */
export async function probeMemory<T>(fn: () => T | Promise<T>, opts: { live?: Iterable<tf.Tensor> } = {}): Promise<MemoryProbeResult<T>> {
  const engine = tf.engine() as unknown as EngineInternals;
  const info = engine.state.tensorInfo;
  const live = new Map<object, Live>();
  const byLabel = new Map<string, number>();
  const kernels: string[] = [];
  let current = 0,
    peak = 0;
  let peakLabels = new Map<string, number>();
  // Bytes live before the call: tfjs keeps no list of its buffers, so count the ones named, or
  // take the engine's count (which counts a shared buffer once per tensor).
  const startBytes = opts.live ? uniqueBytes(opts.live) : engine.state.numBytes;
  byLabel.set('params', startBytes);
  current = peak = startBytes;
  peakLabels = new Map(byLabel);

  const add = (label: string, bytes: number) => byLabel.set(label, (byLabel.get(label) ?? 0) + bytes);
  const phase = (): 'fwd' | 'bwd' => (engine.state.scopeStack.some((s) => s.name === 'backward') ? 'bwd' : 'fwd');

  const orig = { runKernel: engine.runKernel, trackTensor: engine.trackTensor, disposeTensor: engine.disposeTensor, keep: engine.keep };
  const ownBefore = Object.keys(orig).filter((k) => Object.prototype.hasOwnProperty.call(engine, k));
  engine.runKernel = function (name, inputs, attrs) {
    kernels.push(name);
    try {
      return orig.runKernel.call(this, name, inputs, attrs);
    } finally {
      kernels.pop();
    }
  };
  engine.trackTensor = function (t, backend) {
    const isNew = !info.has(t.dataId);
    orig.trackTensor.call(this, t, backend);
    const known = live.get(t.dataId);
    if (t instanceof tf.Variable && known && known.label !== 'params') {
      // A variable took this buffer over (creation or assign): it is a parameter from now on.
      add(known.label, -known.bytes);
      known.label = 'params';
      add('params', known.bytes);
      return;
    }
    if (!isNew) return;
    const bytes = info.get(t.dataId)?.bytes ?? 0;
    const kernel = kernels[kernels.length - 1];
    const label = t instanceof tf.Variable ? 'params' : kernel ? `${phase()}:${kernel}` : 'upload';
    live.set(t.dataId, { bytes, label });
    add(label, bytes);
    current += bytes;
    if (current > peak) {
      peak = current;
      peakLabels = new Map(byLabel);
    }
  };
  engine.disposeTensor = function (t) {
    const had = info.has(t.dataId);
    orig.disposeTensor.call(this, t);
    if (!had || info.has(t.dataId)) return;
    const l = live.get(t.dataId);
    if (l) {
      live.delete(t.dataId);
      add(l.label, -l.bytes);
      current -= l.bytes;
    } else {
      // A buffer from before the call (a parameter replaced by an optimizer step).
      const bytes = t.size * 4;
      add('params', -bytes);
      current -= bytes;
    }
  };
  engine.keep = function <T>(t: T): T {
    // Kept inside a kernel = saved for the backward pass (tfjs keeps a clone of each saved tensor).
    const l = t instanceof tf.Tensor ? live.get(t.dataId) : undefined;
    if (l && l.label.startsWith('fwd:') && kernels.length + engine.state.scopeStack.length > 0) {
      add(l.label, -l.bytes);
      l.label = `saved:${l.label.slice(4)}`;
      add(l.label, l.bytes);
    }
    return orig.keep.call(this, t) as T;
  };
  try {
    const result = await fn();
    return { result, startBytes, peakBytes: peak, endBytes: current, atPeak: breakdown(peakLabels) };
  } finally {
    // Put the engine back as it was: the prototype's methods, or whatever was there before.
    for (const k of Object.keys(orig) as (keyof typeof orig)[]) {
      if (ownBefore.includes(k)) (engine as unknown as Record<string, unknown>)[k] = orig[k];
      else delete (engine as unknown as Record<string, unknown>)[k];
    }
  }
}

export function formatBreakdown(b: MemoryBreakdown, top = 12): string {
  const mb = (x: number) => (x / 1e6).toFixed(1);
  const lines = [
    `params ${mb(b.byGroup.params)} MB, kept for backward ${mb(b.byGroup.saved)} MB, forward transients ${mb(b.byGroup.fwd)} MB, backward ${mb(b.byGroup.bwd)} MB, uploads ${mb(b.byGroup.upload)} MB`,
  ];
  for (const e of b.byLabel.slice(0, top)) lines.push(`  ${e.label.padEnd(28)} ${mb(e.bytes).padStart(9)} MB`);
  return lines.join('\n');
}
