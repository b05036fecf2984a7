/**
 * The window's actions: run, stop, tab and menu commands. It joins the engine client, the stores and
 * the editor's markers; components call these and read the stores.
 */
import { tick } from 'svelte';
import type {
  ConsoleLine,
  Query,
  QueryResultMap,
  RunParams,
  RunResult,
  SourceError,
} from '../../engine/host/protocol.ts';
import type { MenuCommand } from '../../main/bridge-api.ts';
import { DEFAULT_TIMEOUT_MS, EngineClient, type ConnectionState } from './engine-client.ts';
import type { Disposer } from './emitter.ts';
import type { monaco } from './monaco.ts';
import { monacoLoader } from './monaco-loader.svelte.ts';
import { run, KERNELS, type ConsoleEntry, type Kernel } from './run.svelte.ts';
import { inRunOrder } from './run-order.ts';
import { tabs } from './tabs.svelte.ts';
import { layout } from './layout.svelte.ts';
import { panelState } from './panel-state.svelte.ts';
import { stepMarker } from './step-marker.svelte.ts';
import { theme, type ThemeChoice } from './theme.svelte.ts';
import { labBridge } from './shell.ts';
import { revealInEditor } from './editor-bridge.ts';
import { checksSettings } from './checks-settings.svelte.ts';
import { LIBRARY_FILES, registerLibraryModels } from './scenario-library.ts';
import { help, type HelpTab } from './help.svelte.ts';
import { session } from './session.svelte.ts';
import { sessionMenu } from './session-actions.ts';

/** Markers we own, apart from TypeScript's own diagnostics. */
export const MARKER_OWNER = 'iommu-lab';

const client = new EngineClient();
const disposers: Disposer[] = [];

export function startLab(): Disposer {
  disposers.push(client.onConnection(onConnection));
  disposers.push(
    client.onEvent((ev) => {
      if (ev.event === 'console' && ev.runId === run.runId && run.running)
        run.append(ev.lines.map(consoleEntry));
      else if (ev.event === 'progress' && ev.runId === run.runId) {
        // A rebuild's steps are its own: the run's stay at the step it was stopped at.
        if (ev.rebuildingTo === undefined) run.steps = ev.steps;
        else if (run.rebuild) run.rebuild = { to: ev.rebuildingTo, steps: ev.steps };
      } else if (ev.event === 'engine-error') console.error('engine:', ev.message, ev.stack ?? '');
    }),
  );
  const bridge = labBridge();
  if (bridge) disposers.push(bridge.onMenu(onMenu));
  client.start();
  void monacoLoader.load().then((m) => {
    const library = registerLibraryModels(m.monaco, m.SCRIPT_ROOT);
    disposers.push(() => library.dispose());
  });
  return () => {
    for (const d of disposers.splice(0)) d();
    client.dispose();
  };
}

function onConnection(s: ConnectionState): void {
  if (s.state === 'ready') {
    run.engine = 'ready';
    // A new engine holds no session: there is nothing to step through until the next run.
    if (s.reason !== 'start') run.currentStep = null;
    run.engineMessage = '';
    if (s.reason === 'crash')
      run.say('engine restarted — the editor kept your text; run again to rebuild the state', 'warn');
  } else if (s.state === 'connecting') {
    run.engine = 'connecting';
  } else {
    run.engine = 'failed';
    run.engineMessage = s.message;
    run.say(`engine failed: ${s.message}`, 'error');
  }
}

/** A run other than the plain one: a matrix cell re-run as the current run (driver param, kernel fixed). */
export interface RunOverrides {
  entry?: string;
  kernel?: string;
  params?: Record<string, string>;
  fixedKernel?: boolean;
}

/** What the last run was asked with (the JSON report names it). */
export let lastRunRequest: {
  entry: string;
  kernel: string;
  params: Record<string, string>;
  disabledChecks: string[];
} | null = null;

/** The editor's tabs plus the scenario helpers (`lib/…`) no tab shadows: what a run or matrix gets. */
export function runFiles(): { name: string; source: string }[] {
  const files = tabs.files();
  return [...files, ...LIBRARY_FILES.filter((l) => !files.some((f) => f.name === l.name))];
}

