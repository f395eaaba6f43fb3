import { closeSync, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { TcpStream } from '@loop/core';
import { HostWatch, UV_READABLE } from '../src/host-watch.js';
import { createLoop } from '../src/index.js';
import { loadLibc } from '../src/libc.js';
import { eventually, openFdCount, within } from './http-helpers.js';

const libc = loadLibc();

/** A client connection, resolved once connected. */
function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolve once `accepted` holds `count` streams (a guard against a hang only). */
function acceptedCount(accepted: TcpStream[], count: number): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const look = (): void => (accepted.length >= count ? resolve() : void setTimeout(look, 5));
      look();
    }),
    10_000,
    `${count} connections to be accepted`,
  );
}

describe('the watch on Node’s loop', () => {
  it('refuses an fd libuv cannot poll (a regular file), naming the fd and libuv’s reason', () => {
    const fd = openSync('/etc/hostname', 'r');
    try {
      expect(() => new HostWatch(libc.koffi, fd, UV_READABLE, () => undefined)).toThrow(`uv_poll_init on fd ${fd} failed: operation not permitted`);
    } finally {
      closeSync(fd);
    }
  });

  it('is stopped between runs: a connection while the loop is not running wakes nothing, and the next run is woken for it', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const accepted: TcpStream[] = [];
    const server = await loop.listen({ port: 0 }, (stream) => {
      accepted.push(stream);
      stream.close();
    });
    // A run that waited on Node's loop, ended by a timer.
    const timer = loop.timer(() => loop.stop());
    timer.start(20);
    await within(loop.run(), 10_000, 'the first run to end on its timer');
    timer.close();
    const wakeups = loop.stats.wakeups;
    const first = await client(server.address.port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(loop.stats.wakeups).toBe(wakeups);
    expect(accepted).toHaveLength(0);
    // The next run that waits is woken by Node's loop for it (the pending connection, then a new one).
    const running = loop.run();
    await acceptedCount(accepted, 1);
    const woken = loop.stats.wakeups;
    const second = await client(server.address.port);
    await acceptedCount(accepted, 2);
    expect(loop.stats.wakeups).toBeGreaterThan(woken);
    loop.callSoon(() => server.close());
    await within(running, 10_000, 'the run to end');
    first.destroy();
    second.destroy();
    loop.close();
    await eventually(() => openFdCount() === fdsBefore, 'every fd to be closed');
  });
});
