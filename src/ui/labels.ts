/**
 * What a class label means where it is a count: "label = count - 1" in a task's objective makes
 * label 7 "8 objects". A student reading "label: 7" under an image of eight shapes otherwise
 * thinks the lab miscounted.
 */
import { getTask } from '../data/catalog';

/** The offset of a counting task's labels (count = label + offset), or null for other tasks. */
export function countOffset(taskId: string): number | null {
  const m = /label = count - (\d+)/.exec(getTask(taskId).objective);
  return m ? Number(m[1]) : null;
}

/** A label in words: "7 (8 objects)" on a counting task, else the label (or its class name). */
export function labelText(taskId: string, label: number, names?: string[]): string {
  if (names?.[label]) return names[label];
  const offset = countOffset(taskId);
  return offset === null ? String(label) : `${label} (${label + offset} objects)`;
}
