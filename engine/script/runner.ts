/**
 * The scenario runner: one call runs one script file (and the files it imports) in a fresh SES
 * compartment against a fresh lab, under a time limit, and returns what happened. It never throws:
 * syntax errors, exceptions, failed expectations and timeouts all come back as a result.
 *
 * Scripts run synchronously (the whole API is synchronous). Promise callbacks still pending when
 * the script's last line has run are not waited for: once the run has ended, the guard stops
 * them at their first loop or function call.
 */
import type {
  CallResult,
  CheckRecord,
  ConsoleLevel,
  ConsoleLine,
  ExpectationRecord,
  RunResult,
  SourceError,
  SourceFile,
} from './result.ts';
import { compileFile, type CompiledFile } from './compile.ts';
import { createExpect, ExpectationError } from './expect.ts';
import { formatArgs, formatValue } from './format.ts';
import { RunEndedError, RunGuard, TimeoutError } from './guard.ts';
import { notDefined } from './free-names.ts';
import { deepFreeze, leftOut, Sandbox, sandboxRefusal } from './sandbox.ts';
import { errorSubclasses, stackOf, userFrame, type UserPosition } from './stack.ts';
import { ImportError, import_bindings, missing_import } from './import-check.ts';
import { folderOf, isRelativeImport, resolveImport, withoutExtension } from './import-path.ts';
import { ScriptSyntaxError } from './transpile.ts';

/** What the lab module factory takes (engine/script/module.ts). */
export interface LabModuleOptions {
  kernel?: string;
  seed?: number;
  params?: Record<string, string>;
  fixedKernel?: boolean;
  disabledChecks?: string[];
}

/** The part of a lab session the runner reads. */
export interface RunnerSession {
  readonly steps: number;
  checks(): CheckRecord[];
  /** End-of-run rules (e.g. an unmap never synced), called once after the script's last line. */
  finish?(): void;
  /** Have `poll` called now and then from inside long calls into the lab (null: stop); it may throw. */
  setInterrupt?(poll: (() => void) | null): void;
  /** The run has ended: later calls from script code throw RunEndedError. */
  endScript?(): void;
  /** Call `atLimit` (which throws) before any call into the lab once `steps` calls are done. */
  setStepLimit?(steps: number, atLimit: () => void): void;
  /** Record each API call and its result from now on, placed by `site` (RunOptions.recordCallResults). */
  recordCallResults?(site: () => { file?: string; line: number } | undefined): void;
  callResults?(): CallResult[] | undefined;
}

export type LabModuleFactory<S extends RunnerSession> = (opts: LabModuleOptions) => {
  exports: Record<string, unknown>;
  session: S;
};

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_KERNEL = 'v6.16';
/** Output beyond this many console lines is dropped (a runaway `console.log` must not fill memory). */
const MAX_CONSOLE_LINES = 10_000;
/** Passed expectations beyond this many are counted but not listed one by one. */
const MAX_EXPECTATION_RECORDS = 5_000;
/** Engine frames can be deep (core → driver → page table): keep enough to reach the script's frame. */
const STACK_FRAMES = 100;

export interface RunOptions extends LabModuleOptions {
  fileName: string;
  source: string;
  /** Other files of the run, importable as `./name` (with or without the extension). */
  files?: SourceFile[];
  /**
   * `fileName` is a path on disk and `files` are named from its folder, the run's root (the
   * command line). Otherwise every name, the entry's too, is from the root: a session's tab
   * `lib/x.ts` imports `./y` from `lib/`.
   */
  entryIsPath?: boolean;
  /** Asked for a `./name` import not among `files` (the CLI reads it from disk next to the script). */
  resolveFile?(spec: string): SourceFile | undefined;
  timeoutMs?: number;
  /**
   * Stop once this many steps are done, as at the time limit (the lab and what it did are kept):
   * a run the user stopped, run again up to where it was.
   */
  stopAfterSteps?: number;
  /** Record each API call's line and result in `callResults` (a matrix cell: the cells are compared). */
  recordCallResults?: boolean;
  /** Each console line as it is written. */
  onConsole?(line: ConsoleLine): void;
  /** Now and then while the script runs. */
  onProgress?(p: { steps: number; elapsedMs: number }): void;
  /** How often `onProgress` may be called. Default 100 ms. */
  progressEveryMs?: number;
}

