/**
 * Layout detection and the one mapping engine: file tensors -> canonical checkpoint, with
 * every missing key, unexpected key and wrong shape reported at once before any data is read.
 */
import { LabError, clip } from '../../domain/errors';
import { checkConfig, type ViTConfig } from '../../model/config';
import type { AnyTensorArchive } from '../formats/archive';
import { countNonFinite, sameShape, shapeStr } from '../tensor';
import type { CanonicalCheckpoint, CheckpointLayout, HostTensor } from '../types';
import { CheckpointMismatchError, type Problem, type Rule, assemble, expectedShapes } from './common';
import { googleLayout } from './google';
import { hfLayout } from './hf';
import type { LayoutSpec } from './spec';
import { timmLayout } from './timm';

export { expectedShapes } from './common';

export const LAYOUTS: Record<CheckpointLayout, LayoutSpec> = { hf: hfLayout, timm: timmLayout, google: googleLayout };

/** Which layout a file's key names follow. */
export function detectLayout(keys: string[], file = 'checkpoint'): CheckpointLayout {
  // Google first: its keys never look like the others; hf before timm (hf keys are more specific).
  for (const id of ['google', 'hf', 'timm'] as const) if (LAYOUTS[id].detect(keys)) return id;
  const shown = keys
    .slice(0, 8)
    .map((k) => `'${clip(k, 120)}'`)
    .join(', ');
  throw new LabError(
    'checkpoint/unknown-layout',
    `'${clip(file)}' holds ${keys.length} tensor(s) whose names match no known ViT layout (Hugging Face ViTModel, timm, Google .npz): ${shown || 'none'}${keys.length > 8 ? ', ...' : ''}.`,
    'Use a ViT checkpoint from the hub (google/vit-base-patch16-224-in21k or timm/vit_*_patch16_224.augreg_in21k) or a Google ViT .npz.',
  );
}

export interface MapOptions {
  /** Force a layout instead of detecting it from the key names. */
  layout?: CheckpointLayout;
  /** Override (or supply) config fields the file lacks, e.g. `{ numHeads }`. */
  config?: Partial<ViTConfig>;
}

/**
 * What the lab feeds a model: RGB images (3 channels) scaled to [0, 1], then (x - mean) / std. A
 * valid ViT config outside that (one input channel; a std so small the inputs become 1e40 and the
 * first step diverges, which would read as a learning-rate problem) is refused here, naming the
 * field, before any weight is used.
 */
const NORM_RANGE = { std: [1e-3, 1e3], mean: [-1e3, 1e3] } as const;

function checkLabInput(file: string, cfg: ViTConfig): void {
  const bad = (what: string, hint: string) => new LabError('config/invalid', `'${clip(file)}': ${what}.`, hint);
  if (cfg.channels !== 3)
    throw bad(
      `the config says ${cfg.channels} input channel(s) (in_chans / num_channels); the lab feeds RGB images, 3 channels`,
      'Use a ViT checkpoint made for RGB images.',
    );
  for (const key of ['mean', 'std'] as const) {
    const [lo, hi] = NORM_RANGE[key];
    const v = cfg[key].find((x) => !(x >= lo && x <= hi));
    if (v !== undefined)
      throw bad(
        `its normalisation ${key} [${cfg[key].join(', ')}] has ${v}, outside [${lo}, ${hi}]: images would be scaled to meaningless values and training would diverge`,
        `Fix the ${key} in the config metadata (ImageNet models use mean 0.485, 0.456, 0.406 and std 0.229, 0.224, 0.225, others 0.5).`,
      );
  }
}

