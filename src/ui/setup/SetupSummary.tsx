import { METHODS } from '../../train/methods';
import { modelLabel, taskOf } from '../../store/setup';
import { useLab } from '../../store/store';
import { showSetup } from '../actions';

/**
 * The setup in one line, shown while the form is folded (the run view): what is running, and a
 * button that opens the form again.
 */
export function SetupSummary() {
  const setup = useLab((s) => s.setup);
  const open = useLab((s) => s.setupOpen);
  const busy = useLab((s) => s.queueState === 'running' || s.queueState === 'paused');
  if (open) {
    // While runs go, the open form can be folded back.
    return busy ? (
      <div className="setup-summary open">
        <button type="button" className="small" data-testid="setup.fold" onClick={() => showSetup(false)}>
          Fold the setup (curves in view)
        </button>
      </div>
    ) : null;
  }
  const task = taskOf(setup);
  const parts = [
    modelLabel(setup).replace(/ \(offline\)$/, ''),
    task.name.replace(/ \(.*\)$/, ''),
    setup.methods.map((m) => METHODS[m].label).join(' vs '),
    `${setup.trainSize} train images`,
    `${setup.epochs} epoch${setup.epochs === 1 ? '' : 's'}`,
    `seed ${setup.seed}`,
  ];
  return (
    <div className="setup-summary" data-testid="setup.summary">
      <span>
        <strong>Setup:</strong> {parts.join(' · ')}
      </span>
      <button type="button" className="small" data-testid="setup.edit" onClick={() => showSetup(true)} aria-expanded={false}>
        {busy ? 'Edit setup' : 'Full setup…'}
      </button>
    </div>
  );
}
