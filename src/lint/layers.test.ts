/**
 * The layer rules catch what they are for: dependency-cruiser, with the repo's own configuration,
 * on test/layers/ (a tree that imports upward on purpose) reports each broken rule by name. (That
 * src/ breaks none is `npm run lint`'s job.)
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const BIN = path.join(ROOT, 'node_modules/.bin/depcruise');

async function cruise(cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await promisify(execFile)(BIN, ['src', '--config', CONFIG, '--output-type', 'err'], { cwd });
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: `${err.stdout}${err.stderr}` };
  }
}

describe('the layer rules (.dependency-cruiser.cjs)', () => {
  it('refuse an upward import, an import from the bottom layer, and tfjs in the views', async () => {
    const { code, out } = await cruise(path.join(ROOT, 'test/layers'));
    expect(code).not.toBe(0);
    expect(out).toMatch(/layer-model: src\/model\/block\.ts → src\/ui\/view\.ts/);
    expect(out).toMatch(/layer-domain: src\/domain\/words\.ts → src\/model\/block\.ts/);
    expect(out).toMatch(/domain-imports-nothing: src\/domain\/words\.ts/);
    expect(out).toMatch(/views-hold-no-tensors: src\/ui\/view\.ts → .*@tensorflow/);
  });
});
