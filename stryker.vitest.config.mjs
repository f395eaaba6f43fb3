// The vitest configuration Stryker runs (stryker.config.mjs points at it); `pnpm test` never uses it.
// It runs the test files of the run's target (MUTATE_TARGET) only.
//
// Stryker mutates copies of the sources in a sandbox, but the pnpm links under packages/*/node_modules
// are symlinked into the sandbox as they are, so `@loop/core/kit` imported by a backend would still
// load the real, unmutated packages/core/dist. Here every `@loop/<pkg>` export resolves to its source
// in the sandbox instead (./dist/X.js → ./src/X.ts, read from each package.json), so a mutant in
// core's kit is seen by the conformance suite that a backend runs, and a mutant in a backend by
// the hub's tests.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import { testFiles } from './stryker.config.mjs';
import base from './vitest.config.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One exact alias per export of every workspace package, to its source file. */
function sourceAliases() {
  const aliases = [];
  for (const dir of readdirSync(`${root}packages`)) {
    const manifest = `${root}packages/${dir}/package.json`;
    if (!existsSync(manifest)) continue;
    const { name, exports = {} } = JSON.parse(readFileSync(manifest, 'utf8'));
    for (const [subpath, target] of Object.entries(exports)) {
      const built = typeof target === 'string' ? target : target.default;
      const match = /^\.\/dist\/(.+)\.js$/.exec(built ?? '');
      if (!match) continue;
      const source = `${root}packages/${dir}/src/${match[1]}.ts`;
      if (!existsSync(source)) continue;
      const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
      aliases.push({ find: new RegExp(`^${escape(specifier)}$`), replacement: source });
    }
  }
  return aliases;
}

const config = mergeConfig(base, defineConfig({ resolve: { alias: sourceAliases() } }));
// Only the run's own test files (mergeConfig would append them to the base list).
config.test.include = testFiles;
config.test.setupFiles = [fileURLToPath(new URL('./stryker.vitest.setup.mjs', import.meta.url))];
export default config;
