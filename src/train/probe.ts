/**
 * How fast a run's configuration trains on this device, measured before it starts: the lab's own
 * trainer runs one epoch per phase on generated images (its first step warms kernels and buffers
 * up; the next are timed and averaged) of the run's size, then one validation pass. The model is
 * the run's at its sizes and resolution; a hub checkpoint's weights are not downloaded for it
 * (a step takes as long on random weights of the same shape). No checkpoint is written, and
 * everything it allocates is freed.
 */
import * as tf from '@tensorflow/tfjs';
import { getTask } from '../data/catalog';
import { trainDataFromSplits } from '../data/fromSplits';
import type { Batch, SplitData, TrainData } from '../data/trainData';
import { LabError } from '../domain/errors';
import type { ModelSpec, RunConfig } from '../domain/run';
import { HUB_CHECKPOINTS } from '../weights/sources';
import type { RunControl } from './control';
import { METHODS } from './methods';
import { hyperOf, loadModel, openSplits, resolvePromptLength, type RunHost } from './session';
import { train } from './trainer';

export interface ProbeSpeed {
  trainImagesPerSec: number;
  evalImagesPerSec: number;
  /** Seconds a run spends once, whatever its size: loading the model. */
  runSeconds: number;
  /** Seconds per image of the task prepared for the first time (a procedural task draws it; 0 where not measured: files). */
  imageSeconds: number;
  /** Seconds of an epoch's end besides validation: the snapshot and the checkpoint of what trains. */
  epochEndSeconds: number;
  backend: string;
}

/** Images of `size` px with a fixed pattern: a step's time does not depend on what they show. */
function generatedSplit(count: number, size: number, classes: number): SplitData {
  const pixels = 3 * size * size;
  return {
    size: count,
    async batch(indices: number[]): Promise<Batch> {
      const x = new Float32Array(indices.length * pixels); // [B, 3, size, size]
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 0.5;
      return { pixels: x, labels: Int32Array.from(indices, (i) => i % classes), size: indices.length };
    },
    async display() {
      return { rgba: new Uint8ClampedArray(size * size * 4), side: size };
    },
  };
}

/** The model a probe runs: a hub checkpoint as random weights of its preset (nothing downloaded), anything else as the run loads it. */
function probeModel(spec: ModelSpec): ModelSpec {
  if (spec.kind !== 'hub') return spec;
  const hub = HUB_CHECKPOINTS.find((h) => h.id === spec.id);
  if (!hub) throw new LabError('config/invalid', `Unknown hub checkpoint '${spec.id}'.`);
  return { kind: 'random', preset: hub.preset };
}

/** Measures `config`'s training and evaluation speed on the active backend (see the file's comment). */
export async function probeSpeed(config: RunConfig, host: RunHost, control: RunControl): Promise<ProbeSpeed> {
  const loadT0 = performance.now();
  const model = await loadModel(probeModel(config.model), { host, imageSize: config.imageSize || undefined });
  const runSeconds = (performance.now() - loadT0) / 1000;
  const resolved = resolvePromptLength(config, model.cfg);
  const batch = Math.max(1, Math.min(config.batchSize, config.trainSize));
  const classes = getTask(config.taskId).classes;
  const size = model.cfg.imageSize;
  // A small model's step takes a fraction of a second: several are timed and averaged, so one step
  // slowed (or sped) by another process on a shared machine does not set the estimate. A large
  // model's step can take a minute on a CPU: one is timed.
  const small = model.cfg.numLayers * model.cfg.hiddenSize ** 2 < 3e5;
  const timedSteps = small ? 5 : 1;
  const data: TrainData = {
    numClasses: classes,
    imageSize: size,
    train: generatedSplit((1 + timedSteps) * batch, size, classes),
    val: generatedSplit(batch, size, classes),
    test: generatedSplit(1, size, classes),
  };
  const timed: number[] = [];
  const stepSeconds = new Map<number, number>();
  const evalSeconds: number[] = [];
  const epochEnds: number[] = [];
  let epochAt = 0;
  let outcome: Awaited<ReturnType<typeof train>>;
  let imageSeconds = 0;
  try {
    // A procedural task draws each image the first time a run reads it (then it is cached): one
    // batch of the task's own images, drawn and preprocessed as a run does, gives the cost per image.
    if (getTask(config.taskId).source === 'procedural') {
      const t0 = performance.now();
      const splits = await openSplits({ ...config, trainSize: batch, valSize: 1, testSize: 1 }, { host });
      const real = trainDataFromSplits(splits, { imageSize: size, normalization: { mean: model.cfg.mean, std: model.cfg.std } });
      await real.train.batch(Array.from({ length: Math.min(batch, real.train.size) }, (_, i) => i));
      imageSeconds = (performance.now() - t0) / 1000 / Math.max(1, Math.min(batch, real.train.size));
    }
    outcome = await train({
      cfg: model.cfg,
      backbone: model.params,
      consumeBackbone: true,
      kernels: model.kernels,
      method: METHODS[config.method],
      data,
      hyper: { ...hyperOf(resolved), epochs: 1, batchSize: batch },
      control,
      // Built and dropped: what a run's epoch end costs besides validation (the snapshot and the
      // checkpoint of every trained tensor, large for full fine-tuning) is timed with it.
      checkpoints: true,
      emit: (e) => {
        if (e.type === 'step') {
          const seconds = batch / e.imagesPerSec;
          stepSeconds.set(e.phase, (stepSeconds.get(e.phase) ?? 0) + seconds);
          if (e.step > 1) timed.push(seconds);
        } else if (e.type === 'epoch') {
          // The epoch's seconds are its steps and its validation pass.
          evalSeconds.push(e.metrics.seconds - (stepSeconds.get(e.metrics.phase) ?? 0));
          epochAt = performance.now();
        } else if (e.type === 'checkpoint') {
          epochEnds.push((performance.now() - epochAt) / 1000);
        }
      },
    });
  } catch (err) {
    // A cancelled or failed probe frees the model it built too (what the trainer had not consumed).
    tf.dispose(Object.values(model.params).filter((t) => !t.isDisposed));
    throw err;
  }
  // The trained parameters and what is left of the backbone (shared tensors freed once).
  tf.dispose([...new Set([...Object.values(outcome.params), ...Object.values(model.params)])].filter((t) => !t.isDisposed));
  const trainSeconds = timed.reduce((a, b) => a + b, 0) / Math.max(1, timed.length);
  const valSeconds = evalSeconds.reduce((a, b) => a + b, 0) / Math.max(1, evalSeconds.length);
  return {
    trainImagesPerSec: batch / trainSeconds,
    // A validation pass faster than a millisecond is below the clock's resolution: at most 1000 passes a second.
    evalImagesPerSec: batch / Math.max(valSeconds, 1e-3),
    runSeconds,
    imageSeconds,
    epochEndSeconds: epochEnds.reduce((a, b) => a + b, 0) / Math.max(1, epochEnds.length),
    backend: tf.getBackend(),
  };
}
