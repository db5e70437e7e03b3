import { useRef } from 'react';
import { formatBytes } from '../../domain/progress';
import { useLab } from '../../store/store';
import { pickImportParams } from '../actions';
import { CheckLine } from './CheckLine';

/** "Start from trained parameters": an exported safetensors file the next runs start from. */
export function ImportParams() {
  const picked = useLab((s) => s.picked.importParams);
  const input = useRef<HTMLInputElement>(null);
  return (
    <div className="field import-params">
      <label htmlFor="import-params">Start from trained parameters</label>
      <input
        id="import-params"
        ref={input}
        data-testid="setup.importParams"
        type="file"
        accept=".safetensors"
        aria-describedby="import-params-hint"
        onChange={(e) => pickImportParams(e.target.files?.[0] ?? null)}
      />
      {picked ? (
        <small id="import-params-hint" data-testid="setup.importParamsName">
          Next runs start from “{picked.name}” ({formatBytes(picked.bytes)}); epochs 0 only evaluates them.{' '}
          <button
            type="button"
            className="small"
            data-testid="setup.importParamsClear"
            onClick={() => {
              if (input.current) input.current.value = '';
              pickImportParams(null);
            }}
          >
            Clear
          </button>
        </small>
      ) : (
        <small id="import-params-hint">a file from “Export trained parameters” (prompts + head, or a whole fine-tuned model)</small>
      )}
      {picked && <CheckLine what="importParams" />}
    </div>
  );
}
