#!/usr/bin/env node
// Run a TypeScript file with tsx's loader: `node bin/run-ts.js bench/run.ts [args…]`.
// Also the bootstrap of the CLI's worker threads: `new Worker(runTs, { workerData: { entry: url } })`,
// because a thread does not inherit the loader registered in the main thread.
import { register } from 'tsx/esm/api';
import { isMainThread, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

register();
if (!isMainThread && workerData?.entry) {
  await import(workerData.entry);
} else {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bin/run-ts.js <file.ts> [args…]\n');
    process.exit(3);
  }
  await import(pathToFileURL(resolve(file)).href);
}
