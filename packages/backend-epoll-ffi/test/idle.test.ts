import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLoop } from '../src/index.js';
import { within } from './http-helpers.js';

// The real figure (10 s, next to an idle Node) comes from bench/epoll/idle-cpu.mjs; this test only
// pins down that a waiting loop sleeps in the kernel instead of spinning, with a generous bound.
describe.each(['level', 'edge'] as const)('an idle loop (%s-triggered)', (trigger) => {
  it('sleeps while it waits: serving, with idle keep-alive connections and a far timer, it wakes at most for its timeout sweep', async () => {
    const loop = createLoop({ trigger });
    const server = await loop.serveHttp({ port: 0 }, (_request, response) => response.respond(200, { 'content-type': 'text/plain' }, 'hi'));
    const far = loop.timer(() => undefined).start(3_600_000);
    const running = loop.run();
    const clients = await Promise.all(
      Array.from(
        { length: 3 },
        () =>
          new Promise<Socket>((resolve) => {
            const socket = connect(server.address.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n'));
            socket.once('data', () => resolve(socket));
          }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const wakeups = loop.stats.wakeups;
    const cpu = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const used = process.cpuUsage(cpu);
    const woken = loop.stats.wakeups - wakeups;
    for (const socket of clients) socket.destroy();
    far.close();
    server.close();
    await within(running, 5_000, 'the loop to finish');
    loop.close();
    // The keep-alive sweep runs once a second with the default timeouts; a spinning loop would
    // wake thousands of times.
    expect(woken).toBeLessThanOrEqual(3);
    expect((used.user + used.system) / 1000).toBeLessThan(100);
  });
});
