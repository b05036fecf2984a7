/**
 * Where a script's relative import points, as ES modules and TypeScript resolve it: from the folder
 * of the file that imports, within the run's files (named from the entry script's folder, the
 * root). A session's `lib/x.ts` importing `./y` means `lib/y`, as the editor shows it.
 */

/** `./name` and `../name`: the imports that name a file of the run rather than the lab's module. */
export const isRelativeImport = (spec: string): boolean => spec.startsWith('./') || spec.startsWith('../');

/** A file's name without its script extension: an import may name a file either way. */
export const withoutExtension = (name: string): string => name.replace(/\.(ts|js|mts|mjs|cts|cjs)$/, '');

/** The folder of a file named from the run's root (`lib` for `lib/x.ts`, '' for `main.ts`). */
export const folderOf = (name: string): string => name.slice(0, Math.max(0, name.lastIndexOf('/')));

/**
 * `spec` imported from a file in `folder`, as a name from the run's root (`lib/y` for `./y` from
 * `lib`); undefined when it climbs above the root or names no file.
 */
export function resolveImport(folder: string, spec: string): string | undefined {
  const parts = folder ? folder.split('/') : [];
  for (const part of spec.split('/')) {
    if (part === '.' || part === '') continue;
    if (part !== '..') parts.push(part);
    else if (parts.pop() === undefined) return undefined;
  }
  return parts.length ? parts.join('/') : undefined;
}