export async function runActive(over: RunOverrides = {}): Promise<void> {
  const entry = over.entry ?? tabs.active?.name;
  if (!entry) return;
  if (run.running) {
    // F5 or Ctrl+Enter while the engine is busy: say why nothing starts (Run is off meanwhile).
    run.say(
      run.rebuild
        ? `the lab is still being rebuilt to step ${run.rebuild.to} after Stop; run again when it is done`
        : `${run.runningEntry} is still running; stop it first (Shift+F5) to run again`,
      'info',
    );
    return;
  }
  const kernel = over.kernel ?? run.kernel;
  // The session's params, and a matrix cell's driver over them.
  const { seed, params: sessionParams } = session.runOptions();
  const params = { ...sessionParams, ...over.params };
  const disabledChecks = checksSettings.get();
  lastRunRequest = { entry, kernel, params, disabledChecks };
  run.running = true;
  run.runningEntry = entry;
  const paramText = Object.entries(params).map(([k, v]) => ` · ${k}=${v}`);
  run.setEntries([{ kind: 'status', text: `▶ ${entry} · kernel ${kernel}${paramText.join('')}` }]);
  run.result = null;
  run.outcome = null;
  run.steps = null;
  run.currentStep = null;
  run.durationMs = null;
  run.notice = null;
  clearMarkers();
  stepMarker.runStarted();
  for (const m of ['lab:run-requested', 'lab:run-finished', 'lab:panels-updated']) performance.clearMarks(m);
  for (const m of ['lab:run', 'lab:panel-update']) performance.clearMeasures(m);
  performance.mark('lab:run-requested');
  const request: RunParams = {
    files: runFiles(),
    entry,
    kernel,
    params,
    seed,
    disabledChecks,
    ...(over.fixedKernel ? { fixedKernel: true } : {}),
    // Where each call was made, so time travel can mark the line that made the step shown
    // (step-marker.svelte.ts). The engine keeps only a run's first calls, whatever the run's length.
    recordCallResults: true,
    timeoutMs: DEFAULT_TIMEOUT_MS,
  };
  let outcome = await client.run(request, (id) => (run.runId = id));
  let stoppedAt: number | null = null;
  let notRebuilt = '';
  if (outcome.kind === 'stopped' && !outcome.byWatchdog) {
    // The stopped engine is gone with its lab. Scripts are deterministic, so a fresh engine runs
    // the script again up to the step the run had reached, and the panels show what it did. The
    // window says the lab is being rebuilt (run.rebuild), not that the script runs on.
    stoppedAt = run.rebuild?.to ?? run.steps ?? 0;
    run.rebuild = { to: stoppedAt, steps: 0 };
    run.append([{ kind: 'status', text: `■ stopped at step ${stoppedAt}; rebuilding the lab up to there…` }]);
    const ranMs = outcome.elapsedMs;
    try {
      const again = await client.run({ ...request, stopAfterSteps: stoppedAt }, (id) => (run.runId = id));
      // The replay's own time is not the run's: the run is how long the script ran before Stop.
      if (again.kind === 'finished') outcome = { ...again, result: { ...again.result, durationMs: ranMs } };
      else notRebuilt = again.kind === 'failed' ? again.message : 'the engine did not answer';
    } finally {
      run.rebuild = null;
    }
  }
  // Stop pressed as the run finished: there is nothing to rebuild.
  run.rebuild = null;
  run.running = false;
  if (outcome.kind === 'finished') {
    // Marks for `npm run bench:ui`: request → answer, and answer → panels drawn.
    performance.mark('lab:run-finished');
    panelState.prefetch(outcome.result, outcome.result.steps);
    showResult(outcome.result);
    if (stoppedAt !== null) run.say(`stopped at step ${stoppedAt}: the panels show the lab there`, 'info');
    await tick();
    // The state panels ask the engine for their answers once the result is in; wait until drawn.
    await panelState.settled();
    performance.mark('lab:panels-updated');
    performance.measure('lab:run', 'lab:run-requested', 'lab:run-finished');
    performance.measure('lab:panel-update', 'lab:run-finished', 'lab:panels-updated');
  } else if (outcome.kind === 'stopped') {
    run.outcome = 'stopped';
    run.durationMs = outcome.elapsedMs;
    const why = outcome.byWatchdog
      ? 'the engine did not answer after the time limit; restarted it'
      : 'stopped';
    run.append([{ kind: 'status', text: `■ ${why} after ${formatMs(outcome.elapsedMs)}` }]);
    run.say(why, outcome.byWatchdog ? 'warn' : 'info');
    if (notRebuilt) {
      const text = `the lab could not be rebuilt to step ${stoppedAt}: ${notRebuilt}`;
      run.append([{ kind: 'exception', text }]);
      run.say(`stopped; ${text}`, 'warn');
    }
  } else {
    run.outcome = 'error';
    run.append([{ kind: 'exception', text: outcome.message }]);
    run.say(outcome.message, 'error');
  }
}

