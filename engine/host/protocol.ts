/**
 * The message protocol between the engine host (utility process, Web Worker, worker thread) and its
 * clients (the renderer, the CLI). Plain JSON-able data only, so it crosses a MessagePort, a Worker
 * boundary or a pipe unchanged. The types of a run's result live with the runner
 * (engine/script/result.ts) and are re-exported here: clients need only this file.
 *
 * Directions:
 *   client → engine: `Request` (`{type, id, ...}`); every request gets exactly one `Response` with the same `id`.
 *   engine → client: `Response` (`{type: 'response', id, ok, ...}`) and `EngineEvent` (`{type: 'event', event, ...}`).
 *
 * Every incoming message is checked by `parseRequest` at the boundary: anything unknown or malformed
 * is refused with an error response (`id` echoed when it could be read, else -1) and the host lives on.
 *
 * Stopping: a run is synchronous JavaScript inside the engine, so a `stop` request cannot be read
 * until the run has ended. Runaway scripts are ended by the runner's own time limit (`timeoutMs`), which
 * leaves the engine alive. To stop at once (Shift+F5) the client terminates the engine (Worker.terminate,
 * utilityProcess kill), starts a new one, waits for its `ready` event, and runs the same request
 * again with `stopAfterSteps` set to the steps the last `progress` event reported: scripts are
 * deterministic, so the new engine's lab is the stopped one as it was there. That run's `run-started`
 * and `progress` events carry `rebuildingTo`, so a client shows it as the lab being rebuilt to that
 * step, not as a run of the script. `stop` sent to an idle engine only answers
 * `{stopped: false}`; it exists so a future asynchronous runner can honour it without a protocol change.
 *
 * Streaming: the host forwards console lines and progress while the script runs (the host sends
 * them from inside the synchronous run; a Worker/MessagePort delivers them to the other side at
 * once because the receiver runs on another thread).
 *
 * Extending: add a member to `Query`/`QueryResultMap` for a new panel, a member to `Request` and
 * `ResultMap` for a new command, a member to `EngineEvent` for a new event. Never rename.
 */

import type { TraceEvent } from '../trace/trace.ts';

export const PROTOCOL_VERSION = 1;

// ───────────────────────────── shared data ─────────────────────────────

// The run's own data (what a script run produces) is defined by the runner, one layer down.
export type {
  CallResult,
  CheckRecord,
  ConsoleLevel,
  ConsoleLine,
  ExpectationRecord,
  RunResult,
  RunStatus,
  SourceError,
  SourceFile,
} from '../script/result.ts';
import type {
  CallResult,
  CheckRecord,
  ConsoleLine,
  RunResult,
  RunStatus,
  SourceFile,
} from '../script/result.ts';
/**
 * What `{what: 'state', panel, args}` answers, per panel (engine/script/panels.ts computes them at the
 * step the panels show): 'domains' → DomainCard[]; 'mappings' {domain, offset, limit} →
 * {total, items: MappingRow[]}; 'pgtable' {domain} → PageTableView | null; 'resv' → ResvView;
 * 'iotlb' → IotlbView[]; 'tlb-series' {iommu?} → TlbPoint[].
 */
export type {
  DomainCard,
  MappingRow,
  ResvRow,
  ResvDeviceView,
  ResvGroupView,
  IotlbEntryRow,
  IotlbView,
  TlbPoint,
  PageTableView,
  ResvView,
  TableView,
  TableEntryView,
  DecodedEntry,
} from '../script/panels.ts';

// ───────────────────────────── requests ─────────────────────────────

export interface RunParams {
  files: SourceFile[];
  /** Name of the file to run; the others are importable from it. */
  entry: string;
  /** The entry is named by its path on disk, the others from its folder (the command line's runs). */
  entryIsPath?: boolean;
  kernel?: string;
  seed?: number;
  params?: Record<string, string>;
  /** Default 10 000 ms. */
  timeoutMs?: number;
  /**
   * Stop once this many steps are done, keeping the lab: a run the user stopped, run again to where
   * it was (a rebuild: its events say `rebuildingTo`).
   */
  stopAfterSteps?: number;
  disabledChecks?: string[];
  /** The kernel profile is set from outside (a matrix cell): `lab.kernel('other')` throws. */
  fixedKernel?: boolean;
  /** Record each API call's line and result in the result's `callResults` (a matrix cell). */
  recordCallResults?: boolean;
}

