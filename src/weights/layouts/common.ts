/**
 * The canonical naming (timm names and shapes) and the machinery every layout shares: a layout
 * is a list of rules "canonical key <- source key(s) + transform", built from the config, so
 * key checks, shape checks and gradient mapping all read the same table.
 */
import { LabError, clip } from '../../domain/errors';
import type { ViTConfig } from '../../model/config';
import { numTokens } from '../../model/config';
import type { HostTensor } from '../types';
import { numel, shapeStr } from '../tensor';
import { fieldOf, type Validator } from '../../data/schema';

export interface CanonicalOptions {
  /** Include `head.*` (default: cfg.numClasses > 0). */
  head?: boolean;
  /** Include the representation layer `pre_logits.fc.*` (hub pooler / Google pre_logits). */
  preLogits?: boolean;
  /** Prompt tokens per layer (0 = none). */
  promptLength?: number;
  /** How many `prompts.{i}` tensors: 1 for VPT-shallow, numLayers for VPT-deep (default 1). */
  promptLayers?: number;
}

/** Every canonical key and its shape, in canonical order. */
export function expectedShapes(cfg: ViTConfig, opts: CanonicalOptions = {}): Map<string, number[]> {
  const D = cfg.hiddenSize,
    M = cfg.mlpDim,
    P = cfg.patchSize,
    C = cfg.channels;
  const m = new Map<string, number[]>();
  m.set('cls_token', [1, 1, D]);
  m.set('pos_embed', [1, numTokens(cfg), D]);
  m.set('patch_embed.proj.weight', [D, C, P, P]);
  m.set('patch_embed.proj.bias', [D]);
  for (let i = 0; i < cfg.numLayers; i++) {
    const b = `blocks.${i}`;
    m.set(`${b}.norm1.weight`, [D]);
    m.set(`${b}.norm1.bias`, [D]);
    m.set(`${b}.attn.qkv.weight`, [3 * D, D]);
    m.set(`${b}.attn.qkv.bias`, [3 * D]);
    m.set(`${b}.attn.proj.weight`, [D, D]);
    m.set(`${b}.attn.proj.bias`, [D]);
    m.set(`${b}.norm2.weight`, [D]);
    m.set(`${b}.norm2.bias`, [D]);
    m.set(`${b}.mlp.fc1.weight`, [M, D]);
    m.set(`${b}.mlp.fc1.bias`, [M]);
    m.set(`${b}.mlp.fc2.weight`, [D, M]);
    m.set(`${b}.mlp.fc2.bias`, [D]);
  }
  m.set('norm.weight', [D]);
  m.set('norm.bias', [D]);
  if (opts.preLogits) {
    m.set('pre_logits.fc.weight', [D, D]);
    m.set('pre_logits.fc.bias', [D]);
  }
  if (opts.head ?? cfg.numClasses > 0) {
    m.set('head.weight', [cfg.numClasses, D]);
    m.set('head.bias', [cfg.numClasses]);
  }
  const promptLength = opts.promptLength ?? 0;
  if (promptLength > 0) {
    for (let i = 0; i < (opts.promptLayers ?? 1); i++) m.set(`prompts.${i}`, [promptLength, D]);
  }
  return m;
}

/** One source tensor feeding (part of) a canonical tensor. */
export interface RulePart {
  /** Key in the checkpoint file. */
  source: string;
  /** Shape the file must hold. */
  sourceShape: number[];
  /** Rows [begin, end) of the canonical tensor this part fills (first axis); whole tensor if absent. */
  rows?: [number, number];
  /** Source tensor -> canonical orientation (shape = canonical shape restricted to `rows`). */
  toCanonical: (t: HostTensor) => HostTensor;
}

export interface Rule {
  canonical: string;
  shape: number[];
  parts: RulePart[];
}

export const identity = (t: HostTensor): HostTensor => t;
export const reshapeTo =
  (shape: number[]) =>
  (t: HostTensor): HostTensor => ({ shape, data: t.data });

/** A rule with a single source and no transform. */
export function direct(canonical: string, shape: number[], source: string): Rule {
  return { canonical, shape, parts: [{ source, sourceShape: shape, toCanonical: identity }] };
}

/** Fills one canonical tensor from its parts (read one at a time: a lazy archive inflates each on demand). */
export async function assemble(rule: Rule, read: (key: string) => HostTensor | Promise<HostTensor>): Promise<HostTensor> {
  if (rule.parts.length === 1 && !rule.parts[0].rows) {
    const t = rule.parts[0].toCanonical(await read(rule.parts[0].source));
    return { shape: [...rule.shape], data: t.data };
  }
  const rowSize = numel(rule.shape.slice(1));
  const data = new Float32Array(numel(rule.shape));
  for (const part of rule.parts) {
    const t = part.toCanonical(await read(part.source));
    const [r0] = part.rows ?? [0, rule.shape[0]];
    data.set(t.data, r0 * rowSize);
  }
  return { shape: [...rule.shape], data };
}

export interface Problem {
  kind: 'missing' | 'unexpected' | 'shape';
  /** Canonical key (absent for unexpected keys). */
  canonical?: string;
  /** Key in the file. */
  source: string;
  expected?: number[];
  found?: number[];
}

