/**
 * The matrix: one scenario run once per (driver, kernel) cell with `lab.params.driver` set and the
 * kernel profile fixed. The cells are independent runs; this file turns run results into cells and
 * cells into the table's summary, with the comparison of their results (matrix-difference.ts). Who
 * runs the cells (in turn here, on worker threads in the CLI) is the caller's choice.
 */
import { compareCells } from './matrix-difference.ts';
import type { CallResult, MatrixCell, MatrixParams, MatrixResult, RunResult } from './protocol.ts';

/** SCRIPT-API.md "Building the machine": every driver model the lab has. */
export const MATRIX_DRIVERS = [
  'arm-smmu-v3',
  'intel-iommu',
  'amd-iommu',
  'virtio-iommu',
  'omap-iommu',
  'tegra-gart',
  's390-iommu',
] as const;

/** SCRIPT-API.md "Kernel profiles". */
export const MATRIX_KERNELS = ['v6.6', 'v6.8', 'v6.16'] as const;

export interface MatrixCellSpec {
  driver: string;
  kernel: string;
}

export function matrixAxes(p: Pick<MatrixParams, 'drivers' | 'kernels'>): {
  drivers: string[];
  kernels: string[];
} {
  return {
    drivers: p.drivers?.length ? [...p.drivers] : [...MATRIX_DRIVERS],
    kernels: p.kernels?.length ? [...p.kernels] : [...MATRIX_KERNELS],
  };
}

/** Row-major: drivers outer, kernels inner. */
export function matrixCells(drivers: readonly string[], kernels: readonly string[]): MatrixCellSpec[] {
  return drivers.flatMap((driver) => kernels.map((kernel) => ({ driver, kernel })));
}

/** The run options of one cell: the file's own params, with `driver` set by the matrix. */
export function cellRunParams(p: MatrixParams, cell: MatrixCellSpec) {
  return {
    kernel: cell.kernel,
    fixedKernel: true,
    seed: p.seed,
    params: { ...p.params, driver: cell.driver },
    timeoutMs: p.timeoutMs,
    disabledChecks: p.disabledChecks,
    recordCallResults: true,
  };
}

/** Each check id once, in the order first fired, with how often it fired. */
function checkCounts(checks: RunResult['checks']): MatrixCell['checks'] {
  const counts = new Map<string, number>();
  for (const c of checks) counts.set(c.id, (counts.get(c.id) ?? 0) + 1);
  return [...counts].map(([id, count]) => ({ id, count }));
}

/**
 * A script that hard-codes its driver (or adds no IOMMU) runs the same machine in every row: its
 * result there, passed or failed, is not the row's driver's. An n/a or errored cell is left alone:
 * it may have stopped before its add_iommu, and it says so already.
 */
function driverWarning(cell: MatrixCell, used: readonly string[]): string | undefined {
  if (used.includes(cell.driver) || (cell.status !== 'passed' && cell.status !== 'failed')) return;
  return used.length
    ? `the script added no ${cell.driver} IOMMU (only ${used.join(', ')}): it ignores lab.params.driver`
    : 'the script added no IOMMU: it ignores lab.params.driver';
}

export function cellFromResult(cell: MatrixCellSpec, r: RunResult): MatrixCell {
  const status = r.unavailable ? 'n/a' : r.status;
  const out: MatrixCell = {
    driver: cell.driver,
    kernel: cell.kernel,
    status,
    expectations: { ...r.expectations },
    steps: r.steps,
    durationMs: r.durationMs,
    checks: checkCounts(r.checks),
  };
  if (r.drivers) {
    out.driversUsed = [...r.drivers];
    const warning = driverWarning(out, r.drivers);
    if (warning) out.warning = warning;
  }
  if (r.error) {
    out.detail = r.error.message;
    if (r.error.file !== undefined && r.error.file !== r.file) out.file = r.error.file;
    if (r.error.line !== undefined) out.line = r.error.line;
    if (r.error.column !== undefined) out.column = r.error.column;
  }
  return out;
}

/** `calls[i]`: the `callResults` of the run behind `cells[i]` (undefined when there was no run). */
export function matrixResult(
  drivers: string[],
  kernels: string[],
  cells: MatrixCell[],
  calls: readonly (CallResult[] | undefined)[],
): MatrixResult {
  return {
    drivers,
    kernels,
    cells,
    // A pass without the row's driver is no pass of that driver, and a table where no cell ran
    // checked nothing: a CI job must not read either as passed (`matrix` exits 1 for both).
    allPassed:
      cells.some((c) => c.status !== 'n/a') &&
      cells.every((c) => (c.status === 'passed' && !c.warning) || c.status === 'n/a'),
    comparison: compareCells(cells, calls),
  };
}
