// Idle CPU of a running @loop/backend-epoll-ffi loop over a long window: the loop serves HTTP
// (a listening socket and a few idle keep-alive connections registered in its epoll set), has a
// far timer armed, and waits. The wait is Node's own epoll_wait (a uv_poll on the loop's epoll
// fd), so the process should sleep in the kernel: the figure is its CPU time over the window, as a
// share of one core, next to a Node process that only waits on a timer.
//
// Run (built first):
//   npx tsc -b && flock /tmp/loop-bench.lock taskset -c 0 node bench/epoll/idle-cpu.mjs [--seconds 10] [--trigger level|edge]
import { performance } from 'node:perf_hooks';
import { connect } from 'node:net';
import { createLoop } from '@loop/backend-epoll-ffi';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
};
const seconds = Number(option('seconds', '10'));
const trigger = option('trigger', 'level');

/** CPU ms (user + system) and wall ms of `fn`'s wait. */
async function measure(fn) {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await fn();
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - wall0 };
}

const report = (what, { cpuMs, wallMs }, extra = '') =>
  console.log(`${what.padEnd(58)} ${cpuMs.toFixed(1).padStart(7)} ms CPU in ${(wallMs / 1000).toFixed(2)} s = ${((100 * cpuMs) / wallMs).toFixed(3)}% of a core${extra}`);

console.log(`command: node bench/epoll/idle-cpu.mjs ${args.join(' ')}`.trim());
report('Node waiting on a timer (the floor)', await measure(() => new Promise((resolve) => setTimeout(resolve, seconds * 1000))));

const loop = createLoop({ trigger });
const server = await loop.serveHttp({ port: 0 }, (_request, response) => response.respond(200, { 'content-type': 'text/plain' }, 'hello'));
const far = loop.timer(() => undefined).start(3_600_000);
const running = loop.run();
// A few idle keep-alive connections, each answered once, so their fds sit in the epoll set.
const clients = await Promise.all(
  Array.from({ length: 4 }, () => new Promise((resolve) => {
    const socket = connect(server.address.port, '127.0.0.1', () => {
      socket.write('GET / HTTP/1.1\r\nHost: idle\r\n\r\n');
      socket.once('data', () => resolve(socket));
    });
  })),
);
await new Promise((resolve) => setTimeout(resolve, 200)); // let the connections settle
const stats0 = { ...loop.stats };
const window = await measure(() => new Promise((resolve) => setTimeout(resolve, seconds * 1000)));
const wakeups = loop.stats.wakeups - stats0.wakeups;
report(`epoll-ffi loop (${trigger}), serving, 4 idle connections`, window, `, ${wakeups} wake-ups`);
for (const socket of clients) socket.destroy();
far.close();
loop.callSoon(() => server.close());
await running;
loop.close();
