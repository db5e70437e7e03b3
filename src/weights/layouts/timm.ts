/**
 * timm `VisionTransformer` layout: already canonical, so every rule is the identity. Our own
 * exports use it too, with `prompts.{i}` and the config (timm keys) in the metadata.
 */
import type { ViTConfig } from '../../model/config';
import type { TensorArchive } from '../formats/archive';
import { type CanonicalOptions, type Rule, configReader, direct, expectedShapes, configFromShapes } from './common';
import schema from './timmConfig.schema.json' with { type: 'json' };
import { validateTimmConfig } from './configValidators.gen';
import { blockCount, needShape, type LayoutSpec } from './spec';

const LABEL = 'timm VisionTransformer';

type Rgb = [number, number, number];

/**
 * A timm config as far as the lab reads it: its sizes when it has `embed_dim`. A side may be a
 * list (height first). Mean and std, when present, are 3 numbers: never silently replaced.
 */
type TimmConfig =
  | { embed_dim?: undefined }
  | {
      embed_dim: number;
      depth: number;
      num_heads: number;
      img_size?: number | number[];
      patch_size?: number | number[];
      in_chans?: number;
      mlp_dim?: number;
      mlp_ratio?: number;
      num_classes?: number;
      eps?: number;
      mean?: Rgb;
      std?: Rgb;
    };

const readConfig = configReader<TimmConfig>({ schema, validate: validateTimmConfig }, 'timm');
const side = (v: number | number[] | undefined, fallback: number) => (Array.isArray(v) ? v[0]! : (v ?? fallback));

function promptLayers(keys: string[]): number {
  return blockCount(keys, /^prompts\.(\d+)$/);
}

export const timmLayout: LayoutSpec = {
  id: 'timm',
  label: LABEL,
  detect: (keys) => keys.some((k) => k === 'cls_token' || k === 'pos_embed' || k.startsWith('patch_embed.') || /^blocks\.\d+\./.test(k)),
  prefixOf: () => '',

  config(archive: TensorArchive, _prefix: string, given: Partial<ViTConfig>): ViTConfig {
    const file = archive.name;
    const tc = readConfig(file, archive.metadata.config);
    const hasHead = archive.has('head.weight');
    const headClasses = hasHead ? archive.shape('head.weight')[0] : 0;
    const half: Rgb = [0.5, 0.5, 0.5];
    if (tc?.embed_dim !== undefined) {
      const D = tc.embed_dim;
      return {
        imageSize: side(tc.img_size, 224),
        patchSize: side(tc.patch_size, 16),
        channels: tc.in_chans ?? 3,
        hiddenSize: D,
        numLayers: tc.depth,
        numHeads: tc.num_heads,
        mlpDim: tc.mlp_dim ?? Math.round((tc.mlp_ratio ?? 4) * D),
        numClasses: hasHead ? (tc.num_classes ?? headClasses) : 0,
        layerNormEps: tc.eps ?? 1e-6,
        mean: tc.mean ?? half,
        std: tc.std ?? half,
      };
    }
    const cls = needShape(archive, 'cls_token', 'cls_token', LABEL);
    const proj = needShape(archive, 'patch_embed.proj.weight', 'patch_embed.proj.weight', LABEL);
    const pos = needShape(archive, 'pos_embed', 'pos_embed', LABEL);
    const fc1 = needShape(archive, 'blocks.0.mlp.fc1.weight', 'blocks.0.mlp.fc1.weight', LABEL);
    const numLayers = blockCount(archive.keys(), /^blocks\.(\d+)\./);
    return configFromShapes(file, { cls, proj, pos, fc1 }, { numLayers, numClasses: headClasses, layerNormEps: 1e-6, numHeads: given.numHeads });
  },

  options(archive: TensorArchive): CanonicalOptions {
    const layers = promptLayers(archive.keys());
    return {
      head: archive.has('head.weight') || archive.has('head.bias'),
      preLogits: archive.has('pre_logits.fc.weight') || archive.has('pre_logits.fc.bias'),
      promptLength: layers > 0 && archive.has('prompts.0') ? archive.shape('prompts.0')[0] : 0,
      promptLayers: layers,
    };
  },

  rules: (cfg: ViTConfig, opts: CanonicalOptions): Rule[] => [...expectedShapes(cfg, opts)].map(([k, shape]) => direct(k, shape, k)),

  isIgnored: () => false,
};
