/**
 * Hugging Face transformers `ViTModel` layout with the legacy key names that hub checkpoints
 * carry (google/vit-base-patch16-224-in21k), optionally under `vit.` with a `classifier.*` head
 * (ViTForImageClassification). q, k, v are separate [D, D] linears stacked into timm's qkv.
 */
import type { ViTConfig } from '../../model/config';
import type { TensorArchive } from '../formats/archive';
import { type CanonicalOptions, type Rule, configReader, direct, identity, configFromShapes } from './common';
import schema from './hfConfig.schema.json' with { type: 'json' };
import { validateHfConfig } from './configValidators.gen';
import { blockCount, needShape, type LayoutSpec } from './spec';

const HALF: [number, number, number] = [0.5, 0.5, 0.5];

/** A transformers ViTConfig as far as the lab reads it: its sizes when it has `hidden_size`. */
type HfConfig =
  | { hidden_size?: undefined }
  | {
      hidden_size: number;
      num_hidden_layers: number;
      num_attention_heads: number;
      intermediate_size: number;
      image_size?: number;
      patch_size?: number;
      num_channels?: number;
      layer_norm_eps?: number;
    };

const readConfig = configReader<HfConfig>({ schema, validate: validateHfConfig }, 'transformers');

export const hfLayout: LayoutSpec = {
  id: 'hf',
  label: 'Hugging Face ViTModel',
  detect: (keys) => keys.some((k) => /^(vit\.)?(embeddings\.(cls_token|position_embeddings|patch_embeddings)|encoder\.layer\.\d+\.)/.test(k)),
  prefixOf: (keys) => (keys.some((k) => k.startsWith('vit.embeddings.') || k.startsWith('vit.encoder.')) ? 'vit.' : ''),

  config(archive: TensorArchive, prefix: string, given: Partial<ViTConfig>): ViTConfig {
    const file = archive.name;
    const hc = readConfig(file, archive.metadata.config);
    const numClasses = archive.has('classifier.weight') ? archive.shape('classifier.weight')[0] : 0;
    // Only a transformers config counts (a forced layout may meet another layout's config).
    if (hc?.hidden_size !== undefined) {
      return {
        imageSize: hc.image_size ?? 224,
        patchSize: hc.patch_size ?? 16,
        channels: hc.num_channels ?? 3,
        hiddenSize: hc.hidden_size,
        numLayers: hc.num_hidden_layers,
        numHeads: hc.num_attention_heads,
        mlpDim: hc.intermediate_size,
        numClasses,
        layerNormEps: hc.layer_norm_eps ?? 1e-12,
        mean: HALF,
        std: HALF,
      };
    }
    const p = prefix;
    const cls = needShape(archive, `${p}embeddings.cls_token`, 'cls_token', 'Hugging Face ViTModel');
    const proj = needShape(archive, `${p}embeddings.patch_embeddings.projection.weight`, 'patch_embed.proj.weight', 'Hugging Face ViTModel');
    const pos = needShape(archive, `${p}embeddings.position_embeddings`, 'pos_embed', 'Hugging Face ViTModel');
    const fc1 = needShape(archive, `${p}encoder.layer.0.intermediate.dense.weight`, 'blocks.0.mlp.fc1.weight', 'Hugging Face ViTModel');
    const numLayers = blockCount(archive.keys(), new RegExp(`^${p.replace('.', '\\.')}encoder\\.layer\\.(\\d+)\\.`));
    return configFromShapes(file, { cls, proj, pos, fc1 }, { numLayers, numClasses, layerNormEps: 1e-12, numHeads: given.numHeads });
  },

  options: (archive, prefix) => ({
    head: archive.has('classifier.weight') || archive.has('classifier.bias'),
    preLogits: archive.has(`${prefix}pooler.dense.weight`) || archive.has(`${prefix}pooler.dense.bias`),
  }),

  rules(cfg: ViTConfig, opts: CanonicalOptions, p: string): Rule[] {
    const D = cfg.hiddenSize,
      M = cfg.mlpDim,
      P = cfg.patchSize,
      C = cfg.channels;
    const T = 1 + (cfg.imageSize / P) ** 2;
    const r: Rule[] = [
      direct('cls_token', [1, 1, D], `${p}embeddings.cls_token`),
      direct('pos_embed', [1, T, D], `${p}embeddings.position_embeddings`),
      direct('patch_embed.proj.weight', [D, C, P, P], `${p}embeddings.patch_embeddings.projection.weight`),
      direct('patch_embed.proj.bias', [D], `${p}embeddings.patch_embeddings.projection.bias`),
    ];
    for (let i = 0; i < cfg.numLayers; i++) {
      const s = `${p}encoder.layer.${i}`,
        b = `blocks.${i}`;
      const qkv = ['query', 'key', 'value'];
      r.push(
        direct(`${b}.norm1.weight`, [D], `${s}.layernorm_before.weight`),
        direct(`${b}.norm1.bias`, [D], `${s}.layernorm_before.bias`),
        {
          canonical: `${b}.attn.qkv.weight`,
          shape: [3 * D, D],
          parts: qkv.map((n, j) => ({
            source: `${s}.attention.attention.${n}.weight`,
            sourceShape: [D, D],
            rows: [j * D, (j + 1) * D] as [number, number],
            toCanonical: identity,
          })),
        },
        {
          canonical: `${b}.attn.qkv.bias`,
          shape: [3 * D],
          parts: qkv.map((n, j) => ({
            source: `${s}.attention.attention.${n}.bias`,
            sourceShape: [D],
            rows: [j * D, (j + 1) * D] as [number, number],
            toCanonical: identity,
          })),
        },
        direct(`${b}.attn.proj.weight`, [D, D], `${s}.attention.output.dense.weight`),
        direct(`${b}.attn.proj.bias`, [D], `${s}.attention.output.dense.bias`),
        direct(`${b}.norm2.weight`, [D], `${s}.layernorm_after.weight`),
        direct(`${b}.norm2.bias`, [D], `${s}.layernorm_after.bias`),
        direct(`${b}.mlp.fc1.weight`, [M, D], `${s}.intermediate.dense.weight`),
        direct(`${b}.mlp.fc1.bias`, [M], `${s}.intermediate.dense.bias`),
        direct(`${b}.mlp.fc2.weight`, [D, M], `${s}.output.dense.weight`),
        direct(`${b}.mlp.fc2.bias`, [D], `${s}.output.dense.bias`),
      );
    }
    r.push(direct('norm.weight', [D], `${p}layernorm.weight`), direct('norm.bias', [D], `${p}layernorm.bias`));
    if (opts.preLogits) r.push(direct('pre_logits.fc.weight', [D, D], `${p}pooler.dense.weight`), direct('pre_logits.fc.bias', [D], `${p}pooler.dense.bias`));
    if (opts.head) r.push(direct('head.weight', [cfg.numClasses, D], 'classifier.weight'), direct('head.bias', [cfg.numClasses], 'classifier.bias'));
    return r;
  },

  // mask_token exists only when a ViTModel was built with use_mask_token (masked image modelling).
  isIgnored: (key, prefix) => key === `${prefix}embeddings.mask_token`,
};
