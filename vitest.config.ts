import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'engine/**/*.test.ts',
      'main/**/*.test.ts',
      'renderer/**/*.test.ts',
      'scripts/**/*.test.ts',
      'build/**/*.test.ts',
    ],
    pool: 'forks',
    testTimeout: 60_000,
  },
});
