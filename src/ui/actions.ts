/**
 * What the page's controls do, as plain functions (no hooks): each records what happened in the
 * store (`dispatch`) and asks the engine through the one client (worker/client.ts). The state
 * changes themselves are the store's reducer; the runs' lives are the engine's.
 */
import type { ErrorInfo } from '../domain/errors';
import type { BackendName, MethodId } from '../domain/run';
import { frechetRequests, inspectRequest, newId, probeRequest, queueRequest, rerunRequest, restartRequest, sweepRequest } from '../store/requests';
import { estimateStart } from '../store/estimate';
import { locationHash, readUrl, viewFromUrl, type Setup, type View } from '../store/setup';
import type { PickedData, ReferenceChoice } from '../store/state';
import { createKept } from '../store/kept';
import type { EngineEvent } from '../engine/protocol';
import { dispatch, useLab } from '../store/store';
import { onEngineEvent, request, send } from '../worker/client';
import { dropEntries, readDropped } from '../data/dropped';
import { cachedCopy, removeCachedCopy, type HubCheckpoint } from '../weights/sources';
import { downloadBlob } from './download';

const get = useLab.getState;

// ---- the engine ----

/**
 * Step events come as fast as the engine trains (hundreds a second on a small model). The page
 * takes them once a second: steps wait up to STEP_FLUSH_MS and land together, in
 * order, and always before any other event, so the page never redraws per step and stays
 * responsive (a click on Pause, a test polling the DOM) while a small model trains; the loss chart
 * is the one view drawn again per flush (the others read records, not steps: store.ts useRunRecords).
 */
const STEP_FLUSH_MS = 1000;
let pendingSteps: EngineEvent[] = [];
let stepTimer: ReturnType<typeof setTimeout> | null = null;

function flushSteps(): void {
  if (stepTimer) clearTimeout(stepTimer);
  stepTimer = null;
  const batch = pendingSteps;
  pendingSteps = [];
  for (const e of batch) dispatch(e);
}

/** The store hears every engine event; the engine reads the stored runs. Call once at start-up. */
export function connectEngine(): void {
  onEngineEvent((e) => {
    if (e.type === 'step') {
      pendingSteps.push(e);
      stepTimer ??= setTimeout(flushSteps, STEP_FLUSH_MS);
      return;
    }
    flushSteps();
    dispatch(e);
  });
  send({ type: 'restore' });
  restoreProbes();
}

/** Asks the engine to choose a backend (the badge shows its answer). */
export function startEngine(): void {
  const { engine, setup } = get();
  if (engine.state !== 'off') return;
  dispatch({ type: 'engine-starting' });
  send({ type: 'init', backend: setup.backend ?? undefined });
}

export function setBackendOverride(backend: BackendName | null): void {
  updateSetup({ backend });
  if (get().engine.state === 'off') return startEngine();
  dispatch({ type: 'engine-starting' });
  send({ type: 'init', backend: backend ?? undefined });
}

// ---- the setup and its URL ----

let firstLoadDone = false;