/** Maps a parsed file to canonical names and shapes, strictly. */
export async function mapToCanonical(archive: AnyTensorArchive, opts: MapOptions = {}): Promise<CanonicalCheckpoint> {
  const keys = archive.keys();
  const layoutId = opts.layout ?? detectLayout(keys, archive.name);
  const spec = LAYOUTS[layoutId];
  const prefix = spec.prefixOf(keys);
  const config: ViTConfig = { ...spec.config(archive, prefix, opts.config ?? {}), ...opts.config };
  try {
    checkConfig(config);
  } catch (e) {
    const bare = e instanceof LabError && e.hint ? e.message.slice(0, -(e.hint.length + 1)) : (e as Error).message;
    throw new LabError('config/invalid', `'${clip(archive.name)}': ${bare}`, 'Check the config metadata of the file or the config you passed.');
  }
  checkLabInput(archive.name, config);
  const canonicalOpts = spec.options(archive, prefix, config);
  const rules = spec.rules(config, canonicalOpts, prefix);

  const problems: Problem[] = [];
  const used = new Set<string>();
  for (const rule of rules) {
    for (const part of rule.parts) {
      used.add(part.source);
      if (!archive.has(part.source)) {
        problems.push({ kind: 'missing', canonical: rule.canonical, source: part.source });
        continue;
      }
      const found = archive.shape(part.source);
      if (!sameShape(found, part.sourceShape))
        problems.push({ kind: 'shape', canonical: rule.canonical, source: part.source, expected: part.sourceShape, found });
    }
  }
  const ignoredKeys: string[] = [];
  for (const k of keys) {
    if (used.has(k)) continue;
    if (spec.isIgnored(k, prefix)) ignoredKeys.push(k);
    else problems.push({ kind: 'unexpected', source: k });
  }
  if (problems.length) throw new CheckpointMismatchError(archive.name, spec.label, problems);

  const expected = expectedShapes(config, canonicalOpts);
  const tensors = new Map<string, HostTensor>();
  const nonFinite: string[] = [];
  for (const rule of rules) {
    const t = await assemble(rule, (k) => archive.read(k));
    const want = expected.get(rule.canonical);
    if (!want || !sameShape(want, t.shape)) {
      throw new Error(`internal: layout ${layoutId} made ${rule.canonical} ${shapeStr(t.shape)}, canonical is ${want ? shapeStr(want) : 'absent'}`);
    }
    const bad = countNonFinite(t.data);
    if (bad.count)
      nonFinite.push(
        `${rule.canonical}${rule.parts.length === 1 && rule.parts[0]!.source !== rule.canonical ? ` (file key '${clip(rule.parts[0]!.source, 120)}')` : ''}: ${bad.count} of ${t.data.length} (${bad.nan} NaN, ${bad.count - bad.nan} infinite)`,
      );
    tensors.set(rule.canonical, t);
  }
  // A NaN or infinite weight makes every output NaN: refuse it at load, not after an epoch.
  if (nonFinite.length) {
    throw new LabError(
      'checkpoint/non-finite',
      `'${clip(archive.name)}' holds weights that are not finite numbers in ${nonFinite.length} tensor(s): ${nonFinite.slice(0, 6).join('; ')}${nonFinite.length > 6 ? '; ...' : ''}.`,
      'The file is damaged or was saved from a run that diverged; use another checkpoint (or the last good one).',
    );
  }
  return { layout: layoutId, config, tensors, ignoredKeys };
}

function rulesForMapping(layout: CheckpointLayout, cfg: ViTConfig, prefix: string): Rule[] {
  return LAYOUTS[layout].rules(cfg, { head: true, preLogits: true }, prefix);
}

function prefixForKey(layout: CheckpointLayout, key: string): string {
  return LAYOUTS[layout].prefixOf([key]);
}

/**
 * Where a file key lands in the canonical checkpoint: e.g. hf
 * `encoder.layer.0.attention.attention.key.weight` -> `blocks.0.attn.qkv.weight` rows [D, 2D).
 * Canonical keys map to themselves. Null for keys that have no canonical place.
 */
export function mapSourceKey(layout: CheckpointLayout, key: string, cfg: ViTConfig): { canonical: string; rows?: [number, number] } | null {
  for (const rule of rulesForMapping(layout, cfg, prefixForKey(layout, key))) {
    for (const part of rule.parts) if (part.source === key) return part.rows ? { canonical: rule.canonical, rows: part.rows } : { canonical: rule.canonical };
  }
  if (expectedShapes(cfg, { head: true, preLogits: true }).has(key) || /^prompts\.\d+$/.test(key)) return { canonical: key };
  return null;
}

/**
 * A file-layout tensor (e.g. a golden gradient keyed by the file's names) turned into canonical
 * orientation, with the rows of the canonical tensor it fills. Null if the key has no place.
 */
export function mapSourceTensor(
  layout: CheckpointLayout,
  key: string,
  tensor: HostTensor,
  cfg: ViTConfig,
): { canonical: string; rows?: [number, number]; tensor: HostTensor } | null {
  for (const rule of rulesForMapping(layout, cfg, prefixForKey(layout, key))) {
    for (const part of rule.parts) {
      if (part.source !== key) continue;
      const t = part.toCanonical(tensor);
      const rowShape = part.rows ? [part.rows[1] - part.rows[0], ...rule.shape.slice(1)] : rule.shape;
      return { canonical: rule.canonical, ...(part.rows ? { rows: part.rows } : {}), tensor: { shape: rowShape, data: t.data } };
    }
  }
  return mapSourceKey(layout, key, cfg) ? { canonical: key, tensor } : null;
}

/** The file keys a canonical key is made of, in row order (without any 'vit.' prefix). */
export function canonicalToSource(layout: CheckpointLayout, canonicalKey: string, cfg: ViTConfig): string[] {
  const rule = rulesForMapping(layout, cfg, '').find((r) => r.canonical === canonicalKey);
  return rule ? rule.parts.map((p) => p.source) : [];
}
