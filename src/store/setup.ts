/**
 * The lab's setup: everything a run needs that fits in a URL. One table of properties turns it
 * into the URL hash and back (as tensorflow/playground's state.ts does), so a shared link
 * reproduces the experiment, seed included. Files the user picked cannot travel in a URL: only
 * their names do, and the page asks for them again.
 */
import { clip } from '../domain/errors';
import { BACKENDS, type BackendName, type MethodId } from '../domain/run';
import { PAPER_PATCHES, TASKS, getTask, promptLengthFor, promptLengthRuleText, promptLengthWarning, type TaskInfo } from '../data/catalog';
import type { PaperSpec } from '../domain/paper';
import { DEFAULT_BUNDLED_ID, dimsOfChoice, resolutionProblem } from '../train/dims';
import { resolveGrid } from '../train/paper';
import { METHOD_IDS, METHODS } from '../train/methods';
import { NAMED_MODELS } from '../train/models';
import { DEFAULT_QUICK_RUN, recordedDefaultOfChoice } from '../train/defaults';
import { HUB_CHECKPOINTS } from '../weights/sources';

/** Model choice as one string: 'bundled:<id>', 'hub:<id>', 'file' or 'random:<preset>'. */
export type ModelChoice = string;

/** Where a VTAB task's images come from (procedural tasks always generate theirs). */
export type DataChoice = 'local' | 'zip' | 'url';

export interface Setup {
  model: ModelChoice;
  /** Name of the picked checkpoint file (the File itself lives in blobs.ts). */
  modelFileName: string;
  taskId: string;
  data: DataChoice;
  /** Base URL of a vtab-1k folder when data = 'url'. */
  dataUrl: string;
  methods: MethodId[];
  trainSize: number;
  epochs: number;
  batchSize: number;
  /** Base learning rate; null = the method's default. */
  lr: number | null;
  /**
   * Prompt length; null = the catalog's rule: the paper's length for the task × the model's
   * patches / 196, at least 1 (resolved by the engine when the model loads).
   */
  promptLength: number | null;
  seed: number;
  /** quick: one run per method on train / val / test; paper: the VTAB-1k protocol (search, final runs, seeds). */
  protocol: 'quick' | 'paper';
  /** Paper protocol: final runs, seeds `seed`, `seed + 1`, ... */
  seeds: number;
  /** Paper protocol: 'reduced', 'reference', or explicit 'lr=...;wd=...'. */
  grid: string;
  /** Input resolution in px; 0 = the checkpoint's own (no position-embedding resize). */
  imageSize: number;
  /** Test images (procedural tasks generate this many; 0 = the whole test list). */
  testSize: number;
  gradcamSamples: number;
  /** Backend override; null = the lab's choice. */
  backend: BackendName | null;
  /** Test/dev mode: lifts the 400-image minimum (for end-to-end tests on tiny data). */
  dev: boolean;
  /** Leave out listed images that are missing or cannot be decoded (the run lists them) instead of stopping. */
  skipBad: boolean;
}

export const BUNDLED_MODEL = `bundled:${DEFAULT_BUNDLED_ID}`;

export const TRAIN_SIZE_MIN = 400;
export const TRAIN_SIZE_MAX = 20000;
/** The data-size sweep of the paper's Fig. 4 style analysis. */
export const SWEEP_SIZES = [400, 800, 2000, 5000, 10000, 20000] as const;

/**
 * The quick start: the bundled model at its own resolution (48 px, patch 12), FT vs VPT-deep on
 * an offline task drawn from its own pretraining images with a changed objective (counting), sized
 * so that one click finishes in about a minute or two on a laptop CPU (WASM). Measured in headless
 * Chromium on WASM (2 shared cores), 400 train x 5 epochs: FT ~6 s/epoch, VPT-deep ~7 s/epoch.
 * The prompt length follows the catalog's rule (the paper's 100 for CLEVR/count × 16 / 196 = 8
 * prompts on the bundled model's 16 patches).
 */
export const DEFAULT_SETUP: Setup = {
  model: BUNDLED_MODEL,
  modelFileName: '',
  // The one-click run's numbers are the ones its default learning rates were measured on.
  taskId: DEFAULT_QUICK_RUN.taskId,
  data: 'local',
  dataUrl: '',
  methods: ['ft', 'vpt_deep'],
  trainSize: DEFAULT_QUICK_RUN.trainSize,
  epochs: DEFAULT_QUICK_RUN.epochs,
  batchSize: DEFAULT_QUICK_RUN.batchSize,
  lr: null,
  promptLength: null,
  seed: DEFAULT_QUICK_RUN.seed,
  protocol: 'quick',
  seeds: 3,
  grid: 'reduced',
  imageSize: 0,
  testSize: DEFAULT_QUICK_RUN.testSize,
  gradcamSamples: 8,
  backend: null,
  dev: false,
  skipBad: false,
};

