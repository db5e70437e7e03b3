/** A number input that commits on blur or Enter and says when the setup clamped what was typed. */
import { useEffect, useState } from 'react';

export function NumberField(props: {
  id: string;
  testId: string;
  label: string;
  value: number | null;
  min?: number;
  max?: number;
  step?: number | 'any';
  placeholder?: string;
  hint?: string;
  /** A named problem with the value (the setup refuses to start with it). */
  error?: string | null;
  onChange: (v: number | null) => void;
}) {
  const [text, setText] = useState(props.value === null ? '' : String(props.value));
  // What the last commit typed that the setup could not take (outside the bounds), said under the field.
  const [clamped, setClamped] = useState<string | null>(null);
  const [commits, setCommits] = useState(0);
  // After every commit the field shows the value the setup holds: a clamped value never stays typed.
  useEffect(() => setText(props.value === null ? '' : String(props.value)), [props.value, commits]);
  const commit = () => {
    setCommits((c) => c + 1);
    setClamped(null);
    if (text.trim() === '') return props.onChange(null);
    const n = Number(text);
    if (!Number.isFinite(n)) return;
    if (props.min !== undefined && n < props.min) setClamped(`${n} is below the minimum ${props.min}: ${props.min} is used`);
    else if (props.max !== undefined && n > props.max) setClamped(`${n} is above the maximum ${props.max}: ${props.max} is used`);
    props.onChange(n);
  };
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        data-testid={props.testId}
        type="number"
        inputMode="decimal"
        value={text}
        min={props.min}
        max={props.max}
        step={props.step}
        placeholder={props.placeholder}
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === 'Enter' && commit()}
      />
      {props.hint && <small id={`${props.id}-hint`}>{props.hint}</small>}
      {clamped && (
        <small className="warn" role="status" data-testid={`${props.testId}.clamped`}>
          {clamped}
        </small>
      )}
      {props.error && (
        <small className="error" role="alert" data-testid={`${props.testId}.error`}>
          {props.error}
        </small>
      )}
    </div>
  );
}
