/**
 * A few engine hosts on worker threads, for running independent scripts in parallel (the matrix).
 * Each thread speaks the protocol (engine/host/node/worker-thread.ts); this is a minimal client:
 * one `run` at a time per thread, answers matched by request id.
 */
import { Worker } from 'node:worker_threads';
import { isEngineMessage, type RunParams, type RunResult } from '../host/protocol.ts';

const BOOTSTRAP = new URL('../../bin/run-ts.js', import.meta.url);
const ENTRY = new URL('../host/node/worker-thread.ts', import.meta.url).href;

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, { resolve(r: RunResult): void; reject(e: Error): void }>;
  dead: Error | null;
}

export class EnginePool {
  private readonly slots: Slot[] = [];
  private readonly idle: Slot[] = [];
  private readonly waiting: ((s: Slot) => void)[] = [];
  private nextId = 1;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const slot = this.spawn();
      this.slots.push(slot);
      this.idle.push(slot);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(BOOTSTRAP, { workerData: { entry: ENTRY } });
    const pending: Slot['pending'] = new Map();
    let markReady!: () => void;
    let failReady!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => {
      markReady = res;
      failReady = rej;
    });
    const slot: Slot = { worker, ready, pending, dead: null };
    worker.on('message', (msg: unknown) => {
      if (!isEngineMessage(msg)) return;
      if (msg.type === 'event') {
        if (msg.event === 'ready') markReady();
        return;
      }
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result as RunResult);
      else p.reject(new Error(msg.error.message));
    });
    const die = (e: Error) => {
      slot.dead = e;
      failReady(e);
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`engine thread exited (code ${code})`)));
    return slot;
  }

  private acquire(): Promise<Slot> {
    const s = this.idle.pop();
    return s ? Promise.resolve(s) : new Promise((res) => this.waiting.push(res));
  }

  private release(s: Slot): void {
    const next = this.waiting.shift();
    if (next) next(s);
    else this.idle.push(s);
  }

  async run(params: RunParams): Promise<RunResult> {
    const slot = await this.acquire();
    try {
      if (slot.dead) throw slot.dead;
      await slot.ready;
      const id = this.nextId++;
      return await new Promise<RunResult>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.postMessage({ type: 'run', id, ...params });
      });
    } finally {
      this.release(slot);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
