/**
 * The engine host in an Electron utility process. Main forks this file and posts
 * `{type: 'engine-port'}` with one end of a MessageChannelMain; the other end goes to the window,
 * so the renderer talks to the engine directly (main/engine-host.ts). Electron is not imported: the
 * few members used are typed here, so this file also type-checks and loads without Electron.
 */
import { EngineHost } from '../host.ts';
import { runScript } from '../../script/run-script.ts';
import type { EngineMessage } from '../protocol.ts';
import { installLateErrorHandlers } from './late-errors.ts';

/** The parts of Electron's MessagePortMain used here. */
interface PortMain {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  on(event: 'close', listener: () => void): void;
  postMessage(message: unknown): void;
  start(): void;
}

/** The parts of Electron's `process.parentPort` used here. */
interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown; ports: PortMain[] }) => void): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error('utility.ts must run in an Electron utility process');

let port: PortMain | null = null;
let current: EngineHost | null = null;
installLateErrorHandlers(
  (ev) => port?.postMessage(ev),
  (reason) => current?.claimRejection(reason) ?? false,
);

parentPort.on('message', (e) => {
  const data = e.data as { type?: unknown } | null;
  if (data?.type !== 'engine-port' || !e.ports[0]) return;
  // One engine per window: a second port (a window reload) replaces the first; the lab starts empty.
  const p = e.ports[0];
  port = p;
  const host = new EngineHost(
    {
      send: (msg: EngineMessage) => p.postMessage(msg),
      onMessage: (cb) => p.on('message', (ev) => cb(ev.data)),
    },
    {
      run: runScript,
      log: (m) => process.stderr.write(`[engine] ${m}\n`),
      yieldToHost: () => new Promise((r) => setImmediate(r)),
      nextTurn: () => new Promise((r) => setImmediate(r)),
    },
  );
  current = host;
  host.start();
  p.start();
});
