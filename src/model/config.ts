/**
 * ViT configuration: every size the model code needs, nothing else. Presets are the published
 * sizes; checkpoints carry their own config (see weights/), so nothing is wired to one size.
 */
export interface ViTConfig {
  /** Input resolution in pixels (square). */
  imageSize: number;
  /** Patch side in pixels; the grid is imageSize / patchSize on each side. */
  patchSize: number;
  /** Input channels (3 for RGB). */
  channels: number;
  /** Token width D. */
  hiddenSize: number;
  /** Transformer blocks. */
  numLayers: number;
  /** Attention heads; hiddenSize must divide by it. */
  numHeads: number;
  /** Hidden width of each block's MLP. */
  mlpDim: number;
  /** Classes of the linear head on the CLS token (0 = no head). */
  numClasses: number;
  /** LayerNorm epsilon: 1e-12 in the transformers layout, 1e-6 in timm and Google's. */
  layerNormEps: number;
  /** Per-channel normalisation the checkpoint was trained with (applied by data/). */
  mean: [number, number, number];
  std: [number, number, number];
}

export type PresetName = 'vit_b16' | 'vit_s16' | 'vit_ti16' | 'fixture_tiny';

const half: [number, number, number] = [0.5, 0.5, 0.5];

/** ViT-B/16, S/16, Ti/16 as in timm's augreg ImageNet-21k checkpoints; the fixtures' tiny ViT. */
export const PRESETS: Record<PresetName, ViTConfig> = {
  vit_b16: { imageSize: 224, patchSize: 16, channels: 3, hiddenSize: 768, numLayers: 12, numHeads: 12, mlpDim: 3072, numClasses: 21843, layerNormEps: 1e-6, mean: half, std: half },
  vit_s16: { imageSize: 224, patchSize: 16, channels: 3, hiddenSize: 384, numLayers: 12, numHeads: 6, mlpDim: 1536, numClasses: 21843, layerNormEps: 1e-6, mean: half, std: half },
  vit_ti16: { imageSize: 224, patchSize: 16, channels: 3, hiddenSize: 192, numLayers: 12, numHeads: 3, mlpDim: 768, numClasses: 21843, layerNormEps: 1e-6, mean: half, std: half },
  fixture_tiny: { imageSize: 64, patchSize: 16, channels: 3, hiddenSize: 48, numLayers: 3, numHeads: 3, mlpDim: 96, numClasses: 5, layerNormEps: 1e-6, mean: half, std: half },
};

/** Patches per side. */
export function gridSize(cfg: Pick<ViTConfig, 'imageSize' | 'patchSize'>): number {
  return Math.floor(cfg.imageSize / cfg.patchSize);
}

/** Tokens without prompts: CLS + patches. */
export function numTokens(cfg: Pick<ViTConfig, 'imageSize' | 'patchSize'>): number {
  const g = gridSize(cfg);
  return 1 + g * g;
}

export function checkConfig(cfg: ViTConfig): void {
  const bad = (what: string) => {
    throw new Error(`Invalid ViT config: ${what}.`);
  };
  if (cfg.imageSize % cfg.patchSize !== 0) bad(`imageSize ${cfg.imageSize} is not a multiple of patchSize ${cfg.patchSize}`);
  if (cfg.hiddenSize % cfg.numHeads !== 0) bad(`hiddenSize ${cfg.hiddenSize} does not divide by numHeads ${cfg.numHeads}`);
  for (const k of ['imageSize', 'patchSize', 'hiddenSize', 'numLayers', 'numHeads', 'mlpDim'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] <= 0) bad(`${k} must be a positive integer, got ${cfg[k]}`);
  }
}

/** Parameter count of the backbone plus head, from the config alone. */
export function parameterCount(cfg: ViTConfig, promptLength = 0, promptLayers = 0): number {
  const D = cfg.hiddenSize, M = cfg.mlpDim, P = cfg.patchSize, T = numTokens(cfg);
  const embed = D * cfg.channels * P * P + D + D + T * D;
  const block = 2 * 2 * D + (3 * D * D + 3 * D) + (D * D + D) + (M * D + M) + (D * M + D);
  const head = cfg.numClasses > 0 ? cfg.numClasses * D + cfg.numClasses : 0;
  return embed + cfg.numLayers * block + 2 * D + head + promptLength * D * promptLayers;
}