/**
 * Default input resolution of each model choice: 224 for the hub ViTs (their own), and 0 (= the
 * checkpoint's own, read when it loads) for the bundled model and files, whose size the page does
 * not know before loading them (both bundled models are 48 px).
 */
export function defaultImageSize(model: ModelChoice): number {
  if (model.startsWith('hub:')) return 224;
  return 0;
}

/** "48 px" or "own" for a stored imageSize (0 = the checkpoint's own). */
export function resolutionText(imageSize: number): string {
  return imageSize ? `${imageSize}px` : "checkpoint's own res.";
}

export interface ModelOption {
  value: ModelChoice;
  label: string;
  /** Download size in bytes, stated before any download starts. */
  bytes?: number;
  note: string;
}

const hubLabel: Record<string, string> = {
  'google/vit-base-patch16-224-in21k': 'ViT-B/16 ImageNet-21k (paper backbone)',
  'timm/vit_base_patch16_224.augreg_in21k': 'ViT-B/16 ImageNet-21k AugReg (timm)',
  'timm/vit_small_patch16_224.augreg_in21k': 'ViT-S/16 ImageNet-21k (weaker GPUs)',
  'timm/vit_tiny_patch16_224.augreg_in21k': 'ViT-Ti/16 ImageNet-21k (weakest GPUs)',
};

/** The bundled models' names in the model list; what each is comes from train/models.ts. */
const bundledLabel: Record<string, string> = { scenes_vit: 'Scenes ViT', tiny_pretrained: 'Tiny ViT' };

/** The bundled models, the default first. */
const BUNDLED_OPTIONS: ModelOption[] = NAMED_MODELS.flatMap((m) =>
  m.spec.kind === 'bundled' ? [{ value: `bundled:${m.spec.id}`, label: `${bundledLabel[m.spec.id] ?? m.name}, bundled (offline)`, note: m.description }] : [],
).sort((a, b) => Number(b.value === BUNDLED_MODEL) - Number(a.value === BUNDLED_MODEL));

export const MODEL_OPTIONS: ModelOption[] = [
  ...BUNDLED_OPTIONS,
  ...HUB_CHECKPOINTS.map((h) => ({ value: `hub:${h.id}`, label: hubLabel[h.id] ?? h.id, bytes: h.approxBytes, note: h.description })),
  { value: 'file', label: 'Local checkpoint file…', note: '.safetensors or .npz in the hf, timm or Google layout' },
];

export function modelLabel(setup: Pick<Setup, 'model' | 'modelFileName'>): string {
  if (setup.model === 'file') return setup.modelFileName ? `${setup.modelFileName} (file)` : 'local file';
  const opt = MODEL_OPTIONS.find((o) => o.value === setup.model);
  if (opt) return setup.model.startsWith('hub:') ? `${opt.label.replace(/ \(.*\)$/, '')} (hub)` : opt.label;
  return setup.model;
}

export function taskOf(setup: Pick<Setup, 'taskId'>): TaskInfo {
  return getTask(setup.taskId);
}

/**
 * Patches per image of the chosen model at the chosen resolution, where the page knows its sizes
 * before loading anything (train/dims.ts: the bundled model, hub checkpoints, presets); a
 * checkpoint file's are known only once it loads (null).
 */
export function patchesOf(setup: Pick<Setup, 'model' | 'imageSize'>): number | null {
  const dims = dimsOfChoice(setup.model, setup.imageSize);
  return dims ? Math.floor(dims.imageSize / dims.patchSize) ** 2 : null;
}

/**
 * The prompt length the runs will use: the typed one, or the catalog's rule for this task and
 * model (null when the model's patch count is known only once it loads).
 */
export function effectivePromptLength(setup: Setup): number | null {
  if (setup.promptLength !== null) return setup.promptLength;
  const patches = patchesOf(setup);
  return patches === null ? null : promptLengthFor(taskOf(setup), patches);
}

/** The rule in words for the setup panel, and a warning when prompts outnumber the patches. */
export function promptLengthNote(setup: Setup): { rule: string; warning: string | null } {
  const task = taskOf(setup),
    patches = patchesOf(setup);
  if (patches === null)
    return { rule: `paper ${task.promptLength} × patches / ${PAPER_PATCHES}, at least 1 (patches known when the model loads)`, warning: null };
  const n = effectivePromptLength(setup)!;
  return { rule: promptLengthRuleText(task, patches), warning: promptLengthWarning(n, patches, task) };
}