export interface RunRequest extends RunParams {
  type: 'run';
  id: number;
}

export interface StopRequest {
  type: 'stop';
  id: number;
}

/**
 * Which trace events a window shows. Same shape as engine/trace's `TraceFilter` (the trace applies it):
 * every member narrows the result; an empty filter matches everything.
 */
export interface TraceFilter {
  kinds?: TraceEvent['kind'][];
  /** Exact event names. */
  names?: string[];
  /** Case-insensitive substring of the event name. */
  nameContains?: string;
  /** First and last step, both included. */
  fromStep?: number;
  toStep?: number;
  /** Case-insensitive text searched in the row as shown (`name field=value …`). */
  text?: string;
  /** Field values that must all match, e.g. `{domain: 3}`; a key may list alternatives: `'dev|device'`. */
  fields?: Record<string, number | string | boolean>;
  /** Case-insensitive texts the fields' values must contain, e.g. `{device: 'nic'}` (nic0, nic1, …). */
  fieldsContain?: Record<string, string>;
}

/**
 * What a panel can ask for. Windowed lists take `offset`/`limit` so big ones stay cheap.
 * Panels add members here (e.g. `{what: 'domains'}`, `{what: 'iotlb', iommu}`); answer types go in `QueryResultMap`.
 */
export type Query =
  | { what: 'summary' }
  | { what: 'trace'; offset: number; limit: number; filter?: TraceFilter }
  | { what: 'checks' }
  | { what: 'console'; offset: number; limit: number }
  | { what: 'state'; panel: string; args?: Record<string, unknown> }
  /** How to show trace rows: every event's fields and types, every API function's parameter names. */
  | { what: 'trace-schema' }
  /**
   * The matching events as CSV, a window at a time (`offset` a multiple of `limit`); the window at
   * offset 0 starts with the header line. Columns as engine/trace's `Trace.csv` makes them.
   */
  | { what: 'trace-csv'; offset: number; limit: number; filter?: TraceFilter };

export interface QueryRequest {
  type: 'query';
  id: number;
  query: Query;
}

/** Move every panel to the state after `step` (time travel). */
export interface SeekRequest {
  type: 'seek';
  id: number;
  step: number;
}

export interface MatrixParams {
  files: SourceFile[];
  entry: string;
  /** Default: every driver. */
  drivers?: string[];
  /** Default: every kernel profile. */
  kernels?: string[];
  seed?: number;
  params?: Record<string, string>;
  timeoutMs?: number;
  disabledChecks?: string[];
}

export interface MatrixRequest extends MatrixParams {
  type: 'matrix';
  id: number;
}

export interface PingRequest {
  type: 'ping';
  id: number;
}

export type Request = RunRequest | StopRequest | QueryRequest | SeekRequest | MatrixRequest | PingRequest;
export type RequestType = Request['type'];

// ───────────────────────────── results ─────────────────────────────

export interface Summary {
  /** False before the first run (or after an engine restart). */
  hasRun: boolean;
  file?: string;
  status?: RunStatus;
  kernel?: string;
  steps: number;
  traceLength: number;
  checks: number;
  /** The step panels currently show (after `seek`); equals `steps` when at the end. */
  currentStep: number;
}

export interface TraceWindow {
  offset: number;
  /** Events matching the filter, in all. */
  total: number;
  events: TraceEvent[];
  /** Each event's index in the whole log (to link rows, to seek to their step). */
  indices: number[];
}

/**
 * One event's shape: its fields in order, `x` shown in hex, `s` strings, `b` booleans, `i` signed; a
 * call's `c` name comes as a string, its `v` values as numbers, strings or nothing (trace/events.ts).
 */
export interface TraceEventSchema {
  name: string;
  kind: TraceEvent['kind'];
  fields: { name: string; type: 'u' | 'i' | 'x' | 's' | 'b' | 'c' | 'v' }[];
}

export interface TraceSchema {
  events: TraceEventSchema[];
  /**
   * Parameter names of each script API function (engine/script/api.ts), so an `api_call` row can name
   * its arguments `a0…a5`: `iommu_map(domain=1, iova=0x1000, …)`.
   */
  api: Record<string, string[]>;
}

