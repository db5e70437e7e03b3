/**
 * The words of the paper protocol (search on val, final runs on train + val, seeds), as plain
 * data every layer can hold: the engine's records, the store, the exports, the CLIs' JSON.
 * The protocol itself is train/paper.ts; its runner train/paperSession.ts.
 */

/** A learning-rate × weight-decay grid; learning rates are base rates (× batch / 256). */
export interface HyperGrid {
  lrs: readonly number[];
  wds: readonly number[];
}

/** What a run config asks for: absent = the quick protocol (one run on train / val / test). */
export interface PaperSpec {
  kind: 'paper';
  grid: HyperGrid;
  /** Seeds of the final runs; the search runs use the first. */
  seeds: number[];
  /** Stop diverged search runs early (default true). */
  earlyStop?: boolean;
  /** Test images the why analyses read after the final evaluation (default 64; 0 = skip). */
  analysisImages?: number;
}

export interface CurvePoint {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  /** Held-out accuracy: val in search runs; NaN in final runs (no held-out images). */
  heldOutAcc: number;
}

/** One search run as the results record it. */
export interface SearchRun {
  lr: number;
  wd: number;
  /** Validation accuracy (%) at the last epoch trained. */
  valAcc: number;
  /** Stopped early on a diverged loss (then excluded from the choice). */
  diverged: boolean;
  /** Epochs actually trained. */
  epochs: number;
  /** Train accuracy and loss, validation accuracy per epoch: the generalisation gap over time. */
  curve: CurvePoint[];
  seconds: number;
}

export interface FinalRun {
  seed: number;
  testAcc: number;
  curve: CurvePoint[];
  seconds: number;
}

/** Everything the protocol found for one task × method: what the results JSON records. */
export interface PaperOutcome {
  protocol: 'paper';
  grid: HyperGrid;
  search: SearchRun[];
  chosen: { lr: number; wd: number; valAcc: number };
  /** Search stage sizes, and the final training size (train + val: 1000 on VTAB-1k). */
  searchTrainSize: number;
  valSize: number;
  finalTrainSize: number;
  numTest: number;
  final: FinalRun[];
  mean: number;
  std: number;
  chance: number;
  nearChance: boolean;
  notices: string[];
}

export interface PromptAttention {
  /** Per block: mean share (0–1) of the CLS query's attention that lands on prompt tokens. */
  fromCls: number[];
  /** Per block: the same for the patch queries. */
  fromPatches: number[];
  /** What a share would be if attention were uniform over the sequence: P / (1 + P + g²). */
  uniform: number;
}

/** The why analyses of the first seed's final model, on test images after every evaluation. */
export interface WhyAnalysis {
  seed: number;
  images: number;
  /** Linear CKA to the pretrained backbone per layer: [embedding, block 1, ..., block L]. */
  cka: number[];
  /** Attention on prompt tokens per block (prompt methods only). */
  promptAttention: PromptAttention | null;
}

/** A paper-protocol run's record: the outcome and its why analyses. */
export interface PaperResult extends PaperOutcome {
  why: WhyAnalysis | null;
}

/** Where a paper-protocol run is, for progress displays. */
export interface PaperStage {
  stage: 'search' | 'final';
  /** Position in the stage (0-based) and the stage's run count. */
  index: number;
  of: number;
  lr: number;
  wd: number;
  seed: number;
}
