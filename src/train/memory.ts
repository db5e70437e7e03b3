/**
 * The memory planner: how many bytes a training step will need, decided before any is spent, and
 * the largest micro-batch that fits the backend's budget. Pure arithmetic (no tensors).
 *
 * A step's peak is the sum of
 *   - parameters (every weight, once; a trained weight twice: the loaded backbone stays intact
 *     for the next run while its variable is updated),
 *   - gradients (one per trained value) and, with accumulation, their running sum,
 *   - optimizer slots (SGD momentum: 1, AdamW: 2 per trained value),
 *   - activations the backward pass keeps, per image and layer:
 *       kept = (a·T·D + b·T·M + c·H·T²) floats, T tokens, D width, M MLP width, H heads,
 *     plus the prompts' tokens and the block in flight (the backward pass frees what it has used
 *     as it goes, model/gradients.ts, so the peak is where it starts),
 *   - on WASM, XNNPACK's packed copy of each weight a product uses, and the allocator's slack.
 * With recomputation (activation checkpointing) only each block's input is kept, [T, D] per image
 * and layer, and one block's activations exist at a time, rebuilt during the backward pass.
 * A phase that trains only the head (the linear probe) keeps no backbone activation at all: the
 * step computes the pooled features off the gradient tape (train/step.ts), so its peak is a
 * forward pass (as `estimateForward`) plus the head's gradients and optimizer slots.
 *
 * The coefficients below are counted from the model code and checked against the buffer-level
 * probe (`npm run bench -- --memory`, src/bench/memprobe.ts) by `memory.test.ts` on several
 * shapes: the estimate must stay within 1.5x of the measured peak and never fall more than 10 %
 * below it.
 */
import { LabError } from '../domain/errors';
import type { ViTConfig } from '../model/config';
import type { Phase } from './methods';
import { promptLayers } from './methods';

/** The sizes the planner needs: a model's shape without its head or weights. */
export type ModelDims = Pick<ViTConfig, 'imageSize' | 'patchSize' | 'channels' | 'hiddenSize' | 'numLayers' | 'numHeads' | 'mlpDim'>;

export type BackendKind = 'wasm' | 'webgpu' | 'webgl' | 'cpu';

export interface StepShape {
  dims: ModelDims;
  numClasses: number;
  /** Prompt tokens inserted (0 without prompts). */
  promptLength: number;
  /** Every backbone weight trains (FT, mixed): weight gradients and their inputs are kept. */
  trainsBackbone: boolean;
  /** Only the head trains (linear probe): the backbone runs off the gradient tape, nothing of it is kept. */
  trainsOnlyHead: boolean;
  /** Values the optimizer updates, and values held in all. */
  trainableParams: number;
  totalParams: number;
  /** Optimizer state per trained value: 0 (plain SGD), 1 (SGD momentum), 2 (AdamW). */
  optimizerSlots: number;
  /**
   * A trained backbone weight also lives on as the loaded tensor (and, on WASM, its packing):
   * true unless the trainer was handed the backbone (TrainOptions.consumeBackbone). Default true.
   */
  backboneCopy?: boolean;
}

export interface MemoryPart {
  name: string;
  bytes: number;
}

export interface MemoryEstimate {
  /** Highest live tensor bytes during the step. */
  tensorBytes: number;
  /** What the backend has to hold: tensors plus (WASM) packed weights and allocator slack. */
  totalBytes: number;
  /** The largest single buffer (WebGPU's maxBufferSize / maxStorageBufferBindingSize apply). */
  largestBufferBytes: number;
  parts: MemoryPart[];
}

export interface MemoryBudget {
  backend: BackendKind;
  /** Bytes the step may use in all. */
  bytes: number;
  /** Largest single buffer allowed, if the backend has such a limit. */
  maxBufferBytes?: number;
  /** Where the budget comes from, in words (for notices and errors). */
  source: string;
}

const F32 = 4;
const GiB = 2 ** 30;