export interface TraceCsvWindow {
  offset: number;
  /** Matching events in all. */
  total: number;
  /** Rows in `text` (the header line not counted). */
  rows: number;
  text: string;
}

export interface ConsoleWindow {
  offset: number;
  total: number;
  lines: ConsoleLine[];
}

export interface QueryResultMap {
  summary: Summary;
  trace: TraceWindow;
  checks: CheckRecord[];
  console: ConsoleWindow;
  state: unknown;
  'trace-schema': TraceSchema;
  'trace-csv': TraceCsvWindow;
}

export type QueryResult<Q extends Query = Query> = QueryResultMap[Q['what']];

/** 'n/a': the script used something this kernel does not have (KernelVersionError). */
export type MatrixCellStatus = RunStatus | 'n/a';

export interface MatrixCell {
  driver: string;
  kernel: string;
  status: MatrixCellStatus;
  /** First failed expectation, or the error, or the reason it is not available. */
  detail?: string;
  /** The file the line is in, when it is not the scenario itself (an imported helper). */
  file?: string;
  line?: number;
  column?: number;
  expectations: { passed: number; failed: number };
  steps: number;
  durationMs: number;
  /** The checks that fired, each id once in the order first fired, with how often it fired. */
  checks: { id: string; count: number }[];
  /** The driver models of the IOMMUs the run added (absent when its engine could not say). */
  driversUsed?: string[];
  /**
   * Set on a cell that passed or failed without adding an IOMMU of its row's driver (a script that
   * hard-codes another, or adds none): its result says nothing about that driver. It does not count
   * as passed (MatrixResult.allPassed).
   */
  warning?: string;
  /**
   * This cell at the first call where the cells' results differ (engine/host/matrix-difference.ts);
   * null when every result agrees; absent for a cell that took no part (n/a, or its engine failed)
   * and in `matrix-cell` events, which come before the comparison.
   */
  firstDifference?: CellDifference | null;
}

/** A cell's own result at the matrix's first difference. */
export interface CellDifference {
  /**
   * `line 14 iommu_map → -ENODEV`, `line 9 iommu_map threw RangeError`, `ended at step 9 (error)`:
   * the whole result (shown as it is unless `differing` cuts it).
   */
  text: string;
  /** The cell's call there; absent when the cell had ended before it. */
  call?: CallResult;
  /**
   * When the cells got objects back there: this cell's result cut to the fields where the results
   * differ, `{ …, tlb: 'stale', … }` (matrix-difference.ts `differenceText` shows it after the
   * call); absent when nothing of the result is left out.
   */
  differing?: string;
}

/**
 * Where the cells' results first differ. Cells are compared call by call in the order each made
 * its calls (a cell's `lab.*` calls are not compared: engine/script/call-results.ts).
 */
export interface MatrixDifference {
  /** Which call (1-based); when every cell ended after the same calls, the one after them. */
  call: number;
  /** The API function there, when every cell that made the call made the same one… */
  fn?: string;
  /** …its line, when that is the same in each of them too… */
  file?: string;
  line?: number;
  /** …and its step. */
  step?: number;
}

export interface MatrixComparison {
  /** Cells compared: those that ran (not n/a) and recorded their results. */
  cells: number;
  /** Calls that agreed: those before the first difference, or all of them when there is none. */
  calls: number;
  /** null: every result agrees (within the steps compared). */
  difference: MatrixDifference | null;
  /** One line for the panel header and the CLI: which call differs first, or that all agree. */
  text: string;
}

export interface MatrixResult {
  drivers: string[];
  kernels: string[];
  /** Row-major: drivers outer, kernels inner. */
  cells: MatrixCell[];
  /**
   * True when at least one cell ran (is not 'n/a') and every such cell passed with its row's driver
   * (no `warning`): exactly when `iommu-lab matrix` exits 0.
   */
  allPassed: boolean;
  /** The cells' call results side by side: the first step where they differ. */
  comparison: MatrixComparison;
}

export interface ResultMap {
  run: RunResult;
  stop: { stopped: boolean };
  query: unknown; // typed per query: QueryResult<Q>
  seek: { step: number; steps: number };
  matrix: MatrixResult;
  ping: { pong: true; version: number };
}

