/**
 * Epoch checkpoints of a run, to resume it after an interruption: the trainable parameters in the
 * canonical (timm) layout and the optimizer slots, as one safetensors file.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ResumeState } from '../domain/run';
import type { HostTensor } from '../domain/tensor';
import type { ViTConfig } from '../model/config';
import { canonicalFromParams, toComputeTensor, type ParamSet } from '../model/params';
import { readAll } from '../weights/formats/archive';
import { parseSafetensors, writeSafetensors } from '../weights/formats/safetensors';
import { slotKey, type Optimizer } from './optimizer';
import type { HostSnapshot } from './recovery';

/**
 * The checkpoint of the state `snap` holds: its parameters (read from `vars`, which hold the same
 * values, in canonical layout) and the optimizer slots (from the snapshot's host copy).
 */
export async function checkpointBytes(vars: Record<string, tf.Variable>, cfg: ViTConfig, optimizer: Optimizer, snap: HostSnapshot): Promise<ArrayBuffer> {
  const tensors = await canonicalFromParams(vars, cfg);
  // Slots are saved in compute layout (their own shapes), not the canonical one.
  for (const [n, slots] of optimizer.slots) slots.forEach((v, i) => tensors.set(slotKey(n, i), { shape: v.shape.slice(), data: snap.slots.get(n)![i] }));
  const bytes = writeSafetensors(tensors, { optimizer_step: String(snap.step) });
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** A resume state's tensors by checkpoint key. */
export function readCheckpoint(state: ResumeState): Map<string, HostTensor> {
  return readAll(parseSafetensors(new Uint8Array(state.checkpoint), 'resume checkpoint'));
}

/** The checkpoint's parameters that `want` names, as compute tensors (the caller owns them). */
export function paramsFromCheckpoint(saved: Map<string, HostTensor>, want: (name: string) => boolean): ParamSet {
  const out: ParamSet = {};
  for (const [n, t] of saved) if (!n.startsWith('optimizer.') && want(n)) out[n] = toComputeTensor(n, t);
  return out;
}
