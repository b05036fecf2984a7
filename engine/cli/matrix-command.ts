/**
 * `iommu-lab matrix <file> [--drivers a,b,…] [--kernels v6.6,…] [--json]`: the file once per
 * (driver, kernel) cell with `lab.params.driver` set and the kernel fixed, as a drivers × kernels
 * table. Exit 0 only when every available cell passed with its row's driver (1 when one failed
 * or passed without its driver, or when none was available, 2 when one errored).
 * A session file sweeps its active tab (or `--script`'s) with the session's seed, params and checks
 * switched off, as the app's Matrix panel does; the matrix's own axes replace its kernel and driver.
 * Cells run on worker threads when there are enough of them and more than one core.
 */
import { availableParallelism } from 'node:os';
import { KERNEL_NAMES } from '../core/kernel-profile.ts';
import {
  cellFromResult,
  cellRunParams,
  matrixAxes,
  matrixCells,
  matrixResult,
  MATRIX_DRIVERS,
  type MatrixCellSpec,
} from '../host/matrix.ts';
import { differenceText } from '../host/matrix-difference.ts';
import type { CallResult, MatrixCell, MatrixParams, MatrixResult, SourceFile } from '../host/protocol.ts';
import { readScript, siblingImports, withLibrary } from './files.ts';
import type { Io } from './io.ts';
import type { Style } from './report.ts';
import { MATRIX_HELP } from './help.ts';
import { settleLateRejections } from './late-rejections.ts';
import { isSessionPath, readSessionFile, sessionTab } from './session-files.ts';
import {
  checksOff,
  EXIT,
  parse,
  parseDisabledChecks,
  parseList,
  parseParams,
  parseSeed,
  parseTimeout,
  UsageError,
} from './usage.ts';
import { EnginePool } from './worker-pool.ts';

/** Below this many cells, starting threads costs more than it saves. */
const MIN_CELLS_FOR_THREADS = 4;

/** A cell and the call results of its run (for the comparison), or none when the run never came back. */
type CellRun = { cell: MatrixCell; calls: CallResult[] | undefined };

/**
 * What a sweep runs: its files (the entry first), the settings it brings, and its name in the report.
 * A script's imports resolve from its own folder on disk (`entryIsPath`); a session's tabs are
 * named as the session names them.
 */
interface Sweep {
  display: string;
  files: SourceFile[];
  entryIsPath: boolean;
  params?: Record<string, string>;
  seed?: number;
  disabledChecks?: string[];
}

function scriptSweep(path: string): Sweep {
  const source = readScript(path, true);
  // Cells may run on threads that cannot read the disk: the files it imports go along.
  return {
    display: path,
    files: [{ name: path, source }, ...siblingImports(path, source)],
    entryIsPath: true,
  };
}

/** The session's active tab, or the one named: with the others and the scenario helpers importable. */
function sessionSweep(path: string, tab: string | undefined): Sweep {
  const { session } = readSessionFile(path);
  const entry = sessionTab(path, session, tab ?? session.activeScript);
  // The session's own driver param is the app's last run: the rows set lab.params.driver here.
  const { driver: _rowsSetIt, ...params } = session.params;
  return {
    display: `${path}#${entry.name}`,
    files: [entry, ...withLibrary(session.scripts.filter((s) => s !== entry))],
    entryIsPath: false,
    params,
    seed: session.seed,
    disabledChecks: session.disabledChecks,
  };
}

async function runCells(
  params: MatrixParams,
  specs: MatrixCellSpec[],
  jobs: number,
  entryIsPath: boolean,
): Promise<CellRun[]> {
  const entry = params.files[0];
  const others = params.files.slice(1);
  if (jobs <= 1 || specs.length < MIN_CELLS_FOR_THREADS) {
    const { runScript } = await import('../script/run-script.ts');
    const cells: CellRun[] = [];
    for (const spec of specs) {
      const r = runScript({
        fileName: entry.name,
        entryIsPath,
        source: entry.source,
        files: others,
        ...cellRunParams(params, spec),
      });
      await settleLateRejections(r);
      r.session?.dispose(); // its memory goes to the next cell's lab
      cells.push({ cell: cellFromResult(spec, r), calls: r.callResults });
    }
    return cells;
  }
  const pool = new EnginePool(Math.min(jobs, specs.length));
  try {
    return await Promise.all(
      specs.map(async (spec) => {
        const c = cellRunParams(params, spec);
        try {
          const r = await pool.run({ files: params.files, entry: entry.name, entryIsPath, ...c });
          return { cell: cellFromResult(spec, r), calls: r.callResults };
        } catch (e) {
          const cell: MatrixCell = {
            ...spec,
            status: 'error',
            detail: `engine: ${(e as Error).message}`,
            expectations: { passed: 0, failed: 0 },
            steps: 0,
            durationMs: 0,
            checks: [],
          };
          return { cell, calls: undefined };
        }
      }),
    );
  } finally {
    await pool.close();
  }
}

