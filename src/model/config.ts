/**
 * ViT configuration: every size the model code needs, nothing else. Presets are the published
 * sizes; checkpoints carry their own config (see weights/), so nothing is wired to one size.
 */
import { LabError } from '../domain/errors';

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
  vit_b16: {
    imageSize: 224,
    patchSize: 16,
    channels: 3,
    hiddenSize: 768,
    numLayers: 12,
    numHeads: 12,
    mlpDim: 3072,
    numClasses: 21843,
    layerNormEps: 1e-6,
    mean: half,
    std: half,
  },
  vit_s16: {
    imageSize: 224,
    patchSize: 16,
    channels: 3,
    hiddenSize: 384,
    numLayers: 12,
    numHeads: 6,
    mlpDim: 1536,
    numClasses: 21843,
    layerNormEps: 1e-6,
    mean: half,
    std: half,
  },
  vit_ti16: {
    imageSize: 224,
    patchSize: 16,
    channels: 3,
    hiddenSize: 192,
    numLayers: 12,
    numHeads: 3,
    mlpDim: 768,
    numClasses: 21843,
    layerNormEps: 1e-6,
    mean: half,
    std: half,
  },
  fixture_tiny: {
    imageSize: 64,
    patchSize: 16,
    channels: 3,
    hiddenSize: 48,
    numLayers: 3,
    numHeads: 3,
    mlpDim: 96,
    numClasses: 5,
    layerNormEps: 1e-6,
    mean: half,
    std: half,
  },
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

/**
 * Refuses a config no model can run with, before any tensor exists: sizes that are not positive
 * integers (or absurdly large), a grid that does not tile, a LayerNorm eps that is not a small
 * positive number (eps <= 0 divides by zero on a constant token; the run would go NaN), and a
 * normalisation with a zero or non-finite std.
 */
export function checkConfig(cfg: ViTConfig): void {
  const bad = (what: string) => {
    throw new LabError('config/invalid', `Invalid ViT config: ${what}.`, 'Check the config the checkpoint carries (its metadata) or the one given with it.');
  };
  const limits = { imageSize: 8192, patchSize: 1024, channels: 16, hiddenSize: 65536, numLayers: 1024, numHeads: 1024, mlpDim: 262144 } as const;
  for (const k of Object.keys(limits) as (keyof typeof limits)[]) {
    if (!Number.isInteger(cfg[k]) || cfg[k] <= 0 || cfg[k] > limits[k])
      bad(`${k} must be an integer from 1 to ${limits[k]}, got ${String(cfg[k]).slice(0, 40)}`);
  }
  if (cfg.imageSize % cfg.patchSize !== 0) bad(`imageSize ${cfg.imageSize} is not a multiple of patchSize ${cfg.patchSize}`);
  if (cfg.hiddenSize % cfg.numHeads !== 0) bad(`hiddenSize ${cfg.hiddenSize} does not divide by numHeads ${cfg.numHeads}`);
  if (!Number.isInteger(cfg.numClasses) || cfg.numClasses < 0 || cfg.numClasses > 1_000_000)
    bad(`numClasses must be an integer from 0 to 1000000, got ${String(cfg.numClasses).slice(0, 40)}`);
  if (typeof cfg.layerNormEps !== 'number' || !(cfg.layerNormEps > 0 && cfg.layerNormEps < 1))
    bad(`layer_norm_eps must be a small positive number (1e-12 to 1e-5 in real checkpoints), got ${String(cfg.layerNormEps).slice(0, 40)}`);
  const triple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!triple(cfg.mean)) bad(`mean must be 3 finite numbers, got ${JSON.stringify(cfg.mean)?.slice(0, 60)}`);
  if (!triple(cfg.std) || !cfg.std.every((x) => x > 0)) bad(`std must be 3 positive numbers, got ${JSON.stringify(cfg.std)?.slice(0, 60)}`);
}

/** Parameter count of the backbone plus head, from the config alone. */
export function parameterCount(cfg: ViTConfig, promptLength = 0, promptLayers = 0): number {
  const D = cfg.hiddenSize,
    M = cfg.mlpDim,
    P = cfg.patchSize,
    T = numTokens(cfg);
  const embed = D * cfg.channels * P * P + D + D + T * D;
  const block = 2 * 2 * D + (3 * D * D + 3 * D) + (D * D + D) + (M * D + M) + (D * M + D);
  const head = cfg.numClasses > 0 ? cfg.numClasses * D + cfg.numClasses : 0;
  return embed + cfg.numLayers * block + 2 * D + head + promptLength * D * promptLayers;
}
