/** The setup panel: model, task and its data, methods, and the training knobs. All in the URL. */
import { GROUP_DESCRIPTIONS, PROCEDURAL_TASKS, VTAB_TASKS, type TaskGroup } from '../data/catalog';
import { METHODS, METHOD_IDS } from '../train/methods';
import { type MethodId } from '../domain/run';
import { pickModelFile, toggleMethod, updateSetup } from './actions';
import {
  MODEL_OPTIONS,
  defaultLrHint,
  effectivePromptLength,
  numberField,
  promptLengthHint,
  promptLengthNote,
  resolutionError,
  taskOf,
  valSizeOf,
  type NumberKey,
} from '../store/setup';
import { useLab } from '../store/store';
import { formatBytes } from '../domain/progress';
import { METHOD_COLOURS } from './palette';
import { MemoryEstimate } from './MemoryEstimate';
import { CheckLine } from './setup/CheckLine';
import { DataSourcePicker } from './setup/DataSourcePicker';
import { ImportParams } from './setup/ImportParams';
import { ModelDownloadNote } from './setup/ModelDownloadNote';
import { NumberField } from './setup/NumberField';
import { ProtocolPicker } from './setup/ProtocolPicker';

const GROUP_TITLES: Record<TaskGroup, string> = { natural: 'Natural', specialized: 'Specialized', structured: 'Structured' };

export function SetupPanel() {
  const setup = useLab((s) => s.setup);
  const open = useLab((s) => s.setupOpen);
  const importing = useLab((s) => !!s.picked.importParams);
  const task = taskOf(setup);
  /** A number field's label and bounds: the setup table's, the same the URL parser clamps to. */
  const field = (key: NumberKey) => numberField(key, setup, { allowZeroEpochs: importing });
  const promptNote = promptLengthNote(setup);
  const modelOpt = MODEL_OPTIONS.find((o) => o.value === setup.model);
  return (
    // Folded, the form stays mounted (hidden): the file inputs keep what was picked.
    <section className="panel setup" aria-labelledby="setup-title" hidden={!open}>
      <h2 id="setup-title">Setup</h2>
      <div className="field">
        <label htmlFor="model">Model</label>
        <select id="model" data-testid="setup.model" value={setup.model} onChange={(e) => updateSetup({ model: e.target.value })}>
          {MODEL_OPTIONS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
              {o.bytes ? ` — ${formatBytes(o.bytes)} download` : ''}
            </option>
          ))}
        </select>
        {modelOpt && <small>{modelOpt.note}</small>}
        <ModelDownloadNote />
      </div>
      <div className="field">
        <label htmlFor="model-file">Local checkpoint file</label>
        <input
          id="model-file"
          data-testid="setup.modelFile"
          type="file"
          accept=".safetensors,.npz,.bin"
          onChange={(e) => pickModelFile(e.target.files?.[0] ?? null)}
        />
        {setup.model === 'file' && <small>{setup.modelFileName ? `Using “${setup.modelFileName}”.` : 'Choose a file.'}</small>}
        {setup.model === 'file' && <CheckLine what="model" />}
      </div>
      <div className="field">
        <label htmlFor="task">Task</label>
        <select id="task" data-testid="setup.task" value={setup.taskId} onChange={(e) => updateSetup({ taskId: e.target.value })}>
          {(['natural', 'specialized', 'structured'] as TaskGroup[]).map((g) => (
            <optgroup key={g} label={`VTAB-1k ${GROUP_TITLES[g]} — ${GROUP_DESCRIPTIONS[g]}`}>
              {VTAB_TASKS.filter((t) => t.group === g).map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name} ({t.classes} classes)
                </option>
              ))}
            </optgroup>
          ))}
          <optgroup label="Offline (procedural)">
            {PROCEDURAL_TASKS.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </optgroup>
        </select>
        <small>
          {task.objective} · {task.classes} classes · group {GROUP_TITLES[task.group]}
        </small>
      </div>
      <DataSourcePicker />
      <ImportParams />
      <fieldset data-testid="setup.methods" className="methods">
        <legend>Methods to compare</legend>
        {METHOD_IDS.map((id: MethodId) => (
          <label key={id} title={METHODS[id].description}>
            <input
              type="checkbox"
              data-testid={`setup.method.${id}`}
              checked={setup.methods.includes(id)}
              onChange={(e) => toggleMethod(id, e.target.checked)}
            />{' '}
            <span className="swatch" style={{ background: METHOD_COLOURS[id] }} aria-hidden="true" /> {METHODS[id].label}
          </label>
        ))}
      </fieldset>
      <ProtocolPicker />
      <div className="grid2">
        <NumberField
          id="train-size"
          testId="setup.trainSize"
          {...field('trainSize')}
          value={setup.trainSize}
          hint={`${field('trainSize').min}–${field('trainSize').max}; validation = a quarter (${valSizeOf(setup.trainSize)})`}
          onChange={(v) => updateSetup({ trainSize: v ?? 400 })}
        />
        <NumberField
          id="epochs"
          testId="setup.epochs"
          {...field('epochs')}
          value={setup.epochs}
          hint={importing ? 'the paper trains 100; 0 = only evaluate the imported parameters' : 'the paper trains 100'}
          onChange={(v) => updateSetup({ epochs: v ?? 5 })}
        />
        <NumberField id="batch" testId="setup.batch" {...field('batchSize')} value={setup.batchSize} onChange={(v) => updateSetup({ batchSize: v ?? 32 })} />
        <NumberField
          id="lr"
          testId="setup.lr"
          {...field('lr')}
          value={setup.lr}
          placeholder="method default"
          hint={defaultLrHint(setup)}
          onChange={(v) => updateSetup({ lr: v })}
        />
        <NumberField
          id="prompt"
          testId="setup.promptLength"
          {...field('promptLength')}
          value={setup.promptLength}
          placeholder={String(effectivePromptLength(setup) ?? 'rule')}
          hint={promptLengthHint(setup)}
          onChange={(v) => updateSetup({ promptLength: v })}
        />
        {promptNote.warning && (
          <p className="note warn" role="note" data-testid="setup.promptWarning">
            {promptNote.warning}
          </p>
        )}
        <NumberField id="seed" testId="setup.seed" {...field('seed')} value={setup.seed} onChange={(v) => updateSetup({ seed: v ?? 1 })} />
        <NumberField
          id="res"
          testId="setup.imageSize"
          {...field('imageSize')}
          value={setup.imageSize || null}
          placeholder="checkpoint’s own"
          hint={
            setup.imageSize
              ? 'blank = the checkpoint’s own; otherwise position embeddings are resized'
              : 'the checkpoint’s own (48 px for the bundled model); type a size to resize'
          }
          error={resolutionError(setup)}
          onChange={(v) => updateSetup({ imageSize: v ?? 0 })}
        />
        <NumberField
          id="test-size"
          testId="setup.testSize"
          {...field('testSize')}
          value={setup.testSize}
          hint={task.source === 'procedural' ? 'generated' : '0 = the whole test list'}
          onChange={(v) => updateSetup({ testSize: v ?? 0 })}
        />
      </div>
      <MemoryEstimate />
    </section>
  );
}
