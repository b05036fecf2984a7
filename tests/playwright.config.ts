/**
 * End-to-end tests: the browser-mode app in Debian's Chromium (never a downloaded browser), and the
 * desktop app through Playwright's Electron support where an Electron binary exists.
 * Run through tests/run-e2e.js, which builds, serves and sets E2E_BASE_URL.
 */
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js';

export default defineConfig({
  testDir: './e2e',
  outputDir: '../test-results/e2e',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  // Two cores: Monaco's TypeScript worker and the engine worker already keep one busy per page.
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.E2E_BASE_URL ?? 'http://127.0.0.1:5170/',
    viewport: { width: 1400, height: 860 },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'web',
      testIgnore: /electron\.spec\.ts/,
      use: {
        browserName: 'chromium',
        launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
      },
    },
    { name: 'electron', testMatch: /electron\.spec\.ts/ },
  ],
});
