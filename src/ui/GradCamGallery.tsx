/**
 * Grad-CAM gallery: the same fixed test images, each method's map side by side, refreshed at
 * every `gradcam` event. A filter keeps the images one method gets right and another wrong;
 * clicking an image opens it large.
 */
import { memo, useDeferredValue, useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';
import type { GradCamSample } from '../domain/run';
import { runsOfGroup, viewedGroupId } from '../store/selectors';
import { useLab, useRunRecords } from '../store/store';
import type { RunRecord } from '../store/state';
import { VIRIDIS, drawSample } from './gradcamDraw';
import { METHOD_COLOURS } from './palette';
import { countOffset, labelText } from './labels';

const OVERLAY_ALPHA = 0.5;

function SampleCanvas({
  sample,
  alpha,
  label,
  size,
  testId,
  method,
}: {
  sample: GradCamSample;
  alpha: number;
  label: string;
  size: number;
  testId?: string;
  method?: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (canvas) return queueDraw(() => drawSample(canvas, sample, alpha));
  }, [sample, alpha]);
  return <canvas ref={ref} role="img" aria-label={label} style={{ width: size, height: size }} data-testid={testId} data-method={method} />;
}

/**
 * Canvases are drawn one per task, not all in the one that mounts them: sixteen at an epoch's end
 * in one task kept the page from answering for a third of a second on a software GPU.
 */
const drawQueue: (() => void)[] = [];
let drawing = false;
function queueDraw(draw: () => void): () => void {
  drawQueue.push(draw);
  if (!drawing) {
    drawing = true;
    const next = () => {
      drawQueue.shift()?.();
      if (drawQueue.length) setTimeout(next, 0);
      else drawing = false;
    };
    setTimeout(next, 0);
  }
  // Unmounted or redrawn before its turn: dropped.
  return () => {
    const i = drawQueue.indexOf(draw);
    if (i >= 0) drawQueue.splice(i, 1);
  };
}

/**
 * The colour scale of the overlays (viridis, as drawn): dark purple where the map is low, yellow
 * where the evidence for the predicted class is strongest.
 */
export function ColourScale() {
  const stops = VIRIDIS.map(([r, g, b], i) => `rgb(${r} ${g} ${b}) ${((100 * i) / (VIRIDIS.length - 1)).toFixed(1)}%`).join(', ');
  return (
    <span
      className="colour-scale"
      data-testid="gradcam.scale"
      role="img"
      aria-label="Colour scale: purple = low, yellow = high relevance for the predicted class"
    >
      <span className="scale-end">low</span>
      <span className="scale-bar" style={{ background: `linear-gradient(to right, ${stops})` }} />
      <span className="scale-end">high relevance to the prediction</span>
    </span>
  );
}

/** A caption line under each image, the row of labels above them, and the methods' row headers (px, at presentation's 18 px text). */
const CAPTION_PX = 26;
const LABEL_ROW_PX = 28;
const ROW_HEAD_PX = 170;

/**
 * Image size in presentation: the methods' rows share what is left of the screen below the
 * gallery's top (the status strip and the two curves sit above it), each with a caption line;
 * measured, so it follows the window and the font.
 */
function usePresentationCell(on: boolean, rows: number, columns: number, deps: unknown[]): [RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [cell, setCell] = useState(72);
  useLayoutEffect(() => {
    if (!on) return;
    const fit = () => {
      const box = ref.current?.getBoundingClientRect();
      const top = box?.top ?? window.innerHeight / 2;
      const room = window.innerHeight - top - LABEL_ROW_PX - 10;
      // Every column across too: the last image must not be cut off at the right.
      const across = Math.floor(((box?.width ?? window.innerWidth) - ROW_HEAD_PX) / Math.max(1, columns)) - 10;
      setCell(Math.max(40, Math.min(160, across, Math.floor(room / Math.max(1, rows)) - CAPTION_PX - 6)));
    };
    fit();
    window.addEventListener('resize', fit);
    return () => window.removeEventListener('resize', fit);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- refit when what is above the gallery changes
  }, [on, rows, columns, ...deps]);
  return [ref, cell];
}