/**
 * The prompt-length field's hint, in agreement with what the field shows: blank follows the
 * paper's rule (the field's placeholder shows its value), a typed length is the one used, and the
 * hint says what blank would give instead.
 */
export function promptLengthHint(setup: Setup): string {
  const { rule } = promptLengthNote(setup);
  return setup.promptLength === null ? `blank: the paper’s rule, ${rule}` : `${setup.promptLength} typed and used; blank would follow the paper: ${rule}`;
}

/**
 * The chosen resolution's problem with the chosen model (not a multiple of its patch size), as the
 * named error's text, or null; a checkpoint file's patch size is known only once it loads (the run
 * checks it then, before training).
 */
export function resolutionError(setup: Pick<Setup, 'model' | 'modelFileName' | 'imageSize'>): string | null {
  const dims = dimsOfChoice(setup.model, 0);
  return dims ? (resolutionProblem(setup.imageSize, dims, modelLabel(setup))?.message ?? null) : null;
}

/** The paper protocol a setup asks for (null = quick), with its grid for a method. */
export function paperSpecOf(setup: Setup, method: MethodId): PaperSpec | undefined {
  if (setup.protocol !== 'paper') return undefined;
  return { kind: 'paper', grid: resolveGrid(setup.grid, method), seeds: Array.from({ length: setup.seeds }, (_, i) => setup.seed + i) };
}

/**
 * The learning rate each chosen method trains at when the field is blank: the model's measured
 * default (train/defaults.json) or the method's reference recipe, in words for the field's hint.
 */
export function defaultLrHint(setup: Pick<Setup, 'model' | 'methods'>): string {
  const parts = setup.methods.map((m) => {
    const rec = recordedDefaultOfChoice(setup.model, m);
    return `${METHODS[m].label} ${rec ? rec.lr : METHODS[m].phases.at(-1)!.recipe.baseLr}`;
  });
  const measured = setup.methods.every((m) => recordedDefaultOfChoice(setup.model, m));
  return `blank = ${parts.join(', ')} (${measured ? 'measured for this model: npm run defaults' : 'the reference recipe'}; × batch / 256)`;
}

