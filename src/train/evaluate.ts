/** What a trained model is measured by: accuracy on a split, the test report, Grad-CAM samples. */
import * as tf from '@tensorflow/tfjs';
import type { GradCamSample, TestResult } from '../domain/run';
import { forward, gradCam, type ForwardOptions, type ViT } from '../model/vit';
import type { Batch, SplitData, TrainData } from '../data/trainData';

/** Top-1 accuracy in percent over a split. */
export async function accuracy(model: ViT, split: SplitData, opts: ForwardOptions, batchSize: number): Promise<number> {
  if (split.size === 0) return NaN;
  let correct = 0;
  for (let s = 0; s < split.size; s += batchSize) {
    const batch = await split.batch(range(s, Math.min(split.size, s + batchSize)));
    const c = tf.tidy(() => {
      const logits = forward(model, toPixels(batch, model), opts); // [B, K]
      return tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), tf.tensor1d(batch.labels, 'int32')), 'int32'));
    });
    correct += (await c.data())[0];
    c.dispose();
  }
  return (100 * correct) / split.size;
}

/** Test accuracy with per-class accuracy and the confusion matrix. */
export async function evaluate(model: ViT, split: SplitData, opts: ForwardOptions, batchSize: number, numClasses: number): Promise<TestResult> {
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let s = 0; s < split.size; s += batchSize) {
    const batch = await split.batch(range(s, Math.min(split.size, s + batchSize)));
    const pred = tf.tidy(() => tf.argMax(forward(model, toPixels(batch, model), opts), -1)); // [B]
    const p = await pred.data();
    pred.dispose();
    for (let i = 0; i < batch.size; i++) confusion[batch.labels[i]][p[i]]++;
  }
  const perClassAcc = confusion.map((row, c) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n ? (100 * row[c]) / n : NaN;
  });
  const correct = confusion.reduce((a, row, c) => a + row[c], 0);
  return { testAcc: split.size ? (100 * correct) / split.size : NaN, perClassAcc, confusion, numTest: split.size };
}

/** Grad-CAM maps of fixed test images for their true labels, with the prediction beside each. */
export async function gradCamSamples(model: ViT, data: TrainData, indices: number[], opts: ForwardOptions): Promise<GradCamSample[]> {
  const idx = indices.filter((i) => i < data.test.size);
  if (!idx.length) return [];
  const batch = await data.test.batch(idx);
  const { cams, preds } = tf.tidy(() => {
    const x = toPixels(batch, model);
    // Target: the true label, as the fixtures define Grad-CAM; the prediction is reported beside it.
    return { cams: gradCam(model, x, tf.tensor1d(batch.labels, 'int32'), opts), preds: tf.argMax(forward(model, x, opts), -1) }; // [B, g, g], [B]
  });
  const [camData, predData] = await Promise.all([cams.data(), preds.data()]);
  tf.dispose([cams, preds]);
  const g = cams.shape[1];
  const out: GradCamSample[] = [];
  for (let i = 0; i < idx.length; i++) {
    const display = await data.test.display(idx[i]);
    out.push({
      index: idx[i],
      label: batch.labels[i],
      predicted: predData[i],
      image: display.rgba,
      side: display.side,
      cam: (camData as Float32Array).slice(i * g * g, (i + 1) * g * g),
      grid: g,
    });
  }
  return out;
}

function toPixels(batch: Batch, { cfg }: ViT): tf.Tensor4D {
  return tf.tensor4d(batch.pixels, [batch.size, cfg.channels, cfg.imageSize, cfg.imageSize]);
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}
