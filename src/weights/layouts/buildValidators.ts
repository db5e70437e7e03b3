/**
 * `npm run schemas:build`: compiles the checkpoint-config schemas (hfConfig.schema.json,
 * timmConfig.schema.json) with ajv into plain validating functions in configValidators.gen.ts.
 * The page's worker then checks configs with ajv's output alone: no compiler in the download and
 * no code made at run time. layouts.test.ts fails while the file differs from what this writes.
 */
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import hf from './hfConfig.schema.json' with { type: 'json' };
import timm from './timmConfig.schema.json' with { type: 'json' };

export const VALIDATORS_FILE = fileURLToPath(new URL('./configValidators.gen.ts', import.meta.url));

/** The generated module's text. */
export function validatorsSource(): string {
  const ajv = new Ajv({ strict: true, allErrors: false, code: { source: true, esm: true, lines: true } });
  ajv.addSchema(hf, 'hf').addSchema(timm, 'timm');
  return [
    '/* eslint-disable */',
    '// Written by `npm run schemas:build` from hfConfig.schema.json and timmConfig.schema.json: edit',
    '// those, not this. layouts.test.ts checks that this file is what they compile to.',
    '// @ts-nocheck',
    standaloneCode(ajv, { validateHfConfig: 'hf', validateTimmConfig: 'timm' }),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(VALIDATORS_FILE, validatorsSource());
  console.log(`wrote ${VALIDATORS_FILE}`);
}
