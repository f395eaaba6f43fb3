// The two ways an epoll loop can wait without blocking Node's JavaScript thread, measured the
// same way: an eventfd in an epoll set is made readable, and the time until JavaScript has seen it,
// drained it and made it readable again is one wake-up (a ping-pong, so each wake-up is a full
// round trip through the mechanism).
//   uv_poll   the epoll fd is watched by a uv_poll handle on Node's own loop (what
//             @loop/backend-epoll-ffi does): Node's epoll_wait wakes, its callback drains the set
//             with epoll_wait(..., 0) on the main thread
//   pool      a thread of Node's pool blocks in epoll_wait(..., -1) (koffi's async call); its
//             completion comes back to the main thread through libuv's async handle
// Also the CPU each costs while nothing happens (idle for --idle seconds).
//
// Run:
//   flock /tmp/loop-bench.lock taskset -c 0 node bench/epoll/wakeup.mjs [--count 200000] [--idle 2]
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const count = option('count', 200_000);
const idleSeconds = option('idle', 2);

const koffi = createRequire(import.meta.url)('koffi');
const libc = koffi.load('libc.so.6');
const epollCreate = libc.func('int epoll_create1(int)');
const epollCtl = libc.func('int epoll_ctl(int, int, int, void *)');
const epollWait = libc.func('int epoll_wait(int, void *, int, int)');
const eventfd = libc.func('int eventfd(unsigned int, int)');
const read = libc.func('long read(int, void *, size_t)');
const write = libc.func('long write(int, void *, size_t)');
const close = libc.func('int close(int)');
const node = koffi.load(null);
const PollCallback = koffi.pointer(koffi.proto('void wakeup_bench_poll_cb(void *handle, int status, int events)'));
const uvPollInit = node.func('int uv_poll_init(void *loop, void *handle, int fd)');
const uvPollStart = node.func('int uv_poll_start(void *handle, int events, void *cb)');
const uvPollStop = node.func('int uv_poll_stop(void *handle)');
const uvHandleSize = node.func('size_t uv_handle_size(int)');
const napiLoop = node.func('int napi_get_uv_event_loop(void *env, _Out_ void **loop)');

const EVENT_SIZE = process.arch === 'x64' ? 12 : 16;
const events = Buffer.alloc(EVENT_SIZE * 8);
const one = Buffer.alloc(8);
one.writeBigUInt64LE(1n);
const sink = Buffer.alloc(8);

/** An epoll set holding one non-blocking eventfd. */
function epollWithEventfd() {
  const epfd = epollCreate(0o2000000);
  const efd = eventfd(0, 0o4000 | 0o2000000);
  const event = Buffer.alloc(EVENT_SIZE);
  event.writeUInt32LE(1, 0); // EPOLLIN
  epollCtl(epfd, 1, efd, event);
  return { epfd, efd };
}

function cpuMs(since) {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function viaUvPoll() {
  const { epfd, efd } = epollWithEventfd();
  const loopOut = [null];
  napiLoop(koffi.node.env, loopOut);
  const handle = koffi.alloc('uint8_t', Number(uvHandleSize(8)));
  uvPollInit(loopOut[0], handle, epfd);
  let left = count;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const callback = koffi.register(() => {
    if (epollWait(epfd, events, 8, 0) > 0) read(efd, sink, 8);
    if (--left > 0) write(efd, one, 8);
    else done();
  }, PollCallback);
  uvPollStart(handle, 1, callback);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  write(efd, one, 8);
  await finished;
  const wall = performance.now() - t0;
  const cpu = cpuMs(cpu0);
  // Idle: the handle stays started, nothing is written.
  const idle0 = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const idle = cpuMs(idle0);
  uvPollStop(handle);
  koffi.unregister(callback);
  close(efd);
  close(epfd);
  return { wall, cpu, idle };
}

async function viaPool() {
  const { epfd, efd } = epollWithEventfd();
  let left = count;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const wait = () =>
    epollWait.async(epfd, events, 8, -1, () => {
      read(efd, sink, 8);
      if (--left > 0) {
        write(efd, one, 8);
        wait();
      } else {
        done();
      }
    });
  wait();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  write(efd, one, 8);
  await finished;
  const wall = performance.now() - t0;
  const cpu = cpuMs(cpu0);
  // Idle: a pool thread is parked in epoll_wait; it is released at the end by one more write.
  let released;
  const releasedDone = new Promise((resolve) => (released = resolve));
  epollWait.async(epfd, events, 8, -1, () => released());
  const idle0 = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const idle = cpuMs(idle0);
  write(efd, one, 8);
  await releasedDone;
  close(efd);
  close(epfd);
  return { wall, cpu, idle };
}

console.log(`command: node bench/epoll/wakeup.mjs ${args.join(' ')}`.trim());
console.log(`${count} wake-ups each, then ${idleSeconds} s idle`);
for (const [name, run] of [
  ['uv_poll', viaUvPoll],
  ['pool', viaPool],
  ['uv_poll', viaUvPoll],
  ['pool', viaPool],
]) {
  const { wall, cpu, idle } = await run();
  console.log(
    `${name.padEnd(8)} ${((wall * 1000) / count).toFixed(2).padStart(6)} µs per wake-up  ${((cpu * 1000) / count).toFixed(2).padStart(6)} µs CPU per wake-up (all threads)  idle: ${((100 * idle) / (idleSeconds * 1000)).toFixed(3)}% of a core`,
  );
}
