import { lookup } from 'node:dns/promises';
import { describe, expect, it } from 'vitest';
import { EventLoopError, type SocketError } from '@loop/core';
import { createLoop, type EpollEventLoop } from '../src/index.js';
import { openFdCount, within } from './http-helpers.js';

/** Run `fn` on a fresh loop; the loop must close and leave no fd behind. */
async function withLoop(fn: (loop: EpollEventLoop) => Promise<void>): Promise<void> {
  const fdsBefore = openFdCount();
  const loop = createLoop();
  await within(fn(loop), 15_000, 'host resolution test');
  loop.close();
  expect(openFdCount()).toBe(fdsBefore);
}

/** An echo round trip from a client of `loop` to `port` on `host`, run on the loop. */
async function echoThrough(loop: EpollEventLoop, listenHost: string, connectHost: string): Promise<{ listened: string; echoed: string }> {
  const server = await loop.listen({ host: listenHost, port: 0 }, (stream) => stream.on({ data: (chunk) => stream.write(chunk), end: () => stream.end() }));
  const client = await loop.connect({ host: connectHost, port: server.address.port });
  let echoed = '';
  client.on({ data: (chunk) => (echoed += String(chunk)), close: () => server.close() });
  client.write('ping');
  client.end();
  await loop.run();
  return { listened: server.address.address, echoed };
}

/** The error a callback-form listen/connect completes with. */
function failure(start: (done: (error: Error | undefined) => void) => void, loop: EpollEventLoop): Promise<Error | undefined> {
  return new Promise((resolve) => {
    start(resolve);
    void loop.run();
  });
}

describe('host names and IP literals in listen() and connect()', () => {
  it('looks a host name up: listen and connect on localhost meet on its address', () =>
    withLoop(async (loop) => {
      const expected = (await lookup('localhost')).address;
      expect(await echoThrough(loop, 'localhost', 'localhost')).toEqual({ listened: expected, echoed: 'ping' });
    }));

  it('takes a bracketed IPv6 literal as the address inside the brackets', () =>
    withLoop(async (loop) => {
      expect(await echoThrough(loop, '[::1]', '[::1]')).toEqual({ listened: '::1', echoed: 'ping' });
    }));

  it('takes an IPv6 literal with a numeric zone as that literal, without a lookup', () =>
    withLoop(async (loop) => {
      // ::1 is on the loopback interface (index 1); the zone is the scope id, which loopback ignores.
      expect(await echoThrough(loop, '::1%1', '::1')).toEqual({ listened: '::1', echoed: 'ping' });
    }));

  it('fails a listen on a name that does not resolve with ERR_SOCKET naming the host, leaving nothing open', () =>
    withLoop(async (loop) => {
      const error = await failure((done) => loop.listen({ host: 'no-such-host.invalid', port: 0 }, () => undefined, done), loop);
      expect(error).toBeInstanceOf(EventLoopError);
      expect((error as EventLoopError).code).toBe('ERR_SOCKET');
      expect((error as EventLoopError).message).toMatch(/^lookup of no-such-host\.invalid failed/);
      expect(loop.alive()).toBe(false);
    }));

  it('looks up a host that only contains a literal (a stray bracket, a trailing character) as a name, which fails', () =>
    withLoop(async (loop) => {
      for (const host of ['127.0.0.1x', 'x::1]', '[::1x']) {
        const error = await failure((done) => loop.listen({ host, port: 0 }, () => undefined, done), loop);
        expect([host, (error as EventLoopError).code, (error as EventLoopError).message]).toEqual([host, 'ERR_SOCKET', `lookup of ${host} failed: ENOTFOUND`]);
      }
    }));

  it('fails a connect to a name that does not resolve the same way', () =>
    withLoop(async (loop) => {
      const error = await failure((done) => loop.connect({ host: 'no-such-host.invalid', port: 1 }, done), loop);
      expect((error as EventLoopError).code).toBe('ERR_SOCKET');
      expect((error as EventLoopError).message).toMatch(/^lookup of no-such-host\.invalid failed/);
    }));

  it('fails a listen on an address this machine does not have with ERR_SOCKET from the socket setup (EADDRNOTAVAIL)', () =>
    withLoop(async (loop) => {
      const error = await failure((done) => loop.listen({ host: '192.0.2.1', port: 0 }, () => undefined, done), loop);
      expect((error as EventLoopError).code).toBe('ERR_SOCKET');
      expect((error as SocketError).errno).toBe('EADDRNOTAVAIL');
    }));
});
