/** Pause and cancel from outside a run, honoured between steps. */
import { LabError } from '../domain/errors';

export class RunControl {
  private paused = false;
  private wake: (() => void) | null = null;
  private readonly aborter = new AbortController();
  cancelled = false;
  /** Aborted on cancel: what waits on the network (a checkpoint download) stops at once, not at the next step. */
  readonly signal: AbortSignal = this.aborter.signal;
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.wake?.();
    this.wake = null;
  }
  cancel(): void {
    this.cancelled = true;
    this.aborter.abort();
    this.resume();
  }
  /** Between steps: yield to the event loop (so commands arrive), wait while paused. */
  async checkpoint(): Promise<void> {
    await yieldToEventLoop();
    while (this.paused && !this.cancelled) await new Promise<void>((r) => (this.wake = r));
    if (this.cancelled) throw new LabError('run/cancelled', 'The run was cancelled.');
  }
}

export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel !== 'undefined') {
    return new Promise((r) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => r();
      ch.port2.postMessage(0);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}
