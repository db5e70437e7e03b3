/**
 * Every JSON the lab reads (a checkpoint's config, a study's results, a sweep file) is checked
 * against a JSON Schema by one library, ajv: compiled when a CLI starts (src/cli/schemas.ts), or
 * ahead of time for the page's worker (src/weights/layouts/configValidators.gen.ts). In the
 * schemas written for messages, a field's `description` says in words what it must be ("3 finite
 * numbers (one per RGB channel)") and `$comment` holds the prose. This module turns ajv's first
 * complaint into the parts of a named error: where (`rows[3].taskId`) and what.
 */
import type { ErrorObject } from 'ajv';
import { quoted } from '../domain/errors';

/** A compiled schema: true when the value matches; else `errors` says why, the first problem first. */
export interface Validator {
  (value: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** The JSON path of a problem, as `rows[3].taskId` ('' at the top level). */
export function pathOf(e: ErrorObject): string {
  return e.instancePath
    .slice(1)
    .split('/')
    .filter((s) => s !== '')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
}

/** The top-level field a problem is in ('' for the document itself). */
export function fieldOf(e: ErrorObject): string {
  const first = e.instancePath.split('/')[1];
  return first === undefined ? '' : first.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * What was wrong, in the schema's words when it has them: a missing field, an unknown one, a value
 * outside a list, or the `description` of the schema the value failed.
 */
export function expectationOf(e: ErrorObject): string {
  const p = e.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
  if (p.missingProperty !== undefined) return `needs '${p.missingProperty}'`;
  if (p.additionalProperty !== undefined) return `has an unknown field '${p.additionalProperty}'`;
  const described = (e.parentSchema as { description?: string } | undefined)?.description;
  // A key of an object (propertyNames) rather than a value.
  if (e.propertyName !== undefined) return `the key ${quoted(e.propertyName, 40)} must be ${described ?? 'another name'}`;
  if (described) return `must be ${described}`;
  if (p.allowedValues) return `must be one of ${p.allowedValues.join(', ')}`;
  return e.message ?? 'is not valid';
}
