/**
 * Every change to the page's state: `reduce(state, event)`, pure. Events are what the engine
 * reports (EngineEvent) and what the user did on the page (PageEvent). Nothing here talks to the
 * engine, the URL or storage; ui/actions.ts does that and dispatches what happened.
 */
import type { ErrorInfo } from '../domain/errors';
import { isTerminal, withStepPoint, type MethodId, type RunInfo } from '../domain/run';
import { METHOD_IDS } from '../train/methods';
import type { EngineEvent } from '../engine/protocol';
import { defaultImageSize, effectivePromptLength, sanitize, type Setup, type View } from './setup';
import { getTask } from '../data/catalog';
import type { Alert, FileCheck, LabState, PickedData, ProbeResult, ReferenceChoice, RunRecord, RunTiming } from './state';

export type PageEvent =
  /** The setup a URL describes (start-up, a changed hash). */
  | { type: 'setup-loaded'; setup: Setup; view?: View }
  | { type: 'setup-changed'; patch: Partial<Setup> }
  | { type: 'method-toggled'; method: MethodId; on: boolean }
  | { type: 'model-file-picked'; file: File | null }
  | { type: 'data-picked'; data: PickedData | null; choice: 'local' | 'zip' }
  | { type: 'import-params-picked'; file: File | null }
  | { type: 'reference-picked'; file: File | null }
  | { type: 'reference-chosen'; reference: ReferenceChoice; url?: string }
  /** Something the page itself found wrong (a setup that lacks a file, say). */
  | { type: 'problem'; error: ErrorInfo; runId?: string }
  | { type: 'errors-cleared' }
  | { type: 'alert-dismissed'; id: number }
  | { type: 'presentation-toggled'; on?: boolean }
  /** The setup form opened or folded (Start folds it: the run view). */
  | { type: 'setup-shown'; open: boolean }
  | { type: 'group-viewed'; groupId: string | null }
  /** A picked checkpoint or data source is being checked (the engine answers `inspect-result` or an error). */
  | { type: 'inspect-requested'; what: CheckedInput; requestId: string }
  /** The reload's stopped runs were resumed, or the offer dismissed: the banner goes. */
  | { type: 'resume-offer-closed' }
  | { type: 'engine-starting' }
  | { type: 'frechet-requested'; requestIds: string[] }
  | { type: 'check-requested'; requestId: string }
  /** A probe of a configuration was sent (store/estimate.ts probeKey), or the page stopped waiting for it. */
  | { type: 'probe-requested'; requestId: string; key: string }
  | { type: 'probe-cancelled' }
  /** Pause or Resume pressed: shown at once, until the engine's queue event answers. */
  | { type: 'pause-requested'; what: 'pause' | 'resume' }
  /** A saved run picked for, or taken out of, the comparison. */
  | { type: 'compare-toggled'; runId: string; on: boolean }
  /** Probe results this browser kept from earlier visits (same release). */
  | { type: 'probes-restored'; results: Record<string, ProbeResult> };

export type LabEvent = EngineEvent | PageEvent;

/** At most this many notices stay on screen (the oldest go first). */
const MAX_NOTICES = 20;

