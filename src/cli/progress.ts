import { formatBytes, type Progress } from '../domain/progress';

let barOpen = false;

/** A one-line progress bar on stderr (redrawn in place on a terminal, one line per update otherwise). */
export function progressBar(label: string, done: number, total: number, suffix = ''): void {
  const width = 28;
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(frac * width);
  const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${suffix}`;
  if (process.stderr.isTTY) {
    process.stderr.write(`\r${line.padEnd(100)}`);
    barOpen = true;
  } else process.stderr.write(line + '\n');
}

/** A download's bar (the engine's byte progress); other progress is not drawn. */
export function downloadBar(p: Progress): void {
  if (p.kind === 'progress' && p.unit === 'bytes' && p.total) progressBar(`download ${p.what}`, p.done, p.total, formatBytes(p.done));
}

/** Ends a bar drawn in place, so what follows starts on its own line. */
export function endProgress(): void {
  if (barOpen) process.stderr.write('\n');
  barOpen = false;
}
