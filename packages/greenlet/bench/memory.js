// Memory benchmark for @loop/greenlet (not a test: it prints figures).
// Run after `npx tsc -b packages/greenlet`:
//   node --expose-gc packages/greenlet/bench/memory.js [count]
// Starts `count` greenlets (default 100,000), each suspended in a switch back to main
// one generator frame deep, keeps them all reachable, and prints the heap they use
// after a full GC, per greenlet and in total, plus the process RSS; then, for scale,
// the RSS growth of python-greenlet (/usr/bin/python3) for the same number of greenlets
// suspended the same way (python has no separate JS-style heap figure to compare).
import { spawnSync } from 'node:child_process';
import { getcurrent, greenlet } from '../dist/index.js';

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}

const count = Number(process.argv[2] ?? 100_000);
const main = getcurrent();

function settledHeap() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

// The typical suspended greenlet: waiting in a switch for its next value.
function* worker(id) {
  let value = id;
  for (;;) value = yield* main.switch(value);
}

const before = settledHeap();
const greenlets = new Array(count);
for (let i = 0; i < count; i++) {
  const g = greenlet(worker);
  g.switch(i); // start it: it runs to its first switch and suspends there
  greenlets[i] = g;
}
const after = settledHeap();
const { rss } = process.memoryUsage();

// Prove they are live and resumable, and keep them reachable until after measuring.
let check = 0;
for (let i = 0; i < count; i += Math.max(1, Math.floor(count / 1000))) check += greenlets[i].switch(1) === 1 ? 1 : 0;
if (check === 0 || greenlets.some((g) => g.dead)) throw new Error('greenlets did not stay suspended');

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
console.log(
  `${count.toLocaleString('en')} suspended greenlets: heap +${mb(after - before)} MB ` +
    `(${Math.round((after - before) / count)} bytes each), RSS ${mb(rss)} MB, node ${process.version}`,
);

const PYTHON = `
import gc, sys, os
from greenlet import greenlet, getcurrent, __version__
def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
n = int(sys.argv[1])
main = getcurrent()
def worker(value):
    while True:
        value = main.switch(value)
gc.collect(); before = rss()
gs = []
for i in range(n):
    g = greenlet(worker); g.switch(i); gs.append(g)
gc.collect(); after = rss()
print(__version__, after - before)
`;
const py = spawnSync('/usr/bin/python3', ['-c', PYTHON, String(count)], { encoding: 'utf8' });
if (py.status === 0) {
  const [version, grown] = py.stdout.trim().split(/\s+/);
  console.log(
    `python-greenlet ${version}, same ${count.toLocaleString('en')} suspended greenlets: RSS +${mb(Number(grown))} MB ` +
      `(${Math.round(Number(grown) / count)} bytes each)`,
  );
} else {
  console.log('python-greenlet: not measured (/usr/bin/python3 with python3-greenlet not available)');
}
