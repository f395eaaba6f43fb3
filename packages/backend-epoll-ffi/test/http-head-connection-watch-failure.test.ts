import type { HttpServer } from '@loop/core';
import { describe, expect, it } from 'vitest';
import { EpollLoop } from '../src/epoll-loop.js';
import { loadLibc, type Libc } from '../src/libc.js';
import { openFdCount, rawExchange, within } from './http-helpers.js';

const libc = loadLibc();
const EPOLL_CTL_ADD = 1;
const ENOMEM = 12;

describe('an accepted connection the loop cannot watch', () => {
  it('is closed at once without leaking its fd, and the server answers the next connection', async () => {
    const fdsBefore = openFdCount();
    // The real libc, except that the first EPOLL_CTL_ADD after `armed` fails with ENOMEM.
    let armed = false;
    let failure = 0;
    const lib: Libc = Object.create(libc) as Libc;
    lib.epoll_ctl = (epfd, op, fd, event) => {
      if (armed && op === EPOLL_CTL_ADD) {
        armed = false;
        failure = ENOMEM;
        return -1;
      }
      failure = 0;
      return libc.epoll_ctl(epfd, op, fd, event);
    };
    lib.errno = () => (failure !== 0 ? failure : libc.errno());
    const errors: unknown[] = [];
    const loop = new EpollLoop(lib, { onError: (error) => errors.push(error) });
    let running: Promise<unknown> | undefined;
    const server = await new Promise<HttpServer>((resolve, reject) => {
      loop.serveHttp({ port: 0 }, (_request, response) => response.respond(200, {}, 'ok'), (error, served) => (error === undefined ? resolve(served as HttpServer) : reject(error)));
      running = loop.run();
    });
    armed = true;
    const refused = await within(
      rawExchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', 0).catch(() => Buffer.alloc(0)),
      10_000,
      'the unwatchable connection to be closed',
    );
    expect(refused.length).toBe(0);
    expect(armed).toBe(false);
    const answered = (await rawExchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', 0)).toString('latin1');
    expect(answered).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
    server.close();
    await within(running as Promise<unknown>, 10_000, 'loop to finish after server.close()');
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});
