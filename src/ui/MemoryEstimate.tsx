/**
 * The memory plan of the setup, before Start: per method, the estimated peak of one step against
 * the backend's budget, the micro-batch that fits (the batch is kept through accumulation), and
 * whether activations are recomputed; or, when not even one image fits, the error the run would
 * stop with. Pure arithmetic over the setup (src/train/memory.ts): no tensor is made.
 */
import { getTask } from '../data/catalog';
import { LabError } from '../domain/errors';
import { effectivePromptLength } from '../store/setup';
import { useLab } from '../store/store';
import { dimsOfChoice } from '../train/dims';
import { formatBytes, hostBudget, planPhases, wasmBudget, webgpuBudget, type MemoryBudget, type MemoryPlan } from '../train/memory';
import { METHODS } from '../train/methods';

/** The budget the page can know before the engine runs: WebGPU's limits come with its device. */
function pageBudget(backend: string | undefined): MemoryBudget {
  if (backend === 'webgpu') return webgpuBudget({ maxBufferSize: 256 * 2 ** 20, maxStorageBufferBindingSize: 128 * 2 ** 20 });
  if (backend === 'cpu' || backend === 'webgl') return hostBudget(backend);
  return wasmBudget();
}

type Row = { method: string; plan?: MemoryPlan; error?: string };

export function MemoryEstimate() {
  const setup = useLab((s) => s.setup);
  const backend = useLab((s) => s.setup.backend ?? s.engine.choice?.backend);
  const dims = dimsOfChoice(setup.model, setup.imageSize);
  if (!dims) {
    return (
      <p className="note" data-testid="setup.memory" data-state="unknown">
        Memory: estimated once the checkpoint file is read (its sizes are in its header).
      </p>
    );
  }
  const budget = pageBudget(backend);
  const task = getTask(setup.taskId);
  // The sizes are known here, so the prompt length (typed, or the catalog's rule) is too.
  const rows: Row[] = setup.methods.map((m) => {
    try {
      const plans = planPhases(dims, METHODS[m].phases, {
        numClasses: task.classes,
        promptLength: effectivePromptLength(setup)!,
        batch: Math.min(setup.batchSize, setup.trainSize),
        budget,
        backboneCopy: false,
      });
      return { method: METHODS[m].label, plan: plans.reduce((a, b) => (b.estimate.totalBytes > a.estimate.totalBytes ? b : a)) };
    } catch (e) {
      return { method: METHODS[m].label, error: e instanceof LabError ? e.message : String(e) };
    }
  });
  const worst = rows.reduce((a, r) => Math.max(a, r.plan?.estimate.totalBytes ?? Infinity), 0);
  const fits = rows.every((r) => r.plan);
  return (
    <div
      className="note memory-estimate"
      data-testid="setup.memory"
      data-state={fits ? 'fits' : 'does-not-fit'}
      data-bytes={Number.isFinite(worst) ? Math.round(worst) : undefined}
    >
      <strong>Memory</strong> ({budget.source}):
      <ul>
        {rows.map((r) => (
          <li
            key={r.method}
            data-testid="setup.memory.row"
            data-micro-batch={r.plan?.microBatch}
            data-recompute={r.plan ? String(r.plan.recompute) : undefined}
          >
            {r.method}:{' '}
            {r.plan ? (
              <>
                about {formatBytes(r.plan.estimate.totalBytes)} per step
                {r.plan.microBatch < setup.batchSize
                  ? `, in micro-batches of ${r.plan.microBatch} (batch ${setup.batchSize} kept through gradient accumulation)`
                  : ''}
                {r.plan.recompute ? ', activations recomputed' : ''}
              </>
            ) : (
              <span className="error-text">{r.error}</span>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
