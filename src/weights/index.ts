/** The weights module: bytes -> canonical checkpoint. Browser-safe (Node paths: ./node). */
export type { CanonicalCheckpoint, CheckpointLayout, HostTensor } from './types';
export type { TensorArchive } from './formats/archive';
export { readAll } from './formats/archive';
export { parseSafetensors, writeSafetensors, type WriteOptions } from './formats/safetensors';
export { openNpz, parseNpy } from './formats/npz';
export {
  CheckpointMismatchError,
  LAYOUTS,
  canonicalToSource,
  detectLayout,
  expectedShapes,
  mapSourceKey,
  mapSourceTensor,
  mapToCanonical,
  type CanonicalOptions,
  type MapOptions,
  type Problem,
} from './layouts';
export { loadCheckpoint, openArchive, timmConfigJson, toCheckpointFile, type LoadOptions } from './load';
export { HUB_CHECKPOINTS, fetchCheckpoint, isCached, readFileSource, readStream, type FetchOptions, type HubCheckpoint } from './sources';
export { numel, permute, shapeStr } from './tensor';
