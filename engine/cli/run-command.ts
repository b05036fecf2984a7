/**
 * `iommu-lab run <file...> [--kernel v6.6|v6.8|v6.16] [--param name=value]… [--seed n] [--json] [--timeout ms]`
 * Exit 0: every script ran and every expectation held; 1: an expectation failed; 2: a script error
 * (syntax, exception, timeout); 3: bad usage — including a session file that cannot be loaded, which
 * is refused before anything runs.
 *
 * A session file (.iommulab) runs each of its scripts (or the `--script` ones) with its kernel, seed,
 * params and disabled checks; `--kernel`, `--param` and `--seed` given here win. Its results are named
 * `<file>#<tab>`.
 */
import type { RunResult } from '../host/protocol.ts';
import type { RunOptions } from '../script/run-script.ts';
import { readScript, SourceCache, withLibrary } from './files.ts';
import { settleLateRejections } from './late-rejections.ts';
import type { Io } from './io.ts';
import { consoleForJson, formatRun, jsonRecord } from './report.ts';
import { RUN_HELP } from './help.ts';
import { isSessionPath, readSessionFile, sessionTab } from './session-files.ts';
import {
  checkKernel,
  checksOff,
  EXIT,
  parse,
  parseDisabledChecks,
  parseParams,
  parseSeed,
  parseTimeout,
  UsageError,
} from './usage.ts';

/** One script to run: its options for the runner, and how its results are named and framed. */
interface Job {
  display: string;
  options: Omit<RunOptions, 'timeoutMs'>;
  /** A result's file names as shown (a session's tabs get the session's name in front). */
  rename: (file: string) => string;
  sourceOf: (file: string) => string | undefined;
}

export function exitCodeFor(results: RunResult[]): number {
  if (results.some((r) => r.status === 'error')) return EXIT.error;
  if (results.some((r) => r.status === 'failed')) return EXIT.failed;
  return EXIT.ok;
}

export async function runCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('run', argv, {
    kernel: { type: 'string' },
    param: { type: 'string', multiple: true },
    seed: { type: 'string' },
    timeout: { type: 'string' },
    script: { type: 'string', multiple: true },
    'disable-check': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(RUN_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('run: give at least one script file');
  const kernel = values.kernel === undefined ? undefined : checkKernel(values.kernel);
  const params = parseParams(values.param);
  const seed = parseSeed(values.seed);
  const timeoutMs = parseTimeout(values.timeout);
  const disabledChecks = parseDisabledChecks(values['disable-check']);

  // Every file must exist (and every session load) before anything runs: a typo or a damaged
  // session is bad usage, not a half-done run.
  const sources = new SourceCache();
  const jobs: Job[] = [];
  for (const path of positionals) {
    if (isSessionPath(path)) {
      jobs.push(...sessionJobs(path, values.script, kernel, params, seed, disabledChecks));
      continue;
    }
    const source = readScript(path);
    sources.set(path, source);
    jobs.push({
      display: path,
      options: {
        fileName: path,
        entryIsPath: true,
        source,
        resolveFile: sources.resolverFor(path),
        kernel,
        params,
        seed,
        disabledChecks,
      },
      rename: (f) => f,
      sourceOf: sources.get,
    });
  }
  if (values.script?.length && !positionals.some(isSessionPath))
    throw new UsageError('run: --script picks tabs of a session file (.iommulab)');

  // The engine loads only now: bad usage answers without it.
  const { runScript } = await import('../script/run-script.ts');
  const results: RunResult[] = [];
  for (const job of jobs) {
    const r = runScript({ ...job.options, timeoutMs });
    await settleLateRejections(r);
    const { session, ...raw } = r;
    session?.dispose(); // its memory goes to the next file's lab
    const result: RunResult = {
      ...raw,
      file: job.display,
      ...(raw.error ? { error: { ...raw.error, file: job.rename(raw.error.file ?? raw.file) } } : {}),
    };
    results.push(result);
    // A script may pick its own kernel (lab.kernel('v6.6')); say so when it is not the one asked for.
    if (kernel !== undefined && raw.kernel !== kernel)
      io.err(
        `note: ${job.display} ran on ${raw.kernel}, which the script picked with lab.kernel() over --kernel ${kernel}`,
      );
    if (values.json) {
      for (const line of consoleForJson(result)) io.err(line);
      io.out(JSON.stringify(jsonRecord(result)));
    } else io.out(formatRun(result, job.sourceOf, io.style));
  }
  if (!values.json && results.length > 1) {
    const count = (s: RunResult['status']) => results.filter((r) => r.status === s).length;
    const parts = [
      `${count('passed')} passed`,
      ...(count('failed') ? [`${count('failed')} failed`] : []),
      ...(count('error') ? [`${count('error')} errored`] : []),
    ];
    io.out(io.style.dim(`${results.length} files: ${parts.join(', ')}`));
  }
  return exitCodeFor(results);
}

/** A session file's tabs as jobs; a file that cannot be loaded is a UsageError (exit 3). */
function sessionJobs(
  path: string,
  only: string[] | undefined,
  kernel: string | undefined,
  params: Record<string, string> | undefined,
  seed: number | undefined,
  disabledChecks: string[] | undefined,
): Job[] {
  const { session } = readSessionFile(path);
  for (const n of only ?? []) sessionTab(path, session, n);
  const files = withLibrary(session.scripts);
  const byName = new Map(files.map((s) => [s.name, s.source]));
  const tabs = new Set(session.scripts.map((s) => s.name));
  const display = (tab: string) => `${path}#${tab}`;
  return session.scripts
    .filter((s) => !only?.length || only.includes(s.name))
    .map((s) => ({
      display: display(s.name),
      options: {
        fileName: s.name,
        source: s.source,
        files: files.filter((o) => o !== s),
        kernel: kernel ?? session.kernel,
        params: { ...session.params, ...params },
        seed: seed ?? session.seed,
        disabledChecks: checksOff(session.disabledChecks, disabledChecks),
      },
      rename: (f) => (tabs.has(f) ? display(f) : f),
      sourceOf: (f) => byName.get(f.startsWith(`${path}#`) ? f.slice(path.length + 1) : f),
    }));
}