/**
 * What a layer keeps per image for the backward pass, in floats, as a·T·D + b·T·M + c·H·T²: the
 * tensors its kernels save (the backward pass frees each as soon as it has used it, and each
 * intermediate's gradient as soon as it has been passed on: model/gradients.ts, as PyTorch does).
 * Counted from the model code (src/model/vit.ts with the engine's LayerNorm, GELU and attention):
 *   frozen weights (VPT): LayerNorm 1 and 2 keep x̂ (2·T·D), attention q, k, v (3·T·D) and the
 *     probabilities (H·T²), GELU its input (T·M);
 *   trained weights (FT) also keep each product's input: qkv's, proj's and fc1's (3·T·D) and fc2's
 *     (the GELU's output, T·M).
 * Measured with the buffer-level probe on WASM (`npm run bench -- --memory`; per-layer slopes over
 * 2 and 4 layers at T 17–247, D 128–384, M 512–1536, H 2–6, less the layer's parameters): FT
 * 35 394 floats per image and layer counted, 35 428 measured (the bundled-size model), 161 100
 * against 161 200 (ViT-Ti/16, 112 px), 721 611 against 722 005 (224 px); VPT-deep 0.2–0.5·T·D
 * above the count (the prompt splice's temporaries; `PROMPT_KEEP` holds the prompts' own), so the
 * coefficients carry half a T·D over the count. The block in flight holds its own temporaries
 * (forward) or its gradients (backward) on top: one block more than the layers. Recomputed, a
 * layer keeps its block's input (T·D) and the splice's temporaries (FT's peak is then its weight
 * gradients, counted apart).
 */
export interface LayerCoefficients {
  /** Without recomputation: kept per layer and image. */
  keep: [td: number, tm: number, ht2: number];
  /** With recomputation: per layer and image, in T·D units (each block's input). */
  recomputed: number;
}

export const LAYER_COEFFICIENTS: Record<'train' | 'frozen', LayerCoefficients> = {
  train: { keep: [8.5, 2, 1], recomputed: 1.5 },
  frozen: { keep: [5.5, 1, 1], recomputed: 1.5 },
};
/**
 * Prompt tokens keep, per layer and image, P·D floats this many times: the prompts repeated for the
 * batch and their dropout mask (the dropout's product saves both), and the dropped copy while the
 * next block is built. Counted for every layer (deep prompts; shallow ones have fewer).
 */
const PROMPT_KEEP = 3;
/**
 * The attention of the block in flight holds several [H, T, T] maps at once: scores and
 * probabilities in the forward pass; dP, dS, the transposed P and dS and the softmax-gradient
 * products in the backward pass (measured 7.5 at T = 1029 with tfjs' ops). The WASM kernels hold
 * P, dP and dS: one-pass softmax gradient, products that read P and dS transposed in place
 * (src/kernels/wasm/attention.ts). Checked on the tiny ViT at 1024 px, FT at batch 8, where this
 * lets the step run without recomputation: 2.65 GiB planned, heap high-water 2.77 GiB. Per image,
 * in H·T² floats.
 */
const ATTENTION_IN_FLIGHT: Record<BackendKind, number> = { wasm: 3, webgpu: 7.5, webgl: 7.5, cpu: 7.5 };
/**
 * A forward pass off the gradient tape holds, per image, the block in flight's input ([T, D]; the
 * previous block's input is disposed once the block has run) and its temporaries, which its scope
 * frees when it returns: a·T·D + b·T·M + c·H·T² floats (qkv and its head-split copies, the
 * attention maps, the MLP's hidden layer and its GELU). Checked with the buffer-level probe on
 * WASM by the linear-probe cases of memory.test.ts (ViT-Ti/16 at 224 px, the bundled-size model).
 */
const FORWARD_IN_FLIGHT: [td: number, tm: number, ht2: number] = [22, 2, 3];
/** Per image outside the blocks: the pixels, the patch matrix and its transposed copy (× C·S²). */
const EMBED_PER_PIXEL = 3;
/** An optimizer update holds about this many copies of the parameter it updates (optimizer.ts). */
const UPDATE_COPIES = 8;
/**
 * WASM: XNNPACK packs the right operand of every product (each linear weight) into its own copy,
 * kept while that weight's buffer lives. Trained weights are packed twice: the loaded backbone's
 * buffer keeps the first step's packing, and the variable's current value has its own.
 */
