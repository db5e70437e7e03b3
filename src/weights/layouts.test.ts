import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VALIDATORS_FILE, validatorsSource } from './layouts/buildValidators';
import { PRESETS } from '../model/config';
import { readAll } from './formats/archive';
import { openNpz } from './formats/npz';
import { parseSafetensors, writeSafetensors } from './formats/safetensors';
import { canonicalToSource, detectLayout, expectedShapes, mapSourceKey, mapSourceTensor } from './layouts';
import { loadCheckpoint, toCheckpointFile } from './load';
import { HUB_CHECKPOINTS } from './sources';
import type { CanonicalCheckpoint, HostTensor } from './types';
import { editSafetensors, fixture, fixtureJson, maxAbsDiff, readTensors, zeroSafetensors, rejectionOf } from './testutil';

const tiny = PRESETS.fixture_tiny;
const D = 48;

function checkCanonical(c: CanonicalCheckpoint, opts: { head: boolean; preLogits: boolean }) {
  const want = expectedShapes(c.config, opts);
  expect([...c.tensors.keys()]).toEqual([...want.keys()]);
  for (const [k, s] of want) expect(c.tensors.get(k)!.shape, k).toEqual(s);
}

describe('fixtures load to the canonical naming', () => {
  it('hf_tiny_model.safetensors (ViTModel: pooler -> pre_logits, no head)', async () => {
    const c = await loadCheckpoint(fixture('hf_tiny_model.safetensors'), { name: 'hf_tiny_model.safetensors' });
    expect(c.layout).toBe('hf');
    expect(c.config).toEqual({ ...tiny, numClasses: 0, layerNormEps: 1e-12 });
    checkCanonical(c, { head: false, preLogits: true });
    expect(c.ignoredKeys).toEqual([]);
    // qkv rows are q, k, v in that order
    const src = readAll(parseSafetensors(fixture('hf_tiny_model.safetensors'), 'hf'));
    const qkv = c.tensors.get('blocks.1.attn.qkv.weight')!.data;
    const qkvB = c.tensors.get('blocks.1.attn.qkv.bias')!.data;
    ['query', 'key', 'value'].forEach((n, j) => {
      expect(qkv.subarray(j * D * D, (j + 1) * D * D)).toEqual(src.get(`encoder.layer.1.attention.attention.${n}.weight`)!.data);
      expect(qkvB.subarray(j * D, (j + 1) * D)).toEqual(src.get(`encoder.layer.1.attention.attention.${n}.bias`)!.data);
    });
    expect(c.tensors.get('pre_logits.fc.weight')!.data).toEqual(src.get('pooler.dense.weight')!.data);
  });

  it('timm_tiny_model.safetensors', async () => {
    const c = await loadCheckpoint(fixture('timm_tiny_model.safetensors'), { name: 'timm_tiny_model.safetensors' });
    expect(c.layout).toBe('timm');
    expect(c.config).toEqual(tiny);
    checkCanonical(c, { head: true, preLogits: false });
  });

  it('timm_tiny_google.npz maps to exactly the timm tensors', async () => {
    const g = await loadCheckpoint(fixture('timm_tiny_google.npz'), { name: 'timm_tiny_google.npz' });
    const t = await loadCheckpoint(fixture('timm_tiny_model.safetensors'), { name: 'timm_tiny_model.safetensors' });
    expect(g.layout).toBe('google');
    expect(g.config).toEqual(tiny);
    checkCanonical(g, { head: true, preLogits: false });
    expect(maxAbsDiff(g.tensors, t.tensors)).toBe(0);
  });

  it('a forced layout that does not fit fails clearly', async () => {
    const e = await rejectionOf(loadCheckpoint(fixture('timm_tiny_model.safetensors'), { name: 't.safetensors', layout: 'hf' }));
    expect(e.code).toBe('checkpoint/missing-key');
  });

  it('exports reload as timm layout with identical tensors and config', async () => {
    for (const f of ['hf_tiny_model.safetensors', 'timm_tiny_google.npz']) {
      const c = await loadCheckpoint(fixture(f), { name: f });
      const withPrompts = new Map(c.tensors);
      withPrompts.set('prompts.0', { shape: [4, D], data: Float32Array.from({ length: 4 * D }, (_, i) => i / 7) });
      withPrompts.set('prompts.1', { shape: [4, D], data: new Float32Array(4 * D) });
      withPrompts.set('prompts.2', { shape: [4, D], data: new Float32Array(4 * D) });
      const again = await loadCheckpoint(toCheckpointFile({ ...c, tensors: withPrompts }), { name: 'export.safetensors' });
      expect(again.layout).toBe('timm');
      expect(again.config).toEqual(c.config);
      expect(maxAbsDiff(again.tensors, withPrompts)).toBe(0);
      expect([...again.tensors.keys()]).toEqual([
        ...expectedShapes(c.config, { head: c.config.numClasses > 0, preLogits: f.startsWith('hf'), promptLength: 4, promptLayers: 3 }).keys(),
      ]);
    }
  });
});

