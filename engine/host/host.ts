/**
 * The engine host loop: reads protocol requests from one transport, runs scripts, answers queries
 * about the last run's lab, and streams events. Pure: no Node or DOM, so the same loop serves the
 * Electron utility process, the browser's Web Worker and worker threads (see node/ and web/).
 *
 * Requests are handled one at a time, in order. A run is synchronous: while it runs, nothing else
 * is read (see protocol.ts on stopping).
 */
import {
  parseRequest,
  PROTOCOL_VERSION,
  type CallResult,
  type CheckRecord,
  type ConsoleLine,
  type EngineEvent,
  type ErrorCode,
  type MatrixCell,
  type MatrixParams,
  type MatrixRequest,
  type MatrixResult,
  type Query,
  type Request,
  type Response,
  type RunResult,
  type Summary,
  type TraceCsvWindow,
  type TraceFilter,
  type TraceSchema,
  type TraceWindow,
  type Transport,
} from './protocol.ts';
import {
  cellFromResult,
  cellRunParams,
  matrixAxes,
  matrixCells,
  matrixResult,
  type MatrixCellSpec,
} from './matrix.ts';
import type { TraceEvent } from '../trace/trace.ts';
import { allEvents } from '../trace/events.ts';
import { API } from '../script/api.ts';

/** What the host reads from a lab session (the core's LabSession has these; optional ones may come later). */
export interface HostSession {
  readonly steps: number;
  checks(): CheckRecord[];
  readonly trace?: {
    readonly length: number;
    query?(
      offset: number,
      limit: number,
      filter?: TraceFilter,
    ): { total: number; indices: number[]; events: TraceEvent[] };
    event?(index: number): TraceEvent;
    /** CSV of the matching events: the header line first, then pieces of `rowsPerPiece` rows. */
    csv?(filter?: TraceFilter, rowsPerPiece?: number): Generator<string>;
  };
  /** Time travel: show the state after `step`. */
  seek?(step: number): unknown;
  /** The step panels show now (after `seek`). */
  readonly currentStep?: number;
  /** Prepare time-travel checkpoints for about `budgetMs`; true when done. */
  buildCheckpoints?(budgetMs: number): boolean;
  /** Panel state queries (domains, iotlb, …), answered by the lab. */
  query?(panel: string, args?: Record<string, unknown>): unknown;
  /** The lab is replaced: its memory may go to the next one. */
  dispose?(): void;
}

export interface RunInput {
  fileName: string;
  entryIsPath?: boolean;
  source: string;
  files: { name: string; source: string }[];
  kernel?: string;
  seed?: number;
  params?: Record<string, string>;
  timeoutMs?: number;
  stopAfterSteps?: number;
  disabledChecks?: string[];
  fixedKernel?: boolean;
  recordCallResults?: boolean;
  onConsole?(line: ConsoleLine): void;
  onProgress?(p: { steps: number; elapsedMs: number }): void;
}

export type RunFn = (input: RunInput) => RunResult & {
  session: HostSession | undefined;
  /** A rejection the run left unhandled, surfacing after it returned (ScriptResult.settleRejection). */
  settleRejection?(reason: unknown): void;
};

/**
 * Runs matrix cells somewhere else (worker threads); the host runs them in turn without one. Each
 * cell comes with the `callResults` of its run (undefined when it had none), for the comparison.
 */
export type CellRunner = (
  params: MatrixParams,
  cells: MatrixCellSpec[],
  onCell: (cell: MatrixCell) => void,
) => Promise<{ cell: MatrixCell; calls: CallResult[] | undefined }[]>;

