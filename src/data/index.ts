/** Browser-safe public API of src/data (Node-only helpers: source.node.ts, decode.node.ts, vtab.node.ts). */
export * from './catalog';
export * from './rng';
export * from './types';
export * from './source';
export * from './zip';
export * from './decode';
export * from './decode.browser';
export * from './preprocess';
export * from './vtab';
export * from './splits';
export * from './dsprites';
export * from './clevr';
export * from './procedural';
export * from './batches';
