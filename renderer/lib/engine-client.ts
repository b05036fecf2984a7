/**
 * The renderer's only way to the engine: typed requests over the protocol (engine/host/protocol.ts),
 * an event stream, and the lifecycle around them (ready, stopped, restarted after a crash). The same
 * client runs over a Web Worker (browser) and over a MessagePort from main (Electron).
 */
import {
  isEngineMessage,
  PROTOCOL_VERSION,
  type EngineEvent,
  type EngineMessage,
  type Request,
  type RequestType,
  type ResultMap,
  type RunParams,
  type RunResult,
} from '../../engine/host/protocol.ts';
import {
  createConnector,
  type ConnectReason,
  type Endpoint,
  type EngineConnector,
} from './engine-connector.ts';
import { Emitter, type Disposer } from './emitter.ts';

/** The runner's own limit when the caller gives none (protocol default). */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** How long past the runner's limit we wait before deciding the engine is stuck and replacing it. */
const WATCHDOG_GRACE_MS = 5_000;
/** An engine that has not said `ready` by then is reported as failed to start. */
const READY_TIMEOUT_MS = 20_000;

export type ConnectionState =
  | { state: 'connecting'; reason: ConnectReason }
  | { state: 'ready'; reason: ConnectReason; version: number }
  | { state: 'failed'; message: string };

export type RunOutcome =
  | { kind: 'finished'; result: RunResult }
  /** Ended by Stop, or by the watchdog when the engine did not answer after the time limit. */
  | { kind: 'stopped'; byWatchdog: boolean; elapsedMs: number }
  /** The engine died (crash) or refused the request. */
  | { kind: 'failed'; message: string };

type RequestBody<T extends RequestType> = Omit<Extract<Request, { type: T }>, 'id'>;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class EngineGoneError extends Error {
  constructor(readonly reason: ConnectReason) {
    super(reason === 'stop' ? 'stopped' : 'the engine restarted');
    this.name = 'EngineGoneError';
  }
}

export class EngineClient {
  private endpoint: Endpoint | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly events = new Emitter<EngineEvent>();
  private readonly connection = new Emitter<ConnectionState>();
  private state: ConnectionState = { state: 'connecting', reason: 'start' };
  private readyWaiters: (() => void)[] = [];
  private readyTimer: ReturnType<typeof setTimeout> | null = null;
  private stopRequested = false;

  readonly onEvent = this.events.on;
  readonly onConnection = this.connection.on;

  constructor(private readonly connector: EngineConnector = createConnector()) {}

  get kind(): EngineConnector['kind'] {
    return this.connector.kind;
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  start(): void {
    this.connector.start((ep, reason) => this.attach(ep, reason));
  }

  dispose(): void {
    this.failPending(new EngineGoneError('stop'));
    this.connector.dispose();
    this.endpoint = null;
    this.events.clear();
    this.connection.clear();
    if (this.readyTimer) clearTimeout(this.readyTimer);
  }

  /** Resolves when the engine has said `ready` (at once if it has). */
  whenReady(): Promise<void> {
    if (this.state.state === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  async request<T extends RequestType>(body: RequestBody<T>): Promise<ResultMap[T]> {
    await this.whenReady();
    return this.send(body).promise;
  }

  private send<T extends RequestType>(body: RequestBody<T>): { id: number; promise: Promise<ResultMap[T]> } {
    const ep = this.endpoint;
    const id = this.nextId++;
    if (!ep) return { id, promise: Promise.reject(new EngineGoneError('crash')) };
    const promise = new Promise<ResultMap[T]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    ep.post({ ...body, id });
    return { id, promise };
  }

  /**
   * Run a script. Never throws: a stop, a stuck engine or a dead one come back as outcomes. The
   * request id is the `runId` of the events the run streams (`onRunStarted` tells it).
   */
  async run(params: RunParams, onRunStarted?: (runId: number) => void): Promise<RunOutcome> {
    await this.whenReady();
    const started = performance.now();
    const limit = params.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.stopRequested = false;
    let watchdogFired = false;
    const watchdog = setTimeout(() => {
      watchdogFired = true;
      this.connector.restart();
    }, limit + WATCHDOG_GRACE_MS);
    try {
      const { id, promise } = this.send<'run'>({ type: 'run', ...params });
      onRunStarted?.(id);
      const result = await promise;
      return { kind: 'finished', result };
    } catch (err) {
      const elapsedMs = performance.now() - started;
      if (err instanceof EngineGoneError && (err.reason === 'stop' || watchdogFired)) {
        return { kind: 'stopped', byWatchdog: watchdogFired && !this.stopRequested, elapsedMs };
      }
      return { kind: 'failed', message: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(watchdog);
    }
  }

  /** Stop now: the engine is replaced (a synchronous run cannot read a stop message). */
  stop(): void {
    this.stopRequested = true;
    this.connector.restart();
  }

  private attach(ep: Endpoint, reason: ConnectReason): void {
    this.endpoint?.close();
    this.endpoint = ep;
    this.failPending(new EngineGoneError(reason));
    this.setState({ state: 'connecting', reason });
    ep.onMessage((data) => {
      if (this.endpoint === ep) this.receive(data, reason);
    });
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = setTimeout(() => {
      if (this.endpoint === ep && this.state.state === 'connecting') {
        this.setState({ state: 'failed', message: 'the engine did not start' });
      }
    }, READY_TIMEOUT_MS);
  }

  private receive(data: unknown, reason: ConnectReason): void {
    if (!isEngineMessage(data)) return;
    const msg = data as EngineMessage;
    if (msg.type === 'response') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(`${msg.error.code}: ${msg.error.message}`));
      return;
    }
    if (msg.event === 'ready') {
      if (this.readyTimer) clearTimeout(this.readyTimer);
      if (msg.version !== PROTOCOL_VERSION) {
        this.setState({
          state: 'failed',
          message: `engine speaks protocol ${msg.version}, this window ${PROTOCOL_VERSION}`,
        });
        return;
      }
      this.setState({ state: 'ready', reason, version: msg.version });
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const w of waiters) w();
    } else if (msg.event === 'engine-error' && this.state.state === 'connecting') {
      this.setState({ state: 'failed', message: msg.message });
    }
    this.events.fire(msg);
  }

  private failPending(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  private setState(s: ConnectionState): void {
    this.state = s;
    this.connection.fire(s);
  }
}

export type { Disposer };
