/**
 * Engine self-check: compare the engine, on a chosen backend, against golden outputs made by the
 * reference implementations (transformers / timm / PyTorch). The same check as `npm run verify`,
 * run in the page's worker, so anyone can see the numbers hold on their own GPU.
 */
import { useState } from 'react';
import type { BackendName } from '../domain/run';
import { useLab } from '../store/store';
import { runEngineCheck } from './actions';
import { BackendSelect } from './BackendSelect';

export default function EngineCheck() {
  const [weights, setWeights] = useState<File | null>(null);
  const [golden, setGolden] = useState<File | null>(null);
  const [backend, setBackend] = useState<BackendName | ''>('');
  const { requestId, lines, report, error } = useLab((s) => s.check);
  const busy = requestId !== null;
  const run = () => {
    if (weights && golden) runEngineCheck(weights, golden, backend || null);
  };

  return (
    <details className="panel" data-testid="engine.check">
      <summary>
        <h2>Engine check against reference outputs</h2>
      </summary>
      <p className="note">
        Pick a checkpoint and its golden file (e.g. <code>hf_tiny_model.safetensors</code> and <code>hf_tiny_golden.safetensors</code> from the fixtures). Every
        logit, hidden state, loss, weight gradient, VPT output and Grad-CAM map is compared; tolerance 1e-4 on CPU/WASM, 1e-3 on WebGPU/WebGL.
      </p>
      <div className="row">
        <label>
          Checkpoint <input type="file" data-testid="engine.weights" accept=".safetensors,.npz" onChange={(e) => setWeights(e.target.files?.[0] ?? null)} />
        </label>
        <label>
          Golden file <input type="file" data-testid="engine.golden" accept=".safetensors" onChange={(e) => setGolden(e.target.files?.[0] ?? null)} />
        </label>
        <BackendSelect testId="engine.backend" value={backend || null} defaultLabel="the lab's choice" onChange={(b) => setBackend(b ?? '')} />
        <button type="button" data-testid="engine.run" disabled={!weights || !golden || busy} onClick={run}>
          {busy ? 'Checking…' : 'Run check'}
        </button>
      </div>
      {error && (
        <p className="banner error" role="alert" data-testid="engine.error">
          {error}
        </p>
      )}
      {report && (
        <p data-testid="engine.verdict" data-pass={report.pass ? 'true' : 'false'} data-backend={report.backend}>
          <strong>{report.pass ? 'PASS' : 'FAIL'}</strong> on <strong>{report.backend}</strong>: {report.rows.length} tensors, worst relative error{' '}
          {report.worst.toExponential(2)} (tolerance {report.tolerance}).
        </p>
      )}
      {lines.length > 0 && (
        <pre className="verify-lines" data-testid="engine.lines">
          {lines.join('\n')}
        </pre>
      )}
    </details>
  );
}