/** A label in words ("7 (8 objects)" on a counting task), for captions with room. */
function className(run: RunRecord | undefined, c: number): string {
  return run ? labelText(run.summary.config.taskId, c, run.classNames) : String(c);
}

/** A label as short as it goes, under small images; the row header says what it counts. */
function shortName(run: RunRecord | undefined, c: number): string {
  return run?.classNames?.[c] ?? String(c);
}

export default function GradCamGallery() {
  const groupId = useLab(viewedGroupId);
  // Deferred and memoised: only the time-sliced pass after a store change draws the gallery.
  const runs = useDeferredValue(useRunRecords((s) => runsOfGroup(s, groupId).filter((r) => r.gradcam && r.gradcam.samples.length > 0)));
  const presentation = useLab((s) => s.presentation);
  return <MemoGallery runs={runs} presentation={presentation} />;
}

const MemoGallery = memo(Gallery);

function Gallery({ runs, presentation }: { runs: RunRecord[]; presentation: boolean }) {
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
  const across = presentation;
  const offset = runs[0] ? countOffset(runs[0].summary.config.taskId) : null;
  const [scroller, fitted] = usePresentationCell(across, runs.length, shown.length, [indices.length]);
  const cell = across ? fitted : 112;
  const imageButton = (index: number, first: GradCamSample) => (
    <button
      type="button"
      className="image-button"
      onClick={() => setOpen(index)}
      aria-label={`Open test image ${index} large (label ${className(runs[0], first.label)})`}
    >
      <SampleCanvas sample={first} alpha={0} size={cell} label={`test image ${index}`} />
    </button>
  );
  const overlayButton = (r: RunRecord, index: number) => {
    const s = sampleOf(r, index);
    if (!s) return <>–</>;
    const right = s.predicted === s.label;
    return (
      <>
        <button
          type="button"
          className="image-button"
          onClick={() => setOpen(index)}
          aria-label={`${r.methodLabel} on test image ${index}: predicted ${className(r, s.predicted)}, ${right ? 'right' : 'wrong'}. Open large`}
        >
          <SampleCanvas
            sample={s}
            alpha={OVERLAY_ALPHA}
            size={cell}
            label={`${r.methodLabel} Grad-CAM, predicted ${className(r, s.predicted)}`}
            testId="gradcam.overlay"
            method={r.summary.config.method}
          />
        </button>
        <div className={`caption ${right ? 'right' : 'wrong'}`}>
          {right ? '✓' : '✗'} {across ? shortName(r, s.predicted) : className(r, s.predicted)}
        </div>
      </>
    );
  };

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
            <ColourScale />
          </div>
          <div className="gallery-scroll" ref={scroller}>
            {across ? (
              // Presentation: one row per method, images across under their labels (the modal shows
              // each image without its map), so the gallery fits under the curves.
              <table className="gallery-grid across">
                <thead>
                  <tr>
                    <th scope="row">{offset === null ? 'label' : `label = objects − ${offset}`}</th>
                    {shown.map((index) => {
                      const first = runs.map((r) => sampleOf(r, index)).find((x) => !!x)!;
                      return (
                        <th key={index} scope="col" className="caption">
                          {shortName(runs[0], first.label)}
                        </th>
                      );
                    })}
                  </tr>
                </thead>
                <tbody>
                  {runs.map((r) => (
                    <tr key={r.summary.config.runId}>
                      <th scope="row" style={{ borderRight: `4px solid ${METHOD_COLOURS[r.summary.config.method]}` }}>
                        {r.methodLabel}
                      </th>
                      {shown.map((index) => (
                        <td key={index}>{overlayButton(r, index)}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
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
                    const first = runs.map((r) => sampleOf(r, index)).find((x) => !!x)!;
                    return (
                      <tr key={index}>
                        <td>
                          {imageButton(index, first)}
                          <div className="caption">label: {className(runs[0], first.label)}</div>
                        </td>
                        {runs.map((r) => (
                          <td key={r.summary.config.runId}>{overlayButton(r, index)}</td>
                        ))}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
          </div>
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
                      <span className="swatch" style={{ background: METHOD_COLOURS[r.summary.config.method] }} aria-hidden="true" />{' '}
                      <strong>{r.methodLabel}</strong>: predicted {className(r, s.predicted)} — label {className(r, s.label)}{' '}
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
