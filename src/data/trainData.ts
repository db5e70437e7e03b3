/**
 * What the trainer needs from a task's data: three splits that give batches by index, and a
 * display image per test index for Grad-CAM. Plain arrays, no tensors; data/ provides them.
 */
export interface Batch {
  /** [size, 3, H, W], normalised. */
  pixels: Float32Array;
  labels: Int32Array;
  size: number;
}

export interface SplitData {
  size: number;
  batch(indices: number[]): Promise<Batch>;
  /** The image as shown to people: RGBA bytes, side × side. */
  display(index: number): Promise<{ rgba: Uint8ClampedArray; side: number }>;
}

export interface TrainData {
  numClasses: number;
  imageSize: number;
  train: SplitData;
  val: SplitData;
  test: SplitData;
  /** Any items skipped as bad (with skipBad), for the report. */
  skipped?: { file: string; line?: number; reason: string }[];
}
