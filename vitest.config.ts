import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // bench/: the harnesses' own pure parts (parsers, medians, server protocol); no timing is asserted.
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'bench/**/lib/**/*.test.mjs'],
    // Conformance tests open real sockets; run files one at a time so the
    // fd-count checks of one file never see another file's sockets.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
