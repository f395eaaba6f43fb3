import { connect } from 'node:net';
import type { EventLoop, HttpHandler, HttpServer, HttpServerOptions, WebSocketBehavior } from '@loop/core';
import { openFdCount } from '@loop/core/conformance';
import { createLoop } from '../src/index.js';

// Open fds of this process: the conformance suite's own count.
export { openFdCount };

/** What a raw exchange got back: the bytes, and whether the server closed within the wait. */
export interface RawResult {
  readonly text: string;
  readonly closedByServer: boolean;
  readonly ms: number;
}

/** Send `payload` on a fresh plain socket and collect until the server closes it (or `waitMs` passes). */
export function exchange(port: number, payload: string | Buffer, waitMs = 3_000): Promise<RawResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, waitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // a refused request may be reset while we still write
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer: !timedOut, ms: Date.now() - started });
    });
    socket.on('connect', () => socket.write(payload));
  });
}

/** The status codes of the responses in `text`, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
}

/** Serve `handler` on a fresh uWS loop around `fn`, then close everything and check fds. */
export async function withServer(
  options: HttpServerOptions,
  handler: HttpHandler,
  fn: (server: HttpServer, loop: EventLoop, errors: unknown[]) => Promise<void>,
): Promise<void> {
  const fdsBefore = openFdCount();
  const errors: unknown[] = [];
  const loop = createLoop({ onError: (error) => errors.push(error) });
  const server = await loop.serveHttp({ port: 0, ...options }, handler);
  const running = loop.run();
  try {
    await fn(server, loop, errors);
  } finally {
    server.close();
    await running;
    loop.close();
  }
  if (openFdCount() !== fdsBefore) throw new Error(`fds leaked: ${fdsBefore} before, ${openFdCount()} after`);
}

/** Resolve once `ready()` holds (no upper bound on the machine's speed: vitest's timeout is the limit). */
export async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The plain-HTTP handler of a server that only takes WebSocket upgrades. */
export const noHttp = (): never => {
  throw new Error('no plain HTTP in these tests');
};

/** Serve only WebSockets with `behavior` around `fn` (see {@link withServer}). */
export function serveWs(behavior: WebSocketBehavior, fn: (server: HttpServer, errors: unknown[]) => Promise<void>): Promise<void> {
  return withServer({ websocket: behavior }, noHttp, (server, _loop, errors) => fn(server, errors));
}

/** What `fn` threw, as `{ type, code, message }` (type: TypeError or EventLoopError), or `'no error'`. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return 'no error';
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return { type: error instanceof TypeError ? 'TypeError' : 'EventLoopError', code, message };
  }
}