const WASM_PACKED_COPIES = { train: 2, frozen: 1 };
/**
 * WASM: heap over live bytes (allocator fragmentation, the heap's 20 % growth steps, XNNPACK's
 * packing of transposed weights and of gradients in the backward pass): measured 1.17–1.42 with
 * trained weights, 1.01–1.27 frozen (high-water less the runtime, over tensor peak plus packed).
 */
const WASM_SLACK = { train: 1.3, frozen: 1.2 };
/**
 * WASM: a long sequence's attention maps are single buffers of hundreds of MB ([B, H, T, T]); the
 * allocator cannot always reuse a freed one in place, and the heap grows by at least the request.
 * Measured at T = 4 101 (the fixture's tiny ViT at 1024 px, maps of 201 MB): the heap beyond
 * slack × live bytes was 3.8 of the largest buffer for a forward pass, 2.1 for a training step
 * (recomputed; the backward pass frees each map as soon as it is used). Negligible at 224 px (a
 * ViT-B/16 map at batch 2 is 3.7 MB).
 */
const WASM_FRAGMENTATION_BUFFERS = { forward: 4, step: 2.5 };
/** WASM: what the runtime holds before any tensor (stack, static data, XNNPACK). */
const WASM_RUNTIME_BYTES = 2 * 2 ** 20;
/** WASM: the heap starts at 16 MiB (and grows in steps of 20 %, at most 96 MiB, when it must). */
const WASM_INITIAL_HEAP = 16 * 2 ** 20;

/** WebAssembly's 4 GiB, less headroom for the runtime's own allocations and JS-side copies. */
export const WASM_BUDGET_BYTES = 4 * GiB - 512 * 2 ** 20;

/** Every parameter a phase holds, by canonical name, with its size (from the config alone). */
export function parameterSizes(dims: ModelDims, numClasses: number, promptLength: number, numPromptLayers: number): Map<string, number> {
  const { hiddenSize: D, mlpDim: M, patchSize: p, channels: C, numLayers: L } = dims;
  const g = Math.floor(dims.imageSize / p);
  const out = new Map<string, number>([
    ['patch_embed.proj.weight', C * p * p * D],
    ['patch_embed.proj.bias', D],
    ['cls_token', D],
    ['pos_embed', (1 + g * g) * D],
    ['norm.weight', D],
    ['norm.bias', D],
    ['head.weight', D * numClasses],
    ['head.bias', numClasses],
  ]);
  for (let i = 0; i < L; i++) {
    const b = `blocks.${i}.`;
    for (const [n, size] of [
      ['norm1.weight', D],
      ['norm1.bias', D],
      ['attn.qkv.weight', 3 * D * D],
      ['attn.qkv.bias', 3 * D],
      ['attn.proj.weight', D * D],
      ['attn.proj.bias', D],
      ['norm2.weight', D],
      ['norm2.bias', D],
      ['mlp.fc1.weight', D * M],
      ['mlp.fc1.bias', M],
      ['mlp.fc2.weight', M * D],
      ['mlp.fc2.bias', D],
    ] as const)
      out.set(b + n, size);
  }
  for (let i = 0; i < numPromptLayers; i++) out.set(`prompts.${i}`, promptLength * D);
  return out;
}

/** The planner's view of one training phase of a method (what trains, its optimizer, its prompts). */
export function phaseShape(
  dims: ModelDims,
  phase: Pick<Phase, 'promptMode' | 'trains' | 'recipe'>,
  numClasses: number,
  promptLength: number,
  backboneCopy = true,
): StepShape {
  const layers = promptLayers(phase.promptMode, dims.numLayers);
  const sizes = parameterSizes(dims, numClasses, layers ? promptLength : 0, layers);
  let total = 0,
    trainable = 0;
  for (const [name, size] of sizes) {
    total += size;
    if (phase.trains(name)) trainable += size;
  }
  return {
    dims,
    numClasses,
    promptLength: layers ? promptLength : 0,
    trainsBackbone: phase.trains('blocks.0.attn.qkv.weight'),
    trainsOnlyHead: [...sizes.keys()].filter(phase.trains).every((n) => n.startsWith('head.')),
    trainableParams: trainable,
    totalParams: total,
    optimizerSlots: phase.recipe.optimizer === 'adamw' ? 2 : phase.recipe.momentum > 0 ? 1 : 0,
    backboneCopy,
  };
}

