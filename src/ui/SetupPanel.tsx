/** The setup panel: model, task and its data, methods, and the training knobs. All in the URL. */
import { useEffect, useRef, useState, type DragEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { GROUP_DESCRIPTIONS, PROCEDURAL_TASKS, VTAB_TASKS, type TaskGroup } from '../data/catalog';
import { METHODS, METHOD_IDS } from '../train/methods';
import { type MethodId } from '../domain/run';
import { HUB_CHECKPOINTS, cachedCopy, removeCachedCopy } from '../weights/sources';
import { pickDataDirectory, pickDataFiles, pickDataZip, pickImportParams, pickModelFile, showSetup, toggleMethod, updateSetup } from './actions';
import {
  MODEL_OPTIONS,
  defaultLrHint,
  modelLabel,
  effectivePromptLength,
  formatBytes,
  gridProblem,
  numberField,
  promptLengthHint,
  promptLengthNote,
  resolutionError,
  taskOf,
  valSizeOf,
  type DataChoice,
  type NumberKey,
} from '../store/setup';
import { estimateStart, formatDuration } from '../store/estimate';
import { REDUCED_GRIDS, REFERENCE_GRIDS, gridPoints } from '../train/paper';
import { useLab } from '../store/store';
import { METHOD_COLOURS } from './palette';
import { MemoryEstimate } from './MemoryEstimate';

const GROUP_TITLES: Record<TaskGroup, string> = { natural: 'Natural', specialized: 'Specialized', structured: 'Structured' };

function NumberField(props: {
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

/**
 * A hub model's download, before Start: its size, and whether this browser already keeps a copy
 * (then no download; the user can remove the copy to free the space or to download it afresh).
 */
function ModelDownloadNote() {
  const model = useLab((s) => s.setup.model);
  // Looked at again when a queue ends or starts: a run may just have stored the model.
  const queueState = useLab((s) => s.queueState);
  const [copy, setCopy] = useState<{ bytes: number | undefined } | null | 'unknown'>('unknown');
  const [removeError, setRemoveError] = useState('');
  const hub = model.startsWith('hub:') ? HUB_CHECKPOINTS.find((h) => `hub:${h.id}` === model) : undefined;
  useEffect(() => {
    setCopy('unknown');
    setRemoveError('');
    if (hub) cachedCopy(hub.url).then(setCopy, () => setCopy(null));
  }, [hub, queueState]);
  if (hub) {
    if (copy !== 'unknown' && copy !== null) {
      const remove = () =>
        removeCachedCopy(hub.url).then(
          () => setCopy(null),
          (e: Error) => setRemoveError(e.message),
        );
      return (
        <p className="note" data-testid="setup.modelSize" data-cached="true">
          In this browser’s cache ({formatBytes(copy.bytes ?? hub.approxBytes)}): Start loads it from there, no download.{' '}
          <button type="button" data-testid="setup.modelCacheRemove" disabled={queueState === 'running'} onClick={remove}>
            Remove from cache
          </button>
          {removeError && <span role="alert"> {removeError}</span>}
        </p>
      );
    }
    return (
      <p className="note" data-testid="setup.modelSize" data-cached={copy === 'unknown' ? undefined : 'false'}>
        Downloads about <strong>{formatBytes(hub.approxBytes)}</strong> from the Hugging Face hub when you press Start (once; then kept in this browser’s
        cache).
      </p>
    );
  }
  if (model.startsWith('bundled:')) return <p className="note">Bundled with the lab: no network needed.</p>;
  return null;
}

function DataSourcePicker() {
  const setup = useLab((s) => s.setup);
  const picked = useLab((s) => s.picked.data);
  const task = taskOf(setup);
  const [dragging, setDragging] = useState(false);
  if (task.source === 'procedural') {
    return (
      <p className="note" data-testid="setup.dataSource">
        Data: <strong>procedural</strong> — generated in the lab from the seed ({task.axes.distributionNote}). Mirrors the objective of VTAB’s{' '}
        {task.vtabCounterpart}; published numbers are not comparable.
      </p>
    );
  }
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const items = [...e.dataTransfer.items];
    const files: { path: string; file: Blob }[] = [];
    let rootName = 'dropped folder';
    const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
      if (entry.isFile) {
        const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
        files.push({ path: prefix + entry.name, file });
      } else if (entry.isDirectory) {
        const reader = (entry as FileSystemDirectoryEntry).createReader();
        for (;;) {
          const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
          if (batch.length === 0) break;
          for (const child of batch) await walk(child, prefix + entry.name + '/');
        }
      }
    };
    const entries = items.map((i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
    if (entries.length === 1 && entries[0]!.isFile && /\.zip$/i.test(entries[0]!.name)) {
      const f = e.dataTransfer.files[0];
      if (f) pickDataZip(f);
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory) rootName = entry.name;
      await walk(entry, '');
    }
    if (files.length) pickDataFiles(files, rootName);
  };
  const pickWithPicker = async () => {
    const w = window as unknown as { showDirectoryPicker?: () => Promise<{ name: string }> };
    if (!w.showDirectoryPicker) return;
    try {
      pickDataDirectory(await w.showDirectoryPicker());
    } catch {
      // the user closed the picker
    }
  };
  const choice = setup.data;
  return (
    <fieldset className="data-source" data-testid="setup.dataSource">
      <legend>Data for {task.name}</legend>
      <div role="radiogroup" aria-label="Data source" className="row">
        {(['local', 'zip', 'url'] as DataChoice[]).map((c) => (
          <label key={c}>
            <input type="radio" name="data" value={c} checked={choice === c} onChange={() => updateSetup({ data: c })} />{' '}
            {c === 'local' ? 'Local folder' : c === 'zip' ? 'Zip file' : 'URL'}
          </label>
        ))}
      </div>
      {choice === 'local' && (
        <div
          className={`dropzone${dragging ? ' dragging' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <p>
            Drop the vtab-1k folder (with <code>{task.folder}/</code> inside, or the task folder itself) here, or:
          </p>
          <label className="button-like">
            Choose folder…
            <input
              type="file"
              data-testid="setup.dataFolder"
              className="visually-hidden"
              // @ts-expect-error non-standard but supported by every current browser
              webkitdirectory=""
              multiple
              onChange={(e) => {
                const list = [...(e.target.files ?? [])];
                if (!list.length) return;
                const root = list[0]!.webkitRelativePath.split('/')[0] || 'folder';
                pickDataFiles(
                  list.map((f) => ({ path: f.webkitRelativePath || f.name, file: f })),
                  root,
                );
              }}
            />
          </label>
          {'showDirectoryPicker' in window && (
            <button type="button" onClick={pickWithPicker}>
              Open folder with access…
            </button>
          )}
        </div>
      )}
      {choice === 'zip' && (
        <div className="field">
          <label htmlFor="data-zip">Zip of the vtab-1k folder</label>
          <input
            id="data-zip"
            data-testid="setup.dataZip"
            type="file"
            accept=".zip,application/zip"
            onChange={(e) => pickDataZip(e.target.files?.[0] ?? null)}
          />
        </div>
      )}
      {choice === 'url' && (
        <div className="field">
          <label htmlFor="data-url">Base URL of a vtab-1k folder</label>
          <input
            id="data-url"
            data-testid="setup.dataUrl"
            type="url"
            placeholder="https://example.org/vtab-1k/"
            defaultValue={setup.dataUrl}
            onBlur={(e) => updateSetup({ dataUrl: e.target.value })}
          />
        </div>
      )}
      <p className="note" aria-live="polite">
        {picked && choice !== 'url'
          ? `Picked: ${picked.kind === 'zip' ? 'zip' : 'folder'} “${picked.name}”${picked.count > 1 ? ` (${picked.count} files)` : ''}.`
          : choice !== 'url'
            ? 'Nothing picked yet.'
            : ''}
      </p>
      {choice !== 'url' && <CheckLine what="data" />}
      <label
        className="check-option"
        title="Missing or undecodable images are left out and listed in the run's notices; without it the run stops at the first one, naming it"
      >
        <input type="checkbox" data-testid="setup.skipBad" checked={setup.skipBad} onChange={(e) => updateSetup({ skipBad: e.target.checked })} /> Skip
        unreadable images (the run lists what it left out)
      </label>
    </fieldset>
  );
}

/**
 * What the check of a picked file found, as soon as it was picked: what it holds, or the named
 * error (what, where, the fix) before Start is pressed.
 */
function CheckLine({ what }: { what: 'model' | 'data' | 'importParams' }) {
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

/** "Start from trained parameters": an exported safetensors file the next runs start from. */
function ImportParams() {
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

/**
 * The protocol: quick (one run per method) or the papers' VTAB-1k protocol (a learning-rate ×
 * weight-decay search on validation, then final runs on train + val for several seeds), with the
 * grid, the seeds, and how long the Start will take.
 */
function ProtocolPicker() {
  const setup = useLab((s) => s.setup);
  const estimate = useLab(
    useShallow((s) => {
      const e = estimateStart(s);
      return { runs: e.work.runs, seconds: e.seconds, basis: e.basis };
    }),
  );
  const [customGrid, setCustomGrid] = useState(setup.grid === 'reduced' || setup.grid === 'reference' ? '' : setup.grid);
  const [gridError, setGridError] = useState<string | null>(null);
  const gridKind = setup.grid === 'reduced' || setup.grid === 'reference' ? setup.grid : 'custom';
  const points = (g: 'reduced' | 'reference') => {
    const grids = g === 'reduced' ? REDUCED_GRIDS : REFERENCE_GRIDS;
    return `${gridPoints(grids.prompt).length} per prompt / linear method, ${gridPoints(grids.finetune).length} for FT`;
  };
  return (
    <fieldset className="protocol" data-testid="setup.protocol">
      <legend>Protocol</legend>
      <label>
        <input
          type="radio"
          name="protocol"
          data-testid="setup.protocol.quick"
          checked={setup.protocol === 'quick'}
          onChange={() => updateSetup({ protocol: 'quick' })}
        />{' '}
        Quick: one run per method on train / val / test, at the hyperparameters below
      </label>
      <label>
        <input
          type="radio"
          name="protocol"
          data-testid="setup.protocol.paper"
          checked={setup.protocol === 'paper'}
          onChange={() => updateSetup({ protocol: 'paper' })}
        />{' '}
        Paper (VTAB-1k): search the learning rate × weight decay on validation, then train on train + val with the chosen values, once per seed; test mean ± std
      </label>
      {setup.protocol === 'paper' && (
        <div className="grid2">
          <NumberField
            id="seeds"
            testId="setup.seeds"
            {...numberField('seeds', setup)}
            value={setup.seeds}
            hint={`final runs with seeds ${setup.seed}–${setup.seed + setup.seeds - 1} (the reference ran 5)`}
            onChange={(v) => updateSetup({ seeds: v ?? 3 })}
          />
          <div className="field">
            <label htmlFor="grid">Search grid</label>
            <select
              id="grid"
              data-testid="setup.grid"
              value={gridKind}
              onChange={(e) => {
                const v = e.target.value;
                if (v === 'custom') updateSetup({ grid: customGrid && !gridProblem(customGrid) ? customGrid : 'lr=0.5,0.05;wd=0.0001' });
                else updateSetup({ grid: v });
              }}
            >
              <option value="reduced">Reduced (default): {points('reduced')}</option>
              <option value="reference">Reference (KMnP/vpt tune_vtab.py): {points('reference')}</option>
              <option value="custom">Custom…</option>
            </select>
            {gridKind === 'custom' && (
              <input
                aria-label="Custom grid"
                data-testid="setup.gridCustom"
                defaultValue={setup.grid}
                placeholder="lr=0.5,0.05;wd=0.0001"
                onBlur={(e) => {
                  const v = e.target.value.trim();
                  const problem = gridProblem(v);
                  setGridError(problem);
                  if (!problem) {
                    setCustomGrid(v);
                    updateSetup({ grid: v });
                  }
                }}
              />
            )}
            <small>{gridError ?? 'base learning rates (× batch / 256); FT searches its own, smaller rates'}</small>
          </div>
        </div>
      )}
      <p className="note" data-testid="setup.estimate">
        This Start: {estimate.runs} training run{estimate.runs === 1 ? '' : 's'}
        {Number.isFinite(estimate.seconds) ? (
          <>
            , about <strong>{formatDuration(estimate.seconds)}</strong> (
            {estimate.basis === 'guess' ? 'a guess until a step is measured: see beside Start' : 'measured on this device: see beside Start'}).
          </>
        ) : (
          <>; the time is known after a first run of this checkpoint here, or a measurement (Measure beside Start).</>
        )}
      </p>
    </fieldset>
  );
}

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
