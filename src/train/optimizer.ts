/**
 * Optimizers that update tf.Variables in place, one fused expression per parameter:
 * SGD with momentum and (coupled) weight decay, as PyTorch's SGD; AdamW with decoupled decay.
 * State lives in variables too, so the tensor count stays flat across steps.
 */
import * as tf from '@tensorflow/tfjs';
import type { HostTensor } from '../domain/tensor';
import type { OptimizerKind } from './methods';
import { adamWFused } from '../kernels/wasm/fused';

export interface OptimizerOptions {
  kind: OptimizerKind;
  weightDecay: number;
  /** SGD momentum or AdamW β1. */
  momentum: number;
  beta2?: number;
  eps?: number;
  /** Which parameters weight decay applies to (default: all). */
  decays?: (name: string) => boolean;
  /** Each parameter's learning rate as a multiple of the step's (default 1 for all). */
  lrScale?: (name: string) => number;
}

/** Checkpoint key of a parameter's slot (canonical order: momentum, or first then second moment). */
export const slotKey = (name: string, i: number) => `optimizer.${name}.${i}`;

export class Optimizer {
  readonly opts: Required<OptimizerOptions>;
  /** Slot variables by parameter name: momentum buffer (SGD) or first/second moments (AdamW). */
  readonly slots = new Map<string, tf.Variable[]>();
  step = 0;

  constructor(opts: OptimizerOptions) {
    this.opts = { beta2: 0.999, eps: 1e-8, decays: () => true, lrScale: () => 1, ...opts };
  }

  /** Apply one update with learning rate `lr`; `grads` by parameter name. */
  apply(params: Record<string, tf.Variable>, grads: Record<string, tf.Tensor>, stepLr: number): void {
    this.step++;
    const { kind, momentum: b1, beta2: b2, eps } = this.opts;
    for (const name of Object.keys(grads)) {
      const wd = this.opts.decays(name) ? this.opts.weightDecay : 0;
      const lr = stepLr * this.opts.lrScale(name);
      const w = params[name];
      const g = grads[name];
      let slots = this.slots.get(name);
      if (!slots) {
        const zeros = () => tf.tidy(() => tf.variable(tf.zerosLike(w), false));
        slots = kind === 'sgd' ? [zeros()] : [zeros(), zeros()];
        this.slots.set(name, slots);
      }
      // Each new value in its own tidy, assigned at once: the temporaries of one expression die
      // before the next starts, so an update holds about 3x its parameter instead of 13x.
      const set = (v: tf.Variable, f: () => tf.Tensor) => {
        const next = tf.tidy(f);
        v.assign(next); // the variable now holds the buffer too
        next.dispose();
      };
      if (kind === 'sgd') {
        const [buf] = slots;
        set(buf, () => tf.add(tf.mul(buf, b1), wd > 0 ? tf.add(g, tf.mul(w, wd)) : g));
        set(w, () => tf.sub(w, tf.mul(buf, lr)));
      } else {
        const [m, v] = slots;
        const c1 = 1 - Math.pow(b1, this.step),
          c2 = 1 - Math.pow(b2, this.step);
        // On WASM with the lab's kernels: the same update as one pass (no temporaries).
        const fused = adamWFused(w, g, m, v, { b1, b2, decay: 1 - lr * wd, c1, c2, eps, lr });
        if (fused) {
          [w, m, v].forEach((x, i) => x.assign(fused[i]));
          tf.dispose(fused);
          continue;
        }
        set(m, () => tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        set(v, () => tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        set(w, () => tf.sub(tf.mul(w, 1 - lr * wd), tf.mul(tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps)), lr)));
      }
    }
  }

  /** Every slot as host data under its checkpoint key (compute layout: the parameters' own shapes). */
  async slotTensors(): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    for (const [n, slots] of this.slots) {
      for (let i = 0; i < slots.length; i++) out.set(slotKey(n, i), { shape: slots[i].shape.slice(), data: (await slots[i].data()) as Float32Array });
    }
    return out;
  }

  /** Take the slots of `names` from a checkpoint (parameters without saved slots start at zero). */
  loadSlots(saved: Map<string, HostTensor>, names: string[], step: number): void {
    for (const n of names) {
      const slots: tf.Variable[] = [];
      for (let i = 0; saved.has(slotKey(n, i)); i++) {
        const t = saved.get(slotKey(n, i))!;
        slots.push(tf.tidy(() => tf.variable(tf.tensor(t.data, t.shape), false)));
      }
      if (slots.length) this.slots.set(n, slots);
    }
    this.step = step;
  }

  dispose(): void {
    for (const s of this.slots.values()) s.forEach((v) => v.dispose());
    this.slots.clear();
  }
}
