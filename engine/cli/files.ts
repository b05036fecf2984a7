/** Script files on disk: reading them, and the `./name` imports next to them. */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import type { SourceFile } from '../host/protocol.ts';
import { UsageError } from './usage.ts';

export function readScript(path: string): string {
  let kind: 'file' | 'folder' | 'other' | 'missing' = 'missing';
  try {
    const st = statSync(path);
    kind = st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other';
  } catch {
    // missing
  }
  if (kind === 'folder') throw new UsageError(`${path} is a folder; give the scenario files in it`);
  if (kind !== 'file') throw new UsageError(`no such file: ${path}`);
  if (path.toLowerCase().endsWith('.iommulab'))
    // `run` handles session files itself (run-command.ts); elsewhere a script is wanted.
    throw new UsageError(`${path} is a session file; give a scenario script here`);
  return readFileSync(path, 'utf8');
}

/** Sources by display name, filled as files are read (for code frames in reports). */
export class SourceCache {
  private readonly map = new Map<string, string>();

  set(name: string, source: string): void {
    this.map.set(name, source);
  }

  get = (name: string): string | undefined => this.map.get(name);

  /** The runner's `resolveFile` for a script at `entry`: `./name` read from its folder. */
  resolverFor(entry: string): (spec: string) => SourceFile | undefined {
    return (spec) => {
      const dir = dirname(entry);
      const found = findImport(dir, spec);
      if (found === undefined) return undefined;
      const path = join(dir, found);
      // Named the way the script was: absolute next to an absolute path, else from the working folder.
      const name = isAbsolute(entry) ? path : relative(process.cwd(), path) || path;
      const source = readFileSync(path, 'utf8');
      this.set(name, source);
      return { name, source };
    };
  }
}

const IMPORT_SPEC = /(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*)(['"])(\.\/[^'"]+)\1/g;

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
 * The `./name` files a script imports, directly or through each other, read from its folder and
 * named as the script writes them (`helper.ts` for `./helper`), for runs that cannot read the disk
 * themselves (worker threads).
 */
export function siblingImports(entry: string, source: string): SourceFile[] {
  const out = new Map<string, SourceFile>();
  const dir = dirname(entry);
  const visit = (src: string) => {
    for (const m of src.matchAll(IMPORT_SPEC)) {
      const name = findImport(dir, m[2].slice(2));
      if (name === undefined || out.has(name)) continue;
      const file = { name, source: readFileSync(join(dir, name), 'utf8') };
      out.set(name, file);
      visit(file.source);
    }
  };
  visit(source);
  return [...out.values()];
}

/** The `./name` imports of `source` that name no file next to `entry` (direct imports only). */
export function unresolvedImports(entry: string, source: string): string[] {
  const dir = dirname(entry);
  const missing: string[] = [];
  for (const m of source.matchAll(IMPORT_SPEC)) {
    const spec = m[2];
    if (findImport(dir, spec.slice(2)) === undefined && !missing.includes(spec)) missing.push(spec);
  }
  return missing;
}