const CELL_TEXT: Record<MatrixCell['status'], string> = {
  passed: '✓ passed',
  failed: '✗ failed',
  error: '! error',
  'n/a': '– n/a',
};

/** `✓ passed ⚠2`: '?' in place of the mark when the row's driver never ran; ⚠ and how many checks fired. */
function cellText(c: MatrixCell): string {
  const text = c.warning ? `? ${c.status}` : CELL_TEXT[c.status];
  const fired = c.checks.reduce((n, k) => n + k.count, 0);
  return fired ? `${text} ⚠${fired}` : text;
}

function paint(c: MatrixCell, text: string, st: Style): string {
  if (c.status === 'passed') return c.warning ? st.yellow(text) : st.green(text);
  return c.status === 'n/a' ? st.dim(text) : st.red(text);
}

/**
 * What some cells have to say, a line per row: `amd-iommu × v6.6, v6.8  <text>` for the cells of
 * a row that say the same (a script that ignores lab.params.driver says it in every cell).
 */
function byRow(m: MatrixResult, say: (c: MatrixCell) => string | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const d of m.drivers) {
    const kernels = new Map<string, string[]>();
    for (const c of m.cells) {
      const text = c.driver === d ? say(c) : undefined;
      if (text !== undefined) kernels.set(text, [...(kernels.get(text) ?? []), c.kernel]);
    }
    for (const [text, ks] of kernels) out.push([`${d} × ${ks.join(', ')}`, text]);
  }
  return out;
}

/** Heads padded to one width, then the text, broken after ', ' to keep within 80 columns. */
function aligned(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([h]) => h.length)) + 4;
  return rows.flatMap(([h, text]) => {
    const out = [`  ${h.padEnd(width - 2)}`];
    for (const part of text.split(/(?<=, )/)) {
      const last = out.length - 1;
      if (out[last].length > width && out[last].length + part.trimEnd().length > 80)
        out.push(' '.repeat(width));
      out[out.length - 1] += part;
    }
    return out.map((l) => l.trimEnd());
  });
}

/** The '?' line of a cell (its `warning` says the same, at more length). */
const missingDriver = (c: MatrixCell) =>
  c.warning &&
  (c.driversUsed?.length ? `no ${c.driver} IOMMU, only ${c.driversUsed.join(', ')}` : 'no IOMMU at all');

/** `attach-time-finalise ×2, kernel-oops` */
const checkList = (c: MatrixCell) =>
  c.checks.length ? c.checks.map((k) => (k.count > 1 ? `${k.id} ×${k.count}` : k.id)).join(', ') : undefined;

/** `scenario.ts:4:35`, where a cell stopped (its `file` when that is an imported helper). */
const placeOf = (c: MatrixCell, file: string) =>
  c.line !== undefined ? `${c.file ?? file}:${c.line}:${c.column ?? 1}` : undefined;

/**
 * Each failed or errored cell: where it stopped and the whole of what it said. A failed
 * expectation's message can span lines (an object shown in full, then the "first difference at …"
 * line that says what differed): its further lines go under the first, as `run` prints them.
 */
function notPassedLines(bad: MatrixCell[], file: string, st: Style): string[] {
  const heads = bad.map((c) => `${c.driver} × ${c.kernel}`);
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  return bad.flatMap((c, i) => {
    const place = placeOf(c, file);
    const [first, ...more] = `${place ? `${place}: ` : ''}${c.detail ?? ''}`.split('\n');
    const head = `  ${paint(c, heads[i], st)}${' '.repeat(width - heads[i].length)}`;
    return [head + first, ...more.map((l) => ' '.repeat(width + 2) + l)].map((l) => l.trimEnd());
  });
}

/**
 * Why cells are n/a, a line per reason: `n/a: tegra-gart × v6.8, v6.16 — the tegra-gart driver was
 * removed in v6.7 (gart.ts:2:1)`. The cells that share a reason are named together, across rows
 * (a function a kernel lacks makes every driver's cell n/a there), the drivers with the same
 * kernels as one group.
 */
