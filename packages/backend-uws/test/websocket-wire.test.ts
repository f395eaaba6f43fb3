import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { HttpRequest, HttpServer, WebSocketBehavior } from '@loop/core';
import { Opcode, TestWebSocket } from '@loop/core/conformance';
import { exchange, withServer, until, noHttp, serveWs } from './helpers.js';

// What a WebSocket exchange puts on the wire and hands to its callbacks, beyond the conformance
// suite: the upgrade's refusals byte for byte, the defaults of ping() and close(), the client's
// close code, the request's lifetime, and upgrades during a server's close. Waits are for
// events, never for the machine being fast.

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A raw upgrade request for `path`, with `extra` header lines. */
function upgradeRequest(path: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/** A plain socket that collects what it receives. */
function rawClient(port: number): Promise<{ socket: Socket; text: () => string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, text: () => Buffer.concat(chunks).toString('latin1') }));
    socket.once('error', reject);
  });
}

describe('upgrade refusals on the wire', () => {
  it('sends reject()’s status with its reason phrase, text/plain, and an empty body by default', () =>
    serveWs(
      {
        upgrade: (request, upgrade) => {
          if (request.url === '/404') upgrade.reject(404);
          else upgrade.reject(499, 'odd');
        },
      },
      async (server) => {
        const known = await exchange(server.address.port, upgradeRequest('/404'));
        expect(known.text).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
        expect(known.text).toMatch(/\r\nContent-Type: text\/plain\r\n/);
        expect(known.text).toMatch(/\r\nContent-Length: 0\r\n/);
        expect(known.text.endsWith('\r\n\r\n')).toBe(true);
        const unknown = await exchange(server.address.port, upgradeRequest('/499'));
        expect(unknown.text).toMatch(/^HTTP\/1\.1 499 Error\r\n/);
        expect(unknown.text.endsWith('\r\n\r\nodd')).toBe(true);
      },
    ));

  it('refuses an upgrade request with a body with 400 and one past a limit with that limit’s status, before the upgrade callback', () => {
    const seen: string[] = [];
    return withServer(
      { maxUrlLength: 16, websocket: { upgrade: (request, upgrade) => (seen.push(request.url), upgrade.reject(403)) } },
      noHttp,
      async (server) => {
        const withBody = await exchange(server.address.port, upgradeRequest('/body', 'Content-Length: 3\r\n') + 'abc');
        expect(withBody.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
        const longUrl = await exchange(server.address.port, upgradeRequest(`/${'u'.repeat(16)}`));
        expect(longUrl.text).toMatch(/^HTTP\/1\.1 414 URI Too Long\r\n/);
        const fine = await exchange(server.address.port, upgradeRequest('/fine'));
        expect(fine.text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
        expect(seen).toEqual(['/fine']);
      },
    );
  });

  it('refuses with 503 an upgrade arriving on a kept-alive connection while the server closes, then closes', async () => {
    let held: (() => void) | undefined;
    const upgrades: string[] = [];
    let server: HttpServer | undefined;
    await withServer(
      { websocket: { upgrade: (request, upgrade) => (upgrades.push(request.url), upgrade.accept(undefined)) } },
      (request, response) => {
        if (request.url === '/hold') held = () => response.respond(200, {}, 'held');
        else response.respond(200, {}, 'ok');
      },
      async (started) => {
        server = started;
        const port = started.address.port;
        // A connection the server has accepted and served, left idle and open.
        const idle = await rawClient(port);
        idle.socket.write('GET /first HTTP/1.1\r\nHost: t\r\n\r\n');
        await until(() => idle.text().endsWith('ok'));
        // A response in flight keeps the closing server's connections open.
        const holder = await rawClient(port);
        holder.socket.write('GET /hold HTTP/1.1\r\nHost: t\r\n\r\n');
        await until(() => held !== undefined);
        server.close();
        const before = idle.text().length;
        idle.socket.write(upgradeRequest('/late'));
        await until(() => idle.text().includes('the server is closing'));
        const answer = idle.text().slice(before);
        expect(answer).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
        expect(answer.endsWith('\r\n\r\nthe server is closing')).toBe(true);
        expect(upgrades).toEqual([]);
        held?.();
        await until(() => holder.text().endsWith('held'));
        idle.socket.destroy();
        holder.socket.destroy();
      },
    );
  });
});

describe('WebSocket defaults and callbacks', () => {
  it('pings with an empty payload and closes with 1000 and no reason when called without arguments', () =>
    serveWs(
      {
        open: (socket) => socket.ping(),
        pong: (socket) => socket.close(),
      },
      async (server) => {
        const client = await TestWebSocket.open(server.address.port);
        const closed = await client.closed;
        expect(client.frames.filter((f) => f.opcode === Opcode.PING).map((f) => f.data.length)).toEqual([0]);
        expect([closed.code, closed.reason]).toEqual([1000, '']);
      },
    ));

  it('hands the close callback the code and reason the client sent', () => {
    const closes: [number, string][] = [];
    return serveWs({ close: (_socket, code, reason) => closes.push([code, reason]) }, async (server) => {
      const client = await TestWebSocket.open(server.address.port);
      client.close(4000, 'client leaves');
      await client.closed;
      await until(() => closes.length === 1);
      expect(closes).toEqual([[4000, 'client leaves']]);
    });
  });

  it('lets the upgrade’s request expire when the upgrade callback returns', () => {
    let kept: HttpRequest | undefined;
    const during: string[] = [];
    const after: unknown[] = [];
    return serveWs(
      {
        upgrade: (request, upgrade) => {
          kept = request;
          during.push(request.url, request.header('x-tag') ?? '');
          upgrade.accept(undefined);
        },
        open: () => {
          for (const read of [() => kept?.url, () => kept?.header('x-tag'), () => kept?.on({})]) {
            try {
              after.push(read());
            } catch (error) {
              after.push((error as { code?: string; message: string }).code, (error as Error).message.split(' after')[0]);
            }
          }
        },
      },
      async (server) => {
        const client = await TestWebSocket.open(server.address.port, { path: '/kept', headers: 'X-Tag: t1\r\n' });
        await until(() => after.length === 6);
        expect(during).toEqual(['/kept', 't1']);
        expect(after).toEqual([
          'ERR_REQUEST_EXPIRED',
          'request.url was read',
          'ERR_REQUEST_EXPIRED',
          'request.header() was called',
          'ERR_REQUEST_EXPIRED',
          'request.on() was called',
        ]);
        client.close(1000);
        await client.closed;
      },
    );
  });
});
