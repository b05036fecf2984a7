/** Script files on disk: reading them, and the `./name` imports next to them. */
import { tokenizer, tokTypes, type Token } from 'acorn';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import type { SourceFile } from '../host/protocol.ts';
import { folderOf, isRelativeImport, resolveImport, withoutExtension } from '../script/import-path.ts';
import { transpile } from '../script/transpile.ts';
import { UsageError } from './usage.ts';

/**
 * A script's text, refused with a reason when it cannot be read or is not UTF-8 (a stray byte
 * would be turned into U+FFFD and saved that way into a session).
 */
function readText(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read ${path}${code === 'EACCES' ? ': permission denied' : ` (${code ?? String(e)})`}`,
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${path} is not UTF-8 text (a scenario is TypeScript or JavaScript text)`);
  }
}

/** `oneFile`: the command takes a single scenario (matrix), so a folder's files are no answer. */
export function readScript(path: string, oneFile = false): string {
  let kind: 'file' | 'folder' | 'other' | 'missing' = 'missing';
  try {
    const st = statSync(path);
    kind = st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other';
  } catch {
    // missing
  }
  if (kind === 'folder')
    throw new UsageError(
      `${path} is a folder; ${oneFile ? 'give one scenario file' : 'give the scenario files in it'}`,
    );
  // /dev/null, a FIFO, a socket: it exists, so "no such file" would send the user looking for it.
  if (kind === 'other') throw new UsageError(`${path} is not a regular file (a scenario is a script file)`);
  if (kind !== 'file') throw new UsageError(`no such file: ${path}`);
  if (path.toLowerCase().endsWith('.iommulab'))
    // `run` and `matrix` handle session files themselves; elsewhere a script is wanted.
    throw new UsageError(`${path} is a session file; give a scenario script here`);
  return readText(path);
}

/** Sources by display name, filled as files are read (for code frames in reports). */
export class SourceCache {
  private readonly map = new Map<string, string>();

  set(name: string, source: string): void {
    this.map.set(name, source);
  }

  get = (name: string): string | undefined => this.map.get(name);

  /**
   * The runner's `resolveFile` for a script at `entry`: `./name` (named from the script's folder)
   * read from there, or else the scenario helper of that name (libraryFiles).
   */
  resolverFor(entry: string): (spec: string) => SourceFile | undefined {
    return (spec) => {
      const dir = dirname(entry);
      const found = findImport(dir, spec);
      if (found === undefined) {
        const lib = findLibraryFile(spec.slice(2));
        if (lib) this.set(lib.name, lib.source);
        return lib;
      }
      const path = join(dir, found);
      // Named the way the script was: absolute next to an absolute path, else from the working folder.
      const name = isAbsolute(entry) ? path : relative(process.cwd(), path) || path;
      const source = readText(path);
      this.set(name, source);
      return { name, source };
    };
  }
}

/**
 * The `./name` specifiers a script imports (import … from, export … from, import(), require()),
 * read from its tokens after TypeScript is stripped, so an import in a comment or a string, or
 * one only for types, names nothing. A file that does not compile names nothing either: its run
 * reports the syntax error.
 */
function localImports(source: string, fileName: string): string[] {
  const specs: string[] = [];
  // The two tokens before the current one: `from './x'`, `import './x'`, `import('./x')`, `require('./x')`.
  let before: Tok | undefined;
  let last: Tok | undefined;
  try {
    const code = transpile(source, fileName).code;
    for (const t of tokenizer(code, { ecmaVersion: 'latest', sourceType: 'module' }) as Iterable<Tok>) {
      const spec = t.type === tokTypes.string && typeof t.value === 'string' ? t.value : '';
      const imports =
        is(last, 'from') ||
        is(last, 'import') ||
        (last?.type === tokTypes.parenL && (is(before, 'import') || is(before, 'require')));
      if (isRelativeImport(spec) && imports && !specs.includes(spec)) specs.push(spec);
      before = last;
      last = t;
    }
  } catch {
    return [];
  }
  return specs;
}

/** acorn's token with its value (a keyword's, a name's or a string's). */
type Tok = Token & { value?: unknown };

