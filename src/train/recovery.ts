/**
 * Recovering from faults without losing a run: an out-of-memory error halves the micro-batch and
 * restarts the epoch from a host copy of its starting state; a lost GPU device is recognised so
 * the engine can start the backend afresh and resume from the last epoch checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { LabError } from '../domain/errors';
import type { Optimizer } from './optimizer';

export function isOutOfMemory(err: unknown): boolean {
  if (err instanceof LabError) return err.code === 'run/out-of-memory';
  const m = err instanceof Error ? err.message : String(err);
  return /out of memory|\boom\b|failed to allocate|allocation failed|exceeds.*max.*buffer|OutOfMemory/i.test(m);
}

export function isDeviceLost(err: unknown): boolean {
  const m = err instanceof Error ? err.message : String(err);
  return /device (was )?lost|context lost|GPUDevice.*lost/i.test(m);
}

/** Host copy of trainable values and optimizer slots: the state to return to after a fault. */
export interface HostSnapshot {
  params: Map<string, Float32Array>;
  slots: Map<string, Float32Array[]>;
  step: number;
}

/**
 * Read back asynchronously: a synchronous read stalls a GPU backend, and tfjs' WebGPU backend
 * can only do it through an OffscreenCanvas, which Node (Dawn) does not have.
 */
export async function snapshot(vars: Record<string, tf.Variable>, optimizer: Optimizer): Promise<HostSnapshot> {
  const params = new Map<string, Float32Array>();
  for (const [n, v] of Object.entries(vars)) params.set(n, (await v.data()) as Float32Array);
  const slots = new Map<string, Float32Array[]>();
  for (const [n, s] of optimizer.slots) slots.set(n, (await Promise.all(s.map((v) => v.data()))) as Float32Array[]);
  return { params, slots, step: optimizer.step };
}

export function restoreSnapshot(s: HostSnapshot, vars: Record<string, tf.Variable>, optimizer: Optimizer): void {
  for (const [n, v] of Object.entries(vars)) tf.tidy(() => v.assign(tf.tensor(s.params.get(n)!, v.shape)));
  for (const [n, slots] of optimizer.slots) {
    const host = s.slots.get(n);
    slots.forEach((v, i) => tf.tidy(() => v.assign(host ? tf.tensor(host[i], v.shape) : tf.zerosLike(v))));
  }
  optimizer.step = s.step;
}
