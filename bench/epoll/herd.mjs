// The thundering herd, measured as wake-ups per accepted connection. WORKERS processes serve HTTP
// on one port, three ways:
//   shared     one listening socket, made here and inherited by every worker; each worker's epoll
//              set watches it level-triggered: every new connection wakes every worker
//   exclusive  the same shared socket registered with EPOLLEXCLUSIVE: the kernel wakes one worker
//              (or a few) per connection
//   reuseport  one socket per worker (SO_REUSEPORT): the kernel hashes each connection to one
//              socket, so one worker is woken
// Two loads, each opening a new connection per request (Connection: close):
//   sparse     one connection at a time (connect, GET, close, next): the workers are idle when a
//              connection arrives, which is when a herd wakes up
//   saturated  wrk with --connections at once: the workers are busy, wake-ups coalesce
// Each worker counts the readiness events of its listening socket (wake-ups), its accepted
// connections, and its accept4 calls that found nothing (EAGAIN: woken for a connection another
// worker took).
//
// Run (built first):
//   npx tsc -b && flock /tmp/loop-bench.lock node bench/epoll/herd.mjs [--workers 4] [--sparse 2000] [--duration 3s] [--connections 8] [--trigger level|edge]
import { spawn, execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
};
const workers = Number(option('workers', '4'));
const duration = option('duration', '3s');
const connections = option('connections', '8');
const trigger = option('trigger', 'level');
const sparse = Number(option('sparse', '2000'));
const workerScript = fileURLToPath(new URL('./herd-worker.mjs', import.meta.url));

// The shared socket, made with libc through koffi (Node cannot hand a listening fd to a child).
const koffi = createRequire(import.meta.url)('koffi');
const libc = koffi.load('libc.so.6');
const socket = libc.func('int socket(int, int, int)');
const setsockopt = libc.func('int setsockopt(int, int, int, void *, uint32_t)');
const bind = libc.func('int bind(int, void *, uint32_t)');
const listen = libc.func('int listen(int, int)');
const getsockname = libc.func('int getsockname(int, void *, void *)');
const close = libc.func('int close(int)');

function sharedSocket() {
  const fd = socket(2, 1 | 0o4000, 0); // AF_INET, SOCK_STREAM | SOCK_NONBLOCK
  const one = Buffer.alloc(4);
  one.writeInt32LE(1);
  setsockopt(fd, 1, 2, one, 4); // SO_REUSEADDR
  const address = Buffer.alloc(16);
  address.writeUInt16LE(2, 0);
  address.set([127, 0, 0, 1], 4);
  if (bind(fd, address, 16) !== 0 || listen(fd, 1024) !== 0) throw new Error(`bind/listen failed: errno ${koffi.errno()}`);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(16);
  getsockname(fd, address, length);
  return { fd, port: address.readUInt16BE(2) };
}

/** A free port for the reuseport workers: bind one, read it, release it. */
function freePort() {
  const { fd, port } = sharedSocket();
  close(fd);
  return port;
}

function startWorker(mode, shared, port) {
  const stdio = ['ignore', 'pipe', 'inherit'];
  if (shared !== undefined) stdio.push(shared);
  const child = spawn(process.execPath, [workerScript], { stdio, env: { ...process.env, MODE: mode, PORT: String(port), TRIGGER: trigger } });
  let text = '';
  child.stdout.on('data', (chunk) => (text += chunk));
  const ready = new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (text.includes('ready')) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
    child.once('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`worker exited with ${code}`));
    });
  });
  const stats = () =>
    new Promise((resolve) => {
      child.once('exit', () => resolve(JSON.parse(/stats (.*)/.exec(text)?.[1] ?? '{}')));
      child.kill('SIGTERM');
    });
  return { ready, stats };
}

/** `count` requests, each on a connection of its own, one after the other. */
async function sparseLoad(port, count) {
  for (let i = 0; i < count; i++) {
    await new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: herd\r\nConnection: close\r\n\r\n'));
      socket.on('data', () => undefined);
      socket.once('error', reject);
      socket.once('close', resolve);
    });
  }
  return count;
}

function saturatedLoad(port) {
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${duration}`, '-H', 'Connection: close', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  return Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
}

async function run(mode, load) {
  let shared;
  let port;
  if (mode === 'reuseport') port = freePort();
  else ({ fd: shared, port } = sharedSocket());
  const started = Array.from({ length: workers }, () => startWorker(mode, shared, port));
  await Promise.all(started.map((worker) => worker.ready));
  if (shared !== undefined) close(shared); // the workers hold it now
  const requests = load === 'sparse' ? await sparseLoad(port, sparse) : saturatedLoad(port);
  const all = await Promise.all(started.map((worker) => worker.stats()));
  const sum = (key) => all.reduce((total, stats) => total + (stats[key] ?? 0), 0);
  const accepted = sum('accepted');
  const per = (key) => (sum(key) / accepted).toFixed(2).padStart(6);
  const spread = all.map((stats) => stats.accepted ?? 0).join('/');
  console.log(
    `${load.padEnd(9)} ${mode.padEnd(10)} ${String(requests).padStart(7)} requests ${String(accepted).padStart(7)} accepted (${spread.padEnd(23)})` +
      `${per('wakeups')} ${per('emptyWakeups')} ${per('listenEvents')} ${per('acceptMissed')}`,
  );
}

console.log(`command: node bench/epoll/herd.mjs ${args.join(' ')}`.trim());
console.log(`${workers} workers, ${trigger}-triggered, one connection per request; sparse: ${sparse} in a row; saturated: wrk -c${connections} -d${duration}`);
console.log('per accepted connection: process wake-ups, wake-ups that found nothing, listening-socket events, accept4 calls that found nothing');
for (const load of ['sparse', 'saturated']) {
  for (const mode of ['shared', 'exclusive', 'reuseport']) await run(mode, load);
}
