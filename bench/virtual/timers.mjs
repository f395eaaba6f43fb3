#!/usr/bin/env node
// Timers in virtual time against the libuv backend's real-time timer churn.
//
//   flock /tmp/loop-bench.lock npx -y pnpm@10.34.9 bench:virtual      (builds first)
//   flock /tmp/loop-bench.lock node bench/virtual/timers.mjs [--runs 5]
//
// Cases, each run in a fresh Node process pinned to CPU 0 (`taskset -c 0`), in alternating order
// round after round; the table gives medians over the rounds and ratios to the libuv churn's
// median from the same run:
//
// - virtual-1m:     1,000,000 timers started at once, each due at its own millisecond
//                   (1 ms ... 1,000,000 ms: 16.7 minutes of virtual time). One clock jump, so
//                   one host turn (setImmediate), per callback: the virtual backend's worst case.
// - virtual-churn:  1,000 repeating timers, timer i every 1 + (i % 10) ms (re-armed before each
//                   callback), until 1,000,000 callbacks ran (about 5.5 s of virtual time).
// - libuv-churn:    the same churn on @loop/backend-libuv, in real time.
// - virtual-backoff: the README's retry-with-backoff test (16 refused or accepted connects over
//                   10 minutes of virtual time), real ms per run.
//
// Callbacks per second count timer callbacks over the time run() took (setup is reported apart).
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const CASES = ['virtual-1m', 'virtual-churn', 'libuv-churn', 'virtual-backoff'];
const TOTAL = 1_000_000;
const CHURN_TIMERS = 1_000;

async function virtualLoop() {
  const { createLoop } = await import('@loop/backend-virtual');
  return createLoop();
}

async function libuvLoop() {
  const { createLoop } = await import('@loop/backend-libuv');
  return createLoop();
}

/** 1,000,000 timers at distinct due times, all fired. */
async function spread() {
  const loop = await virtualLoop();
  let fired = 0;
  const onFire = () => {
    fired++;
  };
  const setupStart = performance.now();
  const timers = new Array(TOTAL);
  for (let i = 0; i < TOTAL; i++) timers[i] = loop.timer(onFire).start(i + 1);
  const setupMs = performance.now() - setupStart;
  const start = performance.now();
  await loop.run();
  const runMs = performance.now() - start;
  if (fired !== TOTAL) throw new Error(`fired ${fired} of ${TOTAL}`);
  const virtualMs = loop.now();
  for (const timer of timers) timer.close();
  await loop.run();
  loop.close();
  return { callbacks: fired, setupMs, runMs, virtualMs };
}

/** CHURN_TIMERS timers restarting themselves until TOTAL callbacks ran. */
async function churn(loop) {
  let fired = 0;
  const timers = [];
  // A repeating timer is re-armed (taken out of the heap and put back) before each callback.
  const onFire = () => {
    if (++fired === TOTAL) for (const timer of timers) timer.close();
  };
  const setupStart = performance.now();
  const begin = loop.now();
  for (let i = 0; i < CHURN_TIMERS; i++) timers.push(loop.timer(onFire).start(1 + (i % 10), 1 + (i % 10)));
  const setupMs = performance.now() - setupStart;
  const start = performance.now();
  await loop.run();
  const runMs = performance.now() - start;
  const virtualMs = loop.now() - begin;
  loop.close();
  return { callbacks: fired, setupMs, runMs, virtualMs };
}

/** The README's backoff test: connect refused until the server comes up 10 minutes in. */
async function backoff() {
  const loop = await virtualLoop();
  const start = performance.now();
  let server;
  loop
    .timer((timer) => {
      timer.close();
      loop.listen({ port: 5432 }, (stream) => stream.on({ data: () => {}, end: () => stream.end() }), (_error, listening) => (server = listening));
    })
    .start(10 * 60_000);
  let tries = 0;
  let delay = 1_000;
  const retry = loop.timer(() => attempt());
  const attempt = () => {
    tries++;
    loop.connect({ port: 5432 }, (_error, stream) => {
      if (stream) {
        retry.close();
        stream.on({ data: () => {}, close: () => server.close() });
        stream.end();
        return;
      }
      retry.start(delay);
      delay = Math.min(delay * 2, 60_000);
    });
  };
  attempt();
  await loop.run();
  const runMs = performance.now() - start;
  if (tries !== 16 || loop.now() !== 603_000) throw new Error(`unexpected: ${tries} tries, ended at ${loop.now()}`);
  loop.close();
  return { callbacks: tries, setupMs: 0, runMs, virtualMs: loop.now() };
}

async function child(name) {
  switch (name) {
    case 'virtual-1m':
      return spread();
    case 'virtual-churn':
      return churn(await virtualLoop());
    case 'libuv-churn':
      return churn(await libuvLoop());
    case 'virtual-backoff':
      return backoff();
    default:
      throw new Error(`unknown case ${name}`);
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function format(value, digits = 0) {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function parent(runs) {
  const script = fileURLToPath(import.meta.url);
  const samples = Object.fromEntries(CASES.map((name) => [name, []]));
  console.log(`bench/virtual/timers.mjs: ${runs} rounds, each case in a fresh process pinned with taskset -c 0, order rotating by round`);
  console.log(`node ${process.version}; run under flock /tmp/loop-bench.lock so no other benchmark shares the CPUs\n`);
  for (let round = 0; round < runs; round++) {
    const order = CASES.map((_, i) => CASES[(i + round) % CASES.length]);
    for (const name of order) {
      const result = spawnSync('taskset', ['-c', '0', process.execPath, script, '--child', name], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`${name} failed (exit ${result.status}):\n${result.stderr}`);
      const sample = JSON.parse(result.stdout.trim().split('\n').at(-1));
      samples[name].push(sample);
      console.log(`round ${round + 1} ${name.padEnd(16)} ${format(sample.callbacks / (sample.runMs / 1000)).padStart(12)} callbacks/s  run ${format(sample.runMs, 1)} ms  virtual ${format(sample.virtualMs)} ms`);
    }
  }
  const rate = (name) => median(samples[name].map((s) => s.callbacks / (s.runMs / 1000)));
  const peer = rate('libuv-churn');
  console.log('\nmedians');
  console.log(`${'case'.padEnd(16)} ${'callbacks/s'.padStart(12)} ${'vs libuv-churn'.padStart(15)} ${'run ms'.padStart(10)} ${'setup ms'.padStart(9)} ${'virtual ms'.padStart(11)}`);
  for (const name of CASES.filter((name) => name !== 'virtual-backoff')) {
    const list = samples[name];
    const runMs = median(list.map((s) => s.runMs));
    const setupMs = median(list.map((s) => s.setupMs));
    const virtualMs = median(list.map((s) => s.virtualMs));
    const cbs = rate(name);
    console.log(
      `${name.padEnd(16)} ${format(cbs).padStart(12)} ${`${format(cbs / peer, 2)}x`.padStart(15)} ${format(runMs, 1).padStart(10)} ${format(setupMs, 1).padStart(9)} ${format(virtualMs).padStart(11)}`,
    );
  }
  const backoffMs = median(samples['virtual-backoff'].map((s) => s.runMs));
  console.log(`\nREADME backoff test: ${format(samples['virtual-backoff'][0].virtualMs / 60_000, 2)} min of virtual time in ${format(backoffMs, 2)} ms of real time (median)`);
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  const result = await child(args[1]);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  parent(runs);
}
