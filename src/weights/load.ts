/**
 * bytes -> CanonicalCheckpoint, and the canonical export format (timm-layout safetensors with
 * the config in timm keys, so an export reloads as layout 'timm').
 */
import { LabError } from '../domain/errors';
import type { ViTConfig } from '../model/config';
import type { AnyTensorArchive } from './formats/archive';
import { openNpz } from './formats/npz';
import { parseSafetensors, writeSafetensors } from './formats/safetensors';
import { mapToCanonical } from './layouts';
import type { CanonicalCheckpoint, CheckpointLayout } from './types';

export interface LoadOptions {
  /** File name or URL, used in every message. */
  name: string;
  /** Force a layout; detected from the key names otherwise. */
  layout?: CheckpointLayout;
  /** Config fields to supply or override (e.g. numHeads for a file without config). */
  config?: Partial<ViTConfig>;
}

/** Parses a checkpoint file by its magic bytes: zip ('PK') -> .npz, otherwise safetensors. */
export async function openArchive(bytes: Uint8Array, name: string): Promise<AnyTensorArchive> {
  if (bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6)) {
    return openNpz(bytes, name);
  }
  if (bytes.byteLength >= 6 && bytes[0] === 0x93 && String.fromCharCode(...bytes.subarray(1, 6)) === 'NUMPY') {
    throw new LabError(
      'checkpoint/not-a-checkpoint',
      `'${name}' is a single .npy array, not a checkpoint.`,
      'Use the .npz archive that holds all the weights, or a .safetensors file.',
    );
  }
  return parseSafetensors(bytes, name);
}

/** Loads and strictly maps a checkpoint to the canonical (timm) naming. */
export async function loadCheckpoint(bytes: Uint8Array, opts: LoadOptions): Promise<CanonicalCheckpoint> {
  return mapToCanonical(await openArchive(bytes, opts.name), { layout: opts.layout, config: opts.config });
}

/** The config in timm's keys (plus the lab's exact mlp_dim, mean and std). */
export function timmConfigJson(cfg: ViTConfig): string {
  return JSON.stringify({
    img_size: cfg.imageSize,
    patch_size: cfg.patchSize,
    in_chans: cfg.channels,
    embed_dim: cfg.hiddenSize,
    depth: cfg.numLayers,
    num_heads: cfg.numHeads,
    mlp_ratio: cfg.mlpDim / cfg.hiddenSize,
    mlp_dim: cfg.mlpDim,
    num_classes: cfg.numClasses,
    eps: cfg.layerNormEps,
    mean: cfg.mean,
    std: cfg.std,
  });
}

/** Canonical checkpoint -> safetensors bytes in the timm layout (reloads with layout 'timm'). */
export function toCheckpointFile(ckpt: CanonicalCheckpoint, extraMetadata: Record<string, string> = {}): Uint8Array {
  return writeSafetensors(ckpt.tensors, {
    format: 'pt',
    layout: 'timm.VisionTransformer (vpt-vs-ft-lab canonical)',
    source_layout: ckpt.layout,
    ...extraMetadata,
    config: timmConfigJson(ckpt.config),
  });
}
