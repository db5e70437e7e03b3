/**
 * timm `VisionTransformer` layout: already canonical, so every rule is the identity. Our own
 * exports use it too, with `prompts.{i}` and the config (timm keys) in the metadata.
 */
import { clip } from '../../domain/errors';
import type { ViTConfig } from '../../model/config';
import type { TensorArchive } from '../formats/archive';
import { type CanonicalOptions, type Rule, configError, direct, expectedShapes, configFromShapes, num, parseJsonConfig } from './common';
import { blockCount, needShape, type LayoutSpec } from './spec';

const LABEL = 'timm VisionTransformer';

/** The config's mean or std: absent means the default; present, it must be 3 finite numbers (never silently replaced). */
function triple(file: string, tc: Record<string, unknown>, key: 'mean' | 'std'): [number, number, number] | undefined {
  const v = tc[key];
  if (v === undefined) return undefined;
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) return v as [number, number, number];
  throw configError(file, `the timm config's ${key} is ${clip(JSON.stringify(v) ?? String(v), 80)}, not 3 finite numbers (one per RGB channel)`);
}

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
    const tc = parseJsonConfig(file, archive.metadata.config);
    const hasHead = archive.has('head.weight');
    const headClasses = hasHead ? archive.shape('head.weight')[0] : 0;
    const half: [number, number, number] = [0.5, 0.5, 0.5];
    if (tc && num(tc, 'embed_dim') !== undefined) {
      const get = (k: string, dflt?: number) => {
        const v = num(tc, k) ?? dflt;
        if (v === undefined) throw configError(file, `the timm config in the metadata has no '${k}'`);
        return v;
      };
      const img = Array.isArray(tc.img_size) ? Number(tc.img_size[0]) : get('img_size', 224);
      const patch = Array.isArray(tc.patch_size) ? Number(tc.patch_size[0]) : get('patch_size', 16);
      const D = get('embed_dim');
      return {
        imageSize: img,
        patchSize: patch,
        channels: get('in_chans', 3),
        hiddenSize: D,
        numLayers: get('depth'),
        numHeads: get('num_heads'),
        mlpDim: num(tc, 'mlp_dim') ?? Math.round(get('mlp_ratio', 4) * D),
        numClasses: hasHead ? get('num_classes', headClasses) : 0,
        layerNormEps: get('eps', 1e-6),
        mean: triple(file, tc, 'mean') ?? half,
        std: triple(file, tc, 'std') ?? half,
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
