// Set up by stryker.vitest.config.mjs for mutation runs only: the tests that measure the code itself
// rather than its behaviour (see `instrumented` in stryker.config.mjs) are left out, because
// Stryker's instrumentation changes exactly that (its coverage counters allocate on every call).
import { beforeEach } from 'vitest';
import { instrumentedOut } from './stryker.config.mjs';

beforeEach((context) => {
  if (instrumentedOut.includes(context.task.name)) context.skip();
});
