/**
 * The engine host on a Node worker thread (the CLI's matrix runs cells on a few of these). The
 * thread speaks the protocol over `parentPort`. Start it through bin/run-ts.js, which registers
 * the TypeScript loader in the thread: `new Worker(runTs, { workerData: { entry: thisFileUrl } })`.
 */
import { parentPort } from 'node:worker_threads';
import { EngineHost } from '../host.ts';
import { runScript } from '../../script/run-script.ts';
import type { EngineMessage } from '../protocol.ts';
import { installLateErrorHandlers } from './late-errors.ts';

const port = parentPort;
if (!port) throw new Error('worker-thread.ts must run on a worker thread');

const host = new EngineHost(
  {
    send: (msg: EngineMessage) => port.postMessage(msg),
    onMessage: (cb) => port.on('message', cb),
  },
  {
    run: runScript,
    log: (m) => process.stderr.write(`[engine thread] ${m}\n`),
    nextTurn: () => new Promise((r) => setImmediate(r)),
  },
);
installLateErrorHandlers(
  (ev) => port.postMessage(ev),
  (reason) => host.claimRejection(reason),
);
host.start();
