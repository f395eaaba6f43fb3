import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe } from 'vitest';
import type { EventLoop, Phase } from '../loop.js';

/** A loop factory as a backend exports it. */
export type LoopFactory = (options?: { onError?: (error: unknown, phase: Phase) => void }) => EventLoop;

/** Number of open file descriptors of this process (Linux), or -1 where /proc is missing. */
export function openFdCount(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

/** A loop whose error handler records what it gets, so tests can assert on reported errors. */
export function recordingLoop(createLoop: LoopFactory): { loop: EventLoop; errors: { error: unknown; phase: Phase }[] } {
  const errors: { error: unknown; phase: Phase }[] = [];
  const loop = createLoop({ onError: (error, phase) => errors.push({ error, phase }) });
  return { loop, errors };
}

/** Reject after `ms` so a broken backend fails a test instead of hanging it. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Send raw bytes to `port` with a plain Node socket and collect everything until the server
 * closes the connection. The client is deliberately not the loop under test.
 */
export function rawExchange(port: number, payload: string | Buffer | (string | Buffer)[], pauseMs = 0): Promise<Buffer> {
  const parts = Array.isArray(payload) ? payload : [payload];
  return within(
    new Promise<Buffer>((resolve, reject) => {
      const socket: Socket = connect({ host: '127.0.0.1', port });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (error: NodeJS.ErrnoException) => {
        // A server that refuses a request may reset the connection while we still write.
        if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
        reject(error);
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
    15_000,
    'raw HTTP exchange',
  );
}

/** One parsed HTTP response. */
export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parse a byte stream of consecutive HTTP/1.1 responses (Content-Length or chunked bodies). */
export function parseResponses(data: Buffer): ParsedResponse[] {
  const text = data.toString('latin1');
  const responses: ParsedResponse[] = [];
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) throw new Error(`incomplete response head: ${JSON.stringify(text.slice(at, at + 200))}`);
    const lines = text.slice(at, headEnd).split('\r\n');
    const statusLine = lines.shift() as string;
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!match) throw new Error(`bad status line: ${JSON.stringify(statusLine)}`);
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
        // A body still arriving: say so (callers wait for more) instead of reading past the end.
        if (sizeEnd < 0 || Number.isNaN(size) || sizeEnd + 2 + size + 2 > text.length) throw new Error('incomplete chunked body');
        at = sizeEnd + 2;
        if (size === 0) {
          at += 2;
          break;
        }
        body += text.slice(at, at + size);
        at += size + 2;
      }
    } else {
      const length = Number(headers['content-length'] ?? 0);
      body = text.slice(at, at + length);
      at += length;
    }
    responses.push({ status: Number(match[1]), headers, body });
  }
  return responses;
}

/** A minimal GET request. */
export function get(path: string, extraHeaders = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: test\r\n${extraHeaders}\r\n`;
}

/**
 * Register `supported` when the backend declares the capability, and otherwise `unsupported`
 * (tests asserting {@link UnsupportedError}) under a title that says so: either way the report
 * shows what ran for that capability, and nothing is left skipped.
 */
export function forCapability(capable: boolean, title: string, supported: () => void, unsupported: () => void): void {
  if (capable) describe(title, supported);
  else describe(`${title}: declared unsupported`, unsupported);
}

/** Spin for `ms` of real time: the clock must move while the loop's cached time must not. */
export function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* the clock must move while the loop's cached time must not */
  }
}

/** Run `fn` against a fresh loop and check it can be closed afterwards (nothing left live). */
export async function withLoop(
  createLoop: LoopFactory,
  fn: (loop: EventLoop, errors: { error: unknown; phase: string }[]) => Promise<void> | void,
): Promise<void> {
  const { loop, errors } = recordingLoop(createLoop);
  await fn(loop, errors);
  loop.close();
}

/** Record the phase hooks around each event, so a test can see which phase an event ran in. */
export function tracePhases(loop: EventLoop, order: string[]): () => void {
  if (!loop.capabilities.prepare || !loop.capabilities.check) return () => undefined;
  const prepare = loop.prepare(() => order.push('prepare')).start().unref();
  const check = loop.check(() => order.push('check')).start().unref();
  return () => {
    prepare.close();
    check.close();
  };
}

/** `true` when `event` sits between a prepare and a check entry of `order`: it ran in a poll phase. */
export function ranInPollPhase(order: string[], event: string): boolean {
  const at = order.indexOf(event);
  if (at < 0) return false;
  const before = order.lastIndexOf('prepare', at);
  const after = order.indexOf('check', at);
  return before >= 0 && after > at && !order.slice(before + 1, at).includes('check');
}

/**
 * Let `ms` pass on the loop's clock inside a callback: a busy-wait moves a real clock; a virtual
 * clock (a loop with an `advance(ms)` method, such as `@loop/backend-virtual`'s) moves only by hand.
 */
export function passTime(loop: EventLoop, ms: number): void {
  const advance = (loop as EventLoop & { advance?: unknown }).advance;
  if (typeof advance === 'function') (advance as (ms: number) => void).call(loop, ms);
  else busyWait(ms);
}
