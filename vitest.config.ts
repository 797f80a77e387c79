import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 120_000,
    pool: 'forks',
    // Two files at a time even on 2 cores (vitest's default is cores − 1: one): most of the suite waits
    // on child processes, chromium and SwiftShader's compiler rather than computing, and one worker
    // took the suite past 9 minutes (2 workers: ~6). No test asserts a time, so sharing the cores only
    // stretches them.
    maxWorkers: 2,
  },
});
