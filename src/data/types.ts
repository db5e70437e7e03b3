/**
 * Plain data types shared by every data source (files or procedural) and the batch stream.
 * No tfjs: images are typed arrays; the worker turns batches into tensors.
 */
import type { LabErrorCode } from '../domain/errors';
import type { TaskInfo } from './catalog';

/** 8-bit RGBA pixels, row-major: data is [H, W, 4]. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** Bytes of one encoded image -> pixels. `name` is only for error messages. */
export type ImageDecoder = (bytes: Uint8Array, name: string) => Promise<RgbaImage>;

/** One labelled example. */
export interface DataItem {
  /** Unique key: the image path inside its source, or 'task/split/index' for procedural items. */
  id: string;
  /** Integer class in [0, task.classes). */
  label: number;
  /** List file and 1-based line that named this item (file sources). */
  file?: string;
  line?: number;
  /** Procedural items: the generator seed of this one image. */
  seed?: number;
}

/** An item, list line, or image that was left out in skipBad mode, and why. */
export interface SkipRecord {
  file: string;
  line?: number;
  code: LabErrorCode;
  reason: string;
}

/** Turns items into pixels: reads and decodes files, or renders procedural images. */
export interface ImageProvider {
  describe(): string;
  /**
   * The item's image as RGBA. `preferredSize` lets resolution-free generators (CLEVR-like)
   * render directly at the model resolution; file sources ignore it.
   */
  load(item: DataItem, preferredSize?: number): Promise<RgbaImage>;
}

/**
 * Train / val / test items ready for training: what `selectSplits` (file sources) and
 * `openProceduralTask` return, and what `BatchStream` consumes.
 */
export interface SelectedSplits {
  task: TaskInfo;
  train: DataItem[];
  val: DataItem[];
  test: DataItem[];
  images: ImageProvider;
  /** Everything left out in skipBad mode (empty otherwise). */
  skipped: SkipRecord[];
  /** What the user should know that did not stop loading (e.g. duplicate list lines). */
  warnings?: string[];
  /** The seed that drew the splits (and that procedural images derive from). */
  seed: number;
}
