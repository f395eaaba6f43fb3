// `stryker run stryker.config.mjs` through Stryker's API, so that it also runs on Node 20, with an
// option to measure the last commit instead of the working tree.
//
// Node 20: Stryker 10 declares node >= 22 because Node 20 reached its end of life (stryker-js#6000:
// its dependencies moved on), and its CLI refuses to start on 20 before reading any option; nothing
// it runs needs 22. Our engines field says >= 20, CI and this machine have 20, and the version check
// lives only in the CLI module (which the package's main entry loads), so this imports the Stryker
// class from its own file. On Node >= 22 `npx stryker run` does the same as a run without --head.
//
// Options: `--name value` (`--mutate` takes a comma-separated list of globs) or `--flag` for true,
// as on Stryker's command line: `pnpm mutate:kit --mutate packages/core/src/kit/timer.ts --force`.
// `--head` measures HEAD: a copy of the last commit (git archive) is built in a temporary directory,
// with this tree's installed node_modules linked in, and Stryker runs there; its reports and
// incremental file come back to reports/mutation/<target>/. Work in progress in the tree (yours or,
// in a shared tree, anyone's) then neither breaks the run nor counts in the score.
import { execFileSync, execSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const core = dirname(require.resolve('@stryker-mutator/core/package.json'));
const { Stryker } = await import(pathToFileURL(join(core, 'dist/src/stryker.js')).href);

/** The workspace's package directories (pnpm-workspace.yaml: `dir` and `dir/*` entries). */
function workspaceDirs(tree) {
  const dirs = [];
  for (const [, pattern] of readFileSync(join(tree, 'pnpm-workspace.yaml'), 'utf8').matchAll(/^\s*-\s*['"]?([^'"\s]+)/gm)) {
    if (!pattern.endsWith('/*')) dirs.push(pattern);
    else for (const entry of readdirSync(join(tree, pattern.slice(0, -2)))) dirs.push(`${pattern.slice(0, -2)}/${entry}`);
  }
  return dirs;
}

const options = { configFile: 'stryker.config.mjs' };
let head = false;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const match = /^--([A-Za-z][\w.]*)$/.exec(args[i]);
  if (!match) throw new Error(`unexpected argument ${JSON.stringify(args[i])}: options are --name value or --flag`);
  const next = args[i + 1];
  const value = next === undefined || next.startsWith('--') ? true : (i++, next);
  const name = match[1];
  if (name === 'head') head = value === true;
  else if (name === 'mutate') options.mutate = String(value).split(',');
  else options[name] = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
}

if (!head) {
  await new Stryker(options).runMutationTest();
} else {
  const tree = process.cwd();
  const reports = `reports/mutation/${process.env.MUTATE_TARGET}`;
  const copy = mkdtempSync(join(tmpdir(), 'loop-mutate-'));
  try {
    execSync(`git archive HEAD | tar -x -C ${JSON.stringify(copy)}`, { stdio: 'inherit' });
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    console.log(`measuring HEAD (${commit}) in ${copy}`);
    // The root node_modules: a directory of links to this tree's entries (Stryker links only real
    // node_modules directories into its sandbox); vite's caches stay the copy's own.
    mkdirSync(join(copy, 'node_modules'));
    for (const entry of readdirSync(join(tree, 'node_modules'))) {
      if (!entry.startsWith('.vite')) symlinkSync(join(tree, 'node_modules', entry), join(copy, 'node_modules', entry));
    }
    // A workspace package's node_modules holds relative links (to the root's .pnpm and to sibling
    // packages): copied as links, they point into the copy.
    for (const dir of workspaceDirs(tree)) {
      const modules = join(tree, dir, 'node_modules');
      if (existsSync(modules) && existsSync(join(copy, dir))) {
        cpSync(modules, join(copy, dir, 'node_modules'), { recursive: true, verbatimSymlinks: true });
      }
    }
    execSync('npx tsc -b', { cwd: copy, stdio: 'inherit' });
    if (existsSync(reports)) cpSync(reports, join(copy, reports), { recursive: true });
    process.chdir(copy);
    try {
      await new Stryker(options).runMutationTest();
    } finally {
      process.chdir(tree);
      if (existsSync(join(copy, reports))) cpSync(join(copy, reports), resolve(tree, reports), { recursive: true });
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
