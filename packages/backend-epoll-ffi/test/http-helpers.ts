import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { expect } from 'vitest';
import type { HttpHandler, HttpServer, HttpServerOptions } from '@loop/core';
import { createLoop, type EpollEventLoop, type EpollHttpOptions, type TriggerMode } from '../src/index.js';

/** Open fds of this process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Reject after `ms`, so that a hang fails the test instead of stalling it. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Send raw bytes (parts `pauseMs` apart) with a plain Node socket; everything received until the server closed. */
export function rawExchange(port: number, payload: string | Buffer | (string | Buffer)[], pauseMs = 0): Promise<Buffer> {
  const parts = Array.isArray(payload) ? payload : [payload];
  return within(
    new Promise<Buffer>((resolve, reject) => {
      const socket: Socket = connect({ host: '127.0.0.1', port });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
      });
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      socket.on('connect', () => {
        let index = 0;
        const next = (): void => {
          const part = parts[index++];
          if (part === undefined) return;
          socket.write(part);
          if (index < parts.length) setTimeout(next, pauseMs);
        };
        next();
      });
    }),
    10_000,
    'raw exchange',
  );
}

/** One response: status, headers (lower-case names), body. */
export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parse consecutive HTTP/1.1 responses (Content-Length, chunked, or 1xx without a body). */
export function parseResponses(data: Buffer): ParsedResponse[] {
  const text = data.toString('latin1');
  const responses: ParsedResponse[] = [];
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) throw new Error(`incomplete response head: ${JSON.stringify(text.slice(at, at + 200))}`);
    const lines = text.slice(at, headEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines.shift() as string)?.[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    at = headEnd + 4;
    let body = '';
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const sizeEnd = text.indexOf('\r\n', at);
        const size = parseInt(text.slice(at, sizeEnd), 16);
        at = sizeEnd + 2;
        if (size === 0) {
          at += 2;
          break;
        }
        body += text.slice(at, at + size);
        at += size + 2;
      }
    } else if (status >= 200) {
      const length = Number(headers['content-length'] ?? 0);
      body = text.slice(at, at + length);
      at += length;
    }
    responses.push({ status, headers, body });
  }
  return responses;
}

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
