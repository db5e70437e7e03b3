/**
 * Trained parameters as a file: the prompts and head of a VPT run, or the whole model of a
 * fine-tuning run, in the canonical (timm) layout with the config and run setup in the header.
 * A fully fine-tuned export also loads as an ordinary timm checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import type { ViTConfig } from '../model/config';
import type { ParamSet } from '../model/params';
import { canonicalFromParams, toComputeTensor } from '../model/params';
import { LabError } from '../domain/errors';
import { parseSafetensors, writeSafetensors } from '../weights/formats/safetensors';
import { timmConfigJson } from '../weights/load';
import { countNonFinite } from '../weights/tensor';

export interface TrainedMeta {
  method: string;
  taskId: string;
  numClasses: number;
  promptLength: number;
  baseModel: string;
}

export const TRAINED_FORMAT = 'vpt-vs-ft-lab trained parameters v1';

export async function trainedParamsFile(params: ParamSet, names: string[], cfg: ViTConfig, meta: TrainedMeta): Promise<Uint8Array> {
  const tensors = await canonicalFromParams(Object.fromEntries(names.map((n) => [n, params[n]])), cfg);
  return writeSafetensors(tensors, {
    format: 'pt',
    lab_format: TRAINED_FORMAT,
    config: timmConfigJson({ ...cfg, numClasses: meta.numClasses }),
    method: meta.method,
    task: meta.taskId,
    prompt_length: String(meta.promptLength),
    base_model: meta.baseModel,
  });
}

/** A safetensors file this lab exported, every value finite; else the named error Start would give. */
function openTrainedParams(bytes: Uint8Array, name: string): ReturnType<typeof parseSafetensors> {
  const archive = parseSafetensors(bytes, name);
  if (archive.metadata.lab_format !== TRAINED_FORMAT) {
    throw new LabError(
      'checkpoint/not-a-checkpoint',
      `'${name}' is not a trained-parameters file exported by this lab (no '${TRAINED_FORMAT}' header).`,
      'Export trained parameters from a finished run (Export trained parameters, or --save-params), or load a full checkpoint as the model instead.',
    );
  }
  const nonFinite = archive.keys().filter((k) => countNonFinite(archive.read(k).data).count > 0);
  if (nonFinite.length)
    throw new LabError(
      'checkpoint/non-finite',
      `'${name}' holds values that are not finite numbers in ${nonFinite
        .slice(0, 6)
        .map((k) => `'${k}'`)
        .join(', ')}${nonFinite.length > 6 ? ', ...' : ''}.`,
      'It was saved from a run that diverged, or is damaged; export the parameters of a good run.',
    );
  return archive;
}

/**
 * What a trained-parameters file holds, in words, without making a tensor (it is checked when
 * picked, beside a run): the lab's header, finite values, what trained it. A file that is not one
 * is the same named error Start would give.
 */
export function describeTrainedParams(bytes: Uint8Array, name: string): string {
  const archive = openTrainedParams(bytes, name);
  const m = archive.metadata;
  const prompts = archive.keys().filter((k) => k.startsWith('prompts.')).length;
  return `trained by ${m.method ?? 'an unknown method'} on ${m.task ?? 'an unknown task'}: ${archive.keys().length} tensors${prompts ? `, prompts for ${prompts} layer(s)` : ''}`;
}

/** Read a trained-parameters file back into compute-layout tensors (the caller disposes them). */
export function readTrainedParams(bytes: Uint8Array, name: string): { params: ParamSet; meta: Partial<TrainedMeta> } {
  const archive = openTrainedParams(bytes, name);
  const params: ParamSet = {};
  for (const key of archive.keys()) params[key] = toComputeTensor(key, archive.read(key));
  const m = archive.metadata;
  return { params, meta: { method: m.method, taskId: m.task, promptLength: Number(m.prompt_length), baseModel: m.base_model } };
}

export function disposeAll(params: ParamSet): void {
  tf.dispose(Object.values(params));
}
