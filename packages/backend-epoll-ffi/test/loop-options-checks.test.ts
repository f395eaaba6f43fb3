import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopError, type HttpServer, type TcpServer } from '@loop/core';
import { createLoop } from '../src/index.js';
import { connect } from 'node:net';
import { eventually, openFdCount, rawExchange } from './http-helpers.js';

/** Send `text` to `port`, half-close, and collect what comes back until the server closes. */
function echo(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    socket.on('data', (chunk: Buffer) => (got += String(chunk)));
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
  });
}

/** What `fn` throws: its class (TypeError or not), code and message. */
function refusal(fn: () => unknown): { type: boolean; code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof EventLoopError)) throw error;
    return { type: error instanceof TypeError, code: error.code, message: error.message };
  }
  throw new Error('no throw');
}

const noop = (): void => undefined;

describe('the trigger option', () => {
  const saved = process.env['LOOP_EPOLL_TRIGGER'];
  afterEach(() => {
    if (saved === undefined) delete process.env['LOOP_EPOLL_TRIGGER'];
    else process.env['LOOP_EPOLL_TRIGGER'] = saved;
  });

  it('defaults to level, and to edge when LOOP_EPOLL_TRIGGER=edge; an explicit trigger wins over the environment', () => {
    delete process.env['LOOP_EPOLL_TRIGGER'];
    const plain = createLoop();
    process.env['LOOP_EPOLL_TRIGGER'] = 'edge';
    const fromEnv = createLoop();
    const explicit = createLoop({ trigger: 'level' });
    process.env['LOOP_EPOLL_TRIGGER'] = 'sideways';
    const unknownEnv = createLoop();
    expect([plain.trigger, fromEnv.trigger, explicit.trigger, unknownEnv.trigger]).toEqual(['level', 'edge', 'level', 'level']);
    for (const loop of [plain, fromEnv, explicit, unknownEnv]) loop.close();
  });

  it('names the accepted triggers and what it got when it refuses one (a type, null, or an unknown name)', () => {
    expect(refusal(() => createLoop({ trigger: 5 as never }))).toEqual({ type: true, code: 'ERR_INVALID_ARG', message: "trigger must be 'level' or 'edge', got number" });
    expect(refusal(() => createLoop({ trigger: null as never }))).toEqual({ type: true, code: 'ERR_INVALID_ARG', message: "trigger must be 'level' or 'edge', got null" });
    expect(refusal(() => createLoop({ trigger: 'sideways' as never }))).toEqual({
      type: false,
      code: 'ERR_INVALID_ARG',
      message: "trigger must be 'level' or 'edge', got 'sideways'",
    });
  });
});

describe('the listen options this backend adds', () => {
  it('names what it got when it refuses an fd: a type, null, a negative, a fraction or one above the int range', () => {
    const loop = createLoop();
    expect(refusal(() => loop.listen({ fd: '3' as never }, noop, noop))).toEqual({ type: true, code: 'ERR_INVALID_ARG', message: 'fd must be a number, got string' });
    expect(refusal(() => loop.listen({ fd: null as never }, noop, noop))).toEqual({ type: true, code: 'ERR_INVALID_ARG', message: 'fd must be a number, got null' });
    for (const fd of [-1, 1.5, 0x80000000]) {
      expect(refusal(() => loop.listen({ fd }, noop, noop))).toEqual({ type: false, code: 'ERR_INVALID_ARG', message: `fd must be a non-negative integer, got ${fd}` });
    }
    expect(refusal(() => loop.listen({ port: 0, exclusive: 'yes' as never }, noop, noop))).toEqual({
      type: true,
      code: 'ERR_INVALID_ARG',
      message: 'exclusive must be a boolean, got string',
    });
    expect(loop.alive()).toBe(false);
    loop.close();
  });

  it('takes fd 0 and the largest int as fds: they are checked as fds (not bound sockets here), not refused as out of range', async () => {
    const loop = createLoop();
    // fd 0 is this process's stdin (not a socket): the takeover fails with ERR_SOCKET, not ERR_INVALID_ARG.
    for (const fd of [0, 0x7fffffff]) {
      const error = await loop.listen({ fd }, noop).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect((error as EventLoopError).code).toBe('ERR_SOCKET');
    }
    loop.close();
  });

  it('accepts exclusive: false and exclusive: true on a plain listener, and serves either', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const servers: TcpServer[] = [];
    for (const exclusive of [false, true]) {
      servers.push(await loop.listen({ port: 0, exclusive }, (stream) => stream.on({ data: (chunk) => stream.write(chunk), end: () => stream.end() })));
    }
    const running = loop.run();
    const echoes = await Promise.all(servers.map((server) => echo(server.address.port, 'ping')));
    expect(echoes).toEqual(['ping', 'ping']);
    for (const server of servers) server.close();
    await running;
    loop.close();
    // The exclusive listener's epoll set and eventfd close once its pool thread has let go of them.
    await eventually(() => openFdCount() === fdsBefore, 'every fd to be closed');
  });

  it('names the accepted parsers and what it got when it refuses one', () => {
    const loop = createLoop();
    expect(refusal(() => loop.serveHttp({ port: 0, parser: 1 as never }, noop, noop))).toEqual({ type: true, code: 'ERR_INVALID_ARG', message: "parser must be 'fast' or 'llhttp', got number" });
    expect(refusal(() => loop.serveHttp({ port: 0, parser: 'other' as never }, noop, noop))).toEqual({
      type: false,
      code: 'ERR_INVALID_ARG',
      message: "parser must be 'fast' or 'llhttp', got 'other'",
    });
    loop.close();
  });

  it('serves with either parser it accepts', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const servers: HttpServer[] = [];
    for (const parser of ['fast', 'llhttp'] as const) {
      servers.push(await loop.serveHttp({ port: 0, parser }, (request, response) => response.respond(200, { 'content-type': 'text/plain' }, `${parser} ${request.url}`)));
    }
    const running = loop.run();
    const answers = await Promise.all(servers.map((server) => rawExchange(server.address.port, 'GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')));
    expect(answers.map((answer) => String(answer).split('\r\n\r\n')[1])).toEqual(['fast /x', 'llhttp /x']);
    for (const server of servers) server.close();
    await running;
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});
