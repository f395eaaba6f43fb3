// The hub against gevent (issue 10's performance section), in one run:
//   sleep0       sleep(0) round trips between two greenlets, per second      target: >= 3x gevent
//   spawn-join   spawn + join of a trivial greenlet, microseconds each       target: >= 10x faster than gevent
//   event        100,000 greenlets waiting on one Event: heap (MB) while      target: <= 50 MB of heap,
//                they wait, and the time to wake them all (ms)                        <= 100 ms to wake them
//
// Every measurement is a fresh process pinned to one CPU with taskset (hub-case.mjs under
// `node --expose-gc`, gevent_peer.py under /usr/bin/python3 with Debian's python3-gevent); the two
// peers alternate, which goes first changing every round, and the figures are medians of the
// rounds (>= 5). The machine-wide benchmark lock (/tmp/loop-bench.lock) is taken first.
//
//   npx -y pnpm@10.34.9 bench:hub                      # = tsc -b && node bench/hub/compare.mjs
//   node bench/hub/compare.mjs --runs 7 --cpu 0 --json /tmp/hub.json
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { holdBenchLock } from '../http/lib/bench-lock.mjs';
import { median, range } from '../http/lib/stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';

const CASES = [
  { name: 'sleep0', n: 1_000_000 },
  { name: 'spawn-join', n: 200_000 },
  { name: 'event', n: 100_000 },
];

function parseArgs(argv) {
  const options = { runs: 5, cpu: 0, json: '' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = inline ?? argv[++i];
    if (flag === '--runs') options.runs = Number(value);
    else if (flag === '--cpu') options.cpu = Number(value);
    else if (flag === '--json') options.json = value;
    else {
      process.stderr.write(`usage: node bench/hub/compare.mjs [--runs N (>= 5)] [--cpu N] [--json path]\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(options.runs) || options.runs < 1 || !Number.isInteger(options.cpu) || options.cpu < 0) {
    process.stderr.write('--runs and --cpu take integers\n');
    process.exit(2);
  }
  return options;
}

const PEERS = {
  hub: (c) => ['taskset', ['-c', String(options.cpu), process.execPath, '--expose-gc', join(HERE, 'hub-case.mjs'), c.name, String(c.n)]],
  gevent: (c) => ['taskset', ['-c', String(options.cpu), PYTHON, join(HERE, 'gevent_peer.py'), c.name, String(c.n)]],
};

function measure(peer, c) {
  const [command, args] = PEERS[peer](c);
  const child = spawnSync(command, args, { encoding: 'utf8', timeout: 300_000 });
  if (child.status !== 0) throw new Error(`${peer} ${c.name} failed (exit ${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1));
}

const log = (line) => process.stdout.write(`${line}\n`);
const options = parseArgs(process.argv.slice(2));
log(`command: node ${process.argv.slice(1).map((a) => a.replace(`${process.cwd()}/`, '')).join(' ')}`);
log(`peers:   taskset -c ${options.cpu} node --expose-gc bench/hub/hub-case.mjs <case> <n>;  taskset -c ${options.cpu} ${PYTHON} bench/hub/gevent_peer.py <case> <n>`);
if (options.runs < 5) log(`note: ${options.runs} rounds; quote no figure from fewer than 5`);
await holdBenchLock('/tmp/loop-bench.lock', log);

const samples = { hub: {}, gevent: {} };
for (let round = 0; round < options.runs; round++) {
  for (const c of CASES) {
    const order = round % 2 === 0 ? ['hub', 'gevent'] : ['gevent', 'hub'];
    for (const peer of order) {
      const result = measure(peer, c);
      (samples[peer][c.name] ??= []).push(result);
    }
  }
  log(`round ${round + 1}/${options.runs} done`);
}

const pick = (peer, name, key) => samples[peer][name].map((r) => r[key]);
const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const spread = (values, digits = 2) => {
  const [low, high] = range(values);
  return `${fmt(low, digits)}-${fmt(high, digits)}`;
};

const hubRate = pick('hub', 'sleep0', 'roundTripsPerSecond').map((x) => x / 1e6);
const geventRate = pick('gevent', 'sleep0', 'roundTripsPerSecond').map((x) => x / 1e6);
const hubSpawn = pick('hub', 'spawn-join', 'microsecondsEach');
const geventSpawn = pick('gevent', 'spawn-join', 'microsecondsEach');
const hubHeap = pick('hub', 'event', 'heapGrowthMB');
const hubRss = pick('hub', 'event', 'rssGrowthMB');
const hubWake = pick('hub', 'event', 'wakeAllMs');
const geventRss = pick('gevent', 'event', 'rssGrowthMB');
const geventWake = pick('gevent', 'event', 'wakeAllMs');
const ratios = (a, b, f) => a.map((x, i) => f(x, b[i]));

const summary = {
  sleep0: {
    hubMRoundTripsPerSecond: median(hubRate),
    geventMRoundTripsPerSecond: median(geventRate),
    ratio: median(ratios(hubRate, geventRate, (h, g) => h / g)),
    target: '>= 3x',
  },
  spawnJoin: {
    hubMicroseconds: median(hubSpawn),
    geventMicroseconds: median(geventSpawn),
    speedup: median(ratios(hubSpawn, geventSpawn, (h, g) => g / h)),
    target: '>= 10x',
  },
  event100k: {
    hubHeapMB: median(hubHeap),
    hubRssMB: median(hubRss),
    hubWakeMs: median(hubWake),
    geventRssMB: median(geventRss),
    geventWakeMs: median(geventWake),
    target: '<= 50 MB heap, <= 100 ms',
  },
};

log('');
log(`medians of ${options.runs} rounds (range in brackets); ratios are per round, against gevent ${samples.gevent.sleep0[0].version} from the same round`);
log(`| measure | @loop/hub | gevent | ours vs gevent | target |`);
log(`| --- | --- | --- | --- | --- |`);
log(`| sleep(0) round trips, M/s | ${fmt(summary.sleep0.hubMRoundTripsPerSecond)} [${spread(hubRate)}] | ${fmt(summary.sleep0.geventMRoundTripsPerSecond, 3)} [${spread(geventRate, 3)}] | ${fmt(summary.sleep0.ratio, 1)}x | >= 3x |`);
log(`| spawn + join, us each | ${fmt(summary.spawnJoin.hubMicroseconds)} [${spread(hubSpawn)}] | ${fmt(summary.spawnJoin.geventMicroseconds, 1)} [${spread(geventSpawn, 1)}] | ${fmt(summary.spawnJoin.speedup, 1)}x faster | >= 10x |`);
log(`| 100,000 waiting on an Event: heap, MB | ${fmt(summary.event100k.hubHeapMB, 1)} [${spread(hubHeap, 1)}] | n/a (RSS below) | | <= 50 MB |`);
log(`| 100,000 waiting: RSS growth, MB | ${fmt(summary.event100k.hubRssMB, 1)} [${spread(hubRss, 1)}] | ${fmt(summary.event100k.geventRssMB, 1)} [${spread(geventRss, 1)}] | | |`);
log(`| 100,000 waiting: wake them all, ms | ${fmt(summary.event100k.hubWakeMs, 1)} [${spread(hubWake, 1)}] | ${fmt(summary.event100k.geventWakeMs, 1)} [${spread(geventWake, 1)}] | ${fmt(median(ratios(hubWake, geventWake, (h, g) => g / h)), 1)}x faster | <= 100 ms |`);
if (options.json) {
  writeFileSync(options.json, `${JSON.stringify({ options, samples, summary }, null, 2)}\n`);
  log(`samples and summary written to ${options.json}`);
}
