/**
 * The Content-Security-Policy headers for the app:// scheme, from the one policy file the browser-mode
 * server and the build's meta tag also use (renderer/csp.json).
 */
import csp from '../renderer/csp.json' with { type: 'json' };

type Directives = Record<string, string[]>;

const join = (...parts: Directives[]): string =>
  parts
    .flatMap((p) => Object.entries(p))
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ');

const PAGE = join(csp.page, csp.headerOnly);
const ENGINE_WORKER = join(csp.engineWorker);

/** The policy for a path under app://lab/ (the engine's Web Worker, unused in Electron, keeps its own). */
export function cspHeader(pathname: string): string {
  return /\/workers\/engine-[^/]*\.js$/.test(pathname) ? ENGINE_WORKER : PAGE;
}

export const PAGE_CSP = PAGE;
