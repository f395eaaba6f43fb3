// Switch-rate benchmark for @loop/greenlet (not a test: it prints figures).
// Run after `npx tsc -b packages/greenlet`:
//   node packages/greenlet/bench/switch-rate.js [switches]
// Prints switches per second for: main <-> greenlet, greenlet <-> greenlet at yield*
// depth 1, 10 and 100, and a bare generator trampoline (the ceiling: no greenlet logic);
// then, in the same run, python-greenlet's figures for the same two patterns (from
// /usr/bin/python3, Debian's python3-greenlet) and our ratio to them; and last, how
// many garbage collections a long run of switches triggers (0: no allocation per switch).
import { spawnSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { getcurrent, greenlet } from '../dist/index.js';

const SWITCHES = Number(process.argv[2] ?? 4_000_000);
const ROUNDS = 5;

/** Best of ROUNDS runs of `fn(n)`, which must perform `n` switches; returns switches/s. */
function rate(fn, n) {
  fn(Math.min(n, 200_000)); // warm up: let the JIT compile the trampoline first
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    fn(n);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.max(best, n / seconds);
  }
  return best;
}

// main <-> greenlet: main's switch is a plain call that drives the trampoline each time.
function mainPingPong(n) {
  const main = getcurrent();
  const g = greenlet(function* () {
    for (;;) yield* main.switch();
  });
  for (let i = 0; i < n / 2; i++) g.switch();
}

function* wrap(inner) {
  return yield* inner;
}

/**
 * A run function whose switch happens `depth` generator frames deep: `body` (which
 * switches) is frame 1, and each `wrap` around it adds one `yield*` level.
 */
function atDepth(depth, body) {
  return function () {
    let gen = body();
    for (let d = 1; d < depth; d++) gen = wrap(gen);
    return gen;
  };
}

// greenlet <-> greenlet, both switching from `depth` generator frames deep.
function pairPingPong(n, depth) {
  const half = n / 2;
  let a = null;
  let b = null;
  a = greenlet(
    atDepth(depth, function* () {
      for (let i = 0; i < half; i++) yield* b.switch();
    }),
  );
  b = greenlet(
    atDepth(depth, function* () {
      for (;;) yield* a.switch();
    }),
  );
  a.switch(); // returns when `a` finishes (its parent is main)
}

// The ceiling: two generators resumed alternately by a bare loop, each suspending
// through `yield*` of one reused iterator (the shape of a switch, minus greenlet logic).
function bareTrampoline(n) {
  const done = { value: undefined, done: true };
  const yielded = { value: 0, done: false };
  let armed = false;
  const req = {
    [Symbol.iterator]() {
      return this;
    },
    next(v) {
      if (armed) {
        armed = false;
        return yielded;
      }
      done.value = v;
      return done;
    },
  };
  function* loop() {
    for (;;) {
      armed = true;
      yield* req;
    }
  }
  const a = loop();
  const b = loop();
  for (let i = 0; i < n / 2; i++) {
    a.next();
    b.next();
  }
}

// The same two patterns in python-greenlet, timed the same way (best of ROUNDS).
const PYTHON = `
import sys, time
from greenlet import greenlet, getcurrent, __version__
N, ROUNDS = int(sys.argv[1]), int(sys.argv[2])
def best(fn, n):
    fn(min(n, 200000))
    b = 0.0
    for _ in range(ROUNDS):
        t = time.perf_counter(); fn(n); b = max(b, n / (time.perf_counter() - t))
    return b
def main_ping(n):
    main = getcurrent()
    def f():
        while True: main.switch()
    g = greenlet(f)
    for _ in range(n // 2): g.switch()
def at_depth(depth, body):
    # body's switch happens depth Python frames deep, like atDepth() in JS
    def run():
        def nest(d):
            return body() if d <= 1 else nest(d - 1)
        return nest(depth)
    return run
def pair(n, depth=1):
    half = n // 2
    def fa():
        for _ in range(half): gb.switch()
    def fb():
        while True: ga.switch()
    ga = greenlet(at_depth(depth, fa)); gb = greenlet(at_depth(depth, fb))
    ga.switch()
print(__version__, best(main_ping, N), best(pair, N), best(lambda k: pair(k, 10), N), best(lambda k: pair(k, 100), N // 10))
`;

function pythonRates(n) {
  const run = spawnSync('/usr/bin/python3', ['-c', PYTHON, String(n), String(ROUNDS)], { encoding: 'utf8' });
  if (run.status !== 0) return null;
  const [version, ...rates] = run.stdout.trim().split(/\s+/);
  const [mainRate, depth1, depth10, depth100] = rates.map(Number);
  return { version, mainRate, pairRates: { 1: depth1, 10: depth10, 100: depth100 } };
}

const fmt = (r) => `${(r / 1e6).toFixed(2)} M switches/s`;
console.log(`node ${process.version}, ${SWITCHES.toLocaleString('en')} switches per run, best of ${ROUNDS}`);
const py = pythonRates(SWITCHES / 2);
const vsPython = (ours, theirs) => (py === null ? '' : `   python-greenlet ${py.version}: ${fmt(theirs)}, ours ${(ours / theirs).toFixed(1)}x`);
console.log(`bare generator trampoline (ceiling): ${fmt(rate(bareTrampoline, SWITCHES))}`);
const mainRate = rate(mainPingPong, SWITCHES);
console.log(`main <-> greenlet:                   ${fmt(mainRate)}${vsPython(mainRate, py?.mainRate)}`);
for (const depth of [1, 10, 100]) {
  const n = depth === 100 ? SWITCHES / 10 : SWITCHES;
  const r = rate((k) => pairPingPong(k, depth), n);
  console.log(`greenlet <-> greenlet, depth ${String(depth).padEnd(3)}:   ${fmt(r)}${vsPython(r, py?.pairRates[depth])}`);
}
if (py === null) console.log('python-greenlet: not measured (/usr/bin/python3 with python3-greenlet not available)');

// Allocation check: a switch allocates nothing, so a long run of switches (after
// warm-up) should trigger no garbage collection at all.
let collections = 0;
const observer = new PerformanceObserver((list) => {
  collections += list.getEntries().length;
});
observer.observe({ entryTypes: ['gc'] });
mainPingPong(SWITCHES);
pairPingPong(SWITCHES, 1);
await new Promise((resolve) => setTimeout(resolve, 50)); // gc entries are delivered asynchronously
observer.disconnect();
console.log(`garbage collections during ${(2 * SWITCHES).toLocaleString('en')} further switches: ${collections}`);
