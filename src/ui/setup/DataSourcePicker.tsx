import { useState, type DragEvent } from 'react';
import { taskOf, type DataChoice } from '../../store/setup';
import { useLab } from '../../store/store';
import { pickDataDirectory, pickDataFiles, pickDataZip, pickDropped, updateSetup } from '../actions';
import { CheckLine } from './CheckLine';

/** Where a VTAB task's images come from: a local folder (dropped or picked), a zip, or a URL. */
export function DataSourcePicker() {
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
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    void pickDropped(e.dataTransfer);
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