/** Reads the setup and the view from the page URL (start-up, and whenever the hash changes). */
export function loadSetupFromLocation(): void {
  const { setup, notes } = readUrl(location.hash, location.search);
  dispatch({ type: 'setup-loaded', setup, view: viewFromUrl(location.hash) });
  // A fresh visit (no setup in the URL) opens on the first screen; a link or a reload, which
  // carry a setup, open on it.
  if (!firstLoadDone) {
    firstLoadDone = true;
    if (location.hash.replace(/^#/, '') !== '' && !viewFromUrl(location.hash).presentation) showSetup(true);
  }
  for (const message of notes) dispatch({ type: 'notice', message });
}

/** Mirrors the setup and the view to the URL hash, so a shared link (or a reload) reproduces both. */
export function writeSetupToLocation(setup: Setup, view: View): void {
  const hash = '#' + locationHash(setup, view);
  if (location.hash !== hash) history.replaceState(null, '', location.pathname + location.search + hash);
}

/** Checks the picked checkpoint or data now (the result shows beside the field), not at Start. */
function inspectPicked(what: 'model' | 'data' | 'importParams'): void {
  const cmd = inspectRequest(get(), what);
  if (!cmd) return;
  dispatch({ type: 'inspect-requested', what, requestId: cmd.requestId });
  send(cmd);
}

/** Changes setup fields; values are clamped to what the page allows. A new task (or skip rule) checks the picked data again. */
export function updateSetup(patch: Partial<Setup>): void {
  const before = get().setup;
  dispatch({ type: 'setup-changed', patch });
  const after = get().setup;
  if (after.taskId !== before.taskId || after.skipBad !== before.skipBad) inspectPicked('data');
}
export const toggleMethod = (method: MethodId, on: boolean) => dispatch({ type: 'method-toggled', method, on });
export function pickModelFile(file: File | null): void {
  dispatch({ type: 'model-file-picked', file });
  inspectPicked('model');
}
function pickData(data: PickedData | null, choice: 'local' | 'zip'): void {
  dispatch({ type: 'data-picked', data, choice });
  inspectPicked('data');
}
export const pickDataFiles = (files: { path: string; file: Blob }[], name: string) => pickData({ kind: 'files', name, count: files.length, files }, 'local');
export const pickDataDirectory = (handle: { name: string }) => pickData({ kind: 'directory', name: handle.name, count: 0, handle }, 'local');
export const pickDataZip = (file: File | null) => pickData(file ? { kind: 'zip', name: file.name, count: 1, file } : null, 'zip');
/** A drop on the data area: a lone zip is picked as the zip, anything else as the files of its folders. */
export async function pickDropped(transfer: DataTransfer): Promise<void> {
  const dropped = await readDropped(dropEntries(transfer));
  if (dropped?.kind === 'zip') pickDataZip(dropped.file);
  else if (dropped) pickDataFiles(dropped.files, dropped.rootName);
}
/** Trained parameters (a file exported by an earlier run) the next runs start from; null clears them. */
export function pickImportParams(file: File | null): void {
  dispatch({ type: 'import-params-picked', file });
  inspectPicked('importParams');
}
export const togglePresentation = (on?: boolean) => dispatch({ type: 'presentation-toggled', on });
/** Opens the setup form, or folds it into its one-line summary (the run view). */
export const showSetup = (open: boolean) => dispatch({ type: 'setup-shown', open });
export const dismissAlert = (id: number) => dispatch({ type: 'alert-dismissed', id });
export const viewGroup = (groupId: string | null) => dispatch({ type: 'group-viewed', groupId });
export const toggleCompare = (runId: string, on: boolean) => dispatch({ type: 'compare-toggled', runId, on });

/**
 * Brings a section into view once React has drawn what changed (Show, Compare). A smooth scroll
 * keeps the target it started with, and the views above may still change height while it runs
 * (they render the switched group deferred): where it ends where it was heading and the section has
 * moved since, it is aligned once more. A scroll the user took over is left alone.
 */
export function scrollToSection(id: string): void {
  requestAnimationFrame(() => {
    const el = document.getElementById(id);
    if (!el) return;
    const heading = window.scrollY + el.getBoundingClientRect().top;
    el.scrollIntoView({ block: 'start', behavior: 'smooth' });
    const realign = () => {
      if (Math.abs(window.scrollY - heading) <= 2 && Math.abs(el.getBoundingClientRect().top) > 1) el.scrollIntoView({ block: 'start' });
    };
    window.addEventListener('scrollend', realign, { once: true });
    // No scroll at all (already there) fires no scrollend: forget it, so no later scroll of the user's is touched.
    setTimeout(() => window.removeEventListener('scrollend', realign), 3000);
  });
}

// ---- the hub checkpoints this browser keeps ----

/** The copy of a hub checkpoint this browser's cache keeps (its size when known), or null. */
export const cachedModel = (hub: HubCheckpoint) => cachedCopy(hub.url);
/** Removes the kept copy: the next run downloads it again. */
export const removeCachedModel = (hub: HubCheckpoint) => removeCachedCopy(hub.url);

// ---- runs ----

const problem = (error: ErrorInfo, runId?: string) => dispatch({ type: 'problem', error, runId });

/** Queues one run per selected method (run one after another); returns their ids, or [] with the problem shown. */
export function startQueue(): string[] {
  const r = queueRequest(get());
  if ('problem' in r) return (problem(r.problem), []);
  dispatch({ type: 'errors-cleared' });
  return enqueue(r.ok);
}

/** Queues a run whose loss rose again at a tenth of its learning rate, into its group. */
export function rerunAtLowerLr(runId: string): string[] {
  const r = rerunRequest(get(), runId);
  if (!r) return [];
  if ('problem' in r) return (problem(r.problem, runId), []);
  const ids = enqueue(r.ok);
  viewGroup(r.ok.groupId ?? null);
  return ids;
}

/** Queues the data-size sweep: FT and VPT-deep at every size of SWEEP_SIZES on the current task. */
export function startSweep(): string[] {
  const r = sweepRequest(get());
  if ('problem' in r) return (problem(r.problem), []);
  return enqueue(r.ok);
}

// ---- how long a Start takes ----

/**
 * Measures each selected method's configuration that has no probe yet, one after the other, on
 * this device (train/probe.ts), unless runs are going: they measure themselves. Each result lands
 * in the store; the estimate beside Start uses it.
 */
export async function measureSpeed(): Promise<void> {
  for (;;) {
    const s = get();
    if (s.probe.pending || s.queueState === 'running' || s.queueState === 'paused') return;
    let r: ReturnType<typeof probeRequest> = null;
    for (const m of estimateStart(s).unprobed) {
      const q = probeRequest(s, m);
      if (q && !s.probe.failed[q.key]) {
        r = q;
        break;
      }
    }
    if (!r) return;
    startEngine();
    dispatch({ type: 'probe-requested', requestId: r.cmd.requestId, key: r.key });
    try {
      await request(r.cmd);
    } catch {
      return; // the store has the reason (or the probe was cancelled)
    }
    saveProbes();
  }
}

/** Probe results kept in this browser for this release (store/kept.ts). */
const kept = createKept(__APP_BUILD__);

const saveProbes = () => kept.setState({ probes: get().probe.results });

function restoreProbes(): void {
  const { probes } = kept.getState();
  if (Object.keys(probes).length) dispatch({ type: 'probes-restored', results: probes });
}

/** Stops the probe in flight (Start does it by itself in the engine). */
export function cancelMeasure(): void {
  const p = get().probe.pending;
  if (!p) return;
  send({ type: 'cancel-probe', requestId: p.requestId });
  dispatch({ type: 'probe-cancelled' });
}

function enqueue(cmd: Extract<Parameters<typeof send>[0], { type: 'enqueue' }>): string[] {
  startEngine();
  // The engine stops a probe for the runs; the page stops waiting for it.
  if (get().probe.pending) dispatch({ type: 'probe-cancelled' });
  send(cmd);
  viewGroup(null); // the live results follow the new group
  showSetup(false); // the run view: status and curves in view, the setup folded into one line
  return cmd.runs.map((r) => r.runId);
}

export function pauseActive(): void {
  const id = get().activeRunId;
  if (!id) return;
  dispatch({ type: 'pause-requested', what: 'pause' });
  send({ type: 'pause', runId: id });
}

export function resumeActive(): void {
  const id = get().activeRunId;
  if (!id) return;
  dispatch({ type: 'pause-requested', what: 'resume' });
  send({ type: 'resume', runId: id });
}

/** Cancels the running run and everything still queued. */
export const cancelQueue = () => send({ type: 'cancel-queue' });

/**
 * Runs an interrupted (or failed, or cancelled) run again from its last stored checkpoint, or from
 * the start when none was stored. Files must be picked again when the run used local ones.
 */
export function resumeRun(runId: string): void {
  const r = restartRequest(get(), runId);
  if (!r) return;
  if ('problem' in r) return problem(r.problem, runId);
  startEngine();
  send(r.ok);
  viewGroup(get().runs[runId]?.groupId ?? null);
}

/**
 * Resumes what a reload stopped: the interrupted run from its checkpoint, then the runs that never
 * started, in their queue order. Where a run needs a local file again, nothing is sent: the page
 * says which file to pick, and the offer stays.
 */
export function resumeStopped(): void {
  const s = get();
  const requests = [];
  for (const id of s.stopped) {
    const r = restartRequest(s, id);
    if (!r) continue;
    if ('problem' in r) return problem(r.problem, id);
    requests.push(r.ok);
  }
  dispatch({ type: 'errors-cleared' });
  startEngine();
  for (const cmd of requests) send(cmd);
  dispatch({ type: 'resume-offer-closed' });
  showSetup(false);
}

export const dismissResumeOffer = () => dispatch({ type: 'resume-offer-closed' });

/** Deletes a run for good (the page confirms first). */
export const deleteRun = (runId: string) => send({ type: 'delete', runId });

/** Downloads a finished run's trained parameters (safetensors) from the engine's storage. */
export async function exportTrainedParams(runId: string): Promise<void> {
  try {
    const ev = await request({ type: 'export-trained', requestId: newId('export'), runId });
    if (ev.type === 'trained-file') downloadBlob(ev.blob, ev.fileName);
  } catch {
    // The engine's error event is in the store already: the page shows it.
  }
}

// ---- the paper views and the engine check ----

export const setReference = (reference: ReferenceChoice, url?: string) => dispatch({ type: 'reference-chosen', reference, url });
export const pickReferenceZip = (file: File | null) => dispatch({ type: 'reference-picked', file });

/** Asks the engine for Fréchet distances of the tasks' features from the reference set. */
export function requestFrechet(count = 64): void {
  const r = frechetRequests(get(), count);
  if ('problem' in r) return problem(r.problem);
  startEngine();
  for (const cmd of r.ok) send(cmd);
  dispatch({ type: 'frechet-requested', requestIds: r.ok.map((c) => c.requestId) });
}

/** The engine check: a checkpoint and its golden file compared on a backend (the page's `npm run verify`). */
export function runEngineCheck(weights: File, golden: File, backend: BackendName | null): void {
  const requestId = newId('verify');
  dispatch({ type: 'check-requested', requestId });
  send({ type: 'verify', requestId, weights, weightsName: weights.name, golden, backend: backend ?? undefined });
}
