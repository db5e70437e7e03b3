import { describe, expect, it } from 'vitest';
import type { StateStorage } from 'zustand/middleware';
import { createKept } from './kept';

const KEY = 'vpt-lab.probes';
const result = { trainImagesPerSec: 12.5, evalImagesPerSec: 40, backend: 'wasm', threads: 2 };

function memory(initial?: string): StateStorage & { map: Map<string, string> } {
  const map = new Map<string, string>(initial === undefined ? [] : [[KEY, initial]]);
  return { map, getItem: (n) => map.get(n) ?? null, setItem: (n, v) => void map.set(n, v), removeItem: (n) => void map.delete(n) };
}

describe('kept probe results', () => {
  it('what one visit measures, the next visit of the same release reads', () => {
    const storage = memory();
    createKept('b1', storage).setState({ probes: { k: result } });
    expect(createKept('b1', storage).getState().probes).toEqual({ k: result });
  });

  it('another release, another version, a bad shape or text that is not JSON is dropped, not a crash', () => {
    const stored = (state: unknown, version = 1) => JSON.stringify({ state, version });
    const cases = [
      stored({ build: 'b0', probes: { k: result } }),
      stored({ build: 'b1', probes: { k: result } }, 0),
      stored({ build: 'b1', probes: { k: { ...result, trainImagesPerSec: 'fast' } } }),
      stored({ build: 'b1', probes: [result] }),
      stored(null),
      JSON.stringify({ build: 'b1', results: { k: result } }),
      '{not json',
    ];
    for (const text of cases) expect(createKept('b1', memory(text)).getState().probes, text).toEqual({});
  });

  it('a browser whose localStorage refuses (private mode, a full quota) keeps the results for the visit', () => {
    const refuse = () => {
      throw new DOMException('refused', 'SecurityError');
    };
    const g = globalThis as { localStorage?: unknown };
    g.localStorage = { getItem: refuse, setItem: refuse, removeItem: refuse };
    try {
      const kept = createKept('b1');
      kept.setState({ probes: { k: result } });
      expect(kept.getState().probes).toEqual({ k: result });
    } finally {
      delete g.localStorage;
    }
  });
});
