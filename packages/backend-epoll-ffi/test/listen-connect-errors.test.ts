import { describe, expect, it } from 'vitest';
import { SocketError, type TcpStream } from '@loop/core';
import { IPPROTO_TCP, TCP_NODELAY } from '../src/constants.js';
import { createLoop, type EpollEventLoop } from '../src/index.js';
import { loadLibc } from '../src/libc.js';
import { openFdCount, within } from './http-helpers.js';

const libc = loadLibc();

/** The outcome of a promise settled by running `loop` (stopped then): the value, or the error. */
async function settle<T>(loop: EpollEventLoop, promise: Promise<T>): Promise<T | SocketError> {
  const running = loop.run();
  const outcome = await within(promise.catch((error: SocketError) => error), 10_000, 'the run to settle the promise');
  loop.callSoon(() => loop.stop());
  await within(running, 10_000, 'the run to stop');
  return outcome;
}

/** TCP_NODELAY on `stream`'s socket (white box: read back from the fd). */
function noDelayOf(stream: TcpStream): number {
  const value = Buffer.alloc(4);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(4);
  expect(libc.getsockopt((stream as unknown as { fd: number }).fd, IPPROTO_TCP, TCP_NODELAY, value, length)).toBe(0);
  return value.readInt32LE(0);
}

describe('listen and connect failures name what failed, and leave nothing open', () => {
  it('a listen on a port in use fails with EADDRINUSE naming the host and port', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const first = await loop.listen({ host: '127.0.0.1', port: 0 }, () => undefined);
    const port = first.address.port;
    const error = await settle(loop, loop.listen({ host: '127.0.0.1', port }, () => undefined));
    expect(error).toBeInstanceOf(SocketError);
    expect((error as SocketError).errno).toBe('EADDRINUSE');
    expect((error as SocketError).cause).toMatchObject({ syscall: 'bind', code: 'EADDRINUSE' });
    expect((error as SocketError).message).toBe(`listen on 127.0.0.1:${port} failed: EADDRINUSE`);
    first.close();
    await loop.run();
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('a refused connect fails with ECONNREFUSED naming the host and port', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    // A port that was just free: listen, note it, close.
    const probe = await loop.listen({ port: 0 }, () => undefined);
    const port = probe.address.port;
    probe.close();
    const error = await settle(loop, loop.connect({ host: '127.0.0.1', port }));
    expect(error).toBeInstanceOf(SocketError);
    expect((error as SocketError).errno).toBe('ECONNREFUSED');
    expect((error as SocketError).cause).toMatchObject({ syscall: 'connect', code: 'ECONNREFUSED' });
    expect((error as SocketError).message).toBe(`connect to 127.0.0.1:${port} failed: ECONNREFUSED`);
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('a connect the kernel refuses at once (the broadcast address) fails with ENETUNREACH and closes its socket', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const error = await settle(loop, loop.connect({ host: '255.255.255.255', port: 80 }));
    expect(error).toBeInstanceOf(SocketError);
    expect((error as SocketError).errno).toBe('ENETUNREACH');
    expect((error as SocketError).cause).toMatchObject({ syscall: 'connect', code: 'ENETUNREACH' });
    expect((error as SocketError).message).toBe('connect to 255.255.255.255:80 failed: ENETUNREACH');
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});

describe('sockets of both families and their options', () => {
  it('listens and connects over IPv6 (::1), and each side reports an IPv6 address', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const received: string[] = [];
    const server = await loop.listen({ host: '::1', port: 0 }, (stream) => {
      received.push(`${stream.remoteAddress?.family} ${stream.remoteAddress?.address}`);
      stream.close();
      server.close();
    });
    expect(server.address).toMatchObject({ address: '::1', family: 'IPv6' });
    const client = (await settle(loop, loop.connect({ host: '::1', port: server.address.port }))) as TcpStream;
    expect(client.remoteAddress).toEqual({ address: '::1', port: server.address.port, family: 'IPv6' });
    client.close();
    await within(loop.run(), 10_000, 'the run to end');
    expect(received).toEqual(['IPv6 ::1']);
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('a connect sets TCP_NODELAY by default and leaves Nagle on when noDelay is false', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const accepted: TcpStream[] = [];
    const server = await loop.listen({ port: 0 }, (stream) => accepted.push(stream));
    const port = server.address.port;
    const fast = (await settle(loop, loop.connect({ port }))) as TcpStream;
    const nagle = (await settle(loop, loop.connect({ port, noDelay: false }))) as TcpStream;
    expect(noDelayOf(fast)).not.toBe(0);
    expect(noDelayOf(nagle)).toBe(0);
    for (const stream of [fast, nagle, ...accepted]) stream.close();
    server.close();
    await within(loop.run(), 10_000, 'the run to end');
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});