const is = (t: Tok | undefined, word: string): boolean => t?.type.keyword === word || t?.value === word;

/**
 * The file names an import of `spec` may mean, in order: as written, with .ts or .js added, and
 * for `name.js` the `name.ts` it stands for (TypeScript's ES-module convention).
 */
function importCandidates(spec: string): string[] {
  const out = [spec, `${spec}.ts`, `${spec}.js`];
  if (spec.endsWith('.js')) out.push(`${spec.slice(0, -3)}.ts`);
  return out;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The file an import of `./spec` names in `dir`: the first candidate that exists, or undefined. */
function findImport(dir: string, spec: string): string | undefined {
  return importCandidates(spec).find((name) => isFile(join(dir, name)));
}

/**
 * The files a script imports, directly or through each other, read from its folder (or the
 * scenario helpers, libraryFiles) and named from there as the runner resolves them (`helper.ts`
 * for `./helper`, `lib/y.ts` for `./y` in `lib/x.ts`), for runs that cannot read the disk
 * themselves (worker threads).
 */
export function siblingImports(entry: string, source: string): SourceFile[] {
  const out = new Map<string, SourceFile>();
  const dir = dirname(entry);
  const visit = (src: string, fileName: string, folder: string) => {
    for (const spec of localImports(src, fileName)) {
      const target = resolveImport(folder, spec);
      if (target === undefined) continue;
      const name = findImport(dir, target);
      const file = name === undefined ? findLibraryFile(target) : { name, source: readText(join(dir, name)) };
      if (file === undefined || out.has(file.name)) continue;
      out.set(file.name, file);
      visit(file.source, file.name, folderOf(file.name));
    }
  };
  visit(source, entry, '');
  return [...out.values()];
}

/** The imports of `source` that name no file next to `entry` nor a scenario helper (direct imports only). */
export function unresolvedImports(entry: string, source: string): string[] {
  const dir = dirname(entry);
  const missing: string[] = [];
  for (const spec of localImports(source, entry)) {
    const target = resolveImport('', spec);
    const found = target !== undefined && (findImport(dir, target) ?? findLibraryFile(target));
    if (!found && !missing.includes(spec)) missing.push(spec);
  }
  return missing;
}

/**
 * The imports of a session's tabs that name neither a tab of it nor a scenario helper (direct
 * imports only): such a session loads, but the tab that imports stops at the import until the file
 * is added.
 */
export function importsWithoutTab(scripts: readonly SourceFile[]): { tab: string; spec: string }[] {
  // The run finds a file by its name with or without the extension (runner's findFile).
  const names = new Set(withLibrary(scripts).map((s) => withoutExtension(s.name)));
  const out: { tab: string; spec: string }[] = [];
  for (const s of scripts)
    for (const spec of localImports(s.source, s.name)) {
      const target = resolveImport(folderOf(s.name), spec);
      if (target === undefined || !names.has(withoutExtension(target))) out.push({ tab: s.name, spec });
    }
  return out;
}

/** The scenario helpers (scenarios/lib/*.ts) as `lib/<name>`, read once. */
let library: SourceFile[] | undefined;
function libraryFiles(): SourceFile[] {
  const dir = join(import.meta.dirname, '../../scenarios/lib');
  library ??= readdirSync(dir)
    .filter((n) => n.endsWith('.ts'))
    .sort()
    .map((n) => ({ name: `lib/${n}`, source: readText(join(dir, n)) }));
  return library;
}

/** The scenario helper an import names (`lib/iova-window` or `lib/iova-window.ts`), if any. */
function findLibraryFile(name: string): SourceFile | undefined {
  return libraryFiles().find((f) => importCandidates(name).includes(f.name));
}

/**
 * `files` and the scenario helpers none of them shadows, as the app gives every run
 * (renderer/lib/lab-controller.ts runFiles): a session saved with a gallery scenario, which
 * imports `./lib/…` without a tab for it, runs here as it does there.
 */
export function withLibrary(files: readonly SourceFile[]): SourceFile[] {
  return [...files, ...libraryFiles().filter((l) => !files.some((f) => f.name === l.name))];
}