export function reduce(s: LabState, e: LabEvent): LabState {
  switch (e.type) {
    // ---- the page ----
    case 'setup-loaded':
      return { ...s, setup: e.setup, presentation: e.view?.presentation ?? s.presentation };
    case 'setup-changed': {
      const setup = editSetup(s, e.patch);
      const t = { ...s, setup };
      // A new task brings the paper's prompt length for it: a typed one goes, and the page says so.
      if (s.setup.promptLength !== null && setup.promptLength === null && setup.taskId !== s.setup.taskId) {
        const rule = effectivePromptLength(setup);
        return withNotice(
          t,
          `Prompt length ${s.setup.promptLength} (typed) was cleared for ${getTask(setup.taskId).name}: it now follows the paper’s length for this task${rule === null ? '' : ` (${rule} on this model)`}. Type it again to keep ${s.setup.promptLength}.`,
        );
      }
      return t;
    }
    case 'method-toggled': {
      const { methods } = s.setup;
      const next = e.on ? [...methods.filter((m) => m !== e.method), e.method] : methods.filter((m) => m !== e.method);
      if (next.length === 0) return s; // at least one method stays selected
      return { ...s, setup: editSetup(s, { methods: METHOD_IDS.filter((m) => next.includes(m)) }) };
    }
    case 'model-file-picked': {
      const t = { ...s, picked: { ...s.picked, model: e.file }, checks: { ...s.checks, model: null } };
      return { ...t, setup: editSetup(t, e.file ? { model: 'file', modelFileName: e.file.name } : { modelFileName: '' }) };
    }
    case 'data-picked': {
      const t = { ...s, picked: { ...s.picked, data: e.data }, checks: { ...s.checks, data: null } };
      return { ...t, setup: editSetup(t, { data: e.choice }) };
    }
    case 'import-params-picked': {
      // Without imported parameters, 0 epochs ("only evaluate") is no longer allowed.
      const t = {
        ...s,
        picked: { ...s.picked, importParams: e.file ? { name: e.file.name, bytes: e.file.size, file: e.file } : null },
        checks: { ...s.checks, importParams: null },
      };
      return { ...t, setup: editSetup(t, {}) };
    }
    case 'reference-picked':
      return {
        ...s,
        picked: { ...s.picked, reference: e.file ? { name: e.file.name, file: e.file } : null },
        paper: e.file ? { ...s.paper, reference: 'zip' } : s.paper,
      };
    case 'reference-chosen':
      return { ...s, paper: { ...s.paper, reference: e.reference, referenceUrl: e.url ?? s.paper.referenceUrl } };
    case 'problem':
      return withError(s, e.error, e.runId);
    case 'errors-cleared':
      return { ...s, errors: [] };
    case 'alert-dismissed':
      return { ...s, errors: s.errors.filter((a) => a.id !== e.id), notices: s.notices.filter((a) => a.id !== e.id) };
    case 'presentation-toggled':
      return { ...s, presentation: e.on ?? !s.presentation };
    case 'setup-shown':
      return { ...s, setupOpen: e.open };
    case 'group-viewed':
      return { ...s, viewGroupId: e.groupId };
    case 'inspect-requested':
      return { ...s, checks: { ...s.checks, [e.what]: { requestId: e.requestId, state: 'checking', text: '', warnings: [] } } };
    case 'resume-offer-closed':
      return { ...s, stopped: [] };
    case 'engine-starting':
      return { ...s, engine: { ...s.engine, state: 'starting' } };
    case 'frechet-requested':
      return { ...s, paper: { ...s.paper, frechetPending: [...s.paper.frechetPending, ...e.requestIds] } };
    case 'check-requested':
      return { ...s, check: { requestId: e.requestId, lines: [], report: null, error: null } };
    case 'probe-requested':
      return { ...s, probe: { ...s.probe, pending: { requestId: e.requestId, key: e.key } } };
    case 'probe-cancelled':
      return { ...s, probe: { ...s.probe, pending: null } };
    case 'pause-requested':
      return { ...s, pending: e.what };
    case 'compare-toggled':
      return { ...s, compare: e.on ? [...s.compare.filter((id) => id !== e.runId), e.runId] : s.compare.filter((id) => id !== e.runId) };
    case 'probes-restored':
      return { ...s, probe: { ...s.probe, results: { ...e.results, ...s.probe.results } } };

    // ---- the engine ----
    case 'ready':
      return { ...s, engine: { state: 'ready', choice: e.choice } };
    case 'restored': {
      const runs = { ...s.runs };
      const cams = new Map(e.gradcams.map((g) => [g.runId, g]));
      for (const info of e.runs) {
        if (runs[info.runId]) continue;
        const cam = cams.get(info.runId);
        runs[info.runId] = { ...info, progress: {}, gradcam: cam ? { epoch: cam.epoch, samples: cam.samples } : undefined };
      }
      const stopped = e.stopped.filter((id) => runs[id]);
      return {
        ...s,
        runs,
        order: [...new Set([...e.runs.map((r) => r.runId), ...s.order])],
        restored: true,
        stopped,
        viewGroupId: stopped.length ? runs[stopped[0]!]!.groupId : s.viewGroupId,
      };
    }
    case 'run':
      return withRun(s, e.run);
    case 'deleted': {
      const { [e.runId]: _gone, ...runs } = s.runs;
      return {
        ...s,
        runs,
        order: s.order.filter((id) => id !== e.runId),
        queue: s.queue.filter((id) => id !== e.runId),
        compare: s.compare.filter((id) => id !== e.runId),
      };
    }
    case 'queue':
      return {
        ...s,
        queue: e.waiting,
        activeRunId: e.active,
        queueState: e.state,
        queueOpen: e.state === 'running' || e.state === 'paused',
        // The engine answered (or the queue moved on): nothing is pending any more.
        pending:
          (s.pending === 'pause' && e.state === 'running' && e.active === s.activeRunId) || (s.pending === 'resume' && e.state === 'paused') ? s.pending : null,
      };
    case 'progress':
      return patchRun(s, e.runId, (r) => ({ ...r, progress: { ...r.progress, [e.progress.unit]: e.progress } }));
    case 'step':
      return patchRun(s, e.runId, (r) => ({
        ...r,
        timing: withStepTime(r, e.imagesPerSec),
        step: { epoch: e.epoch, phase: e.phase, step: e.step, stepsPerEpoch: e.stepsPerEpoch, loss: e.loss, imagesPerSec: e.imagesPerSec },
        stepLoss: withStepPoint(r.stepLoss ?? [], { x: e.epoch - 1 + e.step / Math.max(1, e.stepsPerEpoch), loss: e.loss }),
      }));
    case 'gradcam':
      return patchRun(s, e.runId, (r) => ({ ...r, gradcam: { epoch: e.epoch, samples: e.samples } }));
    case 'notice':
      return withNotice(s, e.message, e.runId);
    case 'probe-result': {
      const p = s.probe.pending;
      if (!p || p.requestId !== e.requestId) return s;
      const { [p.key]: _failed, ...failed } = s.probe.failed;
      const { type: _type, requestId: _id, ...result } = e;
      return { ...s, probe: { pending: null, results: { ...s.probe.results, [p.key]: result }, failed } };
    }
    case 'inspect-result':
      return withCheck(s, e.requestId, { state: 'ok', text: e.text, warnings: e.warnings });
    case 'error': {
      // A picked file's check failed: the message goes beside the file, not in the alerts.
      if (e.requestId && checkOf(s, e.requestId)) return withCheck(s, e.requestId, { state: 'bad', text: e.error.message, code: e.error.code, warnings: [] });
      // A request the page cancelled (a probe, which Start cancels too) is no error to show.
      if (e.requestId && e.error.code === 'run/cancelled')
        return s.probe.pending?.requestId === e.requestId ? { ...s, probe: { ...s.probe, pending: null } } : s;
      // A probe that did not measure: said beside the estimate.
      const probe = s.probe.pending;
      if (e.requestId && probe?.requestId === e.requestId) {
        return { ...s, probe: { ...s.probe, pending: null, failed: { ...s.probe.failed, [probe.key]: `${e.error.code}: ${e.error.message}` } } };
      }
      let t = s;
      if (e.requestId) t = { ...t, paper: { ...t.paper, frechetPending: t.paper.frechetPending.filter((id) => id !== e.requestId) } };
      if (e.requestId && e.requestId === t.check.requestId) t = { ...t, check: { ...t.check, requestId: null, error: `${e.error.code}: ${e.error.message}` } };
      // An engine that failed to start can be started again.
      if (!e.runId && !e.requestId && t.engine.state === 'starting') t = { ...t, engine: { ...t.engine, state: 'off' } };
      return withError(t, e.error, e.runId);
    }
    case 'frechet-result': {
      const frechet = { ...s.paper.frechet };
      for (const d of e.distances) frechet[d.taskId] = { distance: d.distance, reference: e.reference };
      return { ...s, paper: { ...s.paper, frechet, frechetPending: s.paper.frechetPending.filter((id) => id !== e.requestId) } };
    }
    case 'verify-result':
      return e.requestId === s.check.requestId ? { ...s, check: { requestId: null, lines: e.lines, report: e.report, error: null } } : s;
    case 'trained-file':
    case 'bench-result':
    case 'kernel-check-result':
      return s; // answers to requests; whoever asked reads them (ui/actions.ts, automation)
  }
}

