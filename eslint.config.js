// Lint exists here for one job: keeping the package layering of STYLE.md.
//
//   packages/core        imports no other @loop package
//   packages/backend-*   imports only @loop/core (and its subpaths) among @loop packages
//   packages/greenlet    imports only @loop/core (and its subpaths) among @loop packages
//   packages/hub         imports only @loop/core (and its subpaths) and @loop/greenlet
//   examples, bench      import anything
//
// `@loop/core/conformance` pulls in vitest, so outside core it is for test files only. A package
// may import itself by name (that crosses no layer). Relative paths that climb into a sibling
// package are refused too, so the rule cannot be dodged with '../../core/dist/...'.
import { readdirSync } from 'node:fs';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const TEST_FILES = ['**/*.test.ts', '**/test/**'];

/** The `no-restricted-imports` patterns for the package in `packages/<dir>`. */
function layering(dir, { tests }) {
  const self = dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // The hub's suite runs on every backend, so the hub's tests (only they) may import the backends.
  const hub = tests ? 'core|greenlet|hub|backend-[a-z0-9-]+' : 'core|greenlet|hub';
  const allowed = dir === 'core' ? 'core' : dir === 'hub' ? hub : `core|${self}`;
  const patterns = [
    {
      regex: `^@loop/(?!(?:${allowed})(?:/|$))`,
      message:
        dir === 'core'
          ? '@loop/core imports no other @loop package: backends and greenlet build on core, never the reverse.'
          : dir === 'hub'
            ? 'packages/hub may import only @loop/core (and its subpaths) and @loop/greenlet among @loop packages.'
            : `packages/${dir} may import only @loop/core (and its subpaths) among @loop packages.`,
    },
    {
      regex: `^(?:\\.\\./){2,}(?:packages/)?(?!${self}/)(?:core|backend-[^/]+|greenlet|hub)(?:/|$)`,
      message: 'Do not reach into another package by relative path: import it by its @loop/... name, within the layering rules.',
    },
  ];
  if (dir !== 'core' && !tests) {
    patterns.push({
      regex: '^@loop/core/conformance(?:/|$)',
      message: '@loop/core/conformance (it imports vitest) is for test files only.',
    });
  }
  return ['error', { patterns }];
}

const packageDirs = readdirSync(new URL('./packages/', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && (['core', 'greenlet', 'hub'].includes(entry.name) || entry.name.startsWith('backend-')))
  .map((entry) => entry.name);

export default defineConfig([
  globalIgnores(['**/dist/**', '**/node_modules/**', '**/coverage/**']),
  {
    // Only the layering rule is on, so a disable comment for any other rule would be "unused".
    linterOptions: { reportUnusedDisableDirectives: 'off' },
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    languageOptions: { parser: tseslint.parser, sourceType: 'module' },
    // Registered (no rules turned on) so `eslint-disable @typescript-eslint/...` comments resolve.
    plugins: { '@typescript-eslint': tseslint.plugin },
  },
  ...packageDirs.flatMap((dir) => [
    { files: [`packages/${dir}/**`], rules: { 'no-restricted-imports': layering(dir, { tests: false }) } },
    { files: TEST_FILES.map((glob) => `packages/${dir}/${glob}`), rules: { 'no-restricted-imports': layering(dir, { tests: true }) } },
  ]),
]);