describe('variants', () => {
  it('vit. prefix with classifier.* (ViTForImageClassification)', async () => {
    const bytes = editSafetensors(fixture('hf_tiny_model.safetensors'), (m) => {
      const out = new Map<string, HostTensor>();
      for (const [k, v] of m) if (!k.startsWith('pooler.')) out.set(`vit.${k}`, v);
      out.set('classifier.weight', { shape: [7, D], data: Float32Array.from({ length: 7 * D }, (_, i) => i) });
      out.set('classifier.bias', { shape: [7], data: new Float32Array(7).fill(0.5) });
      return out;
    });
    const c = await loadCheckpoint(bytes, { name: 'cls.safetensors' });
    expect(c.layout).toBe('hf');
    expect(c.config.numClasses).toBe(7);
    checkCanonical(c, { head: true, preLogits: false });
    expect(c.tensors.get('head.weight')!.data[5]).toBe(5);
    const plain = await loadCheckpoint(fixture('hf_tiny_model.safetensors'), { name: 'hf' });
    expect(c.tensors.get('blocks.2.attn.qkv.weight')!.data).toEqual(plain.tensors.get('blocks.2.attn.qkv.weight')!.data);
  });

  it('mask_token is ignored, not unexpected', async () => {
    const bytes = editSafetensors(
      fixture('hf_tiny_model.safetensors'),
      (m) => void m.set('embeddings.mask_token', { shape: [1, 1, D], data: new Float32Array(D) }),
    );
    expect((await loadCheckpoint(bytes, { name: 'm' })).ignoredKeys).toEqual(['embeddings.mask_token']);
  });

  it('infers the hf config from shapes when metadata is absent (heads need config unless D % 64 == 0)', async () => {
    const bytes = editSafetensors(fixture('hf_tiny_model.safetensors'), (_m, meta) => void delete meta.config);
    const e = await rejectionOf(loadCheckpoint(bytes, { name: 'noconf.safetensors' }));
    expect(e.code).toBe('config/invalid');
    expect(e.message).toMatch(/numHeads/);
    const c = await loadCheckpoint(bytes, { name: 'noconf.safetensors', config: { numHeads: 3 } });
    expect(c.config).toEqual({ ...tiny, numClasses: 0, layerNormEps: 1e-12 });
  });

  it('infers the timm config from shapes when metadata is absent', async () => {
    const bytes = editSafetensors(fixture('timm_tiny_model.safetensors'), (_m, meta) => void delete meta.config);
    expect((await loadCheckpoint(bytes, { name: 't', config: { numHeads: 3 } })).config).toEqual(tiny);
  });
});

