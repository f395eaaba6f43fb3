// The harness's own unit tests (its pure parts: wrk reports, /proc fields, medians, arguments).
// The root vitest config (the test command) runs them too; on their own:
//   npx vitest run --config bench/http/vitest.config.mjs
// No timing is asserted here: speed is what compare.mjs measures, never what a test checks.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['lib/**/*.test.mjs'],
  },
});
