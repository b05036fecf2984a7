#!/usr/bin/env node
/**
 * `npm test`: every check the project has, in the order that fails fastest — types, lint, unit
 * tests, the build, every scenario through the command line, and the end-to-end tests in Chromium.
 * Scenarios that read lab.params.driver run across the matrix too (every driver × kernel).
 * Each step runs even when an earlier one failed, so one run shows everything that is wrong; the
 * exit code is non-zero when any step failed. The last line counts the tests of every step.
 *
 *   npm test                 all steps
 *   npm test -- unit e2e     only the steps named
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'test-results');
mkdirSync(OUT, { recursive: true });
const npmRun = (script, ...args) => [
  'npm',
  ['run', '--silent', script, ...(args.length ? ['--', ...args] : [])],
];

const scenarioFiles = readdirSync(path.join(ROOT, 'scenarios'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join('scenarios', f));
// Scenarios written for the matrix read lab.params.driver: they also run on every driver × kernel.
const matrixFiles = scenarioFiles.filter((f) =>
  readFileSync(path.join(ROOT, f), 'utf8').includes('lab.params.driver'),
);

/** Each step: a command, and how to count its tests from what it wrote. */
const STEPS = {
  typecheck: { cmd: npmRun('typecheck') },
  lint: { cmd: npmRun('lint') },
  unit: {
    cmd: npmRun(
      'test:unit',
      '--reporter=default',
      '--reporter=json',
      `--outputFile=${path.join(OUT, 'vitest.json')}`,
    ),
    count: () => {
      const r = JSON.parse(readFileSync(path.join(OUT, 'vitest.json'), 'utf8'));
      return { passed: r.numPassedTests, failed: r.numFailedTests };
    },
  },
  build: { cmd: npmRun('build') },
  scenarios: {
    cmd: ['node', ['bin/iommu-lab.js', 'run', ...scenarioFiles, '--json']],
    capture: true,
    count: (stdout) => {
      const rows = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      for (const r of rows)
        console.log(
          `  ${r.status === 'passed' ? '✓' : '✗'} ${r.file}${r.error ? `  ${r.error.message}` : ''}`,
        );
      const passed = rows.filter((r) => r.status === 'passed').length;
      return { passed, failed: scenarioFiles.length - passed };
    },
  },
  matrix: {
    cmd: ['sh', ['-c', matrixFiles.map((f) => `node bin/iommu-lab.js matrix ${f} --json`).join('; ')]],
    capture: true,
    count: (stdout) => {
      const tables = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      let passed = 0;
      let failed = 0;
      for (const t of tables) {
        // A cell that passed without its row's driver (warning) did not test that driver.
        const bad = t.cells.filter((c) => (c.status !== 'passed' && c.status !== 'n/a') || c.warning);
        const ok = t.cells.filter((c) => c.status === 'passed' && !c.warning).length;
        const na = t.cells.length - ok - bad.length;
        passed += ok;
        failed += bad.length;
        console.log(
          `  ${bad.length ? '✗' : '✓'} ${t.file}: ${ok} passed, ${bad.length} failed, ${na} not in that kernel`,
        );
        for (const c of bad)
          console.log(`      ${c.driver} × ${c.kernel}: ${c.status} ${c.warning ?? c.detail ?? ''}`);
      }
      return { passed, failed: failed + (matrixFiles.length - tables.length) };
    },
  },
  e2e: {
    cmd: npmRun('test:e2e', '--reporter=list,json'),
    env: { PLAYWRIGHT_JSON_OUTPUT_NAME: path.join(OUT, 'e2e.json') },
    count: () => {
      const r = JSON.parse(readFileSync(path.join(OUT, 'e2e.json'), 'utf8'));
      return { passed: r.stats.expected, failed: r.stats.unexpected + r.stats.flaky };
    },
  },
};

const wanted = process.argv.slice(2);
for (const w of wanted) {
  if (!(w in STEPS)) {
    console.error(`npm test: unknown step '${w}'; the steps are ${Object.keys(STEPS).join(', ')}`);
    process.exit(3);
  }
}
const names = wanted.length ? wanted : Object.keys(STEPS);
const results = [];
let passed = 0;
let failed = 0;
for (const name of names) {
  const step = STEPS[name];
  const [cmd, args] = step.cmd;
  console.log(`\n── ${name} ${'─'.repeat(Math.max(0, 60 - name.length))}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    stdio: step.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    env: { ...process.env, ...step.env },
    maxBuffer: 256 * 1024 * 1024,
  });
  const ok = r.status === 0;
  let counted = null;
  if (step.count) {
    try {
      counted = step.count(r.stdout ?? '');
    } catch {
      counted = null;
    }
  }
  if (counted) {
    passed += counted.passed;
    failed += counted.failed;
  }
  if (!ok && !(counted && counted.failed)) failed += 1; // a step that failed without failing tests counts once
  results.push({ name, ok, seconds: ((Date.now() - t0) / 1000).toFixed(1), counted });
}

console.log('\n── summary ' + '─'.repeat(51));
for (const r of results) {
  const c = r.counted ? `  ${r.counted.passed} passed, ${r.counted.failed} failed` : '';
  console.log(`${r.ok ? '✓' : '✗'} ${r.name.padEnd(10)} ${r.seconds.padStart(6)} s${c}`);
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
