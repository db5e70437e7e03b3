/** A backend picker over the closed list, with a first option for "let the lab choose". */
import { BACKENDS, type BackendName } from '../domain/run';

export function BackendSelect(props: { testId: string; value: BackendName | null; defaultLabel: string; onChange: (b: BackendName | null) => void }) {
  return (
    <label>
      Backend{' '}
      <select data-testid={props.testId} value={props.value ?? ''} onChange={(e) => props.onChange((e.target.value || null) as BackendName | null)}>
        <option value="">{props.defaultLabel}</option>
        {BACKENDS.map((b) => (
          <option key={b} value={b}>
            {b}
          </option>
        ))}
      </select>
    </label>
  );
}
