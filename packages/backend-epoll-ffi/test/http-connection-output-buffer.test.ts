import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@loop/core';
import { eventually, openSocket, serve, within } from './http-helpers.js';

// The loop's output buffer is 64 KiB (OUT_SIZE in epoll-loop.ts). A response is copied into it while
// it fits; a piece that would cross its end sends what is there first, and a piece that cannot fit
// even then goes out from its own memory. These tests put pieces of every kind (latin1 heads, UTF-8
// text, byte bodies) just past what is left of it, and read every byte back off the wire.
const OUT = 64 * 1024;

/** One response as it came off the wire: its head lines (duplicates kept) and its body bytes (chunked bodies decoded). */
interface WireResponse {
  status: string;
  lines: string[];
  body: Buffer;
}

/** Split the bytes a client received into responses, keeping every head line; throws on broken framing. */
function wireResponses(data: Buffer): WireResponse[] {
  const responses: WireResponse[] = [];
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd < 0) throw new Error(`incomplete head at byte ${at}: ${JSON.stringify(data.subarray(at, at + 120).toString('latin1'))}`);
    const [status, ...lines] = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    if (!/^HTTP\/1\.1 \d{3} /.test(status as string)) throw new Error(`bad status line at byte ${at}: ${JSON.stringify(status)}`);
    at = headEnd + 4;
    const header = (name: string): string | undefined => lines.find((line) => line.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
    let body: Buffer;
    if (header('transfer-encoding') === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const sizeEnd = data.indexOf('\r\n', at, 'latin1');
        const size = Number.parseInt(data.subarray(at, sizeEnd).toString('latin1'), 16);
        if (sizeEnd < 0 || Number.isNaN(size)) throw new Error(`bad chunk size at byte ${at}`);
        const end = sizeEnd + 2 + size;
        if (data.subarray(end, end + 2).toString('latin1') !== '\r\n') throw new Error(`chunk of ${size} bytes not followed by CRLF at byte ${end}`);
        parts.push(data.subarray(sizeEnd + 2, end));
        at = end + 2;
        if (size === 0) break;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(header('content-length') ?? '0');
      if (at + length > data.length) throw new Error(`body of ${length} bytes cut short at byte ${data.length}`);
      body = data.subarray(at, at + length);
      at += length;
    }
    responses.push({ status: status as string, lines, body });
  }
  return responses;
}

/** Every byte `socket` receives until the server closes it. */
function collect(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return within(
    new Promise<Buffer>((resolve) => socket.on('close', () => resolve(Buffer.concat(chunks)))),
    15_000,
    'the server to close the connection',
  );
}

/** Bytes that each say where they are, so a lost, doubled or shifted part shows. */
function patterned(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 13 + seed) & 0xff;
  return bytes;
}

/** The names of a head's lines, lower-cased, in order (Date's value changes each second, so compare names). */
function names(response: WireResponse | undefined): string[] {
  return (response?.lines ?? []).map((line) => line.slice(0, line.indexOf(':')).toLowerCase());
}

const request = (path: string, close = false): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