export interface HostOptions {
  run: RunFn;
  runCells?: CellRunner;
  /** Diagnostics (malformed messages, engine bugs); default: dropped. */
  log?(message: string): void;
  /** Console lines are sent in batches: at most this many per event… */
  consoleBatch?: number;
  /** …and at least this often (ms) while a script writes. */
  consoleFlushMs?: number;
  /**
   * Let the host's event loop run (a macrotask: setTimeout/setImmediate). Given, the host prepares
   * time-travel checkpoints after a run in small slices between requests; otherwise seeks build them.
   */
  yieldToHost?(): Promise<void>;
  /**
   * Wait until the environment has reported the promise rejections a run left unhandled (Node:
   * setImmediate); it hands them to `claimRejection`. Without it, they are the environment's.
   */
  nextTurn?(): Promise<void>;
}

/** One slice of background checkpoint building (ms). */
const CHECKPOINT_SLICE_MS = 20;

const now = () => Date.now();

let schema: TraceSchema | undefined;

/** Every registered trace event's fields and every API function's parameter names (both fixed at load). */
function traceSchema(): TraceSchema {
  schema ??= {
    events: allEvents().map((d) => ({
      name: d.name,
      kind: d.kind,
      fields: d.fields.map((f) => ({ name: f.name, type: f.type })),
    })),
    api: Object.fromEntries(Object.entries(API).map(([name, e]) => [name, [...e.params]])),
  };
  return schema;
}

