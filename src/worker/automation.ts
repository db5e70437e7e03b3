/**
 * `window.__engine`: request/response access to the engine for automation (the bench runner and
 * e2e tests drive the same worker the page uses, through the same door).
 */
import { request } from './client';
import type { EngineEvent, Request } from '../engine/protocol';

export interface EngineAutomation {
  /** Send a command that carries a requestId; resolves with its result event, rejects on its error. */
  request(cmd: Request): Promise<EngineEvent>;
}

export function installEngineAutomation(): void {
  (window as unknown as { __engine: EngineAutomation }).__engine = { request };
}
