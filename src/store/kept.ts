/**
 * What this browser keeps across visits, in localStorage through zustand's `persist`: the measured
 * step speeds (probe results), so a large model measured once is not measured again after a
 * reload. They hold for one release only (another release may train at another speed). A stored
 * value of another version or release, or not of the shape below, is dropped: the page measures
 * again. Storage that refuses (private mode, a full quota) keeps them for this visit only.
 */
import { create } from 'zustand';
import { createJSONStorage, persist, type StateStorage } from 'zustand/middleware';
import type { ProbeResult } from './state';

export interface Kept {
  /** The release that measured them (`__APP_BUILD__`). */
  build: string;
  /** Probe results by configuration key (store/estimate.ts probeKey). */
  probes: Record<string, ProbeResult>;
}

const KEY = 'vpt-lab.probes';
/** Raised when `Kept` changes shape: what an older version stored is then dropped. */
const VERSION = 1;

/** The browser's localStorage, where there is one, with its refusals swallowed. */
const localStore: StateStorage = {
  getItem: (name) => {
    try {
      return globalThis.localStorage?.getItem(name) ?? null;
    } catch {
      return null;
    }
  },
  setItem: (name, value) => {
    try {
      globalThis.localStorage?.setItem(name, value);
    } catch {
      // refused: what was measured stays in the page until it closes
    }
  },
  removeItem: (name) => {
    try {
      globalThis.localStorage?.removeItem(name);
    } catch {
      // as above
    }
  },
};

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isProbeResult(v: unknown): v is ProbeResult {
  if (!v || typeof v !== 'object') return false;
  const r = v as Record<string, unknown>;
  return (
    isFiniteNumber(r.trainImagesPerSec) &&
    isFiniteNumber(r.evalImagesPerSec) &&
    typeof r.backend === 'string' &&
    (r.threads === undefined || isFiniteNumber(r.threads))
  );
}

/** A stored value this release wrote, with every result whole; anything else is not taken. */
function isKept(v: unknown, build: string): v is Kept {
  if (!v || typeof v !== 'object') return false;
  const k = v as Record<string, unknown>;
  return k.build === build && !!k.probes && typeof k.probes === 'object' && !Array.isArray(k.probes) && Object.values(k.probes).every(isProbeResult);
}

/** The kept state of release `build`, read from `storage` (this browser's localStorage by default) at once. */
export function createKept(build: string, storage: StateStorage = localStore) {
  return create<Kept>()(
    persist(() => ({ build, probes: {} }), {
      name: KEY,
      version: VERSION,
      storage: createJSONStorage(() => storage),
      // Another version's value is not converted: probes are cheap to measure again.
      migrate: () => ({ build: '', probes: {} }),
      merge: (stored, current) => (isKept(stored, build) ? { build, probes: { ...stored.probes } } : current),
    }),
  );
}