function notAvailableLines(m: MatrixResult, file: string, st: Style): string[] {
  const byReason = new Map<string, Map<string, string[]>>();
  for (const c of m.cells) {
    if (c.status !== 'n/a') continue;
    // The kernel is the cell's column: `; the lab runs v6.8` would keep apart what v6.6 shares.
    const runs = `; the lab runs ${c.kernel}`;
    const detail = c.detail?.endsWith(runs)
      ? c.detail.slice(0, -runs.length)
      : (c.detail ?? 'not in this kernel');
    const place = placeOf(c, file);
    const reason = place ? `${detail} (${place})` : detail;
    const drivers = byReason.get(reason) ?? new Map<string, string[]>();
    byReason.set(reason, drivers.set(c.driver, [...(drivers.get(c.driver) ?? []), c.kernel]));
  }
  return [...byReason].flatMap(([reason, drivers]) => {
    const groups = new Map<string, string[]>();
    for (const [d, ks] of drivers) groups.set(ks.join(', '), [...(groups.get(ks.join(', ')) ?? []), d]);
    const cells = [...groups].map(
      ([ks, ds]) =>
        `${ds.length === m.drivers.length && ds.length > 1 ? 'every driver' : ds.join(', ')} × ${ks}`,
    );
    return wrapped(`${st.dim('n/a:')} ${cells.join('; ')} — ${reason}`, 'n/a: '.length);
  });
}

/** A line broken after ', ' or '; ' (or before ' — ') to keep within 80 columns, its rest indented. */
function wrapped(text: string, indent: number): string[] {
  const out = [''];
  for (const part of text.split(/(?<=, |; )|(?= — )/)) {
    const last = out.length - 1;
    if (out[last].length > indent && visible(out[last]).length + part.trimEnd().length > 80)
      out.push(' '.repeat(indent) + part.trimStart());
    else out[last] += part;
  }
  return out.map((l) => l.trimEnd());
}

