/**
 * The paper's methods in one table. A method is a parameter filter (what trains), a prompt
 * placement, and an optimizer recipe. Nothing else in the code asks "which method is this?".
 *
 * Recipe defaults follow the reference VPT code (github.com/KMnist/VPT): SGD with momentum 0.9,
 * effective lr = base lr × batch / 256, linear warm-up then cosine decay (10 of 100 epochs),
 * weight decay; prompts initialised uniform in ±sqrt(6 / (3·p² + D)); prompt dropout 0.1 for
 * deep prompts and 0 for shallow; full fine-tuning with AdamW. The paper grid-searches the
 * learning rate and weight decay per task; the base values here are the middle of those grids.
 */
import type { MethodId } from '../domain/run';
import { parameterCount, type ViTConfig } from '../model/config';
import type { PromptMode } from '../model/vit';

export type OptimizerKind = 'sgd' | 'adamw';

export interface Recipe {
  optimizer: OptimizerKind;
  /** Base learning rate; the effective rate is baseLr × batch / 256. */
  baseLr: number;
  weightDecay: number;
  /** SGD momentum, or AdamW β1. */
  momentum: number;
  /** Fraction of the epochs spent warming up linearly (10 of 100 in the reference). */
  warmupFraction: number;
}

/** One training phase: what trains, where prompts go, how it is optimised. */
export interface Phase {
  promptMode: PromptMode;
  /** Which parameters train, by canonical name. */
  trains: (name: string) => boolean;
  /** Dropout on the prompt tokens while training. */
  promptDropout: number;
  recipe: Recipe;
  /** Start the phase with a freshly initialised head (FT-then-PT's second phase). */
  freshHead: boolean;
  /** Start the phase with freshly initialised prompts. */
  freshPrompts: boolean;
}

export interface MethodSpec {
  id: MethodId;
  label: string;
  /** Short description for the UI and README. */
  description: string;
  phases: Phase[];
  /** Which of the paper's hyperparameter grids its search uses (train/paper.ts). */
  grid: 'linear' | 'finetune' | 'prompt';
  /** Its side in the paper's question, full fine-tuning or visual prompt tuning (null: neither). */
  side: 'ft' | 'vpt' | null;
}

const isHead = (n: string) => n === 'head.weight' || n === 'head.bias';
const isPrompt = (n: string) => n.startsWith('prompts.');
/** The representation layer (hub pooler / Google pre_logits) is not on the classification path. */
const isBackbone = (n: string) => !isHead(n) && !isPrompt(n) && !n.startsWith('pre_logits.');

const SGD: Recipe = { optimizer: 'sgd', baseLr: 0.5, weightDecay: 1e-4, momentum: 0.9, warmupFraction: 0.1 };
const ADAMW: Recipe = { optimizer: 'adamw', baseLr: 1e-3, weightDecay: 0.01, momentum: 0.9, warmupFraction: 0.1 };

const ftPhase: Phase = { promptMode: 'none', trains: (n) => isBackbone(n) || isHead(n), promptDropout: 0, recipe: ADAMW, freshHead: true, freshPrompts: false };
const vptDeepPhase: Phase = {
  promptMode: 'deep',
  trains: (n) => isPrompt(n) || isHead(n),
  promptDropout: 0.1,
  recipe: SGD,
  freshHead: true,
  freshPrompts: true,
};

