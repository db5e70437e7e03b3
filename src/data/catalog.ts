/**
 * The task catalog: the 19 VTAB-1k tasks (facts and published accuracies copied verbatim from
 * the shared reference in ./vtab.json) plus procedural tasks that the lab can generate itself,
 * deterministic from a seed, at any data size. One discriminated union, `TaskInfo`, keyed by
 * `source`.
 */
import { LabError } from '../domain/errors';
import type { MethodId } from '../domain/run';
import vtab from './vtab.json' with { type: 'json' };

export type TaskGroup = 'natural' | 'specialized' | 'structured';

/** Top-1 accuracies (%) of ViT-B/16 (ImageNet-21k) in Jia et al., VPT (ECCV 2022), Table 1. */
export interface VptPaperAccuracy {
  full_finetune: number;
  linear_probe: number;
  vpt_shallow: number;
  vpt_deep: number;
}

/** Top-1 accuracies (%) in Han et al., Facing the Elephant in the Room (ICLR 2024), 800/200 split. */
export interface ElephantPaperAccuracy {
  full_finetune: number;
  vpt: number;
  mixed: number;
  ft_then_pt: number;
}

interface TaskCommon {
  /** Stable id used in URLs, the CLI (`--task`) and checkpoints. */
  id: string;
  /** Name for display. */
  name: string;
  group: TaskGroup;
  /** Number of classes; labels are integers in [0, classes). */
  classes: number;
  /** Prompt length the Elephant paper used for VPT on this task (Tables 16-18). */
  promptLength: number;
  /** What the label means, in words. */
  objective: string;
}

/** A VTAB-1k task read from files in the common vtab-1k layout. */
export interface VtabTask extends TaskCommon {
  source: 'vtab';
  /** Folder name in the vtab-1k layout (`<root>/<folder>/train800.txt`, ...). */
  folder: string;
  vptPaper: VptPaperAccuracy;
  elephantPaper: ElephantPaperAccuracy;
}

export type ObjectiveShift = 'classification' | 'count' | 'position' | 'orientation' | 'distance';

/** A task generated in the lab from a seed: same objective as a VTAB task, synthetic images. */
export interface ProceduralTask extends TaskCommon {
  source: 'procedural';
  /** Which generator renders the images ('synth': the pretraining scenes of ./pretraining.ts). */
  generator: 'dsprites' | 'clevr' | 'synth';
  /** The VTAB-1k task whose objective this mirrors (its published numbers are NOT comparable). */
  vtabCounterpart: string;
  /** Resolution the generator natively draws at (dSprites 64; CLEVR-like and synth draw at any size). */
  nativeSize: number;
  /** The two axes the Elephant paper uses to explain when VPT wins. */
  axes: { objectiveShift: ObjectiveShift; distributionNote: string };
  /** Why this task is in the lab. */
  why: string;
}

export type TaskInfo = VtabTask | ProceduralTask;

/** Where the numbers and facts come from (verbatim from the shared reference). */
/** One-line description of each group. */
export const GROUP_DESCRIPTIONS: Record<TaskGroup, string> = vtab.groups as Record<TaskGroup, string>;

export const VTAB_TASKS: readonly VtabTask[] = vtab.tasks.map((t) => ({
  source: 'vtab' as const,
  id: t.id,
  name: t.name,
  group: t.group as TaskGroup,
  folder: t.folder,
  classes: t.classes,
  promptLength: t.promptLength,
  objective: t.objective,
  vptPaper: { ...t.vptPaper },
  elephantPaper: { ...t.elephantPaper },
}));

/**
 * The published accuracies of a method on a VTAB-1k task: the VPT paper's (FT, linear, VPT-shallow,
 * VPT-deep) and the Elephant paper's (FT, VPT-deep, mixed, FT-then-PT) where each paper has one.
 */
export function publishedAccuracy(task: VtabTask, method: MethodId): { vptPaper?: number; elephantPaper?: number } {
  const v = VPT_COLUMN[method],
    e = ELEPHANT_COLUMN[method];
  return { vptPaper: v ? task.vptPaper[v] : undefined, elephantPaper: e ? task.elephantPaper[e] : undefined };
}

const VPT_COLUMN: Partial<Record<MethodId, keyof VptPaperAccuracy>> = {
  ft: 'full_finetune',
  linear: 'linear_probe',
  vpt_shallow: 'vpt_shallow',
  vpt_deep: 'vpt_deep',
};
const ELEPHANT_COLUMN: Partial<Record<MethodId, keyof ElephantPaperAccuracy>> = {
  ft: 'full_finetune',
  vpt_deep: 'vpt',
  mixed: 'mixed',
  ft_then_pt: 'ft_then_pt',
};