/** A text without its colour codes, for measuring it. */
// eslint-disable-next-line no-control-regex
const visible = (s: string) => s.replace(/\x1b\[\d+m/g, '');

/** Where the cells' results first differ, and each compared cell's own result there. */
function formatComparison(m: MatrixResult, st: Style): string[] {
  const c = m.comparison;
  if (!c.difference) return [st.dim(c.text)];
  const compared = m.cells.filter((cell) => cell.firstDifference);
  const width = Math.max(...compared.map((cell) => `${cell.driver} × ${cell.kernel}`.length)) + 2;
  return [
    st.bold(c.text),
    ...compared.map(
      (cell) =>
        `  ${`${cell.driver} × ${cell.kernel}`.padEnd(width)}${differenceText(cell.firstDifference!)}`,
    ),
  ];
}

/**
 * The verdict, saying how many cells ran: an n/a cell did not run, so it counts neither way (the
 * exit status is 0 when every cell that ran passed), and the line says so rather than let
 * "every cell passed" stand for a table where most never ran.
 */
function summaryLine(m: MatrixResult, bad: number, st: Style): string {
  const total = m.cells.length;
  const ran = m.cells.filter((c) => c.status !== 'n/a').length;
  if (ran === 0)
    return st.yellow(
      total === 1
        ? 'no cell ran: the only cell is not available in its kernel'
        : `no cell ran: none of the ${total} cells is available in its kernel`,
    );
  const na = total - ran;
  const notRun = na === 0 ? '' : na === 1 ? 'the n/a cell did not run' : `the ${na} n/a cells did not run`;
  if (m.allPassed)
    return st.green(`every available cell passed (${ran} of ${total} ran${notRun ? `; ${notRun}` : ''})`);
  const passedWithout = m.cells.filter((c) => c.status === 'passed' && c.warning).length;
  const parts = [
    !bad
      ? ''
      : ran === 1
        ? 'the only cell that ran did not pass'
        : bad === ran
          ? `none of the ${ran} cells that ran passed`
          : `${bad} of the ${ran} cells that ran did not pass`,
    passedWithout ? `${passedWithout} of ${ran} passed without their driver` : '',
    notRun,
  ];
  return st.red(parts.filter(Boolean).join('; '));
}

export function formatMatrix(file: string, m: MatrixResult, st: Style): string {
  const rowHead = Math.max(...m.drivers.map((d) => d.length), 6) + 2;
  const colWidth = Math.max(...m.cells.map((c) => cellText(c).length), ...m.kernels.map((k) => k.length)) + 2;
  const lines: string[] = [st.bold(`matrix ${file}`), ''];
  lines.push(
    ' '.repeat(rowHead) +
      m.kernels
        .map((k) => st.bold(k.padEnd(colWidth)))
        .join('')
        .trimEnd(),
  );
  for (const d of m.drivers) {
    const cells = m.kernels.map((k) => m.cells.find((c) => c.driver === d && c.kernel === k)!);
    lines.push(
      d.padEnd(rowHead) +
        cells
          .map((c) => paint(c, cellText(c).padEnd(colWidth), st))
          .join('')
          .trimEnd(),
    );
  }
  const bad = m.cells.filter((c) => c.status === 'failed' || c.status === 'error');
  if (bad.length)
    lines.push(
      '',
      st.bold('✗ cells that did not pass (the first failed expectation, or the error):'),
      ...notPassedLines(bad, file, st),
    );
  const na = notAvailableLines(m, file, st);
  if (na.length) lines.push('', ...na);
  // A '?' cell's result is another driver's, or no driver's: say so, once per row.
  const unproven = byRow(m, missingDriver);
  if (unproven.length)
    lines.push(
      '',
      st.yellow("? cells that never ran their row's driver (the script ignores lab.params.driver):"),
      ...aligned(unproven),
    );
  const fired = byRow(m, checkList);
  if (fired.length) lines.push('', st.bold('⚠ checks fired:'), ...aligned(fired));
  lines.push('', ...formatComparison(m, st));
  lines.push('', summaryLine(m, bad.length, st));
  return lines.join('\n');
}

export async function matrixCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('matrix', argv, {
    drivers: { type: 'string' },
    kernels: { type: 'string' },
    param: { type: 'string', multiple: true },
    seed: { type: 'string' },
    timeout: { type: 'string' },
    jobs: { type: 'string' },
    script: { type: 'string' },
    'disable-check': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(MATRIX_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1)
    throw new UsageError('matrix: give exactly one script file (or one session file, .iommulab)');
  const drivers = parseList('--drivers', values.drivers, MATRIX_DRIVERS, 'driver');
  const kernels = parseList('--kernels', values.kernels, KERNEL_NAMES, 'kernel');
  const params = parseParams(values.param);
  if (params && Object.hasOwn(params, 'driver'))
    throw new UsageError(
      "matrix: --param driver is the matrix's own (each row sets lab.params.driver); choose rows with --drivers",
    );
  const seed = parseSeed(values.seed);
  const timeoutMs = parseTimeout(values.timeout);
  const disabledChecks = parseDisabledChecks(values['disable-check']);
  let jobs = availableParallelism();
  if (values.jobs !== undefined) {
    if (!/^\d+$/.test(values.jobs) || Number(values.jobs) < 1)
      throw new UsageError(`bad --jobs '${values.jobs}' (want a positive number)`);
    jobs = Number(values.jobs);
  }
  const path = positionals[0];
  if (values.script !== undefined && !isSessionPath(path))
    throw new UsageError('matrix: --script picks the tab of a session file (.iommulab) to sweep');
  const sweep = isSessionPath(path) ? sessionSweep(path, values.script) : scriptSweep(path);
  // The command line's settings win over a session's; checks switched off add up.
  const allParams = sweep.params || params ? { ...sweep.params, ...params } : undefined;
  const allSeed = seed ?? sweep.seed;
  const allOff = checksOff(sweep.disabledChecks ?? [], disabledChecks);
  const req: MatrixParams = {
    files: sweep.files,
    entry: sweep.files[0].name,
    drivers,
    kernels,
    params: allParams,
    ...(allSeed !== undefined ? { seed: allSeed } : {}),
    ...(allOff.length ? { disabledChecks: allOff } : {}),
    timeoutMs,
  };
  const axes = matrixAxes(req);
  const specs = matrixCells(axes.drivers, axes.kernels);
  const runs = await runCells(req, specs, jobs, sweep.entryIsPath);
  const cells = runs.map((r) => r.cell);
  const m = matrixResult(
    axes.drivers,
    axes.kernels,
    cells,
    runs.map((r) => r.calls),
  );

  if (values.json) io.out(JSON.stringify({ file: sweep.display, ...m }));
  else io.out(formatMatrix(sweep.display, m, io.style));
  if (cells.some((c) => c.status === 'error')) return EXIT.error;
  // allPassed is false for a table where no cell ran too: it checked nothing.
  return m.allPassed ? EXIT.ok : EXIT.failed;
}
