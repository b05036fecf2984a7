/**
 * The renderer built for the browser (`npm run web`, the end-to-end tests): the same Svelte app as the
 * Electron window, with the engine in a Web Worker. electron.vite.config.ts reuses `rendererOptions`
 * so both builds stay alike.
 */
import { defineConfig, type Plugin, type UserConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import csp from './renderer/csp.json' with { type: 'json' };

const rendererRoot = fileURLToPath(new URL('./renderer', import.meta.url));

export type CspDirectives = Record<string, string[]>;

export function cspString(...parts: CspDirectives[]): string {
  return parts
    .flatMap((p) => Object.entries(p))
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ');
}

/** Puts the page policy in a meta tag too, so a file opened some other way is still covered. */
function cspMeta(): Plugin {
  return {
    name: 'iommu-lab-csp-meta',
    transformIndexHtml(html) {
      const tag = `<meta http-equiv="Content-Security-Policy" content="${cspString(csp.page)}" />`;
      return html.replace('<!-- csp -->', tag);
    },
  };
}

/** Workers land in workers/; the engine's gets a fixed prefix so servers can give it its own policy. */
function workerFileName(chunk: { facadeModuleId: string | null; name: string }): string {
  const id = chunk.facadeModuleId?.replaceAll('\\', '/') ?? '';
  return id.includes('/engine/host/web/') ? 'workers/engine-[hash].js' : 'workers/[name]-[hash].js';
}

/**
 * Monaco's TypeScript support can start its worker itself (`new Worker(new URL('ts.worker.js', …))`
 * in its workerManager.js), which the build bundles as a worker of its own. The lab starts its own
 * TypeScript worker (renderer/lib/ts.worker.ts, Monaco's with one fix) from MonacoEnvironment, so
 * that URL is pointed at it: one TypeScript worker in the build (7 MB), not two.
 */
const tsWorker = fileURLToPath(new URL('./renderer/lib/ts.worker.ts', import.meta.url));

export function rendererOptions(outDir: string): UserConfig {
  return {
    root: rendererRoot,
    base: './',
    plugins: [svelte(), cspMeta()],
    resolve: { alias: [{ find: /^ts\.worker\.js$/, replacement: tsWorker }] },
    worker: {
      format: 'es',
      rolldownOptions: {
        output: { entryFileNames: workerFileName, chunkFileNames: 'workers/[name]-[hash].js' },
      },
    },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      // Electron-vite leaves the renderer unminified by default (19 MB against 12 MB): minify both builds.
      minify: true,
      // Monaco and the TypeScript worker are large by nature; the warning says nothing useful here.
      chunkSizeWarningLimit: 8000,
      reportCompressedSize: false,
      // Per-plugin timing reports are noise in every build log.
      rolldownOptions: { checks: { pluginTimings: false } },
    },
  };
}

export default defineConfig(rendererOptions(fileURLToPath(new URL('./out/web', import.meta.url))));
