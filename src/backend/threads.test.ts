import { describe, expect, it } from 'vitest';
import { WASM_MAX_THREADS, threadsFailed, wasmThreading } from './threads';

describe('wasmThreading', () => {
  it('names missing isolation first, and how to get it', () => {
    const plain = wasmThreading({ isolated: false, cores: 8 }, true);
    expect(plain).toMatchObject({ threads: 1, threaded: false, cause: 'not-isolated' });
    expect(plain.reason).toMatch(/one thread: the page is not cross-origin isolated \(/);
    expect(plain.reason).toMatch(/host sends no COOP\/COEP headers/);
    const sw = wasmThreading({ isolated: false, serviceWorker: true, cores: 8 }, true);
    expect(sw.reason).toMatch(/not cross-origin isolated yet .*adds the COOP\/COEP headers from the next load/);
    // Asking for threads does not get them without isolation.
    expect(wasmThreading({ isolated: false, cores: 8, asked: 4 }, true).threads).toBe(1);
  });

  it('one thread per logical core when isolated, up to the cap, saying which limit applies', () => {
    expect(wasmThreading({ isolated: true, cores: 2 }, true)).toMatchObject({ threads: 2, threaded: true });
    expect(wasmThreading({ isolated: true, cores: 2 }, true).reason).toBe('WASM runs on 2 threads, one per logical core.');
    const big = wasmThreading({ isolated: true, cores: 16 }, true);
    expect(big).toMatchObject({ threads: WASM_MAX_THREADS, threaded: true, capped: true });
    expect(big.reason).toMatch(/8 threads of 16 logical cores: .*starts 8 worker threads/);
    expect(wasmThreading({ isolated: true, cores: 1 }, true)).toMatchObject({ threads: 1, cause: 'one-core' });
    expect(wasmThreading({ isolated: true }, true)).toMatchObject({ threads: 1, cause: 'one-core' }); // no count reported
  });

  it('gives the threads asked for (benchmarks), within 1 and the cap', () => {
    expect(wasmThreading({ isolated: true, cores: 2, asked: 1 }, true)).toMatchObject({ threads: 1, threaded: false });
    expect(wasmThreading({ isolated: true, cores: 2, asked: 4 }, true)).toMatchObject({ threads: 4, threaded: true });
    const over = wasmThreading({ isolated: true, cores: 64, asked: 32 }, true);
    expect(over.threads).toBe(WASM_MAX_THREADS);
    expect(over.reason).toMatch(/the cap is 8/);
  });

  it('the switch turns threads off everywhere, saying so', () => {
    const off = wasmThreading({ isolated: true, cores: 8 }, false);
    expect(off).toMatchObject({ threads: 1, threaded: false, cause: 'threads-off' });
    expect(off.reason).toMatch(/switched off \(WASM_THREADS_ENABLED/);
  });

  it('a failed start is one thread with the error', () => {
    expect(threadsFailed('worker sent an error! blob:x:1: ReferenceError: e is not defined')).toMatchObject({ threads: 1, cause: 'failed' });
    expect(threadsFailed('x'.repeat(1000)).reason.length).toBeLessThan(300);
  });
});
