/**
 * The sizes of a model known before its weights are read: the presets, the hub checkpoints (by
 * their preset) and the bundled model. The memory planner needs them to show an estimate before
 * a run starts; a local file's sizes are known only once its header is read.
 */
import { LabError } from '../domain/errors';
import type { ModelSpec } from '../domain/run';
import { PRESETS, type PresetName } from '../model/config';
import { HUB_CHECKPOINTS } from '../weights/sources';
import type { ModelDims } from './memory';
import type { PretrainObjective } from '../data/sceneObjective';

/** public/models/<id>.safetensors (each header's config; a test keeps them equal). */
export const BUNDLED_DIMS: Readonly<Record<string, ModelDims>> = {
  tiny_pretrained: { imageSize: 48, patchSize: 12, channels: 3, hiddenSize: 128, numLayers: 4, numHeads: 2, mlpDim: 512 },
  scenes_vit: { imageSize: 48, patchSize: 8, channels: 3, hiddenSize: 128, numLayers: 6, numHeads: 2, mlpDim: 512 },
};

/**
 * The bundled model the page starts on (its default choice) and a quick start loads: the one
 * whose features are worth preserving (docs/pretraining.md; the study in docs/study.md).
 */
export const DEFAULT_BUNDLED_ID = 'scenes_vit';

/** What each bundled model was pretrained on (`npm run pretrain -- --objective`; its model card). */
const BUNDLED_OBJECTIVE: Readonly<Record<string, PretrainObjective>> = { tiny_pretrained: 'classes', scenes_vit: 'scenes' };

/**
 * The pretraining distribution the Fréchet view compares tasks with: the bundled model's own;
 * any other model is measured against the first bundled model's scenes (a common yardstick, not
 * that model's pretraining data, which the lab does not have).
 */
export function pretrainObjectiveOf(spec: ModelSpec): PretrainObjective {
  return (spec.kind === 'bundled' && BUNDLED_OBJECTIVE[spec.id]) || 'classes';
}

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

/**
 * An input resolution that does not cut into whole patches, as the named error (what, where, the
 * fix), or null when it does (0 = the model's own resolution always does). Checked where the
 * resolution is chosen (the setup panel, the command line) and again before a model is loaded or
 * downloaded, so it never reaches the position-embedding resize as an internal error.
 */
export function resolutionProblem(imageSize: number, dims: Pick<ModelDims, 'imageSize' | 'patchSize'>, model: string): LabError | null {
  const p = dims.patchSize;
  if (!imageSize || imageSize % p === 0) return null;
  const lower = Math.floor(imageSize / p) * p;
  const near = [lower, lower + p].filter((n) => n > 0);
  return new LabError(
    'config/invalid',
    `Input resolution ${imageSize} px is not a multiple of the patch size of ${model} (${p} px): the image would not cut into whole patches.`,
    `Use ${near.join(' or ')} px (multiples of ${p}), or leave the resolution blank for the model's own ${dims.imageSize} px.`,
  );
}