describe("a checkpoint's config metadata, checked by the layout's schema", () => {
  it('is checked by what the schemas compile to (after editing them, run `npm run schemas:build`)', () => {
    expect(readFileSync(VALIDATORS_FILE, 'utf8')).toBe(validatorsSource());
  });

  const withConfig = (name: string, edit: (cfg: Record<string, unknown>) => unknown) =>
    editSafetensors(fixture(name), (_m, meta) => {
      const cfg = JSON.parse(meta.config!) as Record<string, unknown>;
      meta.config = JSON.stringify(edit(cfg) ?? cfg);
    });
  const problem = async (bytes: Uint8Array) => {
    const e = await rejectionOf(loadCheckpoint(bytes, { name: 'm.safetensors' }));
    return `${e.code}: ${e.message}`;
  };

  it('names the field, its value and what it must be, or the size that is missing', async () => {
    const timm = 'timm_tiny_model.safetensors',
      hf = 'hf_tiny_model.safetensors';
    expect(await problem(withConfig(timm, (c) => void (c.mean = [0.5, 0.5])))).toBe(
      "config/invalid: 'm.safetensors': the timm config's mean is [0.5,0.5], not 3 finite numbers (one per RGB channel). Pass the model config explicitly (loadCheckpoint option `config`).",
    );
    expect(await problem(withConfig(timm, (c) => void (c.img_size = [64, '64'])))).toContain(
      `the timm config's img_size is [64,"64"], not a number, or a list of numbers (height first)`,
    );
    expect(await problem(withConfig(timm, (c) => void delete c.depth))).toContain(
      "config/invalid: 'm.safetensors': the timm config in the metadata has no 'depth'.",
    );
    expect(await problem(withConfig(hf, (c) => void (c.num_hidden_layers = '3')))).toContain(
      `the transformers config's num_hidden_layers is "3", not a number (the blocks)`,
    );
    expect(await problem(withConfig(hf, (c) => void delete c.intermediate_size))).toContain(
      "the transformers config in the metadata has no 'intermediate_size'",
    );
    expect(await problem(withConfig(hf, () => [48]))).toBe(
      "checkpoint/bad-header: 'm.safetensors': the 'config' metadata is not a JSON object. Remove or fix the config metadata; the loader can infer sizes from the tensor shapes.",
    );
  });

  it("reads only its own layout's config: a transformers config without hidden_size is not one, whatever else it holds", async () => {
    const bytes = withConfig('hf_tiny_model.safetensors', (c) => ({ ...c, hidden_size: undefined, image_size: 'any' }));
    // Without a config the sizes come from the shapes, and 48-wide tokens need their heads named.
    const c = await loadCheckpoint(bytes, { name: 'm', config: { numHeads: 3 } });
    expect(c.config).toEqual({ ...tiny, numClasses: 0, layerNormEps: 1e-12 });
  });
});

