/**
 * Run state for the whole window: the engine's connection, the current run, the console entries and
 * the numbers the status bar shows. Plain reactive data; lab-controller.ts changes it.
 */
import type { ConsoleLevel, RunResult } from '../../engine/host/protocol.ts';
import { ChunkedLog } from './console-log.ts';

export const KERNELS = ['v6.6', 'v6.8', 'v6.16'] as const;
export type Kernel = (typeof KERNELS)[number];

export type EntryKind = ConsoleLevel | 'pass' | 'fail' | 'exception' | 'check' | 'status';

/** One row of the Console panel; rows with a line link to the editor. */
export interface ConsoleEntry {
  kind: EntryKind;
  text: string;
  file?: string;
  line?: number;
  column?: number;
  /** Steps done when it was printed (or checked, or raised): after the step shown, it is to come. */
  step?: number;
}

export type EngineState = 'connecting' | 'ready' | 'failed';

export interface Notice {
  text: string;
  tone: 'info' | 'warn' | 'error';
}

class RunStore {
  engine = $state<EngineState>('connecting');
  engineMessage = $state('');
  running = $state(false);
  /** The request id of the run in progress (events carry it as runId). */
  runId = $state(0);
  runningEntry = $state('');
  kernel = $state<Kernel>('v6.16');
  /** The console's rows: a new log per run (`setEntries`), grown in place while it streams (`append`). */
  #entries = $state.raw(new ChunkedLog<ConsoleEntry>());
  /** Counts the appends, so that whoever reads `entries` sees the log grow. */
  #appended = $state(0);
  result = $state.raw<RunResult | null>(null);
  /** Steps and time of the last run, shown in the status bar. */
  steps = $state<number | null>(null);
  durationMs = $state<number | null>(null);
  /** The step the engine's state is shown at (time travel); equals `steps` at the end of a run. */
  currentStep = $state<number | null>(null);
  outcome = $state<'passed' | 'failed' | 'error' | 'stopped' | null>(null);
  /**
   * After Stop, while a new engine runs the script again up to the step the run was stopped at
   * (`to`) so the panels can show the lab there: the steps it has replayed so far. Null otherwise;
   * `running` stays true meanwhile (the engine is busy), but nothing of the user's is running.
   */
  rebuild = $state<{ to: number; steps: number } | null>(null);
  notice = $state<Notice | null>(null);

  /** What a panel says while `running`: the script runs, or the lab is rebuilt after Stop. */
  get busyText(): string {
    return this.rebuild ? `stopped at step ${this.rebuild.to}; rebuilding the lab up to there…` : 'running…';
  }

  get entries(): ChunkedLog<ConsoleEntry> {
    void this.#appended;
    return this.#entries;
  }

  setEntries(rows: ConsoleEntry[]): void {
    this.#entries = new ChunkedLog(rows);
  }

  /** Add streamed rows: costs the batch, not the log (a run may print 10 000 lines). */
  append(rows: ConsoleEntry[]): void {
    if (!rows.length) return;
    this.#entries.append(rows);
    this.#appended++;
  }

  say(text: string, tone: Notice['tone'] = 'info'): void {
    this.notice = { text, tone };
  }
}

export const run = new RunStore();