const vtabById = (id: string): VtabTask => {
  const t = VTAB_TASKS.find((x) => x.id === id);
  if (!t) throw new Error(`vtab.json lacks ${id}`);
  return t;
};

export const PROCEDURAL_TASKS: readonly ProceduralTask[] = [
  {
    source: 'procedural',
    id: 'dsprites_location',
    name: 'dSprites/location (procedural)',
    group: 'structured',
    generator: 'dsprites',
    vtabCounterpart: 'dsprites_loc',
    nativeSize: 64,
    classes: 16,
    promptLength: vtabById('dsprites_loc').promptLength,
    objective: 'x position (16 bins): label = floor(xIndex / 2) of 32 positions',
    axes: {
      objectiveShift: 'position',
      distributionNote: 'binary white shapes on black at 64 px, far from ImageNet photos',
    },
    why: 'A task whose objective (where, not what) and images both differ from pretraining: the case where the Elephant paper finds full finetuning beats VPT, at any data size the lab asks for.',
  },
  {
    source: 'procedural',
    id: 'dsprites_orientation',
    name: 'dSprites/orientation (procedural)',
    group: 'structured',
    generator: 'dsprites',
    vtabCounterpart: 'dsprites_ori',
    nativeSize: 64,
    classes: 16,
    promptLength: vtabById('dsprites_ori').promptLength,
    objective: 'orientation (16 bins): label = floor(orientationIndex * 16 / 40) of 40 angles',
    axes: {
      objectiveShift: 'orientation',
      distributionNote: 'binary white shapes on black at 64 px, far from ImageNet photos',
    },
    why: 'Orientation is a geometric objective unlike classification; with symmetric shapes some labels are ambiguous, exactly as in dSprites.',
  },
  {
    source: 'procedural',
    id: 'clevr_like_count',
    name: 'CLEVR-like/count (synthetic, CLEVR-like)',
    group: 'structured',
    generator: 'clevr',
    vtabCounterpart: 'clevr_count',
    nativeSize: 224,
    classes: 8,
    promptLength: vtabById('clevr_count').promptLength,
    objective: 'counting objects: label = count - 3 (3 to 10 objects)',
    axes: {
      objectiveShift: 'count',
      distributionNote: 'rendered 3D scenes of simple shaded solids, closer to photos than dSprites but still synthetic',
    },
    why: 'Counting is a structured objective on images moderately near the pretraining data; lets the lab vary data size far beyond 1k.',
  },
  {
    source: 'procedural',
    id: 'clevr_like_distance',
    name: 'CLEVR-like/distance (synthetic, CLEVR-like)',
    group: 'structured',
    generator: 'clevr',
    vtabCounterpart: 'clevr_dist',
    nativeSize: 224,
    classes: 6,
    promptLength: vtabById('clevr_dist').promptLength,
    objective: 'depth of the closest object, 6 bins with thresholds [0, 8, 8.5, 9, 9.5, 10, 100]',
    axes: {
      objectiveShift: 'distance',
      distributionNote: 'rendered 3D scenes of simple shaded solids with a CLEVR-like camera',
    },
    why: 'Distance needs geometry, not object identity: a large objective shift on mildly shifted images.',
  },
  {
    source: 'procedural',
    id: 'clevr_like_shape',
    name: 'CLEVR-like/shape (synthetic, CLEVR-like)',
    group: 'structured',
    generator: 'clevr',
    vtabCounterpart: 'cifar100',
    nativeSize: 224,
    classes: 3,
    promptLength: vtabById('clevr_count').promptLength,
    objective: 'shape of the one large object (sphere, cube, cylinder) among 3-10 objects',
    axes: {
      objectiveShift: 'classification',
      distributionNote: 'rendered 3D scenes of simple shaded solids with a CLEVR-like camera',
    },
    why: 'Object classification (the pretraining kind of objective) on images from another distribution: the corner of the two axes between synth_shapes (both near) and clevr_like_count (both far).',
  },
  {
    source: 'procedural',
    id: 'synth_shapes',
    name: 'Synthetic shapes/kind (pretraining distribution)',
    group: 'natural',
    generator: 'synth',
    vtabCounterpart: 'cifar100',
    nativeSize: 64,
    classes: 10,
    promptLength: vtabById('cifar100').promptLength,
    objective: 'kind of the big object (10 shapes: circle, square, triangle, star, heart, cross, ring, hexagon, crescent, arrow), whatever its texture',
    axes: {
      objectiveShift: 'classification',
      distributionNote: "the bundled model's own pretraining distribution (fresh held-out images): no distribution shift",
    },
    why: 'The near corner of both axes: same images and a coarsened form of the pretraining objective, where the Elephant paper expects VPT to match or beat full finetuning (with either bundled model).',
  },
  {
    source: 'procedural',
    id: 'synth_count',
    name: 'Synthetic shapes/count (pretraining distribution)',
    group: 'structured',
    generator: 'synth',
    vtabCounterpart: 'clevr_count',
    nativeSize: 64,
    classes: 8,
    promptLength: vtabById('clevr_count').promptLength,
    objective: 'number of objects: label = count - 1 (1 to 8 non-overlapping shapes)',
    axes: {
      objectiveShift: 'count',
      distributionNote: "the bundled model's pretraining backgrounds, shapes, textures and palettes, several smaller objects per image",
    },
    why: 'Separates the two axes: images near the pretraining data but a changed objective (counting), to compare with clevr_like_count where both change.',
  },
];