describe('strict key and shape checks', () => {
  const hf = () => fixture('hf_tiny_model.safetensors');

  it('missing key names the canonical and the file key', async () => {
    const bytes = editSafetensors(hf(), (m) => void m.delete('encoder.layer.1.layernorm_before.weight'));
    const e = await rejectionOf(loadCheckpoint(bytes, { name: 'missing.safetensors' }));
    expect(e.code).toBe('checkpoint/missing-key');
    expect(e.message).toContain('blocks.1.norm1.weight');
    expect(e.message).toContain('encoder.layer.1.layernorm_before.weight');
    expect(e.message).toContain('missing.safetensors');
  });

  it('missing q of a qkv', async () => {
    const bytes = editSafetensors(hf(), (m) => void m.delete('encoder.layer.2.attention.attention.value.bias'));
    const e = await rejectionOf(loadCheckpoint(bytes, { name: 'm' }));
    expect(e.code).toBe('checkpoint/missing-key');
    expect(e.message).toContain('blocks.2.attn.qkv.bias');
    expect(e.message).toContain('encoder.layer.2.attention.attention.value.bias');
  });

  it('unexpected key', async () => {
    const bytes = editSafetensors(hf(), (m) => void m.set('encoder.layer.0.attention.attention.rotary.weight', { shape: [2], data: new Float32Array(2) }));
    const e = await rejectionOf(loadCheckpoint(bytes, { name: 'extra.safetensors' }));
    expect(e.code).toBe('checkpoint/unexpected-key');
    expect(e.message).toContain('encoder.layer.0.attention.attention.rotary.weight');
  });

  it('shape mismatch says expected and found', async () => {
    const bytes = editSafetensors(hf(), (m) => void m.set('encoder.layer.0.intermediate.dense.weight', { shape: [95, D], data: new Float32Array(95 * D) }));
    const e = await rejectionOf(loadCheckpoint(bytes, { name: 'shape.safetensors' }));
    expect(e.code).toBe('checkpoint/shape-mismatch');
    expect(e.message).toContain('blocks.0.mlp.fc1.weight');
    expect(e.message).toContain('encoder.layer.0.intermediate.dense.weight');
    expect(e.message).toContain('expected [96,48] found [95,48]');
  });

  it('shape mismatch in a Google kernel and a timm head', async () => {
    const e = await rejectionOf(loadCheckpoint(fixture('timm_tiny_google.npz'), { name: 'g.npz', config: { numHeads: 6 } }));
    expect(e.code).toBe('checkpoint/shape-mismatch');
    expect(e.message).toContain('expected [48,6,8] found [48,3,16]');
    expect(e.message).toContain('MultiHeadDotProductAttention_1/query/kernel');
    const t = editSafetensors(fixture('timm_tiny_model.safetensors'), (m) => void m.set('head.bias', { shape: [4], data: new Float32Array(4) }));
    const e2 = await rejectionOf(loadCheckpoint(t, { name: 't' }));
    expect(e2.code).toBe('checkpoint/shape-mismatch');
    expect(e2.message).toContain("'head.bias' expected [5] found [4]");
  });

  it('unknown layout lists keys', async () => {
    const bytes = writeSafetensors(new Map([['model.layers.0.weight', { shape: [1], data: new Float32Array(1) }]]));
    const e = await rejectionOf(loadCheckpoint(bytes, { name: 'llm.safetensors' }));
    expect(e.code).toBe('checkpoint/unknown-layout');
    expect(e.message).toContain('model.layers.0.weight');
    expect(() => detectLayout([])).toThrow();
  });
});

describe('gradient key mapping', () => {
  it('maps every hf golden gradient to canonical rows of the right size', async () => {
    const golden = readTensors(fixture('hf_tiny_golden.safetensors')).tensors;
    const cfg = { ...tiny, numClasses: 5, layerNormEps: 1e-12 };
    const shapes = expectedShapes(cfg, { head: true, preLogits: true });
    let n = 0;
    for (const [k, g] of golden) {
      if (!k.startsWith('grad/')) continue;
      const m = mapSourceKey('hf', k.slice(5), cfg);
      expect(m, k).not.toBeNull();
      const full = shapes.get(m!.canonical)!;
      const rowSize = full.slice(1).reduce((a, b) => a * b, 1);
      const rows = m!.rows ?? [0, full[0]];
      expect(g.data.length, k).toBe((rows[1] - rows[0]) * rowSize);
      n++;
    }
    expect(n).toBeGreaterThan(40);
    expect(mapSourceKey('hf', 'encoder.layer.0.attention.attention.key.weight', cfg)).toEqual({ canonical: 'blocks.0.attn.qkv.weight', rows: [48, 96] });
    expect(mapSourceKey('hf', 'vit.encoder.layer.2.attention.attention.value.bias', cfg)).toEqual({ canonical: 'blocks.2.attn.qkv.bias', rows: [96, 144] });
    expect(mapSourceKey('hf', 'pooler.dense.weight', cfg)).toEqual({ canonical: 'pre_logits.fc.weight' });
    expect(mapSourceKey('hf', 'head.weight', cfg)).toEqual({ canonical: 'head.weight' });
    expect(mapSourceKey('timm', 'blocks.0.attn.qkv.weight', cfg)).toEqual({ canonical: 'blocks.0.attn.qkv.weight' });
    expect(mapSourceKey('hf', 'nonsense', cfg)).toBeNull();
    expect(canonicalToSource('hf', 'blocks.1.attn.qkv.bias', cfg)).toEqual(
      ['query', 'key', 'value'].map((n) => `encoder.layer.1.attention.attention.${n}.bias`),
    );
  });

  it('mapSourceTensor transforms Google tensors like the loader', async () => {
    const npz = fixture('timm_tiny_google.npz');
    const c = await loadCheckpoint(npz, { name: 'g' });
    const key = 'Transformer/encoderblock_1/MultiHeadDotProductAttention_1/key/kernel';
    const src = readAll(parseSafetensors(toCheckpointFile(c), 'x')); // just to have a reader handy
    expect(src.size).toBe(c.tensors.size);
    const k = await (await openNpz(npz, 'g')).read(key);
    const m = mapSourceTensor('google', key, k, c.config)!;
    expect(m.canonical).toBe('blocks.1.attn.qkv.weight');
    expect(m.rows).toEqual([48, 96]);
    expect(m.tensor.shape).toEqual([48, 48]);
    expect(m.tensor.data).toEqual(c.tensors.get('blocks.1.attn.qkv.weight')!.data.subarray(48 * 48, 96 * 48));
  });
});

