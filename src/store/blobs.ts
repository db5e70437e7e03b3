/**
 * Files the user picked (a checkpoint, a data folder, a zip). They are not plain data, so they
 * stay out of the store: the store only holds their names (see `picked` in the store). One
 * registry object, owned by this module, read when a run is queued.
 */
export interface PickedBlobs {
  modelFile: File | null;
  /** A folder as a flat list (input webkitdirectory or a drop): relative paths and files. */
  dataFiles: { path: string; file: Blob }[] | null;
  /** A folder picked through showDirectoryPicker. */
  dataDirectory: unknown;
  dataZip: File | null;
  /** A reference set for the Fréchet distance (zip). */
  referenceZip: File | null;
  /** Trained parameters (an exported safetensors file) the next runs start from. */
  importParams: File | null;
}

export const blobs: PickedBlobs = {
  modelFile: null,
  dataFiles: null,
  dataDirectory: null,
  dataZip: null,
  referenceZip: null,
  importParams: null,
};
