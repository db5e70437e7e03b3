/**
 * "Copy link": the page's URL, which holds the whole setup (and presentation mode), to the
 * clipboard, saying so; where the clipboard is refused, the link is shown selected to copy by hand.
 */
import { useEffect, useRef, useState } from 'react';

export function CopyLink() {
  const [state, setState] = useState<'idle' | 'copied' | 'manual'>('idle');
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (state === 'copied') {
      const t = setTimeout(() => setState('idle'), 2500);
      return () => clearTimeout(t);
    }
    if (state === 'manual') field.current?.select();
  }, [state]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      setState('copied');
    } catch {
      setState('manual');
    }
  };
  return (
    <span className="copy-link">
      <button type="button" className="small" data-testid="ui.copyLink" onClick={() => void copy()} title="Copy a link that opens the lab with this setup">
        Copy link
      </button>
      <span role="status" aria-live="polite" data-testid="ui.copyLinkStatus">
        {state === 'copied' ? 'Link copied: it reproduces this setup (files must be picked again).' : ''}
      </span>
      {state === 'manual' && (
        <input ref={field} className="manual-link" readOnly value={location.href} aria-label="Link to this setup: copy it" onBlur={() => setState('idle')} />
      )}
    </span>
  );
}
