import { defineConfig } from 'vitest/config';

// The fault lab (npm run test:faults): root only, network namespaces, one lab at a time. Kept apart
// from vitest.config.mts so `npm test` does not run it; its files end in .lab.ts for the same reason.
export default defineConfig({
  test: {
    include: ['test/lab/**/*.lab.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