/**
 * Ask the engine about the last run at the step the panels show (protocol.ts `Query`). Panels call
 * this; `state` answers are typed by the caller from the panel types protocol.ts re-exports.
 */
export function queryEngine<W extends Query['what'], T = QueryResultMap[W]>(
  query: Extract<Query, { what: W }>,
): Promise<T> {
  return client.request<'query'>({ type: 'query', query }) as Promise<T>;
}

export function stopRun(): void {
  if (!run.running) return;
  // A rebuild is what Stop started: stopping it would leave nothing to show.
  if (run.rebuild) {
    run.say(`already stopped: the lab is being rebuilt to step ${run.rebuild.to} to show it there`, 'info');
    return;
  }
  // From now on the window says the lab is rebuilt to this step (runActive does it), not that
  // the script runs or that an engine starts.
  run.rebuild = { to: run.steps ?? 0, steps: 0 };
  client.stop();
}

export function setKernel(k: string): void {
  if ((KERNELS as readonly string[]).includes(k)) run.kernel = k as Kernel;
}

function showResult(r: RunResult): void {
  run.result = r;
  run.outcome = r.status;
  run.steps = r.steps;
  run.currentStep = r.steps;
  run.durationMs = r.durationMs;
  const rows: ConsoleEntry[] = [runHeader(run.entries.at(0)!, r)];
  for (const report of inRunOrder(r.console, r.expectationLog, r.checks)) {
    if (report.kind === 'console') rows.push(consoleEntry(report.line));
    else if (report.kind === 'check') {
      const c = report.check;
      rows.push({ kind: 'check', text: `check ${c.id} (step ${c.step}): ${c.message}`, step: c.step });
    } else {
      const e = report.record;
      const excerpt = sourceExcerpt(e.file ?? r.file, e.line);
      const text = e.message ? `${e.matcher}: ${e.message}` : excerpt || e.matcher;
      rows.push({ kind: e.passed ? 'pass' : 'fail', text: text.trimEnd(), ...where(e), step: e.step });
    }
  }
  // A failed expectation that stopped the script is listed above with its matcher already.
  const stoppedByExpectation =
    r.error?.name === 'ExpectationError' && r.expectationLog.some((e) => !e.passed);
  // A run stopped at a step (Stop pressed) is not an error of the script's: the status row says it.
  if (r.error && !stoppedByExpectation && !r.stopped)
    rows.push({ kind: 'exception', text: errorText(r.error, r), ...where(r.error) });
  const { passed, failed } = r.expectations;
  const mark = r.stopped
    ? `■ stopped at step ${r.steps}`
    : `${r.status === 'passed' ? '✓' : '✗'} ${r.status}`;
  rows.push({
    kind: 'status',
    text: `${mark} · ${passed} passed, ${failed} failed · ${r.steps} steps · ${formatMs(r.durationMs)}`,
  });
  if (r.stopped) run.outcome = 'stopped';
  run.setEntries(rows);
  setMarkers(r);
  if (r.timedOut) run.say(`stopped by the time limit (${DEFAULT_TIMEOUT_MS / 1000} s): ${MORE_TIME}`, 'warn');
}

