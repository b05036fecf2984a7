/**
 * The renderer is served from `app://lab/…`, a privileged standard scheme backed by out/renderer.
 * file:// would work for the page but not for its module workers and gives every file the same opaque
 * origin; a standard secure scheme behaves like https (same-origin rules, fetch, workers).
 */
import { net, protocol } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cspHeader } from './csp.ts';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://lab`;

/** Must run before `app.whenReady()`. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
    },
  ]);
}

/** Serve files below `root`; anything outside it (`..`, another host) is a 404. */
export function handleAppScheme(root: string): void {
  const base = path.resolve(root);
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = path.resolve(base, '.' + rel);
    if (url.host !== 'lab' || (file !== base && !file.startsWith(base + path.sep))) {
      return new Response('not found', { status: 404 });
    }
    const upstream = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(upstream.headers);
    headers.set('Content-Security-Policy', cspHeader(rel));
    headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(upstream.body, { status: upstream.status, headers });
  });
}
