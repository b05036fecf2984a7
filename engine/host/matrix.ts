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

export function cellFromResult(cell: MatrixCellSpec, r: RunResult): MatrixCell {
  const status = r.unavailable ? 'n/a' : r.status;
  const out: MatrixCell = {
    driver: cell.driver,
    kernel: cell.kernel,
    status,
    expectations: { ...r.expectations },
    steps: r.steps,
    durationMs: r.durationMs,
  };
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
    allPassed: cells.every((c) => c.status === 'passed' || c.status === 'n/a'),
    comparison: compareCells(cells, calls),
  };
}
