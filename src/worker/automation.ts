/**
 * `window.__engine`: request/response access to the engine worker for automation (the bench
 * runner and e2e tests drive the same worker the page uses).
 */
import type { Command, EngineEvent } from './protocol';
import { onEngineEvent, send } from './client';

type Request = Extract<Command, { requestId: string }>;

export interface EngineAutomation {
  /** Send a command that carries a requestId; resolves with its result event, rejects on its error. */
  request(cmd: Request): Promise<EngineEvent>;
}

export function installEngineAutomation(): void {
  const api: EngineAutomation = {
    request(cmd) {
      return new Promise((resolve, reject) => {
        const off = onEngineEvent((ev) => {
          if (!('requestId' in ev) || ev.requestId !== cmd.requestId) return;
          off();
          if (ev.type === 'error') reject(new Error(`${ev.error.code}: ${ev.error.message}`));
          else resolve(ev);
        });
        send(cmd);
      });
    },
  };
  (window as unknown as { __engine: EngineAutomation }).__engine = api;
}