describe.each(['level', 'edge'] as const)('responses against the 64 KiB output buffer on raw sockets (%s-triggered)', (trigger) => {
  it('sends a response whose head alone is longer than the output buffer whole, byte for byte', () => {
    const pad = 'h'.repeat(OUT + 4000);
    const body = patterned(1000, 1);
    return serve(
      trigger,
      {},
      (_request, response) => response.respond(200, { 'x-pad': pad }, body),
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const all = collect(socket);
        socket.write(request('/', true));
        const [response, ...rest] = wireResponses(await all);
        expect(rest).toEqual([]);
        expect(response?.lines.find((line) => line.startsWith('x-pad:'))).toBe(`x-pad: ${pad}`);
        expect(Buffer.compare(response?.body ?? Buffer.alloc(0), body)).toBe(0);
        expect(errors).toEqual([]);
      },
    );
  });

  it('answers pipelined requests whose answers overflow the output buffer within one read, each piece whole and in order', () => {
    // One read brings every request; the answers, made at once, pile up in the output buffer until
    // a piece crosses its end: byte bodies, ASCII and multibyte text, at sizes that cross it from each kind.
    const bodies: (Uint8Array | string)[] = [];
    for (let i = 0; i < 12; i++) bodies.push(patterned(7000 + 997 * i, i));
    bodies.push('a'.repeat(5000), '€'.repeat(4000), 'ü'.repeat(9000), patterned(16 * 1024, 99), '€'.repeat(7000), patterned(12000, 7));
    for (let i = 0; i < 12; i++) bodies.push(i % 2 === 0 ? 'é'.repeat(3000 + 500 * i) : patterned(9000 + 301 * i, 50 + i));
    // Heads are copied at their exact length: four long ones fill most of the buffer, and the small
    // byte body after them crosses its end (whatever the tiny body before them left there).
    bodies.push(patterned(10, 3));
    const padded = new Set<number>();
    for (let i = 0; i < 4; i++) padded.add(bodies.push('') - 1);
    bodies.push(patterned(6000, 77), 'z');
    const pad = 'q'.repeat(15000);
    const expected = bodies.map((body) => (typeof body === 'string' ? Buffer.from(body) : Buffer.from(body)));
    return serve(
      trigger,
      {},
      (request, response) => {
        const index = Number(request.url.slice(1));
        const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
        if (padded.has(index)) headers['x-pad'] = pad;
        response.respond(200, headers, bodies[index]);
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const all = collect(socket);
        socket.write(bodies.map((_, i) => request(`/${i}`, i === bodies.length - 1)).join(''));
        const responses = wireResponses(await all);
        expect(responses.length).toBe(bodies.length);
        responses.forEach((response, i) => {
          expect(response.status).toBe('HTTP/1.1 200 OK');
          expect(Buffer.compare(response.body, expected[i] as Buffer), `body ${i}`).toBe(0);
          expect(response.lines.includes(`x-pad: ${pad}`), `head ${i}`).toBe(padded.has(i));
        });
        expect(errors).toEqual([]);
      },
    );
  });

  it('sends a response made while another connection is still answering its read, without mixing in that connection\'s bytes', () => {
    // The first connection's handler answers it (about 60 KB stays in the output buffer until its
    // read is parsed) and then answers a request held from the second connection: that answer sits
    // above the first one's bytes, and each of its pieces is too long for what is left there.
    const piece = patterned(15000, 3);
    const pad = 'p'.repeat(10000);
    const text = '€'.repeat(3000);
    const bytes = patterned(10000, 5);
    let held: HttpResponse | undefined;
    return serve(
      trigger,
      {},
      (request, response) => {
        if (request.url === '/held') {
          held = response;
          return;
        }
        for (let i = 0; i < 4; i++) response.write(piece);
        const other = held as HttpResponse;
        other.setHeader('x-pad', pad);
        other.write(text);
        other.write(bytes);
        other.end('!');
        response.end();
      },
      async ({ server, errors }) => {
        const second = await openSocket(server.address.port);
        const secondAll = collect(second);
        second.write(request('/held', true));
        await eventually(() => held !== undefined, 'the held request');
        const first = await openSocket(server.address.port);
        const firstAll = collect(first);
        first.write(request('/answer', true));
        const [firstResponse, ...firstRest] = wireResponses(await firstAll);
        const [secondResponse, ...secondRest] = wireResponses(await secondAll);
        expect(firstRest).toEqual([]);
        expect(secondRest).toEqual([]);
        expect(Buffer.compare(firstResponse?.body ?? Buffer.alloc(0), Buffer.concat([piece, piece, piece, piece]))).toBe(0);
        expect(secondResponse?.lines.find((line) => line.startsWith('x-pad:'))).toBe(`x-pad: ${pad}`);
        expect(Buffer.compare(secondResponse?.body ?? Buffer.alloc(0), Buffer.concat([Buffer.from(text), bytes, Buffer.from('!')]))).toBe(0);
        expect(errors).toEqual([]);
      },
    );
  });

  it('ends a head with one Date and one Connection line whether the handler set them or not', () => {
    const date = 'Mon, 01 Jan 2024 00:00:00 GMT';
    return serve(
      trigger,
      {},
      (request, response) => {
        const headers: Record<string, string> = { 'content-type': 'text/plain' };
        if (request.url.includes('date')) headers.date = date;
        if (request.url.includes('keep')) headers.connection = 'keep-alive';
        if (request.url.includes('close')) headers.connection = 'close';
        response.respond(200, headers, request.url);
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const all = collect(socket);
        const paths = ['/plain', '/date', '/keep', '/date-keep', '/plain', '/date-close'];
        socket.write(paths.map((path) => request(path)).join(''));
        const responses = wireResponses(await all);
        expect(responses.map((response) => response.body.toString())).toEqual(paths);
        const connection = (response: WireResponse | undefined): string[] => (response?.lines ?? []).filter((line) => line.toLowerCase().startsWith('connection:'));
        const dates = (response: WireResponse | undefined): string[] => (response?.lines ?? []).filter((line) => line.toLowerCase().startsWith('date:'));
        for (const response of responses) {
          expect(names(response).filter((name) => name === 'date')).toEqual(['date']);
          expect(names(response).filter((name) => name === 'connection')).toEqual(['connection']);
        }
        expect(dates(responses[1])).toEqual([`date: ${date}`]);
        expect(dates(responses[3])).toEqual([`date: ${date}`]);
        expect(connection(responses[0])).toEqual(['Connection: keep-alive']);
        expect(connection(responses[1])).toEqual(['Connection: keep-alive']);
        expect(connection(responses[2])).toEqual(['connection: keep-alive']);
        expect(connection(responses[5])).toEqual(['connection: close']);
        expect(errors).toEqual([]);
      },
    );
  });
});
