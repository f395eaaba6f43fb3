import { connect, type Socket } from 'node:net';
import { expect } from 'vitest';
import type { HttpHandler, HttpServer, HttpServerOptions } from '@loop/core';
import { openFdCount, parseResponses, rawExchange, within, type ParsedResponse } from '@loop/core/conformance';
import { createLoop, type EpollEventLoop, type EpollHttpOptions, type TriggerMode } from '../src/index.js';

// The raw-client helpers are core's (the conformance suite's own), re-exported for this package's tests.
export { openFdCount, parseResponses, rawExchange, within, type ParsedResponse };

/** What a test gets: the loop, the server, the reported errors and raw clients. */
export interface Served {
  loop: EpollEventLoop;
  server: HttpServer;
  errors: unknown[];
  /** Send raw bytes on a fresh connection; every byte the server sent until it closed. */
  raw(payload: string | Buffer | (string | Buffer)[], pauseMs?: number): Promise<Buffer>;
  /** The same, parsed into responses. */
  send(payload: string | Buffer | (string | Buffer)[], pauseMs?: number): Promise<ParsedResponse[]>;
}

/** Serve `handler` on a fresh loop while `fn` runs; then close everything and check no fd leaked. */
export async function serve(trigger: TriggerMode, options: HttpServerOptions & EpollHttpOptions, handler: HttpHandler, fn: (served: Served) => Promise<void>): Promise<void> {
  const fdsBefore = openFdCount();
  const errors: unknown[] = [];
  const loop = createLoop({ trigger, onError: (error) => errors.push(error) });
  const server = await loop.serveHttp({ port: 0, ...options }, handler);
  const running = loop.run();
  const raw = (payload: string | Buffer | (string | Buffer)[], pauseMs = 0): Promise<Buffer> => rawExchange(server.address.port, payload, pauseMs);
  const send = async (payload: string | Buffer | (string | Buffer)[], pauseMs = 0): Promise<ParsedResponse[]> => parseResponses(await raw(payload, pauseMs));
  try {
    await fn({ loop, server, errors, raw, send });
  } finally {
    server.close();
    await within(running, 10_000, 'loop to finish after server.close()');
  }
  loop.close();
  expect(openFdCount()).toBe(fdsBefore);
}

/** Open a plain Node connection and resolve once it is connected. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolve once `check()` holds, looking again on each turn of Node's loop (a guard against a hang only). */
export function eventually(check: () => boolean, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const look = (): void => {
        if (check()) resolve();
        else setTimeout(look, 5);
      };
      look();
    }),
    10_000,
    what,
  );
}

/** `count` client connections to `port`, resolved once all are connected (so all wait in the backlog). */
export async function connectMany(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port });
          sockets.push(socket);
          socket.on('error', () => undefined); // a reset by the closing server is expected in some tests
          socket.once('connect', () => resolve());
          socket.once('error', reject);
        }),
    ),
  );
  return sockets;
}