export interface ScriptResult<S extends RunnerSession = RunnerSession> extends RunResult {
  /** The live lab, for the host's later queries; undefined when the lab could not even be created. */
  session: S | undefined;
  /**
   * A promise the script rejected and never handled (`Promise.reject(e)`, an async function that
   * threw before its first await) surfaces only after the run returned: the host hands the reason
   * here, and the result becomes an error at the line that threw, unless the reason is one the
   * run already reported (a failed expectation) or the guard's own stop of a late callback.
   */
  settleRejection(reason: unknown): void;
}

/** The host's clock, taken before any script runs (compartments have none). */
const now: () => number = Date.now.bind(Date);

let runCounter = 0;

export function runScriptWith<S extends RunnerSession>(
  factory: LabModuleFactory<S>,
  opts: RunOptions,
): ScriptResult<S> {
  const runId = ++runCounter;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const kernel = opts.kernel ?? DEFAULT_KERNEL;
  const consoleLines: ConsoleLine[] = [];
  const expectationLog: ExpectationRecord[] = [];
  const counts = { passed: 0, failed: 0 };
  let firstFailure: SourceError | undefined;
  let session: S | undefined;
  const compiled = new Map<string, CompiledFile>(); // by sourceURL
  /** The run's import bindings as transpiled and as written (import-check.ts), for error texts. */
  const bindings: [RegExp, string][] = [];
  const readable = (text: string) => bindings.reduce((t, [from, to]) => t.replace(from, to), text);

  // V8's knob (absent elsewhere, where this is a harmless no-op).
  const E = Error as { stackTraceLimit?: number };
  if (typeof E.stackTraceLimit === 'number' && E.stackTraceLimit < STACK_FRAMES)
    E.stackTraceLimit = STACK_FRAMES;

  const resolveFrame = (url: string, line: number, column: number): UserPosition | undefined => {
    const f = compiled.get(url);
    const pos = f?.toUser(line, column);
    return f && pos ? { file: f.name, line: pos.line, column: pos.column } : undefined;
  };
  const where = (e: unknown) => userFrame(stackOf(e), resolveFrame, errorSubclasses(e));
  const here = () => where(new Error());
  /** The run's error for an uncaught `e`: placed by its stack, or (a thrown string) by the throw the guard saw. */
  const uncaught = (e: unknown, message: string): SourceError => {
    const site = guard.lastThrown;
    const pos = where(e) ?? (site && Object.is(site.value, e) ? where(site.site) : undefined);
    const name = errorName(e);
    return { message, ...(name ? { name } : {}), ...pos };
  };

  const finish = (
    status: RunResult['status'],
    error: SourceError | undefined,
    extra: Partial<RunResult> = {},
  ): ScriptResult<S> => {
    guard.end();
    session?.endScript?.();
    session?.setInterrupt?.(null);
    let steps = 0;
    let checks: CheckRecord[] = [];
    let callResults: CallResult[] | undefined;
    try {
      // End-of-run rules are for a script that ended; one stopped at a step (Stop) only paused there.
      if (!guard.stopped) session?.finish?.();
      steps = session?.steps ?? 0;
      checks = (session?.checks() ?? []).map((c) => ({ id: c.id, step: c.step, message: c.message }));
      callResults = session?.callResults?.();
    } catch (e) {
      error ??= { message: `engine error while collecting results: ${errorText(e)}` };
      status = 'error';
    }
    const result = {
      file: opts.fileName,
      status,
      expectations: { ...counts },
      checks,
      ...(error ? { error } : {}),
      steps,
      console: consoleLines,
      expectationLog,
      durationMs: now() - started,
      timedOut: guard.timedOut,
      ...(guard.stopped ? { stopped: true } : {}),
      unavailable: false,
      kernel,
      ...(callResults ? { callResults: [...callResults] } : {}),
      ...extra,
      session,
    } as ScriptResult<S>;
    // Not enumerable: results are spread and posted across threads, and a function cannot be.
    Object.defineProperty(result, 'settleRejection', {
      value(reason: unknown) {
        if (result.status === 'error') return;
        if (reason instanceof RunEndedError) {
          // Code after an await did lab calls or checks that the result does not count.
          result.status = 'error';
          result.error = uncaught(reason, reason.message);
          return;
        }
        if (RunGuard.isGuardError(reason) || reason instanceof ExpectationError) return;
        result.status = 'error';
        result.error = uncaught(reason, `in a promise nobody handled: ${readable(errorText(reason))}`);
      },
    });
    return result;
  };

  const started = now();
  let lastTick = 0;
  const progressEvery = opts.progressEveryMs ?? 100;
  const guard = new RunGuard({
    timeoutMs,
    now,
    stopAtStep: opts.stopAfterSteps,
    steps: () => session?.steps ?? 0,
    onTick: opts.onProgress
      ? (elapsedMs) => {
          if (elapsedMs - lastTick < progressEvery) return;
          lastTick = elapsedMs;
          let steps = 0;
          try {
            steps = session?.steps ?? 0;
          } catch {
            // progress is best effort
          }
          opts.onProgress?.({ steps, elapsedMs });
        }
      : undefined,
  });

  // The lab itself.
  let labExports: Record<string, unknown>;
  try {
    const created = factory({
      kernel: opts.kernel,
      seed: opts.seed,
      params: opts.params,
      fixedKernel: opts.fixedKernel,
      disabledChecks: opts.disabledChecks,
    });
    session = created.session;
    labExports = created.exports;
    // The time limit reaches into the engine too: one call can run for minutes (a map of 2^40 bytes).
    session.setInterrupt?.(() => guard.poll());
    if (opts.stopAfterSteps !== undefined)
      session.setStepLimit?.(opts.stopAfterSteps, () => guard.poll(true));
    if (opts.recordCallResults)
      session.recordCallResults?.(() => {
        const p = here();
        return p && (p.file === opts.fileName ? { line: p.line } : { file: p.file, line: p.line });
      });
  } catch (e) {
    return finish('error', { message: `could not set up the lab: ${errorText(e)}`, name: errorName(e) });
  }

  // Console lines and expectations share one sequence, with the step they came after.
  let seq = 0;
  const placed = () => ({ step: session?.steps ?? 0, seq: seq++ });

  // console
  const emit = (level: ConsoleLevel, args: unknown[]) => {
    // Past the time limit nothing more is printed: a script that caught the TimeoutError of a
    // long lab call is stopped at its next console call, as a loop is at its next iteration.
    if (guard.halted) guard.poll();
    if (guard.failure) throw guard.failure;
    if (consoleLines.length > MAX_CONSOLE_LINES) return;
    const line: ConsoleLine =
      consoleLines.length === MAX_CONSOLE_LINES
        ? { level: 'warn', text: `… console output truncated after ${MAX_CONSOLE_LINES} lines`, ...placed() }
        : { level, text: formatArgs(args), ...here(), ...placed() };
    consoleLines.push(line);
    opts.onConsole?.(line);
  };
  const scriptConsole = {
    log: (...a: unknown[]) => emit('log', a),
    info: (...a: unknown[]) => emit('info', a),
    warn: (...a: unknown[]) => emit('warn', a),
    error: (...a: unknown[]) => emit('error', a),
    debug: (...a: unknown[]) => emit('debug', a),
    dir: (v: unknown) => emit('log', [formatValue(v)]),
  };

  // expect
  const expect = createExpect({
    record(o) {
      if (guard.ended) throw new RunEndedError('an expectation was checked');
      if (o.passed) counts.passed++;
      else counts.failed++;
      const logIt = !o.passed || expectationLog.length < MAX_EXPECTATION_RECORDS;
      const pos = o.error ? where(o.error) : logIt ? here() : undefined;
      if (!o.passed && !firstFailure) firstFailure = { message: o.message, name: 'ExpectationError', ...pos };
      if (!o.passed && !guard.failure && o.error) {
        const failure = o.error;
        guard.failure = failure;
        // Nothing changes the lab after it either: a failure inside an async function returns to
        // a main line that never sees it, and the next call into the lab meets it instead.
        session.setStepLimit?.(session.steps, () => {
          throw failure;
        });
      }
      if (logIt)
        expectationLog.push({
          passed: o.passed,
          matcher: o.matcher,
          message: o.message,
          ...pos,
          ...placed(),
        });
    },
    isInternalError: (e) => e instanceof TimeoutError || (e !== undefined && e === guard.failure),
    freeze: deepFreeze,
  });

  // The module as scripts see it: the lab's exports plus `expect`, copied (getters kept) and frozen.
  let moduleExports: Record<string, unknown>;
  try {
    moduleExports = Object.defineProperties({}, Object.getOwnPropertyDescriptors(labExports));
    Object.defineProperty(moduleExports, 'expect', { value: expect, enumerable: true });
    // Marked as an ES module, so `import * as L` gets this frozen object itself (as a module
    // namespace, assigning to it throws) rather than a writable copy made by the import helper;
    // `import L from 'iommu-lab'` keeps giving the whole module, as it did.
    Object.defineProperty(moduleExports, '__esModule', { value: true });
    Object.defineProperty(moduleExports, 'default', { value: moduleExports });
    deepFreeze(moduleExports);
    deepFreeze(scriptConsole);
  } catch (e) {
    return finish('error', { message: `could not set up the lab: ${errorText(e)}`, name: errorName(e) });
  }

  const sandbox = new Sandbox();
  // The sandbox reads an undeclared name as undefined; the script gets the language's error instead
  // (saying why, for a name the sandbox leaves out on purpose).
  guard.undeclared = (name) => {
    const found = sandbox.global(name);
    if (found) return found.value;
    throw new ReferenceError(leftOut(name) ?? notDefined(name, Object.keys(moduleExports)));
  };
  const others = opts.files ?? [];
  const modules = new Map<string, { exports: unknown }>();
  let fileIndex = 0;

  const guardFn = deepFreeze(guard.guard);

  const entry: SourceFile = { name: opts.fileName, source: opts.source };
  /** Each loaded file's folder from the run's root, which its imports start from. */
  const folders = new Map<string, string>(others.map((f) => [f.name, folderOf(f.name)]));
  folders.set(entry.name, opts.entryIsPath ? '' : folderOf(entry.name));
  /** The run's file named `name` from the root, with or without its extension. */
  const findFile = (name: string): SourceFile | undefined => {
    const all = [entry, ...others];
    // A script run by its path is at the root: a helper importing the script back must get the
    // module being run, not a second copy.
    const nameOf = (f: SourceFile) =>
      f === entry && opts.entryIsPath ? f.name.slice(f.name.lastIndexOf('/') + 1) : f.name;
    return (
      all.find((f) => nameOf(f) === name) ??
      all.find((f) => withoutExtension(nameOf(f)) === withoutExtension(name))
    );
  };

  const load = (file: SourceFile): unknown => {
    const cached = modules.get(file.name);
    if (cached) return cached.exports;
    const sourceUrl = `lab-run${runId}-${fileIndex++}.js`;
    let c: CompiledFile;
    try {
      c = compileFile(file.name, file.source, sourceUrl);
    } catch (e) {
      if (e instanceof ScriptSyntaxError) e.file = file.name;
      throw e;
    }
    bindings.push(...import_bindings(file.source, c.code));
    const unknownImport = missing_import(file.source, c.code, moduleExports) ?? elided_import(file, c);
    if (unknownImport) {
      unknownImport.file = file.name;
      throw unknownImport;
    }
    compiled.set(sourceUrl, c);
    const fn = sandbox.evaluate(c.code);
    const mod = { exports: {} as unknown };
    modules.set(file.name, mod);
    loading.add(mod.exports);
    try {
      fn(requireFor(file, c.code), mod, mod.exports, scriptConsole, guardFn);
    } finally {
      loading.delete(mod.exports);
    }
    return mod.exports;
  };

  /** Exports of the files still running their top level: a cycle hands them out part-filled. */
  const loading = new Set<unknown>();

  /**
   * `require` as `file` sees it: a file of this run (`./name`) is checked against the names `file`
   * imports from it, as 'iommu-lab' is at load (import-check.ts), unless it is still loading.
   */
  const requireFor = (file: SourceFile, code: string) =>
    deepFreeze((spec: unknown): unknown => {
      const got = requireFn(spec, file.name);
      if (typeof spec === 'string' && spec !== 'iommu-lab' && typeof got === 'object' && got !== null)
        if (!loading.has(got)) {
          const unknown = missing_import(file.source, code, got, spec);
          if (unknown) {
            unknown.file = file.name;
            throw unknown;
          }
        }
      return got;
    });

  const requireFn = (spec: unknown, importer: string): unknown => {
    const f = moduleFile(spec, importer);
    return f ? load(f) : moduleExports;
  };

  /**
   * An import TypeScript's elision dropped (its names are used only as types, or not at all) is
   * not loaded, as in TypeScript, but must still name a module the run has: otherwise it is the
   * error a .js file gets for the same line.
   */
  const elided_import = (file: SourceFile, c: CompiledFile): ImportError | null => {
    for (const { spec, line, column } of c.elidedImports) {
      try {
        moduleFile(spec, file.name);
      } catch (e) {
        return new ImportError((e as Error).message, line, column);
      }
    }
    return null;
  };

  /** The run's file `spec` names from `importer` (null for 'iommu-lab'); throws if there is none. */
  const moduleFile = (spec: unknown, importer: string): SourceFile | null => {
    if (spec === 'iommu-lab') return null;
    if (typeof spec === 'string' && isRelativeImport(spec)) {
      const folder = folders.get(importer) ?? '';
      const name = resolveImport(folder, spec);
      const f = name === undefined ? undefined : (findFile(name) ?? opts.resolveFile?.(`./${name}`));
      if (f) {
        if (!folders.has(f.name)) folders.set(f.name, folderOf(name!));
        return f;
      }
      throw new Error(
        `Cannot find module '${spec}': no file of that name in this run` +
          (name === undefined
            ? ' (it points above the folder of the script being run)'
            : folder
              ? ` (from ${folder}/ it names ${name})`
              : ''),
      );
    }
    throw new Error(
      `Cannot find module '${String(spec)}': scripts can import only 'iommu-lab' and this run's own files ('./name')`,
    );
  };

  try {
    load(entry);
  } catch (e) {
    // From here on no script code may run: reading the thrown value (a Proxy, a getter) would.
    guard.end();
    if (guard.halted) return finish('error', timeoutError(guard, where));
    if (e instanceof ScriptSyntaxError) {
      return finish('error', {
        message: e.message,
        name: e.name,
        file: e.file ?? opts.fileName,
        line: e.line,
        column: e.column,
      });
    }
    if (e instanceof ExpectationError && firstFailure) return finish('failed', firstFailure);
    const err = uncaught(e, readable(errorText(e)));
    return finish('error', err, err.name === 'KernelVersionError' ? { unavailable: true } : {});
  }
  if (guard.halted) return finish('error', timeoutError(guard, where));
  if (firstFailure) return finish('failed', firstFailure);
  return finish('passed', undefined);
}

function timeoutError(guard: RunGuard, where: (e: unknown) => UserPosition | undefined): SourceError {
  const t = guard.firstTimeout;
  return {
    message: t?.message ?? 'script stopped: time limit exceeded',
    name: t?.name ?? 'TimeoutError',
    ...(t ? where(t) : {}),
  };
}

function errorName(e: unknown): string | undefined {
  try {
    if (typeof e === 'object' && e !== null) {
      const n = (e as { name?: unknown }).name;
      return typeof n === 'string' ? n : undefined;
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** `RangeError: iova must be …`; a thrown non-Error is shown as a value. */
function errorText(e: unknown): string {
  try {
    if (e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e)) {
      const { name, message } = e as { name?: unknown; message?: unknown };
      const n = typeof name === 'string' ? name : 'Error';
      const text = sandboxRefusal(String(message));
      return n === 'Error' || n === 'ExpectationError' || n === 'KernelVersionError' ? text : `${n}: ${text}`;
    }
    return `uncaught ${formatValue(e)}`;
  } catch {
    return 'uncaught exception';
  }
}
