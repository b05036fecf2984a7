/**
 * The engine host in a browser Web Worker (browser mode). The page talks to the worker itself
 * (`worker.postMessage`), or hands in a MessagePort with `{type: 'engine-port'}` and talks over
 * that; each gets its own host and lab.
 */
import { EngineHost } from '../host.ts';
import { runScript } from '../../script/run-script.ts';
import type { EngineMessage, Transport } from '../protocol.ts';
import { TimeoutError } from '../../script/guard.ts';

interface WorkerScope {
  postMessage(msg: unknown): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
  addEventListener(type: 'unhandledrejection', listener: (e: PromiseRejectionEvent) => void): void;
}

const scope = self as unknown as WorkerScope;

function portTransport(port: MessagePort): Transport {
  return {
    send: (msg: EngineMessage) => port.postMessage(msg),
    onMessage: (cb) => {
      port.onmessage = (e: MessageEvent) => cb(e.data);
    },
  };
}

const log = (m: string) => console.warn(`[engine] ${m}`);
const yieldToHost = () => new Promise<void>((r) => setTimeout(r, 0));

// A script's promise callbacks stopped after its run ended leave a TimeoutError rejection: expected.
scope.addEventListener('unhandledrejection', (e) => {
  if (e.reason instanceof TimeoutError) e.preventDefault();
});

let selfListener: ((msg: unknown) => void) | null = null;
scope.addEventListener('message', (e: MessageEvent) => {
  const data = e.data as { type?: unknown } | null;
  if (data?.type === 'engine-port' && e.ports[0]) {
    new EngineHost(portTransport(e.ports[0]), { run: runScript, log, yieldToHost }).start();
    return;
  }
  selfListener?.(e.data);
});

new EngineHost(
  {
    send: (msg: EngineMessage) => scope.postMessage(msg),
    onMessage: (cb) => {
      selfListener = cb;
    },
  },
  { run: runScript, log, yieldToHost },
).start();
