/**
 * What a Node engine process does with errors nobody caught. A script's promise callbacks that run
 * after its run ended are stopped by the guard with a TimeoutError; the rejection that leaves behind
 * is expected and dropped. A rejection the script itself left unhandled goes to its run when the
 * host is collecting them (`claim`). Anything else is an engine bug: reported as an `engine-error` event, and
 * the process lives on (the client decides whether to restart it).
 */
import { TimeoutError } from '../../script/guard.ts';
import type { EngineEvent } from '../protocol.ts';

export function installLateErrorHandlers(
  report: (ev: EngineEvent) => void,
  /** A run that takes the rejection as its own error (EngineHost.claimRejection). */
  claim: (reason: unknown) => boolean = () => false,
): void {
  const toEvent = (e: unknown): EngineEvent => {
    const err = e instanceof Error ? e : new Error(String(e));
    return {
      type: 'event',
      event: 'engine-error',
      message: err.message,
      ...(err.stack ? { stack: err.stack } : {}),
    };
  };
  process.on('unhandledRejection', (reason) => {
    if (claim(reason) || reason instanceof TimeoutError) return;
    report(toEvent(reason));
  });
  process.on('uncaughtException', (e) => {
    if (e instanceof TimeoutError) return;
    report(toEvent(e));
  });
}
