import { expect } from 'vitest';
import type { HttpHandler, HttpServer, HttpServerOptions } from '../http.js';
import type { EventLoop } from '../loop.js';
import { openFdCount, parseResponses, rawExchange, recordingLoop, within, type LoopFactory, type ParsedResponse } from './helpers.js';

/** What an HTTP conformance test gets: the loop, its server, the reported errors and a raw client. */
export interface HttpFixture {
  loop: EventLoop;
  server: HttpServer;
  errors: { error: unknown; phase: string }[];
  /** Send raw bytes on a fresh connection and parse every response until the server closes it. */
  send(payload: string | Buffer | (string | Buffer)[], pauseMs?: number): Promise<ParsedResponse[]>;
}

/**
 * Serve `handler` on a fresh loop while `fn` talks to it with plain Node sockets; then close the
 * server, wait for the loop to finish, close it, and check the process's fd count is back.
 */
export async function withHttp(
  createLoop: LoopFactory,
  options: HttpServerOptions,
  makeHandler: (loop: EventLoop) => HttpHandler,
  fn: (fixture: HttpFixture) => Promise<void>,
): Promise<void> {
  const fdsBefore = openFdCount();
  const { loop, errors } = recordingLoop(createLoop);
  const server = await loop.serveHttp({ port: 0, ...options }, makeHandler(loop));
  const running = loop.run();
  const send = async (payload: string | Buffer | (string | Buffer)[], pauseMs = 0): Promise<ParsedResponse[]> =>
    parseResponses(await rawExchange(server.address.port, payload, pauseMs));
  try {
    await fn({ loop, server, errors, send });
  } finally {
    server.close();
    await within(running, 10_000, 'loop to finish after server.close()');
  }
  loop.close();
  expect(openFdCount()).toBe(fdsBefore);
}

/** Answers `hello <method> <url>`. */
export const hello: HttpHandler = (request, response) => {
  response.setHeader('content-type', 'text/plain');
  response.end(`hello ${request.method} ${request.url}`);
};
/** A handler factory for {@link withHttp} that serves {@link hello}. */
export const serveHello = (): HttpHandler => hello;

