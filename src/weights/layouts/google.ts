/**
 * The original Google ViT .npz layout (big_vision / vit_jax; what the VPT reference code loads):
 * Flax kernels are [in, out] and attention kernels keep a heads axis, so most tensors need a
 * reshape and a transpose. The explicit transpose list is this file's rules table.
 */
import type { ViTConfig } from '../../model/config';
import type { TensorArchive } from '../formats/archive';
import { permute } from '../tensor';
import type { HostTensor } from '../types';
import { type CanonicalOptions, type Rule, direct, inferImageSize, reshapeTo } from './common';
import { blockCount, needShape, type LayoutSpec } from './spec';

const LABEL = 'Google ViT .npz';

/** Flax Dense kernel [in, out] -> [out, in]. */
const dense = (t: HostTensor): HostTensor => permute(t, [1, 0]);
/** Patch embedding HWIO [p, p, C, D] -> OIHW [D, C, p, p]. */
const hwioToOihw = (t: HostTensor): HostTensor => permute(t, [3, 2, 0, 1]);
/** q/k/v kernel [D, H, hd] -> [D, D] (in, out) -> [out, in]. */
const headsIn =
  (D: number) =>
  (t: HostTensor): HostTensor =>
    permute({ shape: [D, D], data: t.data }, [1, 0]);
/** out kernel [H, hd, D] -> [D, D] (in, out) -> [out, in]. */
const headsOut = headsIn;

export const googleLayout: LayoutSpec = {
  id: 'google',
  label: LABEL,
  detect: (keys) => keys.some((k) => /(^|\/)(Transformer\/encoderblock_\d+\/|Transformer\/posembed_input\/|embedding\/kernel$)/.test(k)),
  prefixOf: (keys) => {
    const k = keys.find((x) => x.endsWith('Transformer/encoder_norm/scale') || x.endsWith('embedding/kernel'));
    if (!k) return '';
    return k.slice(0, k.length - (k.endsWith('embedding/kernel') ? 'embedding/kernel' : 'Transformer/encoder_norm/scale').length);
  },

  config(archive: TensorArchive, p: string): ViTConfig {
    const emb = needShape(archive, `${p}embedding/kernel`, 'patch_embed.proj.weight', LABEL); // [p, p, C, D]
    const pos = needShape(archive, `${p}Transformer/posembed_input/pos_embedding`, 'pos_embed', LABEL); // [1, T, D]
    const q = needShape(archive, `${p}Transformer/encoderblock_0/MultiHeadDotProductAttention_1/query/kernel`, 'blocks.0.attn.qkv.weight', LABEL); // [D, H, hd]
    const fc1 = needShape(archive, `${p}Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel`, 'blocks.0.mlp.fc1.weight', LABEL); // [D, M]
    const head = archive.has(`${p}head/kernel`) ? archive.shape(`${p}head/kernel`) : undefined; // [D, K]
    const half: [number, number, number] = [0.5, 0.5, 0.5];
    return {
      imageSize: inferImageSize(archive.name, pos[1], emb[0]),
      patchSize: emb[0],
      channels: emb[2],
      hiddenSize: emb[3],
      numLayers: blockCount(archive.keys(), /Transformer\/encoderblock_(\d+)\//),
      numHeads: q[1],
      mlpDim: fc1[1],
      numClasses: head ? head[1] : 0,
      layerNormEps: 1e-6,
      mean: half,
      std: half,
    };
  },

  options: (archive, p) => ({
    head: archive.has(`${p}head/kernel`) || archive.has(`${p}head/bias`),
    preLogits: archive.has(`${p}pre_logits/kernel`) || archive.has(`${p}pre_logits/bias`),
  }),

  rules(cfg: ViTConfig, opts: CanonicalOptions, p: string): Rule[] {
    const D = cfg.hiddenSize,
      M = cfg.mlpDim,
      P = cfg.patchSize,
      C = cfg.channels,
      H = cfg.numHeads,
      hd = D / H,
      K = cfg.numClasses;
    const T = 1 + (cfg.imageSize / P) ** 2;
    const one = (canonical: string, shape: number[], source: string, sourceShape: number[], toCanonical: (t: HostTensor) => HostTensor): Rule => ({
      canonical,
      shape,
      parts: [{ source, sourceShape, toCanonical }],
    });
    const r: Rule[] = [
      direct('cls_token', [1, 1, D], `${p}cls`),
      direct('pos_embed', [1, T, D], `${p}Transformer/posembed_input/pos_embedding`),
      one('patch_embed.proj.weight', [D, C, P, P], `${p}embedding/kernel`, [P, P, C, D], hwioToOihw),
      direct('patch_embed.proj.bias', [D], `${p}embedding/bias`),
    ];
    for (let i = 0; i < cfg.numLayers; i++) {
      const s = `${p}Transformer/encoderblock_${i}`,
        b = `blocks.${i}`,
        a = `${s}/MultiHeadDotProductAttention_1`;
      const qkv = ['query', 'key', 'value'];
      r.push(
        direct(`${b}.norm1.weight`, [D], `${s}/LayerNorm_0/scale`),
        direct(`${b}.norm1.bias`, [D], `${s}/LayerNorm_0/bias`),
        {
          canonical: `${b}.attn.qkv.weight`,
          shape: [3 * D, D],
          parts: qkv.map((n, j) => ({
            source: `${a}/${n}/kernel`,
            sourceShape: [D, H, hd],
            rows: [j * D, (j + 1) * D] as [number, number],
            toCanonical: headsIn(D),
          })),
        },
        {
          canonical: `${b}.attn.qkv.bias`,
          shape: [3 * D],
          parts: qkv.map((n, j) => ({
            source: `${a}/${n}/bias`,
            sourceShape: [H, hd],
            rows: [j * D, (j + 1) * D] as [number, number],
            toCanonical: reshapeTo([D]),
          })),
        },
        one(`${b}.attn.proj.weight`, [D, D], `${a}/out/kernel`, [H, hd, D], headsOut(D)),
        direct(`${b}.attn.proj.bias`, [D], `${a}/out/bias`),
        direct(`${b}.norm2.weight`, [D], `${s}/LayerNorm_2/scale`),
        direct(`${b}.norm2.bias`, [D], `${s}/LayerNorm_2/bias`),
        one(`${b}.mlp.fc1.weight`, [M, D], `${s}/MlpBlock_3/Dense_0/kernel`, [D, M], dense),
        direct(`${b}.mlp.fc1.bias`, [M], `${s}/MlpBlock_3/Dense_0/bias`),
        one(`${b}.mlp.fc2.weight`, [D, M], `${s}/MlpBlock_3/Dense_1/kernel`, [M, D], dense),
        direct(`${b}.mlp.fc2.bias`, [D], `${s}/MlpBlock_3/Dense_1/bias`),
      );
    }
    r.push(direct('norm.weight', [D], `${p}Transformer/encoder_norm/scale`), direct('norm.bias', [D], `${p}Transformer/encoder_norm/bias`));
    if (opts.preLogits)
      r.push(one('pre_logits.fc.weight', [D, D], `${p}pre_logits/kernel`, [D, D], dense), direct('pre_logits.fc.bias', [D], `${p}pre_logits/bias`));
    if (opts.head) r.push(one('head.weight', [K, D], `${p}head/kernel`, [D, K], dense), direct('head.bias', [K], `${p}head/bias`));
    return r;
  },

  isIgnored: () => false,
};