export function tokens(shape: StepShape): number {
  const g = Math.floor(shape.dims.imageSize / shape.dims.patchSize);
  return 1 + g * g + shape.promptLength;
}

function layerFloats(c: readonly [number, number, number], d: ModelDims, t: number): number {
  return c[0] * t * d.hiddenSize + c[1] * t * d.mlpDim + c[2] * d.numHeads * t * t;
}

/** Linear weights (what WASM packs): qkv, proj, fc1, fc2 per layer, the patch embedding, the head. */
function linearWeightFloats(shape: StepShape): number {
  const { hiddenSize: D, mlpDim: M, numLayers: L, patchSize: p, channels: C } = shape.dims;
  return L * (3 * D * D + D * D + 2 * D * M) + C * p * p * D + D * shape.numClasses;
}

/** The largest single parameter that trains (what one optimizer update holds copies of). */
function largestTrainedFloats(shape: StepShape): number {
  const { hiddenSize: D, mlpDim: M, patchSize: p, channels: C } = shape.dims;
  const head = D * shape.numClasses;
  if (!shape.trainsBackbone) return Math.max(head, shape.promptLength * D);
  return Math.max(head, 3 * D * D, D * M, C * p * p * D);
}

/** Tensors + (WASM) packed weights, allocator slack and the heap's growth steps. */
function onBackend(
  shape: StepShape,
  tensorBytes: number,
  largestBufferBytes: number,
  parts: MemoryPart[],
  backend: BackendKind,
  trained: boolean,
  pass: keyof typeof WASM_FRAGMENTATION_BUFFERS,
): number {
  if (backend !== 'wasm') return tensorBytes;
  const kind = trained ? 'train' : 'frozen';
  const packed = (trained && shape.backboneCopy === false ? 1 : WASM_PACKED_COPIES[kind]) * linearWeightFloats(shape) * F32;
  const heap = Math.max(
    WASM_INITIAL_HEAP,
    WASM_RUNTIME_BYTES + (tensorBytes + packed) * WASM_SLACK[kind] + WASM_FRAGMENTATION_BUFFERS[pass] * largestBufferBytes,
  );
  parts.push(
    { name: 'packed weights (XNNPACK)', bytes: packed },
    { name: 'runtime, allocator slack and heap growth', bytes: Math.max(0, heap - tensorBytes - packed) },
  );
  return heap;
}

/**
 * Peak bytes of one training step at `microBatch` images. `recompute`: keep only each block's
 * input and rebuild its activations during the backward pass. `accumulating`: gradients of
 * earlier micro-batches are summed (one more copy of the gradients, two while adding).
 */
