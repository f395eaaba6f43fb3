// Idle CPU of a stopped libuv-backend loop whose watched fd stays readable (the watcher parks its
// uv_poll), against Node with no watcher at all, and against a raw uv_poll left running on the
// same kind of fd (what the watcher would cost without parking). Not a test: a measurement.
//
// Run (built first):
//   npx tsc -b && taskset -c 0 node bench/io/idle-cpu.mjs
//
// Prints, per scenario, the median over ROUNDS alternating rounds of the process CPU time (user +
// system, process.cpuUsage) during a WINDOW_MS wait on a Node timer, and libuv poll callbacks seen.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { IoEvents } from '@loop/core';
import { UvPoll } from '@loop/core/kit';
import { createLoop } from '@loop/backend-libuv';

const WINDOW_MS = 1000;
const ROUNDS = 5;
const koffi = createRequire(import.meta.url)('koffi'); // bench/ depends on koffi itself
const uvPoll = UvPoll.bind(koffi); // the same binding the backend uses (one per koffi module)

const dir = mkdtempSync(join(tmpdir(), 'loop-io-idle-'));
let fifos = 0;
/** A FIFO opened read-write, non-blocking, with unread data in it: readable until read. */
function readyFifo() {
  const path = join(dir, `fifo-${fifos++}`);
  execFileSync('mkfifo', [path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  writeSync(fd, 'never read');
  return fd;
}

/** CPU ms and wall ms of a WINDOW_MS wait on a Node timer. */
async function measureWindow() {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - wall0 };
}

const scenarios = {
  async 'no watcher (Node idle on a timer)'() {
    return { ...(await measureWindow()), uvEvents: 0 };
  },

  async 'stopped loop, watched fd stays readable (parked)'() {
    const fd = readyFifo();
    const loop = createLoop();
    const watcher = loop.io(fd, () => undefined).start(IoEvents.READABLE);
    await new Promise((resolve) => setImmediate(resolve)); // the first report arrives and parks
    const events0 = uvPoll.stats().uvEvents;
    const window = await measureWindow();
    const uvEvents = uvPoll.stats().uvEvents - events0;
    watcher.close();
    await loop.run();
    loop.close();
    closeSync(fd);
    return { ...window, uvEvents };
  },

  async 'raw uv_poll left running on a readable fd (no parking)'() {
    const lib = koffi.load(null);
    const out = [null];
    lib.func('int napi_get_uv_event_loop(void *env, _Out_ void **loop)')(koffi.node.env, out);
    const size = Number(lib.func('size_t uv_handle_size(int type)')(8));
    const init = lib.func('int uv_poll_init(void *loop, void *handle, int fd)');
    const start = lib.func('int uv_poll_start(void *handle, int events, void *cb)');
    const close = lib.func('void uv_close(void *handle, void *cb)');
    const unref = lib.func('void uv_unref(void *handle)');
    const fd = readyFifo();
    const handle = koffi.alloc('uint8', size);
    let uvEvents = 0;
    const onPoll = koffi.register(() => void uvEvents++, koffi.pointer(koffi.proto('void', ['uintptr_t', 'int', 'int'])));
    let closed;
    const done = new Promise((resolve) => (closed = resolve));
    const onClose = koffi.register(() => closed(), koffi.pointer(koffi.proto('void', ['uintptr_t'])));
    if (init(out[0], handle, fd) !== 0 || start(handle, 1, onPoll) !== 0) throw new Error('uv_poll setup failed');
    unref(handle);
    const window = await measureWindow();
    const seen = uvEvents;
    close(handle, onClose);
    await done;
    await new Promise((resolve) => setImmediate(resolve));
    koffi.unregister(onPoll);
    koffi.unregister(onClose);
    koffi.free(handle);
    closeSync(fd);
    return { ...window, uvEvents: seen };
  },
};

const results = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(scenarios)) results[name].push(await run());
}
rmSync(dir, { recursive: true, force: true });

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`node ${process.version}, libuv ${process.versions.uv}; ${ROUNDS} rounds of ${WINDOW_MS} ms, medians`);
for (const [name, runs] of Object.entries(results)) {
  const cpuMs = median(runs.map((r) => r.cpuMs));
  const wallMs = median(runs.map((r) => r.wallMs));
  const uvEvents = median(runs.map((r) => r.uvEvents));
  console.log(`${name.padEnd(56)} cpu ${cpuMs.toFixed(1).padStart(7)} ms / ${wallMs.toFixed(0)} ms wall = ${((100 * cpuMs) / wallMs).toFixed(1).padStart(5)} %   uv poll callbacks ${uvEvents}`);
}
