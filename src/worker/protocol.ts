/**
 * Every message between the page and the engine worker, and nothing else. Plain, structured-
 * cloneable data only: numbers, strings, small typed arrays, Files and ArrayBuffers. The words
 * the messages are made of live in domain/.
 */
import type { BackendChoice } from '../backend/select';
import type { BackendName, DataSpec, EpochMetrics, GradCamSample, ModelSpec, ResumeState, RunConfig, RunSummary, TestResult } from '../domain/run';
import type { Progress } from '../domain/progress';
import type { ErrorInfo } from '../domain/errors';
import type { VerifyReport } from '../verify/golden';
import type { BenchRow } from '../bench/bench';
import type { KernelCheckRow } from '../kernels/webgpu/check';

// ---- commands: page -> worker ----
export type Command =
  | { type: 'init'; backend?: BackendName }
  | { type: 'start'; config: RunConfig; resumeFrom?: ResumeState }
  | { type: 'pause'; runId: string }
  | { type: 'resume'; runId: string }
  | { type: 'cancel'; runId: string }
  | { type: 'verify'; requestId: string; weights: Blob; weightsName: string; golden: Blob; backend?: BackendName }
  | { type: 'bench'; requestId: string; backend?: BackendName; cases: { preset: string; mode: 'forward' | 'ft' | 'vpt_deep'; batch: number; promptLength: number; imageSize?: number; recompute?: boolean }[]; warmup: number; runs: number; kernels?: 'lab' | 'stock' }
  /** The lab's WebGPU kernels against stock tfjs on random inputs (forward and every gradient). */
  | { type: 'kernel-check'; requestId: string; backend?: BackendName; full?: boolean; timing?: boolean; reps?: number; only?: string[] }
  | { type: 'frechet'; requestId: string; model: ModelSpec; modelLabel: string; taskIds: string[]; data: DataSpec; reference: DataSpec | { kind: 'pretraining' }; count: number; imageSize: number; seed: number };

// ---- events: worker -> page ----
export type EngineEvent =
  | { type: 'ready'; choice: BackendChoice }
  | { type: 'progress'; runId: string; progress: Progress }
  | { type: 'run-started'; runId: string; backend: string; trainableParams: number; totalParams: number; stepsPerEpoch: number; numClasses: number; classNames?: string[] }
  | { type: 'step'; runId: string; epoch: number; phase: number; step: number; stepsPerEpoch: number; loss: number; imagesPerSec: number }
  | { type: 'epoch'; runId: string; metrics: EpochMetrics }
  | { type: 'gradcam'; runId: string; epoch: number; samples: GradCamSample[] }
  | { type: 'checkpoint'; runId: string; state: ResumeState }
  | { type: 'test'; runId: string; result: TestResult }
  /** The trained parameters as a safetensors file (prompts + head for VPT, the whole model for FT). */
  | { type: 'trained'; runId: string; bytes: ArrayBuffer; fileName: string; trainable: string[] }
  | { type: 'state'; runId: string; status: RunSummary['status'] }
  | { type: 'notice'; runId: string; message: string }
  | { type: 'error'; runId?: string; requestId?: string; error: ErrorInfo }
  | { type: 'verify-result'; requestId: string; report: VerifyReport; lines: string[] }
  | { type: 'bench-result'; requestId: string; rows: BenchRow[]; adapter: string }
  | { type: 'kernel-check-result'; requestId: string; rows: KernelCheckRow[]; lines: string[]; pass: boolean; adapter: string }
  | { type: 'frechet-result'; requestId: string; distances: { taskId: string; distance: number }[]; reference: string };
