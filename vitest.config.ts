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
    // The command-line tests spawn the real CLI, concurrently: generous on a busy 2-core machine.
    testTimeout: 180_000,
  },
});
