/** Shared by the trainer's tests (tests only). */
import type { ViTConfig } from '../model/config';

/** A tiny ViT the trainer's tests train in seconds: 32 px, patch 8 (16 patches), width 32, 2 layers, 2 heads. */
export const TINY_VIT: ViTConfig = {
  imageSize: 32,
  patchSize: 8,
  channels: 3,
  hiddenSize: 32,
  numLayers: 2,
  numHeads: 2,
  mlpDim: 64,
  numClasses: 0,
  layerNormEps: 1e-6,
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
};
