// The whole suite: every package's test/ folder and the cross-package suites in test/. Workers load built dist/
// files, so the bootstrap builds before it runs this.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './scripts/vitest-summary.ts'],
  },
});
