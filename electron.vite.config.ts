/**
 * The desktop build (`electron-vite build`, no Electron binary needed):
 *   out/main/index.js        Electron main (main/index.ts)
 *   out/main/engine-host.js  the engine's utility-process entry (engine/host/node/utility.ts)
 *   out/preload/index.cjs    the sandboxed preload, forced to CommonJS
 *   out/renderer/            the Svelte app, same options as the browser build (vite.web.config.ts)
 */
import { defineConfig } from 'electron-vite';
import { fileURLToPath } from 'node:url';
import { rendererOptions } from './vite.web.config.ts';

const at = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  main: {
    build: {
      target: 'node20',
      // Bundle the engine's runtime dependencies (ses, sucrase, acorn) into the output, so the packaged
      // app runs from out/ alone and the utility process never resolves node_modules at run time.
      externalizeDeps: false,
      outDir: at('./out/main'),
      rolldownOptions: {
        input: { index: at('./main/index.ts'), 'engine-host': at('./engine/host/node/utility.ts') },
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    build: {
      target: 'node20',
      outDir: at('./out/preload'),
      rolldownOptions: {
        input: { index: at('./main/preload.ts') },
        // A sandboxed preload is a classic script: CommonJS, one file, nothing to import at run time but electron.
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    ...rendererOptions(at('./out/renderer')),
    build: {
      ...rendererOptions(at('./out/renderer')).build,
      rolldownOptions: { input: { index: at('./renderer/index.html') }, checks: { pluginTimings: false } },
    },
  },
});
