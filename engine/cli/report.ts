/**
 * How results look in a terminal: one line per file, the script's console, the error with
 * `file:line:column` and the source line with a caret under the column.
 */
import { plainErrorMessage, type ConsoleLine, type RunResult, type SourceError } from '../host/protocol.ts';

export interface Style {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
export const COLOR: Style = {
  green: wrap(32, 39),
  red: wrap(31, 39),
  yellow: wrap(33, 39),
  dim: wrap(2, 22),
  bold: wrap(1, 22),
};
const id = (s: string) => s;
export const PLAIN: Style = { green: id, red: id, yellow: id, dim: id, bold: id };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The source line and a caret under `column`, with the line number in a gutter. */
export function codeFrame(source: string, line: number, column: number, st: Style): string {
  const text = source.split('\n')[line - 1];
  if (text === undefined) return '';
  const gutter = String(line);
  const shown = text.replace(/\t/g, ' ');
  const caret = ' '.repeat(Math.max(0, column - 1)) + '^';
  return `${st.dim(`${gutter} | `)}${shown}\n${st.dim(`${' '.repeat(gutter.length)} | `)}${st.red(caret)}`;
}

export function where(file: string, e: SourceError): string {
  return e.line !== undefined ? `${e.file ?? file}:${e.line}:${e.column ?? 1}` : (e.file ?? file);
}

/** `warn: `, `error: `, `debug: ` before a line (log and info have none), colour or not. */
const levelTag = (l: ConsoleLine): string => (l.level === 'log' || l.level === 'info' ? '' : `${l.level}: `);

function consoleText(l: ConsoleLine, st: Style): string {
  const text = (levelTag(l) + l.text).replace(/\n/g, '\n    ');
  if (l.level === 'error') return `    ${st.red(text)}`;
  if (l.level === 'warn') return `    ${st.yellow(text)}`;
  return `    ${text}`;
}

/**
 * With --json, stdout holds only the documented objects; the script's console goes to stderr,
 * each line after its file's name (so several files' output stays apart).
 */
export function consoleForJson(r: RunResult): string[] {
  // Every line of a text that spans several says its file: the files' lines interleave on stderr.
  return r.console.flatMap((l) => l.text.split('\n').map((t) => `${r.file}: ${levelTag(l)}${t}`));
}

/** One file's report. `sourceOf` gives a file's text (for the code frame). */
export function formatRun(r: RunResult, sourceOf: (file: string) => string | undefined, st: Style): string {
  const out: string[] = [];
  const { passed, failed } = r.expectations;
  const counts = [plural(r.steps, 'step'), `${passed} passed`, ...(failed ? [`${failed} failed`] : [])].join(
    ', ',
  );
  const mark = r.status === 'passed' ? st.green('✓') : r.status === 'failed' ? st.red('✗') : st.red('!');
  const tag =
    r.status === 'error'
      ? st.red(r.unavailable ? ' not available in this kernel' : r.timedOut ? ' timed out' : ' error')
      : '';
  out.push(
    `${mark} ${st.bold(r.file)}${tag}  ${st.dim(`${counts} · ${r.kernel} · ${Math.round(r.durationMs)} ms`)}`,
  );
  for (const l of r.console) out.push(consoleText(l, st));
  for (const c of r.checks)
    out.push(`  ${st.yellow('check')} ${c.id} ${st.dim(`(step ${c.step})`)}: ${c.message}`);
  if (r.error) {
    const e = r.error;
    const label = r.status === 'failed' ? 'expectation failed' : (e.name ?? 'error');
    out.push(`  ${st.red(label)} at ${where(r.file, e)}`);
    out.push(`  ${plainErrorMessage(e).replace(/\n/g, '\n  ')}`);
    const src = sourceOf(e.file ?? r.file);
    if (src !== undefined && e.line !== undefined) {
      const frame = codeFrame(src, e.line, e.column ?? 1, st);
      if (frame) out.push(frame.replace(/^/gm, '    '));
    }
  }
  return out.join('\n');
}

/** The `--json` object for one file: the fields SCRIPT-API.md names, and `error.file` for an error in an imported file. */
export function jsonRecord(r: RunResult): Record<string, unknown> {
  return {
    file: r.file,
    status: r.status,
    // The kernel the run used: a script may pick its own (lab.kernel('v6.6')) over --kernel.
    kernel: r.kernel,
    expectations: { passed: r.expectations.passed, failed: r.expectations.failed },
    checks: r.checks.map((c) => ({ id: c.id, step: c.step, message: c.message })),
    ...(r.error
      ? {
          error: {
            // The class (KernelVersionError: the function or driver is not in this kernel).
            ...(r.error.name ? { name: r.error.name } : {}),
            message: plainErrorMessage(r.error),
            line: r.error.line,
            column: r.error.column,
            // Only when it is not the script itself: an imported helper's line.
            ...(r.error.file && r.error.file !== r.file ? { file: r.error.file } : {}),
          },
        }
      : {}),
    steps: r.steps,
  };
}