/** A key/shape mismatch between a file and the model it should fill; lists every problem. */
export class CheckpointMismatchError extends LabError {
  readonly problems: Problem[];
  constructor(file: string, layout: string, problems: Problem[]) {
    const missing = problems.filter((p) => p.kind === 'missing');
    const shapes = problems.filter((p) => p.kind === 'shape');
    const unexpected = problems.filter((p) => p.kind === 'unexpected');
    const code = missing.length ? 'checkpoint/missing-key' : shapes.length ? 'checkpoint/shape-mismatch' : 'checkpoint/unexpected-key';
    const name = (p: Problem) => (p.canonical && p.canonical !== p.source ? `${p.canonical} (file key '${clip(p.source, 120)}')` : `'${clip(p.source, 120)}'`);
    const list = (ps: Problem[], f: (p: Problem) => string) => {
      const shown = ps.slice(0, 24).map(f).join('; ');
      return ps.length > 24 ? `${shown}; and ${ps.length - 24} more` : shown;
    };
    const parts: string[] = [];
    if (missing.length) parts.push(`${missing.length} missing key(s): ${list(missing, name)}`);
    if (shapes.length)
      parts.push(
        `${shapes.length} shape mismatch(es): ${list(shapes, (p) => `${name(p)} expected ${shapeStr(p.expected ?? [])} found ${shapeStr(p.found ?? [])}`)}`,
      );
    if (unexpected.length) parts.push(`${unexpected.length} unexpected key(s): ${list(unexpected, name)}`);
    super(
      code,
      `'${clip(file)}' does not match the ${layout} ViT layout: ${parts.join('. ')}.`,
      'Check that the file is a ViT checkpoint of the chosen size (the config it carries or that was inferred), not a different architecture or a partial save.',
    );
    this.name = 'CheckpointMismatchError';
    this.problems = problems;
  }
}

export function configError(file: string, what: string, hint = 'Pass the model config explicitly (loadCheckpoint option `config`).'): LabError {
  return new LabError('config/invalid', `'${clip(file)}': ${what}.`, hint);
}

/** Heads when the checkpoint carries no config: every published ViT uses 64-dim heads. */
export function inferHeads(file: string, hiddenSize: number): number {
  if (hiddenSize % 64 === 0) return hiddenSize / 64;
  throw configError(
    file,
    `cannot infer the number of attention heads for hidden size ${hiddenSize} (not a multiple of 64) and the file carries no config`,
    'Pass `config: { numHeads }` to loadCheckpoint, or use a file with config metadata.',
  );
}

/**
 * A config read off the tensor shapes alone (for files without config metadata), from the shapes
 * of cls_token, the patch projection [D, C, p, p], pos_embed and the first fc1 weight [M, D].
 */
export function configFromShapes(
  file: string,
  s: { cls: number[]; proj: number[]; pos: number[]; fc1: number[] },
  o: { numLayers: number; numClasses: number; layerNormEps: number; numHeads?: number },
): ViTConfig {
  const D = s.cls[s.cls.length - 1];
  const half: [number, number, number] = [0.5, 0.5, 0.5];
  return {
    imageSize: inferImageSize(file, s.pos[1], s.proj[2]),
    patchSize: s.proj[2],
    channels: s.proj[1],
    hiddenSize: D,
    numLayers: o.numLayers,
    numHeads: o.numHeads ?? inferHeads(file, D),
    mlpDim: s.fc1[0],
    numClasses: o.numClasses,
    layerNormEps: o.layerNormEps,
    mean: half,
    std: half,
  };
}

/** Image side from the position embedding's token count (CLS + g*g patches). */
export function inferImageSize(file: string, tokens: number, patchSize: number): number {
  const g = Math.round(Math.sqrt(tokens - 1));
  if (g * g !== tokens - 1) throw configError(file, `position embedding has ${tokens} tokens, not 1 + a square number of patches`);
  return g * patchSize;
}

/** A layout's config schema (hfConfig.schema.json, timmConfig.schema.json): each field it reads, described. */
interface ConfigSchema {
  then: { properties: Record<string, { description: string }> };
}

/** A layout's config schema and its validator, compiled ahead of time (configValidators.gen.ts). */
export interface ConfigCheck {
  schema: ConfigSchema;
  validate: Validator;
}

/**
 * The reader of a layout's config from a checkpoint's 'config' metadata, checked by the layout's
 * schema: undefined when there is none; a named error when it is not a JSON object, lacks a size
 * the layout needs, or holds a field that is not what the schema says (naming the field, its
 * value and what it must be). `label` names the config in messages ("timm", "transformers").
 */
export function configReader<T>({ schema, validate }: ConfigCheck, label: string): (file: string, text: string | undefined) => T | undefined {
  return (file, text) => {
    if (text === undefined) return undefined;
    const notAnObject = () =>
      new LabError(
        'checkpoint/bad-header',
        `'${clip(file)}': the 'config' metadata is not a JSON object.`,
        'Remove or fix the config metadata; the loader can infer sizes from the tensor shapes.',
      );
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw notAnObject();
    }
    if (validate(v)) return v as T;
    const e = validate.errors![0];
    if (e.instancePath === '' && e.keyword === 'type') throw notAnObject();
    const missing = (e.params as { missingProperty?: string }).missingProperty;
    if (missing !== undefined) throw configError(file, `the ${label} config in the metadata has no '${missing}'`);
    const field = fieldOf(e);
    const value = (v as Record<string, unknown>)[field];
    throw configError(
      file,
      `the ${label} config's ${clip(field, 40)} is ${clip(JSON.stringify(value) ?? String(value), 80)}, not ${schema.then.properties[field]?.description ?? 'what the layout reads'}`,
    );
  };
}
