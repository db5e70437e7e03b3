/**
 * The sizes of a model known before its weights are read: the presets, the hub checkpoints (by
 * their preset) and the bundled model. The memory planner needs them to show an estimate before
 * a run starts; a local file's sizes are known only once its header is read.
 */
import type { ModelSpec } from '../domain/run';
import { PRESETS, type PresetName } from '../model/config';
import { HUB_CHECKPOINTS } from '../weights/sources';
import type { ModelDims } from './memory';

/** public/models/tiny_pretrained.safetensors (its header's config; a test keeps them equal). */
export const BUNDLED_DIMS: Readonly<Record<string, ModelDims>> = {
  tiny_pretrained: { imageSize: 48, patchSize: 12, channels: 3, hiddenSize: 128, numLayers: 4, numHeads: 2, mlpDim: 512 },
};

/** The model's sizes at `imageSize` (0 = its own), or null when only its file can tell. */
export function dimsOf(spec: ModelSpec, imageSize = 0): ModelDims | null {
  let dims: ModelDims | undefined;
  if (spec.kind === 'random') dims = PRESETS[spec.preset as PresetName];
  else if (spec.kind === 'hub') {
    const hub = HUB_CHECKPOINTS.find((h) => h.id === spec.id);
    dims = hub && PRESETS[hub.preset];
  } else if (spec.kind === 'bundled') dims = BUNDLED_DIMS[spec.id];
  if (!dims) return null;
  return imageSize > 0 ? { ...dims, imageSize } : dims;
}

/** The same for the setup panel's model choice ('bundled:<id>', 'hub:<id>', 'random:<preset>', 'file'). */
export function dimsOfChoice(choice: string, imageSize = 0): ModelDims | null {
  const [kind, ...rest] = choice.split(':');
  const id = rest.join(':');
  if (kind === 'hub') return dimsOf({ kind: 'hub', id }, imageSize);
  if (kind === 'random') return dimsOf({ kind: 'random', preset: id }, imageSize);
  if (kind === 'bundled') return dimsOf({ kind: 'bundled', id }, imageSize);
  return null;
}
