// The @loop/hub side of bench/hub/compare.mjs: the same three measurements as gevent_peer.py.
// Run as `node --expose-gc bench/hub/hub-case.mjs <case> <n>` (after `tsc -b`); prints one JSON
// line. One measurement per process, so that memory figures start from a clean heap.
//
//   sleep0      two greenlets each call sleep(0) n times: round trips per second (n / time)
//   spawn-join  spawn a trivial greenlet and join it, n times, from a greenlet: microseconds each
//   event       n greenlets wait on one Event: heap growth while they wait (MB, after a full GC),
//               RSS growth, and the time from set() until all of them have run (ms). A round of
//               n/10 waiters goes first, as the other cases warm up, so the JIT has compiled the
//               wake path (gevent's is C: it needs no warm-up)
import { createLoop } from '@loop/backend-libuv';
import { Event, getHub, joinall, sleep, spawn } from '@loop/hub';

const gc = globalThis.gc;
const MB = 1024 * 1024;

function* worker(count) {
  for (let i = 0; i < count; i++) yield* sleep(0);
}

function* sleep0(n) {
  yield* joinall([spawn(worker, n / 10), spawn(worker, n / 10)]); // warm up
  const start = performance.now();
  yield* joinall([spawn(worker, n), spawn(worker, n)]);
  const seconds = (performance.now() - start) / 1000;
  return { roundTripsPerSecond: n / seconds };
}

function trivial() {}

function* spawnJoinLoop(count) {
  for (let i = 0; i < count; i++) yield* spawn(trivial).join();
}

function* spawnJoin(n) {
  yield* spawn(spawnJoinLoop, n / 10).join(); // warm up
  const start = performance.now();
  yield* spawn(spawnJoinLoop, n).join();
  const seconds = (performance.now() - start) / 1000;
  return { microsecondsEach: (seconds / n) * 1e6 };
}

function* waiter(flag) {
  yield* flag.wait();
}

function* wakeAll(flag, n) {
  const waiters = [];
  for (let i = 0; i < n; i++) waiters.push(spawn(waiter, flag));
  yield* sleep(0);
  flag.set();
  yield* joinall(waiters);
}

function* event(n) {
  yield* wakeAll(new Event(), n / 10); // warm up: let the JIT compile the wake path first
  const flag = new Event();
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage.rss();
  const waiters = [];
  for (let i = 0; i < n; i++) waiters.push(spawn(waiter, flag));
  yield* sleep(0); // every waiter runs and blocks on the event
  gc?.();
  const heapDuring = process.memoryUsage().heapUsed;
  const rssDuring = process.memoryUsage.rss();
  const start = performance.now();
  flag.set();
  yield* joinall(waiters);
  const ms = performance.now() - start;
  return { heapGrowthMB: (heapDuring - heapBefore) / MB, rssGrowthMB: (rssDuring - rssBefore) / MB, wakeAllMs: ms, gc: gc !== undefined };
}

const CASES = { sleep0, 'spawn-join': spawnJoin, event };

const [caseName, size] = [process.argv[2], Number(process.argv[3])];
const body = CASES[caseName];
if (body === undefined || !(size > 0)) {
  process.stderr.write(`usage: node --expose-gc hub-case.mjs <${Object.keys(CASES).join('|')}> <n>\n`);
  process.exit(2);
}
const loop = createLoop();
const hub = getHub(loop);
const result = await hub.run(body, size);
hub.destroy();
loop.close();
process.stdout.write(`${JSON.stringify({ peer: '@loop/hub', backend: loop.backend, node: process.version, case: caseName, n: size, ...result })}\n`);