/** A grid text the page accepts: 'reduced', 'reference' or 'lr=...;wd=...' (else null, with the reason). */
export function gridProblem(text: string): string | null {
  try {
    resolveGrid(text, 'vpt_deep');
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export function valSizeOf(trainSize: number): number {
  return Math.max(1, Math.floor(trainSize / 4));
}

export function trainSizeMin(setup: Pick<Setup, 'dev'>): number {
  return setup.dev ? 8 : TRAIN_SIZE_MIN;
}

// ---- the URL table ----

type PropType = 'string' | 'int' | 'float?' | 'int?' | 'bool' | 'methods' | 'backend';

/** Inclusive bounds of a number field; the URL parser and the form hold it to the same. */
export interface Bounds {
  min: number;
  max?: number;
  step?: number | 'any';
}

/** What the bounds may depend on besides the setup: imported parameters allow 0 epochs. */
export interface SetupRules {
  allowZeroEpochs?: boolean;
}

interface Prop {
  /** Name in the URL (short, stable: changing one breaks shared links). */
  name: string;
  key: keyof Setup;
  type: PropType;
  /** The field's label in the setup form (number fields). */
  label?: string;
  /** Bounds of a number field, fixed or from the setup. */
  bounds?: Bounds | ((s: Setup, rules: SetupRules) => Bounds);
  /** A value outside the bounds that keeps its own meaning (resolution 0 = the checkpoint's own). */
  keeps?: number;
}

/** Every setup property: its URL name, its type, and for numbers the form's label and bounds. */
export const URL_PROPS: readonly Prop[] = [
  { name: 'model', key: 'model', type: 'string' },
  { name: 'modelFile', key: 'modelFileName', type: 'string' },
  { name: 'task', key: 'taskId', type: 'string' },
  { name: 'data', key: 'data', type: 'string' },
  { name: 'dataUrl', key: 'dataUrl', type: 'string' },
  { name: 'methods', key: 'methods', type: 'methods' },
  { name: 'trainSize', key: 'trainSize', type: 'int', label: 'Train size', bounds: (s) => ({ min: trainSizeMin(s), max: TRAIN_SIZE_MAX, step: 100 }) },
  { name: 'epochs', key: 'epochs', type: 'int', label: 'Epochs', bounds: (_, r) => ({ min: r.allowZeroEpochs ? 0 : 1, max: 1000 }) },
  { name: 'batch', key: 'batchSize', type: 'int', label: 'Batch size', bounds: { min: 1, max: 1024 } },
  // Above 0; blank = the method's default.
  { name: 'lr', key: 'lr', type: 'float?', label: 'Base learning rate', bounds: { min: 0, step: 'any' } },
  { name: 'prompt', key: 'promptLength', type: 'int?', label: 'Prompt length', bounds: { min: 1, max: 500 } },
  { name: 'seed', key: 'seed', type: 'int', label: 'Seed', bounds: { min: 0, max: 2 ** 31 - 1 } },
  { name: 'protocol', key: 'protocol', type: 'string' },
  // The reference ran 5; 10 keeps a paper Start within reach of a laptop.
  { name: 'seeds', key: 'seeds', type: 'int', label: 'Seeds', bounds: { min: 1, max: 10 } },
  { name: 'grid', key: 'grid', type: 'string' },
  { name: 'res', key: 'imageSize', type: 'int', label: 'Input resolution (px)', bounds: { min: 16, max: 1024, step: 16 }, keeps: 0 },
  { name: 'testSize', key: 'testSize', type: 'int', label: 'Test images', bounds: { min: 0, max: 100000 } },
  { name: 'gradcam', key: 'gradcamSamples', type: 'int', label: 'Grad-CAM images', bounds: { min: 0, max: 64 } },
  { name: 'backend', key: 'backend', type: 'backend' },
  { name: 'dev', key: 'dev', type: 'bool' },
  { name: 'skipBad', key: 'skipBad', type: 'bool' },
];

export type NumberKey = 'trainSize' | 'epochs' | 'batchSize' | 'lr' | 'promptLength' | 'seed' | 'seeds' | 'imageSize' | 'testSize' | 'gradcamSamples';

function boundsOf(prop: Prop, s: Setup, rules: SetupRules): Bounds | null {
  return typeof prop.bounds === 'function' ? prop.bounds(s, rules) : (prop.bounds ?? null);
}

/** A number field's label and bounds for the form, as the table states them. */
export function numberField(key: NumberKey, s: Setup, rules: SetupRules = {}): { label: string } & Bounds {
  const prop = URL_PROPS.find((p) => p.key === key)!;
  return { label: prop.label!, ...boundsOf(prop, s, rules)! };
}

function encode(type: PropType, v: unknown): string | null {
  switch (type) {
    case 'bool':
      return v ? '1' : null;
    case 'methods':
      return (v as string[]).join(',');
    case 'float?':
    case 'int?':
    case 'backend':
      return v === null || v === undefined ? null : String(v);
    default:
      return String(v);
  }
}

function decode(type: PropType, raw: string): unknown {
  switch (type) {
    case 'string':
      return raw;
    case 'int': {
      const n = Number(raw);
      return Number.isInteger(n) ? n : undefined;
    }
    case 'int?':
    case 'float?': {
      if (raw === '') return null;
      const n = Number(raw);
      return Number.isFinite(n) && (type === 'float?' || Number.isInteger(n)) ? n : undefined;
    }
    case 'bool':
      return raw === '1' || raw === 'true';
    case 'methods': {
      const ids = raw.split(',').filter((m): m is MethodId => (METHOD_IDS as string[]).includes(m));
      return ids;
    }
    case 'backend':
      return (BACKENDS as readonly string[]).includes(raw) ? raw : null;
  }
}

/** The setup as a URL hash (without '#'). */
export function setupToHash(setup: Setup): string {
  const p = new URLSearchParams();
  for (const prop of URL_PROPS) {
    const v = encode(prop.type, setup[prop.key]);
    if (v !== null && v !== '') p.set(prop.name, v);
    // A blank (null) field whose default is not blank is written as "name=" so it survives a reload.
    else if (setup[prop.key] === null && DEFAULT_SETUP[prop.key] !== null && (prop.type === 'int?' || prop.type === 'float?')) p.set(prop.name, '');
  }
  return p.toString();
}

// ---- what the page shows, beside the setup ----

/** How the page is shown; it travels in the URL too, so a reload or a lecturer's link keeps it. */
export interface View {
  presentation: boolean;
}

/** URL name of presentation mode (`present=1`). */
const PRESENT_PARAM = 'present';

/** The URL hash of a setup and a view (without '#'). */
export function locationHash(setup: Setup, view: View): string {
  const p = new URLSearchParams(setupToHash(setup));
  if (view.presentation) p.set(PRESENT_PARAM, '1');
  return p.toString();
}

export function viewFromUrl(hash: string): View {
  return { presentation: new URLSearchParams(hash.replace(/^#/, '')).get(PRESENT_PARAM) === '1' };
}

/**
 * The setup a URL describes: the hash's properties over the defaults, then clamped to what the
 * UI allows. `?dev=1` in the query string also turns on dev mode.
 */
export function setupFromUrl(hash: string, search = ''): Setup {
  return readUrl(hash, search).setup;
}

/** The longest value a URL field may carry (a data URL of 2,048 characters is already unusual). */
export const MAX_URL_FIELD_CHARS = 2048;

/**
 * The setup a URL describes, and a sentence for every value of the link the page could not take
 * as it was (out of bounds, not a number, an unknown task or model): what it used instead and why.
 * A shared link never changes silently.
 */
export function readUrl(hash: string, search = ''): { setup: Setup; notes: string[] } {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const out: Record<string, unknown> = { ...DEFAULT_SETUP };
  // A field longer than any real value (a URL, a grid) is dropped with a note: a 1.5 MB field
  // would otherwise be parsed, stored and written back on every setup change.
  const notes: string[] = [];
  for (const prop of URL_PROPS) {
    const raw = p.get(prop.name);
    if (raw === null || raw.length <= MAX_URL_FIELD_CHARS) continue;
    p.delete(prop.name);
    notes.push(
      `The link's ${prop.name} is ${raw.length.toLocaleString('en')} characters long, more than the ${MAX_URL_FIELD_CHARS.toLocaleString('en')} a field may be: the default is used.`,
    );
  }
  for (const prop of URL_PROPS) {
    const raw = p.get(prop.name);
    if (raw === null) continue;
    const v = decode(prop.type, raw);
    if (v !== undefined) out[prop.key] = v;
  }
  if (new URLSearchParams(search).get('dev') === '1') out.dev = true;
  const setup = out as unknown as Setup;
  if (!p.has('res')) setup.imageSize = defaultImageSize(setup.model);
  const clean = sanitize(setup);
  for (const prop of URL_PROPS) {
    const raw = p.get(prop.name);
    if (raw === null) continue;
    const asked = decode(prop.type, raw);
    const used = clean[prop.key];
    if (asked !== undefined && (asked === used || prop.type === 'methods' || prop.type === 'bool' || prop.type === 'backend')) continue;
    const shown = used === null ? 'the default' : `${String(used)}`;
    const b = boundsOf(prop, clean, {});
    let why = asked === undefined ? `is not a ${prop.type.startsWith('int') ? 'whole number' : 'number'}` : 'is not one the lab knows';
    if (b && typeof asked === 'number') why = `is outside ${b.min}–${b.max ?? '∞'}`;
    if (prop.key === 'epochs' && asked === 0) why = 'would only evaluate, which needs trained parameters to import (a link cannot carry a file)';
    notes.push(`The link's ${prop.name}=${clip(raw, 100)} ${why}: ${clip(shown, 100)} is used.`);
  }
  return { setup: clean, notes };
}

/**
 * Clamp every field into its allowed range (the table's bounds, which the form shows too). Epochs
 * may be 0 (evaluate only) only when the runs start from imported trained parameters.
 */
export function sanitize(setup: Setup, rules: SetupRules = {}): Setup {
  const s = { ...setup };
  if (!TASKS.some((t) => t.id === s.taskId)) s.taskId = DEFAULT_SETUP.taskId;
  if (s.model !== 'file' && !MODEL_OPTIONS.some((o) => o.value === s.model) && !s.model.startsWith('random:')) s.model = DEFAULT_SETUP.model;
  if (!['local', 'zip', 'url'].includes(s.data)) s.data = 'local';
  if (s.methods.length === 0) s.methods = [...DEFAULT_SETUP.methods];
  s.methods = [...new Set(s.methods)];
  const values = s as unknown as Record<string, number | null>;
  for (const prop of URL_PROPS) {
    const b = boundsOf(prop, s, rules);
    const v = values[prop.key];
    if (!b || v === null || v === prop.keeps) continue; // a blank optional field stays blank
    if (prop.type === 'float?') {
      values[prop.key] = v > b.min && v <= (b.max ?? Infinity) ? v : null;
      continue;
    }
    const fallback = DEFAULT_SETUP[prop.key] as number | null;
    values[prop.key] = Number.isFinite(v) ? Math.min(b.max ?? Infinity, Math.max(b.min, Math.round(v))) : (fallback ?? b.min);
  }
  if (s.protocol !== 'quick' && s.protocol !== 'paper') s.protocol = DEFAULT_SETUP.protocol;
  if (typeof s.grid !== 'string' || gridProblem(s.grid) !== null) s.grid = DEFAULT_SETUP.grid;
  return s;
}
