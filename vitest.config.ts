import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most test files spend their time waiting on child processes and sockets, not computing, so
    // two run side by side even on two cores (Vitest's own default there is one at a time).
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
