// `stryker run stryker.config.mjs` through Stryker's API, so that it also runs on Node 20.
//
// Stryker 10 declares node >= 22 because Node 20 reached its end of life (stryker-js#6000: its
// dependencies moved on), and its CLI refuses to start on 20 before reading any option; nothing it
// runs needs 22. Our engines field says >= 20, CI and this machine have 20, and the version check
// lives only in the CLI module (which the package's main entry loads), so this imports the Stryker
// class from its own file. On Node >= 22 `npx stryker run` does the same.
//
// Options: `--name value` (`--mutate` takes a comma-separated list of globs), `--flag` for true,
// as on Stryker's command line: `pnpm mutate:kit --mutate packages/core/src/kit/timer.ts --force`.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const core = dirname(require.resolve('@stryker-mutator/core/package.json'));
const { Stryker } = await import(pathToFileURL(join(core, 'dist/src/stryker.js')).href);

const options = { configFile: 'stryker.config.mjs' };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const match = /^--([A-Za-z][\w.]*)$/.exec(args[i]);
  if (!match) throw new Error(`unexpected argument ${JSON.stringify(args[i])}: options are --name value or --flag`);
  const next = args[i + 1];
  const value = next === undefined || next.startsWith('--') ? true : (i++, next);
  const name = match[1];
  if (name === 'mutate') options.mutate = String(value).split(',');
  else options[name] = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
}

await new Stryker(options).runMutationTest();
