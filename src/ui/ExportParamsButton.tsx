/** "Export trained parameters" of one finished run: the safetensors file stored in IndexedDB. */
import { exportTrainedParams } from './actions';
import { formatBytes } from '../domain/progress';
import type { RunRecord } from '../store/state';

export function ExportParamsButton({ run }: { run: RunRecord }) {
  const t = run.trained;
  if (!t) return null;
  return (
    <button
      type="button"
      className="small"
      data-testid="runs.exportParams"
      title={`${t.fileName}: ${t.tensors} tensors, ${formatBytes(t.bytes)}`}
      onClick={() => void exportTrainedParams(run.summary.config.runId)}
    >
      Export trained parameters ({formatBytes(t.bytes)})
    </button>
  );
}
