/**
 * A URL hash of megabytes must not stall the page: each field is bounded, and a longer one is
 * dropped with a note that does not echo it; reading and writing such a hash stays cheap.
 */
import { expect, test } from 'vitest';
import { DEFAULT_SETUP, MAX_URL_FIELD_CHARS, readUrl, setupToHash } from './setup';

const cpuMs = (f: () => void) => {
  const t0 = process.cpuUsage();
  f();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1000;
};

test('a 1.5 MB field in the link is dropped with a short note; reading and writing the setup stay fast', () => {
  for (const field of ['dataUrl', 'grid', 'model', 'methods', 'seed']) {
    const hash = `#task=dsprites_location&${field}=${'a'.repeat(1_500_000)}\x1b[2J`;
    let read: ReturnType<typeof readUrl> | undefined;
    const ms = cpuMs(() => void (read = readUrl(hash, '')));
    const { setup, notes } = read!;
    expect(setup.taskId).toBe('dsprites_location');
    expect((setup as unknown as Record<string, unknown>)[field === 'methods' ? 'methods' : field]).toEqual(
      (DEFAULT_SETUP as unknown as Record<string, unknown>)[field],
    );
    const note = notes.find((n) => n.includes(`The link's ${field} is 1,500,004 characters long`));
    expect(note, notes.join('\n')).toContain(`more than the ${MAX_URL_FIELD_CHARS.toLocaleString('en')}`);
    expect(notes.join('').length).toBeLessThan(2000);
    // A setup change writes the hash again: nothing of the long field is left to write.
    const again = cpuMs(() => void setupToHash(setup));
    console.log(`${field}: read ${ms.toFixed(0)} ms CPU, written back ${again.toFixed(1)} ms`);
    expect(ms).toBeLessThan(2000);
    expect(setupToHash(setup).length).toBeLessThan(2000);
  }
});

test('a value the link cannot use is echoed clipped and escaped in its note', () => {
  const long = readUrl(`#batch=${'9'.repeat(1000)}x`, '').notes;
  expect(long).toHaveLength(1);
  expect(long[0]!.length).toBeLessThan(400);
  const escaped = readUrl('#batch=12x\x1b[2J', '').notes;
  expect(escaped[0]).toContain('batch=12x\\x1b[2J is not a whole number');
});
