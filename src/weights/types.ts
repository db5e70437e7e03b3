import type { ViTConfig } from '../model/config';
import type { HostTensor } from '../domain/tensor';

/** The weights module produces host tensors and never touches tfjs (see domain/tensor.ts). */
export type { HostTensor };

/** Checkpoint layouts users have. */
export type CheckpointLayout = 'hf' | 'timm' | 'google';

/**
 * A checkpoint mapped to the canonical naming: timm names and timm shapes (linear weights
 * [out, in], patch projection [D, C, p, p]), plus `prompts.{i}` [P, D] and the optional
 * representation layer `pre_logits.fc.*` (the hub's pooler, Google's pre_logits).
 */
export interface CanonicalCheckpoint {
  layout: CheckpointLayout;
  config: ViTConfig;
  /**
   * Canonical key -> tensor, in canonical order. Tensors that need no transform may be zero-copy
   * views into the loaded file's bytes (aligned F32 safetensors): copy before mutating in place.
   */
  tensors: Map<string, HostTensor>;
  /** Keys present in the file that the model does not use (e.g. a 21k head replaced later). */
  ignoredKeys: string[];
}