export function estimateStep(
  shape: StepShape,
  microBatch: number,
  backend: BackendKind,
  opts: { recompute?: boolean; accumulating?: boolean } = {},
): MemoryEstimate {
  const d = shape.dims,
    t = tokens(shape),
    b = microBatch,
    L = d.numLayers;
  const coef = LAYER_COEFFICIENTS[shape.trainsBackbone ? 'train' : 'frozen'];
  // A trained backbone weight exists twice, unless handed over: the loaded model stays intact while its variable moves.
  const params = shape.totalParams * F32 + (shape.trainsBackbone && shape.backboneCopy !== false ? shape.trainableParams * F32 : 0);
  const grads = shape.trainableParams * F32;
  const slots = shape.optimizerSlots * shape.trainableParams * F32;
  const sum = opts.accumulating ? grads : 0;
  const inputs = inputBytes(d, b);
  const block = b * layerFloats(coef.keep, d, t) * F32;
  const attention = b * ATTENTION_IN_FLIGHT[backend] * d.numHeads * t * t * F32;
  const prompts = L * b * PROMPT_KEEP * shape.promptLength * d.hiddenSize * F32;
  // One block more than the layers: the block in flight holds its own temporaries (forward) or
  // gradients (backward) on top of what the others keep, its attention most of all; recomputed,
  // it is rebuilt in full. Only the head training: a forward pass, the head's few tensors aside.
  const activations = shape.trainsOnlyHead
    ? forwardActivationBytes(d, t, b)
    : (opts.recompute ? L * b * coef.recomputed * t * d.hiddenSize * F32 + 1.5 * block : (L + 1) * block) + attention + prompts;
  // The forward/backward peak, or the optimizer update after it (activations gone, gradients not).
  const update = UPDATE_COPIES * largestTrainedFloats(shape) * F32 + (opts.accumulating ? grads : 0);
  const stepPeak = Math.max(activations + inputs + sum, update);
  const parts: MemoryPart[] = [
    { name: 'parameters', bytes: params },
    { name: 'gradients', bytes: grads },
    { name: 'optimizer slots', bytes: slots },
    ...(sum ? [{ name: 'accumulated gradients', bytes: sum }] : []),
    activations + inputs + sum >= update
      ? { name: activationsName(shape, opts.recompute ?? false), bytes: activations + inputs }
      : { name: 'optimizer update', bytes: update },
  ];
  const tensorBytes = params + grads + slots + stepPeak;
  const largestBufferBytes = Math.max(b * d.numHeads * t * t, b * t * d.mlpDim, d.hiddenSize * d.mlpDim, b * d.channels * d.imageSize * d.imageSize) * F32;
  const totalBytes = onBackend(shape, tensorBytes, largestBufferBytes, parts, backend, shape.trainsBackbone, shape.trainsOnlyHead ? 'forward' : 'step');
  return { tensorBytes, totalBytes, largestBufferBytes, parts };
}

function activationsName(shape: StepShape, recompute: boolean): string {
  if (shape.trainsOnlyHead) return 'forward pass (frozen backbone, off the gradient tape)';
  return recompute ? 'activations (block inputs, one block rebuilt)' : 'activations and their gradients';
}

/** The input batch and its patch matrices, per image × C·S². */
function inputBytes(d: ModelDims, batch: number): number {
  return batch * EMBED_PER_PIXEL * d.channels * d.imageSize * d.imageSize * F32;
}

/**
 * A forward pass off the gradient tape at `batch` images and `t` tokens: each block's
 * intermediates die with its scope, and its input once the next block has it, so one block's
 * worth and its input.
 */
function forwardActivationBytes(d: ModelDims, t: number, batch: number): number {
  return batch * (t * d.hiddenSize + layerFloats(FORWARD_IN_FLIGHT, d, t)) * F32;
}

/** Peak bytes of evaluation (forward only, no gradient tape) at `batch` images. */
export function estimateForward(shape: StepShape, batch: number, backend: BackendKind): MemoryEstimate {
  const d = shape.dims,
    t = tokens(shape);
  const params = shape.totalParams * F32;
  const activations = forwardActivationBytes(d, t, batch);
  const inputs = inputBytes(d, batch);
  const parts: MemoryPart[] = [
    { name: 'parameters', bytes: params },
    { name: 'activations', bytes: activations },
    { name: 'input batch', bytes: inputs },
  ];
  const tensorBytes = params + activations + inputs;
  const largestBufferBytes = Math.max(batch * d.numHeads * t * t, batch * t * d.mlpDim) * F32;
  const totalBytes = onBackend(shape, tensorBytes, largestBufferBytes, parts, backend, false, 'forward');
  return { tensorBytes, totalBytes, largestBufferBytes, parts };
}

/** WASM: the 4 GiB heap less headroom. */
export function wasmBudget(): MemoryBudget {
  return { backend: 'wasm', bytes: WASM_BUDGET_BYTES, source: 'the WASM heap (4 GiB, less 512 MiB of headroom)' };
}

