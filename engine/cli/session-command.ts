/**
 * `iommu-lab session new <scripts…> -o <file>` makes a session file from scenario files;
 * `iommu-lab session check <file…>` validates session files (exit 0 valid, 3 invalid with the reason).
 * Running one is `iommu-lab run <file>.iommulab` (run-command.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  FORMAT_VERSION,
  loadSession,
  newSession,
  SCRIPT_NAME_RE,
  serializeSession,
  type KernelName,
} from '../session/index.ts';
import { importsWithoutTab, readScript, siblingImports, unresolvedImports } from './files.ts';
import { SESSION_CHECK_HELP, SESSION_HELP, SESSION_NEW_HELP } from './help.ts';
import type { Io } from './io.ts';
import { isSessionPath, readSessionFile, writeFileAtomic } from './session-files.ts';
import { checkKernel, EXIT, parse, parseParams, parseSeed, UsageError } from './usage.ts';

export async function sessionCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    (sub === undefined ? io.err : io.out)(SESSION_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub === 'new') return sessionNew(rest, io);
  if (sub === 'check') return sessionCheck(rest, io);
  throw new UsageError(`session: unknown subcommand '${sub}' (choose new or check)`);
}

function sessionNew(argv: string[], io: Io): number {
  const { values, positionals } = parse('session new', argv, {
    output: { type: 'string', short: 'o' },
    kernel: { type: 'string' },
    param: { type: 'string', multiple: true },
    seed: { type: 'string' },
    'disable-check': { type: 'string', multiple: true },
    notes: { type: 'string' },
    active: { type: 'string' },
    force: { type: 'boolean', short: 'f' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(SESSION_NEW_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('session new: give at least one script file');
  const out = values.output;
  if (!out) throw new UsageError('session new: say where to write it with -o <file>.iommulab');
  if (!isSessionPath(out))
    throw new UsageError(`session new: the output file must end in .iommulab (got '${out}')`);
  if (existsSync(out) && !values.force)
    throw new UsageError(`session new: ${out} exists (add --force to replace it)`);
  const kernel = (values.kernel === undefined ? undefined : checkKernel(values.kernel)) as
    KernelName | undefined;
  const params = parseParams(values.param);
  const seed = parseSeed(values.seed);
  const disabled = values['disable-check'] ?? [];
  for (const id of disabled)
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(id))
      throw new UsageError(`bad --disable-check '${id}' (want a check id such as stale-iotlb-hit)`);

  // Tabs are named after the files; the './name' files they import come along, after them.
  const scripts: { name: string; source: string }[] = [];
  const from = new Map<string, string>();
  const add = (name: string, source: string, path: string) => {
    if (!SCRIPT_NAME_RE.test(name))
      throw new UsageError(
        `session new: ${path}: a tab needs a file name such as main.ts (letters, digits, _ . -; ending in .ts or .js)`,
      );
    const prev = from.get(name);
    if (prev !== undefined && resolve(prev) !== resolve(path))
      throw new UsageError(`session new: ${path} and ${prev} would both be the tab '${name}'`);
    if (prev === undefined) {
      from.set(name, path);
      scripts.push({ name, source });
    }
  };
  const given = positionals.map((path) => {
    if (isSessionPath(path)) throw new UsageError(`session new: ${path} is a session; give scenario scripts`);
    const source = readScript(path);
    add(basename(path), source, path);
    return { path, source };
  });
  const added: string[] = [];
  for (const { path, source } of given)
    for (const spec of unresolvedImports(path, source))
      io.err(
        `iommu-lab: warning: ${path} imports '${spec}', which is not next to it: the session will not run until a tab of that name is added`,
      );
  for (const { path, source } of given)
    for (const f of siblingImports(path, source)) {
      const known = from.has(f.name);
      add(f.name, f.source, join(dirname(path), f.name)); // two different files of one name are refused
      if (!known) added.push(f.name);
    }

  const active = values.active ?? scripts[0]!.name;
  if (!from.has(active))
    throw new UsageError(
      `session new: --active '${active}' is not one of the scripts (${[...from.keys()].join(', ')})`,
    );
  const session = newSession(scripts, {
    activeScript: active,
    ...(kernel ? { kernel } : {}),
    ...(params ? { params } : {}),
    ...(seed !== undefined ? { seed } : {}),
    disabledChecks: disabled,
    ...(values.notes !== undefined ? { notes: values.notes } : {}),
  });
  const text = serializeSession(session);
  // What the lab would refuse to load is not written (the schema's limits: tabs, names, params).
  const loaded = loadSession(text);
  if (!loaded.ok) throw new UsageError(`session new: the session would not load: ${loaded.error.message}`);
  const folder = dirname(out) || '.';
  if (!existsSync(folder))
    throw new UsageError(`session new: cannot write ${out}: the folder ${folder} does not exist`);
  if (!statSync(folder).isDirectory())
    throw new UsageError(`session new: cannot write ${out}: ${folder} is a file, not a folder`);
  try {
    writeFileAtomic(out, text);
  } catch (e) {
    throw new UsageError(`session new: cannot write ${out}: ${(e as Error).message}`);
  }
  const names = scripts.map((s) => s.name).join(', ');
  io.out(
    `wrote ${out}: ${scripts.length} script${scripts.length === 1 ? '' : 's'} (${names}), kernel ${session.kernel}` +
      (added.length ? `; added ${added.join(', ')} (imported)` : ''),
  );
  // What the lab will say when it opens the file (a check it does not have), said now.
  for (const w of loaded.warnings) io.out(`  warning: ${w}`);
  return EXIT.ok;
}

function sessionCheck(argv: string[], io: Io): number {
  const { values, positionals } = parse('session check', argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.out(SESSION_CHECK_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('session check: give at least one session file');
  let bad = 0;
  for (const path of positionals) {
    try {
      const f = readSessionFile(path);
      const s = f.session;
      const migrated =
        f.formatVersion < FORMAT_VERSION
          ? ` (format ${f.formatVersion}; the lab saves it as format ${FORMAT_VERSION})`
          : '';
      io.out(
        `✓ ${path}: ${s.scripts.length} script${s.scripts.length === 1 ? '' : 's'} (${s.scripts.map((x) => x.name).join(', ')}), ` +
          `kernel ${s.kernel}, seed ${s.seed}${migrated}`,
      );
      for (const w of f.warnings) io.out(`  warning: ${w}`);
      for (const { tab, spec } of importsWithoutTab(s.scripts))
        io.out(
          `  warning: ${tab} imports '${spec}', which is not a tab of this session: ${tab} will not run until it is added`,
        );
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      io.err(`iommu-lab: ${e.message}`);
      bad++;
    }
  }
  return bad ? EXIT.usage : EXIT.ok;
}