/** The app has no setting for the time limit; the command line does (engine/cli/help.ts). */
const MORE_TIME = 'the app’s limit is fixed; `iommu-lab run --timeout <ms>` runs longer scripts';

function errorText(e: SourceError, r: RunResult): string {
  const name = e.name && !e.message.startsWith(e.name) ? `${e.name}: ` : '';
  if (!r.timedOut) return `${name}${e.message}`;
  const limit = e.message.includes('time limit') ? '' : ` (time limit ${DEFAULT_TIMEOUT_MS / 1000} s)`;
  return `${name}${e.message}${limit}; ${MORE_TIME}`;
}

/** The run's first console line, naming the kernel the run used when the script picked another. */
function runHeader(header: ConsoleEntry, r: RunResult): ConsoleEntry {
  const asked = lastRunRequest?.kernel;
  if (!asked || !r.kernel || r.kernel === asked) return header;
  return {
    ...header,
    text: header.text.replace(`kernel ${asked}`, `kernel ${r.kernel} (lab.kernel in the script)`),
  };
}

/** The statement on a line of a tab, shortened, so a bare "toBe" row says what it checked. */
function sourceExcerpt(file: string, line: number | undefined): string {
  const model = line ? tabs.modelByName(file) : undefined;
  if (!model || !line || line > model.getLineCount()) return '';
  const text = model.getLineContent(line).trim();
  return text.length > 90 ? `${text.slice(0, 89)}…` : text;
}

function consoleEntry(l: ConsoleLine): ConsoleEntry {
  return { kind: l.level, text: l.text, ...where(l), step: l.step };
}

function where(x: {
  file?: string;
  line?: number;
  column?: number;
}): Pick<ConsoleEntry, 'file' | 'line' | 'column'> {
  const out: Pick<ConsoleEntry, 'file' | 'line' | 'column'> = {};
  if (x.file !== undefined) out.file = x.file;
  if (x.line !== undefined) out.line = x.line;
  if (x.column !== undefined) out.column = x.column;
  return out;
}

function setMarkers(r: RunResult): void {
  const m = monacoLoader.current?.monaco;
  if (!m) return;
  const byFile = new Map<string, monaco.editor.IMarkerData[]>();
  const add = (
    file: string | undefined,
    line: number | undefined,
    column: number | undefined,
    message: string,
  ): void => {
    const name = file ?? r.file;
    if (!line) return;
    const list = byFile.get(name) ?? [];
    const col = column ?? 1;
    list.push({
      severity: m.MarkerSeverity.Error,
      message,
      startLineNumber: line,
      startColumn: col,
      endLineNumber: line,
      endColumn: col + 1,
      source: 'iommu-lab',
    });
    byFile.set(name, list);
  };
  for (const e of r.expectationLog)
    if (!e.passed) add(e.file, e.line, e.column, `${e.matcher}: ${e.message}`);
  if (r.error) add(r.error.file, r.error.line, r.error.column, errorText(r.error, r));
  for (const [file, markers] of byFile) {
    const model = tabs.modelByName(file);
    if (!model) continue;
    // Widen a one-character marker to the word at that spot so the squiggle is visible.
    for (const m of markers) {
      const word = model.getWordAtPosition({ lineNumber: m.startLineNumber, column: m.startColumn });
      if (word) {
        m.startColumn = word.startColumn;
        m.endColumn = word.endColumn;
      } else {
        m.endColumn = model.getLineMaxColumn(m.startLineNumber);
      }
    }
    m.editor.setModelMarkers(model, MARKER_OWNER, markers);
    // The markers describe the text as it ran: the first edit makes their lines unreliable (a
    // replaced line kept its squiggle), so they go; the console keeps the errors and their links.
    const sub = model.onDidChangeContent(() => {
      m.editor.setModelMarkers(model, MARKER_OWNER, []);
      sub.dispose();
      markerWatches.delete(sub);
    });
    markerWatches.add(sub);
  }
}

/** One-shot listeners that clear a model's run markers at its next edit. */
const markerWatches = new Set<monaco.IDisposable>();