/** What a WebGPU adapter reports (GPUSupportedLimits), and what the device may use in all. */
export interface WebgpuLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** Default device-memory budget when none is known: WebGPU does not report the device's memory. */
export const DEFAULT_WEBGPU_MEMORY_BYTES = 2 * GiB;

/**
 * WebGPU: every buffer must fit the adapter's binding limit (tfjs binds whole buffers as storage),
 * and the step must fit a device-memory budget, which WebGPU does not expose: the caller passes
 * one (a flag, a setting), else 2 GiB, a safe size for integrated GPUs.
 */
export function webgpuBudget(limits: WebgpuLimits, deviceMemoryBytes?: number, from = 'given'): MemoryBudget {
  const bytes = deviceMemoryBytes ?? DEFAULT_WEBGPU_MEMORY_BYTES;
  const maxBufferBytes = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const mib = (x: number) => `${Math.round(x / 2 ** 20)} MiB`;
  return {
    backend: 'webgpu',
    bytes,
    maxBufferBytes,
    source: `WebGPU: ${deviceMemoryBytes ? `${mib(bytes)} of device memory (${from})` : `${mib(bytes)} of device memory (default; WebGPU does not report it)`}, buffers up to ${mib(maxBufferBytes)} (the adapter's limit)`,
  };
}

/** CPU and WebGL: the browser's or Node's own limits apply; plan against a generous 8 GiB. */
export function hostBudget(backend: 'cpu' | 'webgl'): MemoryBudget {
  return { backend, bytes: 8 * GiB, source: `${backend === 'cpu' ? 'the JavaScript heap' : 'WebGL'} (planned against 8 GiB)` };
}

export type RecomputeChoice = 'auto' | 'on' | 'off';

export interface MemoryPlan {
  /** Images per forward/backward pass. */
  microBatch: number;
  /** Micro-batches per optimizer step (effective batch = microBatch × accumulation, the last may be short). */
  accumulation: number;
  /** Activations recomputed per block during the backward pass. */
  recompute: boolean;
  /** Images per evaluation pass. */
  evalBatch: number;
  estimate: MemoryEstimate;
  budget: MemoryBudget;
  /** Set when the plan differs from what was asked (smaller micro-batch, recomputation on). */
  notice?: string;
}

const fits = (e: MemoryEstimate, budget: MemoryBudget) =>
  e.totalBytes <= budget.bytes && (budget.maxBufferBytes === undefined || e.largestBufferBytes <= budget.maxBufferBytes);

