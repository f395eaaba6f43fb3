import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { EventLoop } from '@loop/core';
import { TestWebSocket } from '@loop/core/conformance';
import { exchange, withServer, until } from './helpers.js';

// uWS calls in while the loop waits in its poll phase; the loop's time must then be read again, or
// a callback would see the time the wait began. Each event here comes after the loop sat idle,
// and its callback's loop.now() must not be older than the moment the test sent it (the same
// clock: performance.now()). The idle waits only need time to pass, not the machine to be fast.

const idle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

/** The loop under test, set once its server runs: the callbacks read its time. */
let current: EventLoop | undefined;
const loopNow = (): number => (current as EventLoop).now();

describe('the loop’s time inside uWS’s callbacks', () => {
  it('is read again for each request that arrives after the loop sat idle', () => {
    const seen: number[] = [];
    return withServer(
      {},
      (_request, response) => {
        seen.push(loopNow());
        response.end('ok');
      },
      async (server, loop) => {
        current = loop;
        const sent: number[] = [];
        for (let i = 0; i < 3; i++) {
          await idle();
          sent.push(performance.now());
          const answer = await exchange(server.address.port, 'GET /now HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
          expect(answer.text.endsWith('ok')).toBe(true);
        }
        expect(seen.length).toBe(3);
        for (let i = 0; i < 3; i++) expect(seen[i]).toBeGreaterThanOrEqual(sent[i] as number);
      },
    );
  });

  it('is read again for a body chunk that arrives after the loop sat idle', () => {
    const times: number[] = [];
    let headArrived = false;
    return withServer(
      {},
      (request, response) => {
        headArrived = true;
        request.on({
          data: () => times.push(loopNow()),
          end: () => response.end('ok'),
        });
      },
      async (server, loop) => {
        current = loop;
        const socket = connect({ host: '127.0.0.1', port: server.address.port });
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\n');
        await until(() => headArrived);
        await idle();
        const sent = performance.now();
        socket.write('ab');
        await until(() => times.length === 1);
        socket.destroy();
        expect(times[0]).toBeGreaterThanOrEqual(sent);
      },
    );
  });

  it('is read again for an upgrade and a WebSocket message that arrive after the loop sat idle', () => {
    const times: Record<string, number> = {};
    return withServer(
      {
        websocket: {
          upgrade: (_request, upgrade) => {
            times.upgrade = loopNow();
            upgrade.accept(undefined);
          },
          message: () => {
            times.message = loopNow();
          },
        },
      },
      () => undefined,
      async (server, loop) => {
        current = loop;
        await idle();
        const upgradeSent = performance.now();
        const client = await TestWebSocket.open(server.address.port);
        await idle();
        const messageSent = performance.now();
        client.sendText('now');
        await until(() => times.message !== undefined);
        client.close(1000);
        await client.closed;
        expect(times.upgrade).toBeGreaterThanOrEqual(upgradeSent);
        expect(times.message).toBeGreaterThanOrEqual(messageSent);
      },
    );
  });
});