function clearMarkers(): void {
  const m = monacoLoader.current?.monaco;
  for (const sub of markerWatches) sub.dispose();
  markerWatches.clear();
  for (const model of m?.editor.getModels() ?? []) m!.editor.setModelMarkers(model, MARKER_OWNER, []);
}

export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Jump to a console row's source line. */
export function goToSource(e: ConsoleEntry): void {
  if (!e.line) return;
  const name = e.file ?? run.result?.file ?? run.runningEntry;
  const tab = tabs.list.find((t) => t.name === name);
  if (tab) tabs.activeId = tab.id;
  revealInEditor(e.line, e.column ?? 1);
}

/** Move the engine's state (and so every panel) to another step of the last run. */
async function seekBy(delta: number): Promise<void> {
  if (run.running || run.currentStep === null || run.steps === null) {
    run.say('run a script first: stepping moves through its recorded steps', 'info');
    return;
  }
  // From the step last asked for, so F10 pressed twice while the first seek is answered goes two steps.
  await seekTo((seekWanted ?? seekInFlight ?? run.currentStep) + delta);
}

/** The step a seek has been asked for and not answered yet; later asks replace it (a dragged slider). */
let seekWanted: number | null = null;
/** The step of the seek the engine is answering now. */
let seekInFlight: number | null = null;
let seeking = false;

/**
 * Move every panel to the state after `step` of the last run (time travel; clamped to the run). While
 * one seek is in flight only the newest target is kept, so dragging the slider does not queue seeks.
 */
export async function seekTo(step: number): Promise<void> {
  if (run.running || run.currentStep === null || run.steps === null) return;
  const target = Math.max(0, Math.min(run.steps, Math.round(step)));
  if (target === run.currentStep && !seeking) return;
  seekWanted = target;
  if (seeking) return;
  seeking = true;
  try {
    while (seekWanted !== null && seekWanted !== run.currentStep) {
      const want: number = seekWanted;
      seekWanted = null;
      seekInFlight = want;
      const r = await client.request<'seek'>({ type: 'seek', step: want });
      run.currentStep = r.step;
    }
  } catch (err) {
    run.say(`step: ${err instanceof Error ? err.message : String(err)}`, 'warn');
  } finally {
    seekWanted = null;
    seekInFlight = null;
    seeking = false;
  }
}

/** There is a run to move through (not one in progress). */
function canSeek(): boolean {
  return !run.running && run.currentStep !== null && run.steps !== null;
}

/** The run's first step; false (the key is not taken) when there is no run to move through. */
export function seekToStart(): boolean {
  if (!canSeek()) return false;
  void seekTo(0);
  return true;
}

export function seekToEnd(): boolean {
  if (!canSeek()) return false;
  void seekTo(run.steps!);
  return true;
}

/** The engine client, for stores that speak to the engine themselves (the Matrix panel). */
export function engineClient(): EngineClient {
  return client;
}

/** Show the Help panel at one of its pages. */
export function openHelp(tab: HelpTab): void {
  help.tab = tab;
  layout.show('help');
}

export function stepForward(): void {
  void seekBy(1);
}

export function stepBack(): void {
  void seekBy(-1);
}

function onMenu(cmd: MenuCommand): void {
  switch (cmd.action) {
    case 'run':
      void runActive();
      break;
    case 'stop':
      stopRun();
      break;
    case 'step':
      stepForward();
      break;
    case 'step-back':
      stepBack();
      break;
    case 'theme':
      if (cmd.arg === 'system' || cmd.arg === 'light' || cmd.arg === 'dark')
        theme.set(cmd.arg as ThemeChoice);
      break;
    case 'toggle-panel':
      layout.toggle(cmd.arg ?? 'side');
      break;
    case 'new':
    case 'open':
    case 'save':
    case 'save-as':
    case 'open-recent':
      sessionMenu(cmd.action, cmd.arg);
      break;
    case 'api-reference':
      openHelp('api');
      break;
    case 'gallery':
      openHelp('gallery');
      break;
    case 'keys':
      openHelp('keys');
      break;
  }
}