export class EngineHost {
  private session: HostSession | undefined;
  private last: RunResult | undefined;
  /** The run whose late rejections are being collected (see claimRejection). */
  private settling: ReturnType<RunFn> | null = null;
  private currentStep = 0;
  /** The CSV export in progress, so the next window continues the same generator. */
  private csvCursor:
    { session: HostSession; key: string; next: number; gen: Generator<string>; header: string } | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly transport: Transport,
    private readonly opts: HostOptions,
  ) {}

  /** Listen and say `ready`. */
  start(): void {
    this.transport.onMessage((msg) => {
      this.queue = this.queue.then(() => this.handle(msg)).catch((e) => this.internalError(e));
    });
    this.event({ type: 'event', event: 'ready', version: PROTOCOL_VERSION });
  }

  /** Resolves when every message received so far has been answered (tests, orderly shutdown). */
  idle(): Promise<void> {
    return this.queue;
  }

  private send(msg: Response | EngineEvent): void {
    try {
      this.transport.send(msg);
    } catch (e) {
      // A result that cannot cross the boundary (not cloneable) still gets an answer.
      this.opts.log?.(`could not send a ${msg.type}: ${String(e)}`);
      if (msg.type === 'response' && msg.ok) {
        this.send({
          type: 'response',
          id: msg.id,
          ok: false,
          error: { code: 'failed', message: `the result could not be sent: ${String(e)}` },
        });
      }
    }
  }

  private event(ev: EngineEvent): void {
    this.send(ev);
  }

  private ok(id: number, result: unknown): void {
    this.send({ type: 'response', id, ok: true, result } as Response);
  }

  private fail(id: number, code: ErrorCode, message: string): void {
    this.send({ type: 'response', id, ok: false, error: { code, message } });
  }

  private internalError(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.opts.log?.(`engine error: ${err.stack ?? err.message}`);
    this.event({
      type: 'event',
      event: 'engine-error',
      message: err.message,
      ...(err.stack ? { stack: err.stack } : {}),
    });
  }

  private async handle(msg: unknown): Promise<void> {
    const parsed = parseRequest(msg);
    if (!parsed.ok) {
      this.opts.log?.(`refused message: ${parsed.message}`);
      this.fail(parsed.id, parsed.code, parsed.message);
      return;
    }
    const req = parsed.request;
    try {
      await this.dispatch(req);
    } catch (e) {
      this.internalError(e);
      this.fail(req.id, 'failed', e instanceof Error ? e.message : String(e));
    }
  }

  private async dispatch(req: Request): Promise<void> {
    switch (req.type) {
      case 'ping':
        return this.ok(req.id, { pong: true, version: PROTOCOL_VERSION });
      case 'stop':
        // Reached only when no run is going on (runs are synchronous): nothing to stop.
        return this.ok(req.id, { stopped: false });
      case 'run':
        return this.ok(req.id, await this.runFiles(req.id, req));
      case 'query':
        return this.query(req.id, req.query);
      case 'seek':
        return this.seek(req.id, req.step);
      case 'matrix':
        return this.ok(req.id, await this.matrix(req));
    }
  }

  /**
   * The environment's unhandled-rejection handler asks first: true when the run being settled takes
   * the rejection as its own error (see RunFn.settleRejection).
   */
  claimRejection(reason: unknown): boolean {
    if (!this.settling) return false;
    this.settling.settleRejection?.(reason);
    return true;
  }

  private async runFiles(runId: number, p: Extract<Request, { type: 'run' }>): Promise<RunResult> {
    const entry = p.files.find((f) => f.name === p.entry)!;
    // A run to a step is the rebuild of a stopped run (protocol.ts "Stopping"): its events say so.
    const rebuild = p.stopAfterSteps === undefined ? {} : { rebuildingTo: p.stopAfterSteps };
    this.event({
      type: 'event',
      event: 'run-started',
      runId,
      entry: p.entry,
      kernel: p.kernel ?? 'v6.16',
      ...rebuild,
    });

    const batch = this.opts.consoleBatch ?? 100;
    const flushMs = this.opts.consoleFlushMs ?? 50;
    let pending: ConsoleLine[] = [];
    let firstPendingAt = 0;
    const flush = () => {
      if (pending.length === 0) return;
      this.event({ type: 'event', event: 'console', runId, lines: pending });
      pending = [];
    };

    // The previous lab goes first: a run replaces it whatever happens (and reuses its memory).
    this.session?.dispose?.();
    this.session = undefined;
    this.last = undefined;
    const r = this.opts.run({
      fileName: entry.name,
      entryIsPath: p.entryIsPath,
      source: entry.source,
      files: p.files.filter((f) => f !== entry),
      kernel: p.kernel,
      seed: p.seed,
      params: p.params,
      timeoutMs: p.timeoutMs,
      stopAfterSteps: p.stopAfterSteps,
      disabledChecks: p.disabledChecks,
      fixedKernel: p.fixedKernel,
      recordCallResults: p.recordCallResults,
      onConsole: (line) => {
        if (pending.length === 0) firstPendingAt = now();
        pending.push(line);
        if (pending.length >= batch || now() - firstPendingAt >= flushMs) flush();
      },
      onProgress: (pr) => {
        flush();
        this.event({
          type: 'event',
          event: 'progress',
          runId,
          steps: pr.steps,
          elapsedMs: pr.elapsedMs,
          ...rebuild,
        });
      },
    });
    flush();
    if (this.opts.nextTurn && r.settleRejection) {
      this.settling = r;
      try {
        await this.opts.nextTurn();
      } finally {
        this.settling = null;
      }
    }
    const { session, ...result } = r;
    this.session = session;
    this.last = result;
    this.currentStep = result.steps;
    this.event({ type: 'event', event: 'run-finished', runId, result });
    if (session) void this.prepareCheckpoints(session);
    return result;
  }

  /** Build checkpoints in slices, yielding between them, until done or another run replaced the lab. */
  private async prepareCheckpoints(session: HostSession): Promise<void> {
    const yieldToHost = this.opts.yieldToHost;
    if (!yieldToHost || !session.buildCheckpoints) return;
    try {
      await yieldToHost();
      while (this.session === session && !session.buildCheckpoints(CHECKPOINT_SLICE_MS)) await yieldToHost();
    } catch (e) {
      this.internalError(e);
    }
  }

  private query(id: number, q: Query): void {
    if (q.what === 'summary') return this.ok(id, this.summary());
    if (q.what === 'trace-schema') return this.ok(id, traceSchema());
    if (q.what === 'console') {
      const lines = this.last?.console ?? [];
      return this.ok(id, {
        offset: q.offset,
        total: lines.length,
        lines: lines.slice(q.offset, q.offset + q.limit),
      });
    }
    const s = this.session;
    if (!s) return this.fail(id, 'no-session', 'nothing has run yet');
    switch (q.what) {
      case 'checks':
        return this.ok(id, s.checks());
      case 'trace': {
        const t = s.trace;
        if (!t?.query) return this.fail(id, 'unsupported', 'this lab has no trace to query');
        const page = t.query(q.offset, q.limit, q.filter);
        const win: TraceWindow = {
          offset: q.offset,
          total: page.total,
          events: page.events,
          indices: page.indices,
        };
        return this.ok(id, win);
      }
      case 'state':
        if (!s.query) return this.fail(id, 'unsupported', `no panel queries yet ('${q.panel}')`);
        return this.ok(id, s.query(q.panel, q.args));
      case 'trace-csv':
        if (!s.trace?.csv || !s.trace.query)
          return this.fail(id, 'unsupported', 'this lab has no trace to export');
        return this.ok(id, this.traceCsv(s, q.offset, q.limit, q.filter));
    }
  }

  /** One window of a CSV export; consecutive windows continue one generator (columns stay the same). */
  private traceCsv(s: HostSession, offset: number, limit: number, filter?: TraceFilter): TraceCsvWindow {
    const trace = s.trace!;
    const key = JSON.stringify([filter ?? null, limit]);
    let c = this.csvCursor;
    if (!c || c.session !== s || c.key !== key || c.next !== offset) {
      const gen = trace.csv!(filter, limit);
      c = { session: s, key, next: 0, gen, header: gen.next().value ?? '' };
      while (c.next < offset && !gen.next().done) c.next += limit;
      this.csvCursor = c;
    }
    const total = trace.query!(0, 0, filter).total;
    const piece = c.next === offset ? c.gen.next() : { done: true as const, value: undefined };
    c.next = offset + limit;
    const body = piece.done ? '' : piece.value;
    return {
      offset,
      total,
      rows: Math.max(0, Math.min(limit, total - offset)),
      text: offset === 0 ? c.header + body : body,
    };
  }

  private summary(): Summary {
    const s = this.session;
    const r = this.last;
    if (!r) return { hasRun: false, steps: 0, traceLength: 0, checks: 0, currentStep: 0 };
    return {
      hasRun: true,
      file: r.file,
      status: r.status,
      kernel: r.kernel,
      steps: r.steps,
      traceLength: s?.trace?.length ?? 0,
      checks: r.checks.length,
      currentStep: s?.currentStep ?? this.currentStep,
    };
  }

  private seek(id: number, step: number): void {
    const s = this.session;
    if (!s) return this.fail(id, 'no-session', 'nothing has run yet');
    if (!s.seek) return this.fail(id, 'unsupported', 'time travel is not available in this lab yet');
    const steps = s.steps;
    const target = Math.min(step, steps);
    s.seek(target);
    this.currentStep = target;
    this.ok(id, { step: target, steps });
  }

  private async matrix(req: MatrixRequest): Promise<MatrixResult> {
    const { drivers, kernels } = matrixAxes(req);
    const specs = matrixCells(drivers, kernels);
    let done = 0;
    const onCell = (cell: MatrixCell) => {
      done++;
      this.event({ type: 'event', event: 'matrix-cell', runId: req.id, cell, done, total: specs.length });
    };
    let runs: { cell: MatrixCell; calls: CallResult[] | undefined }[];
    if (this.opts.runCells) {
      runs = await this.opts.runCells(req, specs, onCell);
    } else {
      const entry = req.files.find((f) => f.name === req.entry)!;
      runs = specs.map((spec) => {
        const r = this.opts.run({
          fileName: entry.name,
          source: entry.source,
          files: req.files.filter((f) => f !== entry),
          ...cellRunParams(req, spec),
        });
        const cell = cellFromResult(spec, r);
        onCell(cell);
        return { cell, calls: r.callResults };
      });
    }
    return matrixResult(
      drivers,
      kernels,
      runs.map((r) => r.cell),
      runs.map((r) => r.calls),
    );
  }
}
