/**
 * Which session file the app was asked to open on its command line: `iommu-lab lab.iommulab`, a
 * double-click on Linux/Windows (the OS passes the path), or a second launch (its argv arrives in
 * 'second-instance'). Chromium and Electron switches (`--foo`) and the app folder in development
 * (`electron .`) are not files. No Electron here: tested under Node.
 */
import path from 'node:path';

export function sessionPathFromArgv(argv: readonly string[], cwd: string): string | null {
  // argv[0] is the executable; in development argv[1] is the app folder.
  for (let i = argv.length - 1; i >= 1; i--) {
    const a = argv[i]!;
    if (a.startsWith('-')) continue;
    if (!a.toLowerCase().endsWith('.iommulab')) continue;
    return path.resolve(cwd, a);
  }
  return null;
}
