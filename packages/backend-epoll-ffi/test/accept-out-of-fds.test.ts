import { connect, type Socket } from 'node:net';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { SocketError, type TcpStream } from '@loop/core';
import { AF_INET, SOCK_STREAM } from '../src/constants.js';
import { createLoop, type TriggerMode } from '../src/index.js';
import { loadLibc } from '../src/libc.js';
import { encodeSockaddr, SOCKADDR_SIZE } from '../src/sockaddr.js';
import { withoutFreeFds } from './fd-table-helpers.js';
import { connectMany, eventually, openFdCount, within } from './http-helpers.js';

// In this process (not a child under prlimit, as emfile.test.ts does): the soft RLIMIT_NOFILE is
// lowered around one nowait run (fd-table-helpers.ts), so the accept path is seen by in-process tools too.
const libcHandle = koffi.load('libc.so.6');
const libcFlags = (fd: number): number => (libcHandle.func('int fcntl(int, int)') as (fd: number, command: number) => number)(fd, 3);

/** A listening socket on a free loopback port, made with libc (to be taken over). */
function listeningSocket(): number {
  const libc = loadLibc();
  const fd = libc.socket(AF_INET, SOCK_STREAM, 0);
  const address = Buffer.alloc(SOCKADDR_SIZE);
  encodeSockaddr('127.0.0.1', 0, address);
  expect(libc.bind(fd, address, 16)).toBe(0);
  expect(libc.listen(fd, 16)).toBe(0);
  return fd;
}

describe.each<TriggerMode>(['level', 'edge'])('a listener out of file descriptors, in this process (%s-triggered)', (trigger) => {
  it('sheds each pending connection with its reserve fd (closed at once), reports EMFILE once, and accepts again once fds are free', async () => {
    const fdsBefore = openFdCount();
    const errors: unknown[] = [];
    const loop = createLoop({ trigger, onError: (error) => errors.push(error) });
    const accepted: TcpStream[] = [];
    const server = await loop.listen({ port: 0 }, (stream) => accepted.push(stream));
    const shed = await connectMany(server.address.port, 3);
    const closedByServer = shed.map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
    await withoutFreeFds(() => loop.run('nowait'));
    expect(accepted).toEqual([]);
    expect(loop.stats.acceptShed).toBe(3);
    expect(errors).toHaveLength(1);
    const error = errors[0] as SocketError;
    expect(error).toBeInstanceOf(SocketError);
    expect(error.errno).toBe('EMFILE');
    expect(error.cause).toMatchObject({ syscall: 'accept4', code: 'EMFILE' });
    expect(error.message).toBe(`accept on 127.0.0.1:${server.address.port} failed; a connection was closed at once to keep serving: EMFILE`);
    // The shed connections were closed, not left waiting in the backlog.
    await within(Promise.all(closedByServer), 10_000, 'the shed connections to be closed');
    // With fds free again, the same listener accepts (the reserve was taken back, the listener still watched).
    const later = await connectMany(server.address.port, 1);
    await loop.run('nowait');
    expect(accepted).toHaveLength(1);
    for (const stream of accepted) stream.close();
    server.close();
    await within(loop.run(), 10_000, 'the run to end');
    for (const socket of [...shed, ...later]) socket.destroy();
    loop.close();
    await eventually(() => openFdCount() === fdsBefore, 'every fd to be closed');
  });
});

describe('listen and connect out of file descriptors, in this process', () => {
  it('fail with EMFILE from socket(), naming what was being done, and leave nothing open', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    let connecting: Promise<unknown> = Promise.resolve();
    let listening: Promise<unknown> = Promise.resolve();
    // The socket is made at once for an IP literal: only that part needs the fds taken.
    await withoutFreeFds(async () => {
      connecting = loop.connect({ host: '127.0.0.1', port: 9 }).catch((error: unknown) => error);
      listening = loop.listen({ host: '127.0.0.1', port: 0 }, () => undefined).catch((error: unknown) => error);
    });
    await within(loop.run(), 10_000, 'the run to deliver both failures');
    const connectError = (await connecting) as SocketError;
    const listenError = (await listening) as SocketError;
    expect(connectError).toBeInstanceOf(SocketError);
    expect(connectError.message).toBe('connect to 127.0.0.1:9 failed: EMFILE');
    expect(connectError.cause).toMatchObject({ syscall: 'socket', code: 'EMFILE' });
    expect(listenError).toBeInstanceOf(SocketError);
    expect(listenError.message).toBe('listen on 127.0.0.1:0 failed: EMFILE');
    expect(listenError.cause).toMatchObject({ syscall: 'socket', code: 'EMFILE' });
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});

describe('an exclusive listener out of file descriptors, in this process', () => {
  for (const free of [0, 1]) {
    it(`fails with EMFILE when it cannot make its ${free === 0 ? 'epoll set' : 'eventfd'}, closes the socket it took over and leaves nothing open`, async () => {
      const fdsBefore = openFdCount();
      const loop = createLoop();
      // A listening socket to take over, made while fds are free.
      const taken = listeningSocket();
      const fdsWithSocket = openFdCount();
      let listening: Promise<unknown> = Promise.resolve();
      await withoutFreeFds(async () => {
        listening = loop.listen({ fd: taken, exclusive: true }, () => undefined).catch((error: unknown) => error);
      }, free);
      await within(loop.run(), 10_000, 'the run to deliver the failure');
      const error = (await listening) as SocketError;
      expect(error).toBeInstanceOf(SocketError);
      expect(error.message).toBe('cannot watch the listening socket: EMFILE');
      expect(error.cause).toMatchObject({ syscall: 'epoll_ctl', code: 'EMFILE' });
      expect(openFdCount()).toBe(fdsWithSocket - 1);
      expect(libcFlags(taken)).toBe(-1);
      loop.close();
      expect(openFdCount()).toBe(fdsBefore);
    });
  }
});

describe('a listener whose loop cannot make its epoll set, in this process', () => {
  it('fails with EMFILE, closes the socket it opened and leaves nothing open', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    let listening: Promise<unknown> = Promise.resolve();
    // One fd free: the socket gets it, the loop's first epoll set does not.
    await withoutFreeFds(async () => {
      listening = loop.listen({ host: '127.0.0.1', port: 0 }, () => undefined).catch((error: unknown) => error);
    }, 1);
    await within(loop.run(), 10_000, 'the run to deliver the failure');
    const error = (await listening) as SocketError;
    expect(error).toBeInstanceOf(SocketError);
    expect(error.message).toBe('cannot watch the listening socket: EMFILE');
    expect(error.cause).toMatchObject({ syscall: 'epoll_ctl', code: 'EMFILE' });
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});
