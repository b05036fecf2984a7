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
// The unhandledrejection task is queued when the run's task ends; two timer hops let it run first.
const nextTurn = () => yieldToHost().then(yieldToHost);
const hosts: EngineHost[] = [];

// A rejection the script left unhandled becomes its run's error when the host is still collecting
// (code after an await that reached the lab or expect() too: RunEndedError). A later TimeoutError
// rejection, from a callback stopped after the run's result was sent: expected.
scope.addEventListener('unhandledrejection', (e) => {
  if (hosts.some((h) => h.claimRejection(e.reason)) || e.reason instanceof TimeoutError) e.preventDefault();
});

let selfListener: ((msg: unknown) => void) | null = null;
scope.addEventListener('message', (e: MessageEvent) => {
  const data = e.data as { type?: unknown } | null;
  if (data?.type === 'engine-port' && e.ports[0]) {
    const host = new EngineHost(portTransport(e.ports[0]), { run: runScript, log, yieldToHost, nextTurn });
    hosts.push(host);
    host.start();
    return;
  }
  selfListener?.(e.data);
});

const selfHost = new EngineHost(
  {
    send: (msg: EngineMessage) => scope.postMessage(msg),
    onMessage: (cb) => {
      selfListener = cb;
    },
  },
  { run: runScript, log, yieldToHost, nextTurn },
);
hosts.push(selfHost);
selfHost.start();
