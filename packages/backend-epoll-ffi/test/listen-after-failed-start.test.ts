import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SocketError, type TcpStream } from '@loop/core';
import { createLoop } from '../src/index.js';
import { boundSocket, isOpen, withoutFreeFds } from './fd-table-helpers.js';
import { eventually, openFdCount, within } from './http-helpers.js';

/** A client connection to `port`, resolved once connected. */
function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('listening again after a listener failed to start', () => {
  for (const exclusive of [false, true]) {
    it(`${exclusive ? 'an exclusive' : 'a plain'} listener that failed with EMFILE gives its fd number back to the loop: a new socket with that number listens and accepts`, async () => {
      const fdsBefore = openFdCount();
      const loop = createLoop();
      const taken = boundSocket();
      let failed: Promise<unknown> = Promise.resolve();
      // No fd free: the loop's epoll set (plain) or the listener's own (exclusive) cannot be made.
      await withoutFreeFds(async () => {
        failed = loop.listen({ fd: taken.fd, exclusive }, () => undefined).catch((error: unknown) => error);
      });
      const error = (await failed) as SocketError;
      expect(error).toBeInstanceOf(SocketError);
      expect(error.message).toBe('cannot watch the listening socket: EMFILE');
      expect(isOpen(taken.fd)).toBe(false);
      // A fresh listening socket given the same fd number is taken over like any other.
      const again = boundSocket(true, taken.fd);
      const accepted: TcpStream[] = [];
      const server = await loop.listen({ fd: again.fd, exclusive }, (stream) => {
        accepted.push(stream);
        stream.close();
        server.close();
      });
      expect(server.address.port).toBe(again.port);
      const socket = await client(again.port);
      await within(loop.run(), 10_000, 'the connection to be accepted and the server to close');
      expect(accepted).toHaveLength(1);
      socket.destroy();
      loop.close();
      // An exclusive listener's pool thread may hold its epoll set a moment after its cancelled wait.
      await eventually(() => openFdCount() === fdsBefore, 'every fd to be closed');
    });
  }
});