// ───────────────────────────── engine → client ─────────────────────────────

export type ErrorCode = 'bad-request' | 'unknown-request' | 'no-session' | 'busy' | 'failed' | 'unsupported';

export type Response<T extends RequestType = RequestType> =
  | { type: 'response'; id: number; ok: true; result: ResultMap[T] }
  | { type: 'response'; id: number; ok: false; error: { code: ErrorCode; message: string } };

export type EngineEvent =
  /** Sent once when the host is up (and again by a restarted engine). */
  | { type: 'event'; event: 'ready'; version: number }
  /**
   * `rebuildingTo` (here and in `progress`): the run is a rebuild after Stop, replaying the script
   * up to the step the stopped run had reached (its `stopAfterSteps`), not a run of the user's.
   */
  | {
      type: 'event';
      event: 'run-started';
      runId: number;
      entry: string;
      kernel: string;
      rebuildingTo?: number;
    }
  | { type: 'event'; event: 'console'; runId: number; lines: ConsoleLine[] }
  | {
      type: 'event';
      event: 'progress';
      runId: number;
      steps: number;
      elapsedMs: number;
      rebuildingTo?: number;
    }
  | { type: 'event'; event: 'run-finished'; runId: number; result: RunResult }
  | { type: 'event'; event: 'matrix-cell'; runId: number; cell: MatrixCell; done: number; total: number }
  /** Something went wrong outside any script: a malformed message, an engine bug. */
  | { type: 'event'; event: 'engine-error'; message: string; stack?: string };

export type EngineEventName = EngineEvent['event'];
export type EngineMessage = Response | EngineEvent;

/** `runId` in events is the `id` of the `run`/`matrix` request that started it. */

// ───────────────────────────── validation ─────────────────────────────

export type Parsed =
  { ok: true; request: Request } | { ok: false; id: number; code: ErrorCode; message: string };

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isStrRecord = (v: unknown): v is Record<string, string> =>
  isObj(v) && Object.values(v).every((s) => typeof s === 'string');

function checkRunLike(m: Record<string, unknown>): string | null {
  if (!Array.isArray(m.files) || m.files.length === 0) return 'files must be a non-empty array';
  for (const f of m.files) {
    if (!isObj(f) || typeof f.name !== 'string' || typeof f.source !== 'string')
      return 'each file must be {name: string, source: string}';
  }
  if (typeof m.entry !== 'string') return 'entry must be a string';
  if (!(m.files as SourceFile[]).some((f) => f.name === m.entry))
    return `entry '${m.entry}' is not among files`;
  if (m.seed !== undefined && !isInt(m.seed)) return 'seed must be an integer';
  if (m.params !== undefined && !isStrRecord(m.params)) return 'params must map names to strings';
  if (m.timeoutMs !== undefined && !(isInt(m.timeoutMs) && m.timeoutMs > 0))
    return 'timeoutMs must be a positive integer';
  if (m.disabledChecks !== undefined && !isStrArray(m.disabledChecks))
    return 'disabledChecks must be an array of strings';
  if (m.stopAfterSteps !== undefined && !(isInt(m.stopAfterSteps) && m.stopAfterSteps >= 0))
    return 'stopAfterSteps must be a non-negative integer';
  return null;
}

function checkQuery(q: unknown): string | null {
  if (!isObj(q) || typeof q.what !== 'string') return 'query must be {what: string, ...}';
  switch (q.what) {
    case 'summary':
    case 'checks':
    case 'trace-schema':
      return null;
    case 'trace':
    case 'console':
    case 'trace-csv':
      if (!isInt(q.offset) || q.offset < 0) return 'offset must be a non-negative integer';
      if (!isInt(q.limit) || q.limit < 0) return 'limit must be a non-negative integer';
      if (q.what === 'trace-csv' && (q.limit === 0 || q.offset % q.limit !== 0))
        return 'trace-csv: limit must be positive and offset a multiple of it';
      if (q.what !== 'console' && q.filter !== undefined) return checkTraceFilter(q.filter);
      return null;
    case 'state':
      if (typeof q.panel !== 'string') return 'panel must be a string';
      if (q.args !== undefined && !isObj(q.args)) return 'args must be an object';
      return null;
    default:
      return `unknown query '${q.what}'`;
  }
}