/**
 * A setup edit: a new model brings its native resolution (unless the edit sets one), a new task
 * its paper prompt length; then every field is clamped to what the page allows (0 epochs only
 * with imported parameters).
 */
function editSetup(s: LabState, patch: Partial<Setup>): Setup {
  const prev = s.setup;
  const next = { ...prev, ...patch };
  if (patch.model && patch.model !== prev.model && patch.imageSize === undefined && patch.model !== 'file') next.imageSize = defaultImageSize(patch.model);
  if (patch.taskId && patch.taskId !== prev.taskId && patch.promptLength === undefined) next.promptLength = null;
  return sanitize(next, { allowZeroEpochs: !!s.picked.importParams });
}

function withRun(s: LabState, info: RunInfo): LabState {
  const prev = s.runs[info.runId];
  const run: RunRecord = prev ? { ...prev, ...info } : { ...info, progress: {} };
  // A run queued (a Start, a restart): it joins the queue going, or starts the next one.
  let queued = {};
  if (info.summary.status === 'queued' && !(s.queueOpen && s.queueRuns.includes(info.runId)))
    queued = s.queueOpen ? { queueRuns: [...s.queueRuns, info.runId] } : { queueRuns: [info.runId], queueOpen: true };
  if (prev?.timing && info.summary.epochs.length > prev.summary.epochs.length) run.timing = withEpochTime(prev.timing, info);
  // A run that ended shows no step in flight.
  if (isTerminal(info.summary.status)) run.step = undefined;
  return { ...s, ...queued, runs: { ...s.runs, [info.runId]: run }, order: prev ? s.order : [...s.order, info.runId] };
}

