/**
 * `npm run kernels:build`: assembles wat/*.wat (assemble.ts) and writes both binaries into
 * module.gen.ts, which the page, the worker and the CLIs import as plain TypeScript (no Binaryen,
 * no .wasm loader, no await). kernels.test.ts fails while module.gen.ts differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { moduleSource } from './assemble';

const target = fileURLToPath(new URL('./module.gen.ts', import.meta.url));
writeFileSync(target, moduleSource());
console.log(`wrote ${target}`);