export const METHODS: Record<MethodId, MethodSpec> = {
  linear: {
    id: 'linear',
    grid: 'linear',
    side: null,
    label: 'Linear probe',
    description: 'Only the head trains; the backbone is frozen.',
    phases: [{ promptMode: 'none', trains: isHead, promptDropout: 0, recipe: SGD, freshHead: true, freshPrompts: false }],
  },
  ft: {
    id: 'ft',
    grid: 'finetune',
    side: 'ft',
    label: 'Full fine-tuning',
    description: 'Every weight and the head train (AdamW).',
    phases: [ftPhase],
  },
  vpt_shallow: {
    id: 'vpt_shallow',
    grid: 'prompt',
    side: 'vpt',
    label: 'VPT-shallow',
    description: 'Prompts before layer 0 and the head train; the backbone is frozen.',
    phases: [{ promptMode: 'shallow', trains: (n) => n === 'prompts.0' || isHead(n), promptDropout: 0, recipe: SGD, freshHead: true, freshPrompts: true }],
  },
  vpt_deep: {
    id: 'vpt_deep',
    grid: 'prompt',
    side: 'vpt',
    label: 'VPT-deep',
    description: 'Prompts at every layer and the head train; the backbone is frozen.',
    phases: [vptDeepPhase],
  },
  mixed: {
    id: 'mixed',
    grid: 'finetune',
    side: null,
    label: 'Mixed',
    description: 'Deep prompts and every weight train together.',
    // Every weight trains, so it takes the fine-tuning optimizer: SGD at prompt learning rates
    // would wreck the pretrained weights in a few steps.
    phases: [
      { promptMode: 'deep', trains: (n) => isBackbone(n) || isPrompt(n) || isHead(n), promptDropout: 0.1, recipe: ADAMW, freshHead: true, freshPrompts: true },
    ],
  },
  ft_then_pt: {
    id: 'ft_then_pt',
    grid: 'prompt',
    side: null,
    label: 'FT-then-PT',
    description: 'Fine-tune, then freeze the result and train deep prompts with a fresh head.',
    phases: [ftPhase, vptDeepPhase],
  },
};

export const METHOD_IDS = Object.keys(METHODS) as MethodId[];

export function isMethodId(s: string): s is MethodId {
  return Object.hasOwn(METHODS, s);
}

/** How many prompt sets a phase needs. */
export function promptLayers(mode: PromptMode, numLayers: number): number {
  return mode === 'deep' ? numLayers : mode === 'shallow' ? 1 : 0;
}

/** Effective learning rate for a batch, as the reference code scales it. */
export function effectiveLr(baseLr: number, batchSize: number): number {
  return (baseLr * batchSize) / 256;
}

/**
 * Learning rate at `step` of `totalSteps`: linear warm-up over the first warmupFraction, then
 * cosine decay to 0. The reference's 10-of-100-epoch warm-up scales with fewer epochs.
 */
export function scheduledLr(peak: number, step: number, totalSteps: number, warmupFraction: number): number {
  const warm = Math.max(1, Math.round(totalSteps * warmupFraction));
  if (step < warm) return (peak * (step + 1)) / warm;
  const progress = (step - warm) / Math.max(1, totalSteps - warm);
  return 0.5 * peak * (1 + Math.cos(Math.PI * Math.min(1, progress)));
}

/**
 * Learning rate at `progress` (0 to 1, by steps or by wall time) of a run: linear warm-up over the
 * first `warmupFraction`, then cosine decay to 0. Pretraining uses it, as its budget may be time.
 */
export function lrAtProgress(peak: number, progress: number, warmupFraction: number): number {
  if (progress < warmupFraction) return (peak * Math.max(progress, 1e-3)) / warmupFraction;
  const p = Math.min(1, (progress - warmupFraction) / Math.max(1e-9, 1 - warmupFraction));
  return 0.5 * peak * (1 + Math.cos(Math.PI * p));
}

/**
 * Parameters a method trains, and all it holds, on a model of `cfg` with a K-class head, from the
 * config alone (the page's teaching panel; the trainer counts the same from the tensors). The
 * backbone counts as one block, which the phases' own filters judge like any backbone weight.
 */
export function methodParamCounts(cfg: ViTConfig, method: MethodSpec, numClasses: number, promptLength: number): { trainable: number; total: number } {
  const last = method.phases[method.phases.length - 1]!;
  const parts: [string, number][] = [
    ['blocks', parameterCount({ ...cfg, numClasses: 0 })],
    ['head.weight', cfg.hiddenSize * numClasses],
    ['head.bias', numClasses],
  ];
  for (let i = 0; i < promptLayers(last.promptMode, cfg.numLayers); i++) parts.push([`prompts.${i}`, promptLength * cfg.hiddenSize]);
  let trainable = 0;
  let total = 0;
  for (const [name, size] of parts) {
    total += size;
    if (method.phases.some((p) => p.trains(name))) trainable += size;
  }
  return { trainable, total };
}
