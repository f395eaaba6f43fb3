// Mutation testing (Stryker), one package per run: `pnpm mutate:<target>`, which runs stryker.run.mjs
// (see CONTRIBUTING.md). It is slow, so it is not part of `pnpm test`.
//
// Which target a run measures comes from MUTATE_TARGET. Adding a package is one line in TARGETS
// (and its `mutate:<target>` script); the defaults mutate packages/<target>/src and run that
// package's own tests.
//
// Every run: per-test coverage (each mutant runs only the tests that reach it), incremental (mutants
// and tests unchanged since the last run of that target are not run again), two test processes at
// most, and the TypeScript checker (a mutant that does not compile is not counted). The score under
// `break` fails the command: it is the bar each package keeps.

import { fileURLToPath } from 'node:url';

/**
 * @typedef {object} Target
 * @property {string[]} [mutate] - globs of the files to mutate (default: packages/<target>/src, no tests)
 * @property {string[]} [tests] - globs of the test files that may kill them (default: the package's own)
 * @property {string[]} [instrumented] - names of tests that measure the code itself, which
 *   instrumentation changes: they are left out of mutation runs (stryker.vitest.setup.mjs)
 * @property {string} [tsconfig] - the project the TypeScript checker compiles (default: the package's)
 * @property {Record<string, string>} [env] - environment for the run's test processes
 * @property {number} goal - the mutation score to keep; below it the run fails
 */

/** @type {Record<string, Target>} */
const TARGETS = {
  // The kit is what every backend runs on: its own unit tests, and the conformance suite through the
  // reference backend (stryker.vitest.config.mjs makes that backend load the mutated kit).
  kit: {
    mutate: ['packages/core/src/kit/**/*.ts'],
    tests: ['packages/core/src/kit/**/*.test.ts', 'packages/backend-libuv/test/**/*.test.ts'],
    // Stryker's coverage counters allocate on every call of the code they instrument.
    instrumented: ['starts and stops timers without allocating (per-request timeouts start and stop one per request)'],
    tsconfig: 'packages/core/tsconfig.json',
    goal: 85,
  },
  'backend-libuv': { goal: 75 },
  'backend-uws': { goal: 75 },
  'backend-epoll-ffi': { goal: 75 },
  'backend-virtual': { goal: 75 },
  greenlet: { goal: 85 },
  // The hub's suite runs on every backend; its mutants are in the hub's own code, which behaves the
  // same on each, so a mutation run uses the reference backend and the deterministic one only
  // (packages/hub/test/backends.ts). `pnpm test` still runs all four.
  hub: { env: { LOOP_HUB_BACKENDS: 'libuv,virtual' }, goal: 75 },
};

// pnpm does not hoist: Stryker would look for its plugins beside its own package, so name their files.
const plugins = ['@stryker-mutator/vitest-runner', '@stryker-mutator/typescript-checker'].map((plugin) => fileURLToPath(import.meta.resolve(plugin)));

const name = process.env.MUTATE_TARGET;
const target = name === undefined ? undefined : TARGETS[name];
if (target === undefined) {
  throw new Error(`set MUTATE_TARGET to one of: ${Object.keys(TARGETS).join(', ')} (or run \`pnpm mutate:<target>\`)`);
}
// Set here, where both Stryker's process and each test process load this file.
Object.assign(process.env, target.env);
const dir = name === 'kit' ? 'packages/core/src/kit' : `packages/${name}/src`;
const reports = `reports/mutation/${name}`;

/**
 * The test files of this run, for stryker.vitest.config.mjs. They are vitest's `include` rather than
 * Stryker's `testFiles`: with `testFiles`, Stryker 10.1 activates a static mutant (one that runs while
 * a module loads) only after the module has loaded, and counts it as survived (stryker-js#6144).
 */
export const testFiles = target.tests ?? [`packages/${name}/src/**/*.test.ts`, `packages/${name}/test/**/*.test.ts`];
/** Names of tests left out of mutation runs because instrumentation changes what they measure. */
export const instrumentedOut = target.instrumented ?? [];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  plugins,
  testRunner: 'vitest',
  vitest: { configFile: 'stryker.vitest.config.mjs', pool: 'forks' },
  checkers: ['typescript'],
  tsconfigFile: target.tsconfig ?? `packages/${name}/tsconfig.json`,
  mutate: [...(target.mutate ?? [`${dir}/**/*.ts`]), '!**/*.test.ts', '!**/index.ts'],
  // Stryker puts `// @ts-nocheck` atop the files it copies; only the sources need it, and the hub's
  // README test compares its example files with the README, text for text.
  disableTypeChecks: 'packages/*/src/**/*.ts',
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: `${reports}/incremental.json`,
  concurrency: 2,
  // Mutants that make a poll wait forever are cut off here and count as killed (Timeout).
  timeoutMS: 5_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `${reports}/index.html` },
  jsonReporter: { fileName: `${reports}/mutation.json` },
  thresholds: { high: 90, low: target.goal, break: target.goal },
  // Benchmarks are never needed by the tests Stryker runs. dist/ is: a few tests run the built
  // backend in a child process or a worker (they cannot see a mutant, but must pass).
  ignorePatterns: ['/bench'],
};