type Manifests = Record<string, Record<string, number[]> | string | Record<string, unknown>>;

describe('full-size ViT-B/16 layouts from the manifests (zero-filled, ~350-410 MB each)', () => {
  const manifests = fixtureJson<Manifests>('vit_b16_manifests.json');
  const hubShapes = manifests['hub ViTModel (google/vit-base-patch16-224-in21k)'] as Record<string, number[]>;
  const timmShapes = manifests['timm vit_base_patch16_224.augreg_in21k'] as Record<string, number[]>;
  const count = (s: Record<string, number[]>) => Object.values(s).reduce((a, v) => a + v.reduce((x, y) => x * y, 1), 0);
  const countCk = (c: CanonicalCheckpoint) => [...c.tensors.values()].reduce((a, t) => a + t.data.length, 0);

  it('hub ViTModel: 200 tensors, 86.4M parameters, eps 1e-12 (inferred and from config)', async () => {
    expect(Object.keys(hubShapes).length).toBe(200);
    const params = count(hubShapes);
    expect(params).toBe(86_389_248);
    for (const metadata of [undefined, { config: JSON.stringify(manifests['hub ViTModel config']) }]) {
      let bytes: Uint8Array | undefined = zeroSafetensors(hubShapes, metadata);
      const c = await loadCheckpoint(bytes, { name: 'model.safetensors' });
      bytes = undefined;
      expect(c.layout).toBe('hf');
      expect(c.config).toEqual({ ...PRESETS.vit_b16, numClasses: 0, layerNormEps: 1e-12 });
      expect(c.tensors.size).toBe(4 + 12 * 12 + 2 + 2);
      expect(countCk(c)).toBe(params);
      checkCanonical(c, { head: false, preLogits: true });
      c.tensors.clear();
    }
    expect(HUB_CHECKPOINTS[0].approxBytes).toBe(params * 4);
  });

  it('timm augreg_in21k: 152 tensors, 21843-class head, eps 1e-6', async () => {
    expect(Object.keys(timmShapes).length).toBe(152);
    const params = count(timmShapes);
    let bytes: Uint8Array | undefined = zeroSafetensors(timmShapes, { format: 'pt' });
    const c = await loadCheckpoint(bytes, { name: 'model.safetensors' });
    bytes = undefined;
    expect(c.layout).toBe('timm');
    expect(c.config).toEqual(PRESETS.vit_b16);
    expect(countCk(c)).toBe(params);
    checkCanonical(c, { head: true, preLogits: false });
    c.tensors.clear();
    expect(HUB_CHECKPOINTS.find((h) => h.id.includes('vit_base'))!.approxBytes).toBe(params * 4);
  });
});
