import { describe, expect, it } from 'vitest';
import { WASM_THREADS_ENABLED, wasmThreading } from './threads';

describe('wasmThreading', () => {
  it('names missing isolation first, and how to get it', () => {
    const plain = wasmThreading({ isolated: false }, true);
    expect(plain).toMatchObject({ threaded: false, cause: 'not-isolated' });
    expect(plain.reason).toMatch(/not cross-origin isolated/);
    expect(plain.reason).toMatch(/host sends no COOP\/COEP headers/);
    const sw = wasmThreading({ isolated: false, serviceWorker: true }, true);
    expect(sw.reason).toMatch(/not cross-origin isolated yet .*adds the COOP\/COEP headers from the next load/);
  });

  it('says threads are off when isolated but not enabled, and both when neither', () => {
    const off = wasmThreading({ isolated: true }, false);
    expect(off).toMatchObject({ threaded: false, cause: 'threads-off' });
    expect(off.reason).toMatch(/is cross-origin isolated, but .*threads are off.*tfjs#8513/);
    expect(wasmThreading({ isolated: false }, false).reason).toMatch(/not cross-origin isolated.*Even isolated, .*threads are off/);
  });

  it('threads only when isolated and enabled', () => {
    expect(wasmThreading({ isolated: true }, true)).toMatchObject({ threaded: true });
    expect(wasmThreading({ isolated: true }).threaded).toBe(WASM_THREADS_ENABLED);
  });
});
