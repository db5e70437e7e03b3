import type { ViTConfig } from '../../model/config';
import type { ArchiveIndex } from '../formats/archive';
import type { CheckpointLayout } from '../types';
import { type CanonicalOptions, CheckpointMismatchError, type Rule } from './common';

/** What a layout module provides to the shared mapping engine. */
export interface LayoutSpec {
  id: CheckpointLayout;
  /** Human name for messages. */
  label: string;
  /** Whether these file keys look like this layout. */
  detect(keys: string[]): boolean;
  /** Key prefix the file uses (e.g. 'vit.'), '' if none. */
  prefixOf(keys: string[]): string;
  /** Config from the file's metadata, or inferred from its shapes (`given` fields win; a given numHeads skips the heads heuristic). */
  config(archive: ArchiveIndex, prefix: string, given: Partial<ViTConfig>): ViTConfig;
  /** Which optional canonical parts the file has. */
  options(archive: ArchiveIndex, prefix: string, cfg: ViTConfig): CanonicalOptions;
  /** The mapping table for this config. */
  rules(cfg: ViTConfig, opts: CanonicalOptions, prefix: string): Rule[];
  /** File keys that are legitimately unused. */
  isIgnored(key: string, prefix: string): boolean;
}

/** Shape of a key needed to infer the config, or a missing-key error naming it. */
export function needShape(archive: ArchiveIndex, source: string, canonical: string, layout: string): number[] {
  if (!archive.has(source)) throw new CheckpointMismatchError(archive.name, layout, [{ kind: 'missing', canonical, source }]);
  return archive.shape(source);
}

/** 1 + the largest block index matched by `re` (group 1), 0 if none. */
export function blockCount(keys: string[], re: RegExp): number {
  let n = 0;
  for (const k of keys) {
    const m = re.exec(k);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}
