import { useEffect, useState } from 'react';
import { HUB_CHECKPOINTS } from '../../weights/sources';
import { formatBytes } from '../../domain/progress';
import { useLab } from '../../store/store';
import { cachedModel, removeCachedModel } from '../actions';

/**
 * A hub model's download, before Start: its size, and whether this browser already keeps a copy
 * (then no download; the user can remove the copy to free the space or to download it afresh).
 */
export function ModelDownloadNote() {
  const model = useLab((s) => s.setup.model);
  // Looked at again when a queue ends or starts: a run may just have stored the model.
  const queueState = useLab((s) => s.queueState);
  const [copy, setCopy] = useState<{ bytes: number | undefined } | null | 'unknown'>('unknown');
  const [removeError, setRemoveError] = useState('');
  const hub = model.startsWith('hub:') ? HUB_CHECKPOINTS.find((h) => `hub:${h.id}` === model) : undefined;
  useEffect(() => {
    setCopy('unknown');
    setRemoveError('');
    if (hub) cachedModel(hub).then(setCopy, () => setCopy(null));
  }, [hub, queueState]);
  if (hub) {
    if (copy !== 'unknown' && copy !== null) {
      const remove = () =>
        removeCachedModel(hub).then(
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
