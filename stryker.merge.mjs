// Merge Stryker incremental files of one target that were written by runs of different file groups
// (`--mutate`), so that the next run reuses all of them:
//
//   node stryker.merge.mjs <target> <incremental.json>[=<part>,<part>...]...
//
// writes reports/mutation/<target>/incremental.json. With `=parts`, only the source files whose
// path contains one of the parts are taken from that input (a run's file also carries the older
// results of every file it did not mutate). Why it is needed: a narrowed run reads the
// incremental file once, when it starts, and writes it back whole when it ends, so two runs of the
// same target side by side (each keeps its own copy of the tree with `--head`) would each drop what
// the other measured. Keep each run's incremental.json as it ends, then merge them here.
//
// Test ids are numbers that mean something only inside one report: they are renumbered by (test
// file, test name), and every mutant's `coveredBy` and `killedBy` follows. A mutant carried over
// from an older run may name its test by the runner's own id (`file#name`); one that resolves to no
// test is dropped, as Stryker drops it. When a source file is in several inputs, the later wins.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const [target, ...inputs] = process.argv.slice(2);
if (!target || inputs.length === 0) {
  throw new Error('usage: node stryker.merge.mjs <target> <incremental.json>[=<part>,...]... (later inputs win for a source file in several)');
}
const out = `reports/mutation/${target}/incremental.json`;
const merged = { files: {}, testFiles: {} };
/** `${test file}\0${test name}` -> the merged report's id. */
const ids = new Map();

for (const argument of inputs) {
  const [input, parts] = argument.split('=');
  const wanted = (file) => parts === undefined || parts.split(',').some((part) => file.includes(part));
  const report = JSON.parse(readFileSync(input, 'utf8'));
  for (const key of ['schemaVersion', 'thresholds', 'projectRoot', 'config', 'framework']) merged[key] ??= report[key];
  /** This report's id -> the merged id. */
  const renumbered = new Map();
  for (const [file, testFile] of Object.entries(report.testFiles ?? {})) {
    const into = (merged.testFiles[file] ??= { ...testFile, tests: [] });
    if (testFile.source !== into.source) console.warn(`${input}: ${file} differs from an earlier input's; the first is kept`);
    for (const test of testFile.tests) {
      const key = `${file}\0${test.name}`;
      if (!ids.has(key)) {
        ids.set(key, String(ids.size));
        into.tests.push({ ...test, id: ids.get(key) });
      }
      renumbered.set(test.id, ids.get(key));
    }
  }
  let dropped = 0;
  const resolve = (id) => {
    const found = renumbered.get(id) ?? ids.get(id.replace('#', '\0'));
    if (found === undefined) dropped++;
    return found;
  };
  const follow = (list) => list?.map(resolve).filter((id) => id !== undefined);
  for (const [file, entry] of Object.entries(report.files)) {
    if (!wanted(file)) continue;
    merged.files[file] = {
      ...entry,
      mutants: entry.mutants.map((mutant) => ({
        ...mutant,
        ...(mutant.coveredBy && { coveredBy: follow(mutant.coveredBy) }),
        ...(mutant.killedBy && { killedBy: follow(mutant.killedBy) }),
      })),
    };
  }
  if (dropped > 0) console.warn(`${input}: ${dropped} test references name no test; dropped`);
}

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(merged));
console.log(`${out}: ${Object.keys(merged.files).length} source files, ${ids.size} tests`);