function largestFitting(batch: number, ok: (b: number) => boolean): number {
  if (!ok(1)) return 0;
  let lo = 1,
    hi = batch;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Evaluation runs after training steps, on the heap they left behind. A WASM heap never shrinks
 * and its free space is in blocks the size of the step's buffers, so a pass whose largest buffer
 * is bigger than the step's (an attention map at a larger batch: [b·H, T, T]) cannot reuse them and
 * needs fresh space beyond the step's peak. At 224 px that is a few MB; at 1024 px (4 097 tokens)
 * an evaluation batch of 2 needs 384 MiB blocks the step never freed, and did not fit.
 */
function evaluationFits(shape: StepShape, batch: number, step: MemoryEstimate, budget: MemoryBudget): boolean {
  const forward = estimateForward(shape, batch, budget.backend);
  if (!fits(forward, budget)) return false;
  if (budget.backend !== 'wasm' || forward.largestBufferBytes <= step.largestBufferBytes) return true;
  // Its small tensors reuse the step's freed blocks; the maps in flight (and the allocator's
  // fragmentation around them, as in the step's own plan) need new space above the step's peak.
  return step.totalBytes + WASM_FRAGMENTATION_BUFFERS.forward * forward.largestBufferBytes <= budget.bytes;
}

export const formatBytes = (b: number): string => (b >= GiB ? `${(b / GiB).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`);

/**
 * The largest micro-batch (≤ batch) whose step fits the budget, keeping the effective batch
 * through gradient accumulation. Recomputation: 'auto' turns it on only when a micro-batch of 1
 * does not fit without it (it costs about one more forward pass per step); a phase that trains
 * only the head keeps no activation to recompute, so it never recomputes. Throws
 * `run/does-not-fit` when even a micro-batch of 1 does not fit.
 */
export function planMemory(shape: StepShape, o: { batch: number; budget: MemoryBudget; recompute?: RecomputeChoice }): MemoryPlan {
  const batch = Math.max(1, Math.floor(o.batch));
  const choice = o.recompute ?? 'auto';
  const backend = o.budget.backend;
  const at = (b: number, recompute: boolean) => estimateStep(shape, b, backend, { recompute, accumulating: b < batch });
  const tryWith = (recompute: boolean) => largestFitting(batch, (b) => fits(at(b, recompute), o.budget));
  const canRecompute = !shape.trainsOnlyHead;
  let recompute = choice === 'on' && canRecompute;
  let microBatch = tryWith(recompute);
  if (microBatch === 0 && choice === 'auto' && canRecompute) {
    recompute = true;
    microBatch = tryWith(true);
  }
  if (microBatch === 0) {
    const one = at(1, recompute);
    const what =
      one.largestBufferBytes > (o.budget.maxBufferBytes ?? Infinity)
        ? `its largest buffer (${formatBytes(one.largestBufferBytes)}) exceeds the limit of ${formatBytes(o.budget.maxBufferBytes!)}`
        : `it needs about ${formatBytes(one.totalBytes)}`;
    throw new LabError(
      'run/does-not-fit',
      `Even one image per step does not fit ${o.budget.source}: ${what}${recompute ? ' with activation recomputation' : ''} (${tokens(shape)} tokens, width ${shape.dims.hiddenSize}, ${shape.dims.numLayers} layers).`,
      `Use a smaller image size${choice === 'off' && canRecompute ? ', allow activation recomputation' : ''}, fewer prompt tokens, or a method that trains fewer weights.`,
    );
  }
  const accumulation = Math.ceil(batch / microBatch);
  const estimate = at(microBatch, recompute);
  const evalBatch = largestFitting(batch, (b) => evaluationFits(shape, b, estimate, o.budget)) || 1;
  const notes: string[] = [];
  if (microBatch < batch)
    notes.push(`micro-batches of ${microBatch} (${accumulation} per step; the effective batch stays ${batch} through gradient accumulation)`);
  if (recompute && choice === 'auto') notes.push('activation recomputation on (about one more forward pass per step)');
  const notice = notes.length
    ? `Memory plan: a batch of ${batch} needs more than ${o.budget.source} allows, so ${notes.join(' and ')}; estimated peak ${formatBytes(estimate.totalBytes)} of ${formatBytes(o.budget.bytes)}.`
    : undefined;
  return { microBatch, accumulation, recompute, evalBatch, estimate, budget: o.budget, notice };
}

/**
 * The plan of every phase of a method (FT-then-PT has two): what the CLI prints and the page shows
 * before a run, and what the trainer follows. Throws `run/does-not-fit` for the first phase that
 * does not fit at one image.
 */
export function planPhases(
  dims: ModelDims,
  phases: readonly Pick<Phase, 'promptMode' | 'trains' | 'recipe'>[],
  o: { numClasses: number; promptLength: number; batch: number; budget: MemoryBudget; recompute?: RecomputeChoice; backboneCopy?: boolean },
): MemoryPlan[] {
  return phases.map((phase) =>
    planMemory(phaseShape(dims, phase, o.numClasses, o.promptLength, o.backboneCopy), { batch: o.batch, budget: o.budget, recompute: o.recompute }),
  );
}

/** One line for a CLI or the page: the estimate against the budget. */
export function describePlan(p: MemoryPlan): string {
  const batch = `${p.microBatch}${p.accumulation > 1 ? ` × ${p.accumulation} accumulated` : ''}`;
  return `memory: about ${formatBytes(p.estimate.totalBytes)} per step of ${formatBytes(p.budget.bytes)} (${p.budget.backend}); micro-batch ${batch}${p.recompute ? ', activations recomputed' : ''}; evaluation in batches of ${p.evalBatch}`;
}
