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

/** Ends a bar drawn in place, so what follows starts on its own line. */
export function endProgress(): void {
  if (barOpen) process.stderr.write('\n');
  barOpen = false;
}

export function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}
