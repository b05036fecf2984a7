/**
 * `iommu-lab run <file...> [--kernel v6.6|v6.8|v6.16] [--param name=value]… [--json] [--timeout ms]`
 * Exit 0: every script ran and every expectation held; 1: an expectation failed; 2: a script error
 * (syntax, exception, timeout); 3: bad usage.
 */
import type { RunResult } from '../host/protocol.ts';
import { readScript, SourceCache } from './files.ts';
import type { Io } from './io.ts';
import { formatRun, jsonRecord } from './report.ts';
import { RUN_HELP } from './help.ts';
import { checkKernel, EXIT, parse, parseParams, parseTimeout, UsageError } from './usage.ts';

export function exitCodeFor(results: RunResult[]): number {
  if (results.some((r) => r.status === 'error')) return EXIT.error;
  if (results.some((r) => r.status === 'failed')) return EXIT.failed;
  return EXIT.ok;
}

export async function runCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('run', argv, {
    kernel: { type: 'string' },
    param: { type: 'string', multiple: true },
    timeout: { type: 'string' },
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
  const timeoutMs = parseTimeout(values.timeout);

  // Every file must exist before anything runs: a typo is bad usage, not a half-done run.
  const sources = new SourceCache();
  const files = positionals.map((path) => {
    const source = readScript(path);
    sources.set(path, source);
    return { path, source };
  });

  // The engine loads only now: bad usage answers without it.
  const { runScript } = await import('../script/run-script.ts');
  const results: RunResult[] = [];
  for (const f of files) {
    const r = runScript({
      fileName: f.path,
      source: f.source,
      resolveFile: sources.resolverFor(f.path),
      kernel,
      params,
      timeoutMs,
    });
    const { session: _session, ...result } = r;
    results.push(result);
    if (values.json) io.out(JSON.stringify(jsonRecord(result)));
    else io.out(formatRun(result, sources.get, io.style));
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
