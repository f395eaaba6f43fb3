import { expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { UnsupportedError } from '../errors.js';
import type { HttpHandler } from '../http.js';
import type { WebSocket, WebSocketBehavior, WebSocketSendStatus } from '../websocket.js';
import { forCapability, recordingLoop, within, type LoopFactory } from './helpers.js';
import { hello, withHttp } from './http-fixture.js';
import { Opcode, TestWebSocket, UpgradeRefused } from './websocket-client.js';

/** Resolves when `check()` holds, polling the real clock (the loop runs meanwhile); fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const noHttp: HttpHandler = (_request, response) => response.respond(404, { 'content-type': 'text/plain' }, 'not a websocket\n');

/** The WebSocket server capability: upgrade, messages, close codes, ping/pong, backpressure, limits, topics. */
export function defineWebSocketSuite(createLoop: LoopFactory, capabilities: Capabilities): void {
  forCapability(
    capabilities.websocket && capabilities.http,
    'websocket server',
    () => {
      it('upgrades with access to the request, opens the socket with the accepted data, and serves plain HTTP beside it', () => {
        const order: string[] = [];
        const behavior: WebSocketBehavior<{ room: string }> = {
          upgrade: (request, upgrade) => {
            order.push(`upgrade ${request.url} ${request.header('x-room') ?? '-'}`);
            upgrade.accept({ room: request.header('x-room') ?? 'none' }, 'chat');
          },
          open: (socket) => order.push(`open ${socket.data.room}`),
          message: (socket, data) => order.push(`message ${socket.data.room} ${Buffer.from(data).toString()}`),
        };
        return withHttp(createLoop, { websocket: behavior as WebSocketBehavior }, () => hello, async ({ send, server }) => {
          const client = await TestWebSocket.open(server.address.port, {
            path: '/chat?x=1',
            headers: 'X-Room: blue\r\nSec-WebSocket-Protocol: chat, superchat\r\n',
          });
          expect(client.headers['sec-websocket-protocol']).toBe('chat');
          client.sendText('hi');
          await until(() => order.length === 3, 'the message');
          expect(order).toEqual(['upgrade /chat?x=1 blue', 'open blue', 'message blue hi']);
          const plain = await send('GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
          expect(plain.map((r) => r.body)).toEqual(['hello GET /plain']);
          client.close(1000);
          await within(client.closed, 5_000, 'the close');
        });
      });

      it('rejects an upgrade with the status chosen, later than the upgrade callback, and goes on serving', () => {
        const behavior: WebSocketBehavior = {
          upgrade: (request, upgrade) => {
            const allowed = request.url === '/ok';
            setTimeout(() => (allowed ? upgrade.accept(undefined) : upgrade.reject(403, 'go away')), 20);
          },
        };
        return withHttp(createLoop, { websocket: behavior }, () => noHttp, async ({ server }) => {
          const refused = await TestWebSocket.open(server.address.port, { path: '/no' }).catch((error: unknown) => error);
          expect(refused).toBeInstanceOf(UpgradeRefused);
          expect([(refused as UpgradeRefused).status, (refused as UpgradeRefused).body]).toEqual([403, 'go away']);
          const accepted = await TestWebSocket.open(server.address.port, { path: '/ok' });
          accepted.close(1000);
          await within(accepted.closed, 5_000, 'the close');
        });
      });

      it('echoes text as text and binary as binary, in order', () => {
        const behavior: WebSocketBehavior = {
          message: (socket, data, isBinary) => {
            socket.send(isBinary ? data : `echo ${Buffer.from(data).toString()}`, isBinary);
          },
        };
        return withHttp(createLoop, { websocket: behavior }, () => noHttp, async ({ server }) => {
          const client = await TestWebSocket.open(server.address.port);
          client.sendText('one');
          client.sendBinary(Uint8Array.of(0, 1, 2, 255));
          client.sendText('three');
          const frames = await within(client.next(3), 5_000, 'three echoes');
          expect(frames.map((f) => [f.opcode, f.opcode === Opcode.TEXT ? f.data.toString() : [...f.data]])).toEqual([
            [Opcode.TEXT, 'echo one'],
            [Opcode.BINARY, [0, 1, 2, 255]],
            [Opcode.TEXT, 'echo three'],
          ]);
          client.close(1000);
          await within(client.closed, 5_000, 'the close');
        });
      });

      it('reports the client’s close code and reason once, and sends the server’s own close code', () => {
        const closes: [string, number, string][] = [];
        const behavior: WebSocketBehavior = {
          message: (socket, data) => {
            if (Buffer.from(data).toString() === 'close me') socket.close(4002, 'done');
          },
          close: (socket, code, reason) => {
            closes.push([socket.closed ? 'closed' : 'open', code, reason]);
          },
        };
        return withHttp(createLoop, { websocket: behavior }, () => noHttp, async ({ server }) => {
          const first = await TestWebSocket.open(server.address.port);
          first.close(4001, 'bye');
          await within(first.closed, 5_000, 'the client-initiated close');
          await until(() => closes.length === 1, 'the close callback');
          const second = await TestWebSocket.open(server.address.port);
          second.sendText('close me');
          const closed = await within(second.closed, 5_000, 'the server-initiated close');
          expect([closed.code, closed.reason]).toEqual([4002, 'done']);
          await until(() => closes.length === 2, 'the second close callback');
          expect(closes).toEqual([
            ['closed', 4001, 'bye'],
            ['closed', 4002, 'done'],
          ]);
        });
      });

      it('refuses close codes an endpoint may not send, and a closed socket drops sends without throwing', () => {
        const results: unknown[] = [];
        let kept: WebSocket | undefined;
        const behavior: WebSocketBehavior = {
          open: (socket) => {
            kept = socket;
            for (const code of [1005, 1006, 999, 5000]) {
              try {
                socket.close(code);
                results.push('no error');
              } catch (error) {
                results.push((error as { code?: string }).code);
              }
            }
            socket.close(1000, 'fine');
          },
          close: (socket) => {
            results.push(socket.send('late'), socket.ping(), socket.subscribe('t'), socket.publish('t', 'x'));
            socket.close(1000);
            socket.terminate();
          },
        };
        return withHttp(createLoop, { websocket: behavior }, () => noHttp, async ({ server }) => {
          const client = await TestWebSocket.open(server.address.port);
          const closed = await within(client.closed, 5_000, 'the close');
          expect(closed.code).toBe(1000);
          await until(() => results.length === 8, 'the close callback');
          expect(results).toEqual(['ERR_INVALID_ARG', 'ERR_INVALID_ARG', 'ERR_INVALID_ARG', 'ERR_INVALID_ARG', 'dropped', 'dropped', false, false]);
          expect(kept?.closed).toBe(true);
        });
      });

      it('answers pings with pongs, reports them, and hears the pong to its own ping', () => {
        const seen: string[] = [];
        const behavior: WebSocketBehavior = {
          ping: (_socket, data) => seen.push(`ping ${Buffer.from(data).toString()}`),
          pong: (_socket, data) => seen.push(`pong ${Buffer.from(data).toString()}`),
          message: (socket) => {
            seen.push(`sent ${socket.ping('from server')}`);
          },
        };
        return withHttp(createLoop, { websocket: behavior }, () => noHttp, async ({ server }) => {
          const client = await TestWebSocket.open(server.address.port);
          client.ping('from client');
          const [pong] = await within(client.next(1, [Opcode.PONG]), 5_000, 'the pong');
          expect(pong?.data.toString()).toBe('from client');
          client.sendText('now ping me');
          const [ping] = await within(client.next(1, [Opcode.PING]), 5_000, 'the server’s ping');
          expect(ping?.data.toString()).toBe('from server');
          await until(() => seen.length === 3, 'the pong callback');
          expect(seen).toEqual(['ping from client', 'sent sent', 'pong from server']);
          client.close(1000);
          await within(client.closed, 5_000, 'the close');
        });
      });

      it('says buffered under backpressure, drops past maxBackpressure, and calls drain once the client reads', () => {
        const statuses: WebSocketSendStatus[] = [];
        let drained = 0;
        const chunk = new Uint8Array(64 * 1024).fill(7);
        const behavior: WebSocketBehavior = {
          maxBackpressure: 1024 * 1024,
          message: (socket) => {
            for (let i = 0; i < 512; i++) {
              const status = socket.send(chunk);
              statuses.push(status);
              if (status === 'dropped') break;
            }
          },
          drain: (socket) => {
            drained++;
            expect(socket.bufferedAmount).toBeLessThan(1024 * 1024);
          },
        };
        return withHttp(createLoop, { websocket: behavior }, () => noHttp, async ({ server }) => {
          const client = await TestWebSocket.open(server.address.port);
          client.socket.pause(); // build backpressure on the server
          client.sendText('flood');
          await until(() => statuses.includes('dropped'), 'a dropped send');
          expect(statuses[0]).toBe('sent');
          expect(statuses).toContain('buffered');
          const firstBuffered = statuses.indexOf('buffered');
          expect(statuses.slice(firstBuffered, -1).every((s) => s === 'buffered')).toBe(true);
          client.socket.resume();
          await until(() => drained > 0, 'the drain callback');
          const received = statuses.filter((s) => s !== 'dropped').length;
          await within(client.next(received, [Opcode.BINARY]), 10_000, 'every message sent or buffered');
          client.close(1000);
          await within(client.closed, 5_000, 'the close');
        });
      });

      it('closes a socket whose message is over maxPayloadLength with 1009', () => {
        const closes: number[] = [];
        const messages: number[] = [];
        const behavior: WebSocketBehavior = {
          maxPayloadLength: 1024,
          message: (_socket, data) => messages.push(data.byteLength),
          close: (_socket, code) => closes.push(code),
        };
        return withHttp(createLoop, { websocket: behavior }, () => noHttp, async ({ server }) => {
          expect(server.websocket?.maxPayloadLength).toBe(1024);
          const client = await TestWebSocket.open(server.address.port);
          client.sendBinary(new Uint8Array(1024));
          client.sendBinary(new Uint8Array(1025));
          const closed = await within(client.closed, 5_000, 'the close');
          expect(closed.code === undefined || closed.code === 1009).toBe(true);
          await until(() => closes.length === 1, 'the close callback');
          expect(messages).toEqual([1024]);
          expect(closes).toEqual([1009]);
        });
      });

      it('closes a socket that stays silent past idleTimeout, and reports the timeout in force', () => {
        const closes: number[] = [];
        const behavior: WebSocketBehavior = { idleTimeout: 1, close: (_socket, code) => closes.push(code) };
        return withHttp(createLoop, { websocket: behavior }, () => noHttp, async ({ server }) => {
          const inForce = server.websocket?.idleTimeout ?? 0;
          expect(inForce).toBeGreaterThanOrEqual(1);
          const started = Date.now();
          const client = await TestWebSocket.open(server.address.port, { answerPings: false });
          await within(client.closed, inForce + 10_000, 'the idle close');
          expect(Date.now() - started).toBeGreaterThanOrEqual(Math.min(inForce, 1_000) - 50);
          await until(() => closes.length === 1, 'the close callback');
        });
      }, 30_000);

      it('publishes to the subscribers of a topic: from a socket to the others, and from the server to all', () => {
        const sockets = new Map<string, WebSocket<string>>();
        const behavior: WebSocketBehavior<string> = {
          upgrade: (request, upgrade) => upgrade.accept(request.url.slice(1)),
          open: (socket) => {
            sockets.set(socket.data, socket);
            if (socket.data !== 'outsider') socket.subscribe('room');
          },
          message: (socket, data) => {
            socket.publish('room', `${socket.data}: ${Buffer.from(data).toString()}`);
          },
        };
        return withHttp(createLoop, { websocket: behavior as WebSocketBehavior }, () => noHttp, async ({ server }) => {
          const [alice, bob, outsider] = await Promise.all(['alice', 'bob', 'outsider'].map((name) => TestWebSocket.open(server.address.port, { path: `/${name}` })));
          await until(() => sockets.size === 3, 'three sockets open');
          expect(server.websocket?.subscriberCount('room')).toBe(2);
          expect(sockets.get('alice')?.topics()).toEqual(['room']);
          expect(sockets.get('outsider')?.isSubscribed('room')).toBe(false);
          alice?.sendText('hi');
          const [fromAlice] = await within((bob as TestWebSocket).next(1), 5_000, 'bob hears alice');
          expect(fromAlice?.data.toString()).toBe('alice: hi');
          expect(server.websocket?.publish('room', 'server says hello')).toBe(true);
          const [toAlice] = await within((alice as TestWebSocket).next(1), 5_000, 'alice hears the server');
          const [toBob] = await within((bob as TestWebSocket).next(1), 5_000, 'bob hears the server');
          expect([toAlice?.data.toString(), toBob?.data.toString()]).toEqual(['server says hello', 'server says hello']);
          expect(sockets.get('bob')?.unsubscribe('room')).toBe(true);
          expect(server.websocket?.subscriberCount('room')).toBe(1);
          // Nothing reached the outsider, and alice did not hear her own message.
          expect(outsider?.frames.filter((f) => f.opcode === Opcode.TEXT)).toEqual([]);
          expect(alice?.frames.filter((f) => f.opcode === Opcode.TEXT).map((f) => f.data.toString())).toEqual(['server says hello']);
          for (const client of [alice, bob, outsider]) client?.close(1000);
          await Promise.all([alice, bob, outsider].map((client) => within((client as TestWebSocket).closed, 5_000, 'the close')));
        });
      });

      it('reports an error thrown by a callback to the loop and closes that socket with 1011', () => {
        const behavior: WebSocketBehavior = {
          message: () => {
            throw new Error('message callback exploded');
          },
        };
        return withHttp(createLoop, { websocket: behavior }, () => noHttp, async ({ server, errors }) => {
          const client = await TestWebSocket.open(server.address.port);
          client.sendText('boom');
          const closed = await within(client.closed, 5_000, 'the close');
          expect(closed.code).toBe(1011);
          expect(errors.map((e) => [(e.error as Error).message, e.phase])).toEqual([['message callback exploded', 'poll']]);
        });
      });

      it('ends open sockets with 1001 on server.close(), and the loop finishes', async () => {
        const { loop } = recordingLoop(createLoop);
        const closes: number[] = [];
        const server = await loop.serveHttp({ port: 0, websocket: { close: (_socket, code) => closes.push(code) } }, noHttp);
        const running = loop.run();
        const client = await TestWebSocket.open(server.address.port);
        server.close();
        const closed = await within(client.closed, 5_000, 'the close');
        expect(closed.code).toBe(1001);
        await within(running, 5_000, 'the loop to finish');
        expect(closes).toEqual([1001]);
        loop.close();
      });
    },
    () => {
      it('serveHttp({ websocket }) fails with UnsupportedError naming websocket', async () => {
        const { loop } = recordingLoop(createLoop);
        const failure = await loop.serveHttp({ port: 0, websocket: {} }, noHttp).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(UnsupportedError);
        expect((failure as UnsupportedError).capability).toBe(capabilities.http ? 'websocket' : 'http');
        loop.close();
      });
    },
  );
}
