import { useLab } from '../../store/store';

/**
 * What the check of a picked file found, as soon as it was picked: what it holds, or the named
 * error (what, where, the fix) before Start is pressed.
 */
export function CheckLine({ what }: { what: 'model' | 'data' | 'importParams' }) {
  const check = useLab((s) => s.checks[what]);
  if (!check) return null;
  const testId = `setup.${what}Check`;
  if (check.state === 'checking')
    return (
      <p className="check checking" role="status" data-testid={testId} data-state="checking">
        Checking the {what === 'model' ? 'checkpoint' : what === 'data' ? 'data' : 'trained parameters'}…
      </p>
    );
  if (check.state === 'bad')
    return (
      <p className="check bad" role="alert" data-testid={testId} data-state="bad" data-code={check.code}>
        <strong>✗ Not usable:</strong> <code>{check.code}</code> {check.text}
      </p>
    );
  return (
    <div className="check ok" role="status" data-testid={testId} data-state="ok">
      ✓ {check.text}
      {check.warnings.map((w) => (
        <p key={w} className="warning-text">
          {w}
        </p>
      ))}
    </div>
  );
}