function checkTraceFilter(f: unknown): string | null {
  if (!isObj(f)) return 'filter must be an object';
  if (f.kinds !== undefined && !isStrArray(f.kinds)) return 'filter.kinds must be an array of strings';
  if (f.names !== undefined && !isStrArray(f.names)) return 'filter.names must be an array of strings';
  for (const k of ['nameContains', 'text'] as const)
    if (f[k] !== undefined && typeof f[k] !== 'string') return `filter.${k} must be a string`;
  for (const k of ['fromStep', 'toStep'] as const)
    if (f[k] !== undefined && !isInt(f[k])) return `filter.${k} must be an integer`;
  if (f.fields !== undefined) {
    if (!isObj(f.fields)) return 'filter.fields must be an object';
    for (const v of Object.values(f.fields))
      if (!['number', 'string', 'boolean'].includes(typeof v))
        return 'filter.fields values must be numbers, strings or booleans';
  }
  if (f.fieldsContain !== undefined) {
    if (!isObj(f.fieldsContain)) return 'filter.fieldsContain must be an object';
    for (const v of Object.values(f.fieldsContain))
      if (typeof v !== 'string') return 'filter.fieldsContain values must be strings';
  }
  return null;
}

/** Check a message from a client. Never throws. */
/**
 * An error's message as the script's `e.message` reads it: the runner's text leads with the error's
 * class (`RangeError: iova must be …`, as the console and the matrix show it), which a report gives
 * apart as `name`.
 */
export function plainErrorMessage(e: { name?: string; message: string }): string {
  return e.name && e.message.startsWith(`${e.name}: `) ? e.message.slice(e.name.length + 2) : e.message;
}

export function parseRequest(msg: unknown): Parsed {
  if (!isObj(msg)) return { ok: false, id: -1, code: 'bad-request', message: 'message must be an object' };
  const id = isInt(msg.id) ? msg.id : -1;
  if (id === -1) return { ok: false, id, code: 'bad-request', message: 'id must be an integer' };
  let problem: string | null;
  switch (msg.type) {
    case 'run':
      problem = checkRunLike(msg);
      if (!problem && msg.kernel !== undefined && typeof msg.kernel !== 'string')
        problem = 'kernel must be a string';
      if (!problem && msg.fixedKernel !== undefined && typeof msg.fixedKernel !== 'boolean')
        problem = 'fixedKernel must be a boolean';
      if (!problem && msg.recordCallResults !== undefined && typeof msg.recordCallResults !== 'boolean')
        problem = 'recordCallResults must be a boolean';
      break;
    case 'matrix':
      problem = checkRunLike(msg);
      if (!problem && msg.drivers !== undefined && !isStrArray(msg.drivers))
        problem = 'drivers must be an array of strings';
      if (!problem && msg.kernels !== undefined && !isStrArray(msg.kernels))
        problem = 'kernels must be an array of strings';
      break;
    case 'query':
      problem = checkQuery(msg.query);
      break;
    case 'seek':
      problem = isInt(msg.step) && msg.step >= 0 ? null : 'step must be a non-negative integer';
      break;
    case 'stop':
    case 'ping':
      problem = null;
      break;
    default:
      return {
        ok: false,
        id,
        code: 'unknown-request',
        message: `unknown request type ${JSON.stringify(msg.type)}`,
      };
  }
  if (problem) return { ok: false, id, code: 'bad-request', message: `${String(msg.type)}: ${problem}` };
  return { ok: true, request: msg as unknown as Request };
}

/** Loose check for clients receiving engine messages. */
export function isEngineMessage(msg: unknown): msg is EngineMessage {
  if (!isObj(msg)) return false;
  if (msg.type === 'response') return isInt(msg.id) && typeof msg.ok === 'boolean';
  if (msg.type === 'event') return typeof msg.event === 'string';
  return false;
}

/** The transport a host (or a client) talks over: a MessagePort, a Worker's self, a worker_threads port. */
export interface Transport {
  send(msg: EngineMessage): void;
  onMessage(cb: (msg: unknown) => void): void;
}