export const TASKS: readonly TaskInfo[] = [...VTAB_TASKS, ...PROCEDURAL_TASKS];

export function listTaskIds(): string[] {
  return TASKS.map((t) => t.id);
}

/** The task with this id; LabError 'data/unknown-task' listing the valid ids otherwise. */
export function getTask(id: string): TaskInfo {
  const t = TASKS.find((x) => x.id === id);
  if (!t) {
    throw new LabError(
      'data/unknown-task',
      `Unknown task "${id}".`,
      `Valid ids: VTAB-1k ${VTAB_TASKS.map((x) => x.id).join(', ')}; procedural ${PROCEDURAL_TASKS.map((x) => x.id).join(', ')}.`,
    );
  }
  return t;
}

export function getVtabTask(id: string): VtabTask {
  const t = getTask(id);
  if (t.source !== 'vtab') {
    throw new LabError(
      'data/unknown-task',
      `Task "${id}" is procedural, not a VTAB-1k task read from files.`,
      `Use one of: ${VTAB_TASKS.map((x) => x.id).join(', ')}.`,
    );
  }
  return t;
}

/** The paper's prompt lengths are for ViT-B/16 at 224 px: a 14 × 14 grid of patches. */
export const PAPER_PATCHES = 196;

/**
 * The one prompt-length rule of the lab (page, `npm run train`, `npm run study`): the paper's
 * length for the task scaled to the model's patch count, keeping the paper's prompt-to-patch
 * ratio: round(paper length × patches / 196), at least 1. ViT-B/16 at 224 px gets the paper's
 * value; the bundled 16-patch model gets 200 → 16, 100 → 8, 1 → 1.
 */
export function promptLengthFor(task: Pick<TaskCommon, 'promptLength'>, patches: number): number {
  if (!Number.isInteger(patches) || patches < 1)
    throw new LabError('config/invalid', `A model has a positive whole number of patches, not ${patches}.`, 'Check the model resolution and patch size.');
  return Math.max(1, Math.round((task.promptLength * patches) / PAPER_PATCHES));
}

/** The rule in words for the setup panel, e.g. "paper 100 × 16 / 196 patches = 8". */
export function promptLengthRuleText(task: Pick<TaskCommon, 'promptLength'>, patches: number): string {
  return `paper ${task.promptLength} × ${patches} / ${PAPER_PATCHES} patches = ${promptLengthFor(task, patches)}${patches === PAPER_PATCHES ? ' (the paper’s own)' : ''}`;
}

/**
 * A warning when prompts outnumber the image's patches: attention then mostly reads prompts, which
 * are the same for every image (on the bundled model even one prompt takes most of the CLS
 * token's attention in block 2; see the README's VPT-vs-linear investigation). Null when fine.
 */
export function promptLengthWarning(promptLength: number, patches: number, task: Pick<TaskCommon, 'promptLength'>): string | null {
  if (promptLength <= patches) return null;
  return `${promptLength} prompts outnumber the ${patches} image patches: attention will mostly read the prompts, which are the same for every image. The paper’s prompt-to-patch ratio gives ${promptLengthFor(task, patches)} for this task on this model.`;
}
