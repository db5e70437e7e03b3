/**
 * The CLIs' JSON Schemas compiled by ajv when the command starts (in Node, where its compiler costs
 * nothing a visitor downloads): sweep files and study results. src/data/schema.ts words the errors.
 */
import Ajv, { type ValidateFunction } from 'ajv';

// verbose: each error carries the schema it failed, whose `description` words the message.
const ajv = new Ajv({ strict: true, allErrors: false, verbose: true });

/** A validator for `schema`; the type it guards is the caller's promise that they agree. */
export function compileSchema<T>(schema: object): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}