/** The batch of a run's steps: the trainer never takes more images than the split has. */
function stepBatch(r: RunRecord): number {
  const c = r.summary.config;
  return Math.max(1, Math.min(c.batchSize, c.protocol ? c.trainSize + c.valSize : c.trainSize));
}

/** A step's time added to the run's timing (see RunTiming: the first step is held apart until a second comes). */
function withStepTime(r: RunRecord, imagesPerSec: number): RunTiming | undefined {
  if (!(imagesPerSec > 0)) return r.timing;
  const images = stepBatch(r);
  const seconds = images / imagesPerSec;
  const t = r.timing ?? { trainImages: 0, trainSeconds: 0, first: null, epochStepSeconds: 0, evalImages: 0, evalSeconds: 0 };
  const epochStepSeconds = t.epochStepSeconds + seconds;
  if (!r.timing) return { ...t, trainImages: images, trainSeconds: seconds, first: { images, seconds }, epochStepSeconds };
  // The second step: the warm-up's time goes.
  const base = t.first ? { trainImages: t.trainImages - t.first.images, trainSeconds: t.trainSeconds - t.first.seconds } : t;
  return { ...t, trainImages: base.trainImages + images, trainSeconds: base.trainSeconds + seconds, first: null, epochStepSeconds };
}

/** An epoch ended: its seconds less its steps' are its validation pass (of valSize images). */
function withEpochTime(t: RunTiming, info: RunInfo): RunTiming {
  const last = info.summary.epochs.at(-1)!;
  const evalSeconds = last.seconds - t.epochStepSeconds;
  const valSize = info.summary.config.valSize;
  if (!(evalSeconds > 0) || !(valSize > 0)) return { ...t, epochStepSeconds: 0 };
  return { ...t, epochStepSeconds: 0, evalImages: t.evalImages + valSize, evalSeconds: t.evalSeconds + evalSeconds };
}

/** The inputs checked when picked. */
export type CheckedInput = 'model' | 'data' | 'importParams';

function checkOf(s: LabState, requestId: string): CheckedInput | null {
  return (['model', 'data', 'importParams'] as const).find((w) => s.checks[w]?.requestId === requestId) ?? null;
}

/** A check's answer; one for a file that was replaced meanwhile is dropped. */
function withCheck(s: LabState, requestId: string, patch: Omit<FileCheck, 'requestId'>): LabState {
  const what = checkOf(s, requestId);
  return what ? { ...s, checks: { ...s.checks, [what]: { requestId, ...patch } } } : s;
}

function patchRun(s: LabState, runId: string, f: (r: RunRecord) => RunRecord): LabState {
  const r = s.runs[runId];
  return r ? { ...s, runs: { ...s.runs, [runId]: f(r) } } : s;
}

function withError(s: LabState, error: ErrorInfo, runId?: string): LabState {
  // The same failure reported for every queued run shows once.
  if (s.errors.some((a) => a.code === error.code && a.message === error.message)) return s;
  const alert: Alert = { id: s.nextAlertId, code: error.code, message: error.message, runId };
  return { ...s, errors: [...s.errors, alert], nextAlertId: s.nextAlertId + 1 };
}

function withNotice(s: LabState, message: string, runId?: string): LabState {
  const alert: Alert = { id: s.nextAlertId, code: 'notice', message, runId };
  return { ...s, notices: [...s.notices, alert].slice(-MAX_NOTICES), nextAlertId: s.nextAlertId + 1 };
}
