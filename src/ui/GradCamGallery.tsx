/**
 * Grad-CAM gallery: the same fixed test images, each method's map side by side, refreshed at
 * every `gradcam` event. A filter keeps the images one method gets right and another wrong;
 * clicking an image opens it large.
 */
import { useEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { GradCamSample } from '../domain/run';
import { runsOfGroup, viewedGroupId } from '../store/selectors';
import { useLab } from '../store/store';
import type { RunRecord } from '../store/state';
import { drawSample } from './gradcamDraw';
import { METHOD_COLOURS } from './palette';

const OVERLAY_ALPHA = 0.5;

function SampleCanvas({ sample, alpha, label, size, testId, method }: { sample: GradCamSample; alpha: number; label: string; size: number; testId?: string; method?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (ref.current) drawSample(ref.current, sample, alpha);
  }, [sample, alpha]);
  return <canvas ref={ref} role="img" aria-label={label} style={{ width: size, height: size }} data-testid={testId} data-method={method} />;
}

function className(run: RunRecord | undefined, c: number): string {
  return run?.classNames?.[c] ?? String(c);
}

export default function GradCamGallery() {
  const groupId = useLab(viewedGroupId);
  const runs = useLab(useShallow((s) => runsOfGroup(s, groupId).filter((r) => r.gradcam && r.gradcam.samples.length > 0)));
  const presentation = useLab((s) => s.presentation);
  const [filter, setFilter] = useState('all');
  const [open, setOpen] = useState<number | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open !== null && !d.open) d.showModal();
    if (open === null && d.open) d.close();
  }, [open]);

  const indices = [...new Set(runs.flatMap((r) => r.gradcam!.samples.map((s) => s.index)))].sort((a, b) => a - b);
  const sampleOf = (r: RunRecord, index: number) => r.gradcam!.samples.find((s) => s.index === index);
  const pairs = runs.flatMap((a) => runs.filter((b) => b !== a).map((b) => [a, b] as const));
  const shown = indices.filter((index) => {
    if (filter === 'all') return true;
    const [ra, rb] = filter.split('|');
    const a = runs.find((r) => r.summary.config.runId === ra);
    const b = runs.find((r) => r.summary.config.runId === rb);
    const sa = a && sampleOf(a, index);
    const sb = b && sampleOf(b, index);
    return !!sa && !!sb && sa.predicted === sa.label && sb.predicted !== sb.label;
  });
  const cell = presentation ? 200 : 112;

  return (
    <section className="panel gallery" aria-labelledby="gallery-title" data-testid="gradcam.gallery" data-count={shown.length}>
      <h2 id="gallery-title">Grad-CAM gallery</h2>
      {runs.length === 0 ? (
        <p className="empty">Grad-CAM maps of fixed test images appear after each epoch.</p>
      ) : (
        <>
          <div className="field inline">
            <label htmlFor="gallery-filter">Show</label>
            <select id="gallery-filter" data-testid="gradcam.filter" value={filter} onChange={(e) => setFilter(e.target.value)}>
              <option value="all">all images</option>
              {pairs.map(([a, b]) => (
                <option key={`${a.summary.config.runId}|${b.summary.config.runId}`} value={`${a.summary.config.runId}|${b.summary.config.runId}`}>
                  {a.methodLabel} right, {b.methodLabel} wrong
                </option>
              ))}
            </select>
            <span className="note">
              epoch {runs.map((r) => `${r.methodLabel} ${r.gradcam!.epoch}`).join(', ')} · {shown.length} of {indices.length} images
            </span>
          </div>
          <table className="gallery-grid">
            <thead>
              <tr>
                <th scope="col">Image</th>
                {runs.map((r) => (
                  <th key={r.summary.config.runId} scope="col" style={{ borderBottom: `4px solid ${METHOD_COLOURS[r.summary.config.method]}` }}>
                    {r.methodLabel}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.map((index) => {
                const first = runs.map((r) => sampleOf(r, index)).find((s) => !!s)!;
                return (
                  <tr key={index}>
                    <td>
                      <button type="button" className="image-button" onClick={() => setOpen(index)} aria-label={`Open test image ${index} large (label ${className(runs[0], first.label)})`}>
                        <SampleCanvas sample={first} alpha={0} size={cell} label={`test image ${index}`} />
                      </button>
                      <div className="caption">label: {className(runs[0], first.label)}</div>
                    </td>
                    {runs.map((r) => {
                      const s = sampleOf(r, index);
                      if (!s) return <td key={r.summary.config.runId}>–</td>;
                      const right = s.predicted === s.label;
                      return (
                        <td key={r.summary.config.runId}>
                          <button type="button" className="image-button" onClick={() => setOpen(index)} aria-label={`Open test image ${index} large`}>
                            <SampleCanvas sample={s} alpha={OVERLAY_ALPHA} size={cell} label={`${r.methodLabel} Grad-CAM, predicted ${className(r, s.predicted)}`} testId="gradcam.overlay" method={r.summary.config.method} />
                          </button>
                          <div className={`caption ${right ? 'right' : 'wrong'}`}>
                            {right ? '✓' : '✗'} {className(r, s.predicted)}
                          </div>
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
      <dialog ref={dialog} className="modal" data-testid="gradcam.modal" onClose={() => setOpen(null)} aria-labelledby="modal-title">
        {open !== null && (
          <>
            <h3 id="modal-title">Test image {open}</h3>
            <div className="modal-images">
              {runs.map((r) => {
                const s = sampleOf(r, open);
                if (!s) return null;
                return (
                  <figure key={r.summary.config.runId}>
                    <SampleCanvas sample={s} alpha={OVERLAY_ALPHA} size={presentation ? 420 : 320} label={`${r.methodLabel} Grad-CAM of test image ${open}`} />
                    <figcaption>
                      <strong style={{ color: METHOD_COLOURS[r.summary.config.method] }}>{r.methodLabel}</strong>: predicted {className(r, s.predicted)} — label {className(r, s.label)}{' '}
                      {s.predicted === s.label ? '✓ right' : '✗ wrong'}
                    </figcaption>
                  </figure>
                );
              })}
            </div>
            <button type="button" onClick={() => setOpen(null)} autoFocus>
              Close (Esc)
            </button>
          </>
        )}
      </dialog>
    </section>
  );
}
