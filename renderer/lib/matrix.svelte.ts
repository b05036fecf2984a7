/**
 * The Matrix panel's state and actions: one scenario run once per (driver, kernel) cell, cells
 * streamed in as they finish (`matrix-cell` events), cancel by replacing the engine (a synchronous
 * sweep cannot read a cancel message; Stop does the same), and a cell re-run as the current run so
 * every other panel shows it. Cells run with the session's seed and params, as Run does (the row
 * sets the driver), so a cell opened again gives what the sweep showed. When the sweep is done, the engine's comparison says where the cells'
 * results first differ; its line can be shown in the editor.
 */
import type { MatrixCell, MatrixDifference, MatrixResult } from '../../engine/host/protocol.ts';
import { MATRIX_DRIVERS, MATRIX_KERNELS } from '../../engine/host/matrix.ts';
import { revealInEditor } from './editor-bridge.ts';
import { EngineGoneError } from './engine-client.ts';
import { checksSettings } from './checks-settings.svelte.ts';
import { engineClient, runActive, runFiles } from './lab-controller.ts';
import { run } from './run.svelte.ts';
import { session } from './session.svelte.ts';
import { tabs } from './tabs.svelte.ts';

export const ALL_DRIVERS: readonly string[] = MATRIX_DRIVERS;
export const ALL_KERNELS: readonly string[] = MATRIX_KERNELS;

export const cellKey = (driver: string, kernel: string) => `${driver}@${kernel}`;

class MatrixStore {
  drivers = $state<string[]>([...MATRIX_DRIVERS]);
  kernels = $state<string[]>([...MATRIX_KERNELS]);
  running = $state(false);
  done = $state(0);
  total = $state(0);
  /** Finished cells by `cellKey`, filled as they arrive. */
  cells = $state.raw<Record<string, MatrixCell>>({});
  /** The axes of the sweep shown (kept when the checkboxes change afterwards). */
  shownDrivers = $state.raw<string[]>([]);
  shownKernels = $state.raw<string[]>([]);
  result = $state.raw<MatrixResult | null>(null);
  /** The file the sweep ran. */
  entry = $state('');
  /** 'cancelled', or why the sweep failed. */
  message = $state('');
  /** The cell last opened as the current run. */
  opened = $state<string | null>(null);

  toggle(list: 'drivers' | 'kernels', value: string, on: boolean): void {
    const all = list === 'drivers' ? ALL_DRIVERS : ALL_KERNELS;
    const now = new Set(this[list]);
    if (on) now.add(value);
    else now.delete(value);
    this[list] = all.filter((x) => now.has(x));
  }
}

export const matrix = new MatrixStore();

export async function runMatrix(): Promise<void> {
  const entry = tabs.active?.name;
  if (!entry || matrix.running || run.running) return;
  if (!matrix.drivers.length || !matrix.kernels.length) {
    matrix.message = 'choose at least one driver and one kernel';
    return;
  }
  const client = engineClient();
  matrix.running = true;
  matrix.entry = entry;
  matrix.shownDrivers = [...matrix.drivers];
  matrix.shownKernels = [...matrix.kernels];
  matrix.cells = {};
  matrix.result = null;
  matrix.message = '';
  matrix.opened = null;
  matrix.done = 0;
  matrix.total = matrix.drivers.length * matrix.kernels.length;
  const off = client.onEvent((ev) => {
    if (ev.event !== 'matrix-cell' || !matrix.running) return;
    matrix.cells = { ...matrix.cells, [cellKey(ev.cell.driver, ev.cell.kernel)]: ev.cell };
    matrix.done = ev.done;
    matrix.total = ev.total;
  });
  try {
    const { seed, params } = session.runOptions();
    const result = await client.request<'matrix'>({
      type: 'matrix',
      files: runFiles(),
      entry,
      drivers: matrix.shownDrivers,
      kernels: matrix.shownKernels,
      seed,
      params,
      disabledChecks: checksSettings.get(),
    });
    matrix.result = result;
    matrix.cells = Object.fromEntries(result.cells.map((c) => [cellKey(c.driver, c.kernel), c]));
    matrix.done = matrix.total = result.cells.length;
  } catch (e) {
    matrix.message =
      e instanceof EngineGoneError
        ? e.reason === 'stop'
          ? 'cancelled'
          : 'the engine restarted during the sweep'
        : e instanceof Error
          ? e.message
          : String(e);
  } finally {
    off();
    matrix.running = false;
  }
}

/** Cancel the sweep: the engine is replaced, as Stop does (the last run's state goes with it). */
export function cancelMatrix(): void {
  if (matrix.running) engineClient().stop();
}

/** Run one cell again as the current run, so every panel shows that driver on that kernel. */
export async function openCell(cell: MatrixCell): Promise<void> {
  if (matrix.running || run.running) return;
  const tab = tabs.list.find((t) => t.name === matrix.entry);
  if (!tab) {
    matrix.message = `${matrix.entry} is no longer open: the sweep's file is needed to run a cell again`;
    return;
  }
  tabs.activeId = tab.id;
  matrix.opened = cellKey(cell.driver, cell.kernel);
  await runActive({
    entry: matrix.entry,
    kernel: cell.kernel,
    params: { driver: cell.driver },
    fixedKernel: true,
  });
}

/** Put the editor on the line where the cells' results first differ (in the sweep's file or its helper). */
export function revealDifference(d: MatrixDifference): void {
  if (d.line === undefined) return;
  const name = d.file ?? matrix.entry;
  const tab = tabs.list.find((t) => t.name === name);
  if (!tab) {
    matrix.message = `${name} is no longer open`;
    return;
  }
  tabs.activeId = tab.id;
  revealInEditor(d.line, 1);
}
