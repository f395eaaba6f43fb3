import { describe, expect, it } from 'vitest';
import type { HttpServer, WebSocket, WebSocketBehavior, WebSocketUpgrade } from '@loop/core';
import { createLoop } from '../src/index.js';
import { withServer, until, noHttp, serveWs, thrown } from './helpers.js';
import { Opcode, TestWebSocket, UpgradeRefused } from '@loop/core/conformance';

// WebSocket options, socket calls and upgrade decisions refuse bad arguments with a typed error,
// a stable code and a message naming the mistake, and the socket or upgrade goes on as if the
// call had not been made. Waits are for events, never for the machine being fast.

const invalid = (message: string): unknown => ({ type: 'EventLoopError', code: 'ERR_INVALID_ARG', message });
const wrongType = (message: string): unknown => ({ type: 'TypeError', code: 'ERR_INVALID_ARG', message });

describe('WebSocket options', () => {
  const cases: [string, unknown, unknown][] = [
    ['null', null, wrongType('websocket must be an object of options and callbacks')],
    ['a function', () => undefined, wrongType('websocket must be an object of options and callbacks')],
    ['maxPayloadLength 0', { maxPayloadLength: 0 }, invalid('websocket.maxPayloadLength must be a finite number in [1, 2147483647], got 0')],
    ['maxPayloadLength 2^31', { maxPayloadLength: 2 ** 31 }, invalid('websocket.maxPayloadLength must be a finite number in [1, 2147483647], got 2147483648')],
    ['maxPayloadLength as text', { maxPayloadLength: '10' }, invalid('websocket.maxPayloadLength must be a finite number in [1, 2147483647], got 10')],
    ['idleTimeout -1', { idleTimeout: -1 }, invalid('websocket.idleTimeout must be a finite number in [0, 2147483647], got -1')],
    ['idleTimeout 2^31', { idleTimeout: 2 ** 31 }, invalid('websocket.idleTimeout must be a finite number in [0, 2147483647], got 2147483648')],
    ['idleTimeout Infinity', { idleTimeout: Number.POSITIVE_INFINITY }, invalid('websocket.idleTimeout must be a finite number in [0, 2147483647], got Infinity')],
    ['maxBackpressure 0', { maxBackpressure: 0 }, invalid('websocket.maxBackpressure must be a finite number in [1, 2147483647], got 0')],
    ['maxBackpressure 2^31', { maxBackpressure: 2 ** 31 }, invalid('websocket.maxBackpressure must be a finite number in [1, 2147483647], got 2147483648')],
    ['a message callback that is not a function', { message: 'echo' }, wrongType('websocket.message must be a function')],
    ['a close callback that is not a function', { close: {} }, wrongType('websocket.close must be a function')],
  ];
  for (const [what, websocket, error] of cases) {
    it(`refuses ${what} at serveHttp(), serving nothing`, async () => {
      const loop = createLoop();
      const refused = await loop.serveHttp({ port: 0, websocket: websocket as WebSocketBehavior }, noHttp).then(
        () => 'served',
        (caught: unknown) => thrown(() => {
          throw caught;
        }),
      );
      loop.close();
      expect(refused).toEqual(error);
    });
  }

  it('accepts the bounds of each range and applies idleTimeout in uWS’s 4 s steps, at least 8 s, 0 meaning none', async () => {
    const applied: [number, number, number][] = [];
    for (const options of [
      { maxPayloadLength: 1, idleTimeout: 0, maxBackpressure: 1 },
      { maxPayloadLength: 2 ** 31 - 1, idleTimeout: 1, maxBackpressure: 2 ** 31 - 1 },
      { idleTimeout: 8_001 },
      { idleTimeout: 12_000 },
      { idleTimeout: 13_000 },
      {},
    ]) {
      const loop = createLoop();
      const server = await loop.serveHttp({ port: 0, websocket: options }, noHttp);
      const ws = server.websocket;
      applied.push([ws?.maxPayloadLength ?? -1, ws?.idleTimeout ?? -1, ws?.maxBackpressure ?? -1]);
      server.close();
      await loop.run();
      loop.close();
    }
    expect(applied).toEqual([
      [1, 0, 1],
      [2 ** 31 - 1, 8_000, 2 ** 31 - 1],
      [16 * 1024, 12_000, 64 * 1024],
      [16 * 1024, 12_000, 64 * 1024],
      [16 * 1024, 16_000, 64 * 1024],
      [16 * 1024, 120_000, 64 * 1024],
    ]);
  });
});

describe('WebSocket calls with bad arguments', () => {
  it('refuses bad messages, pings, close codes and reasons with typed errors, and the socket goes on', () => {
    const results: unknown[] = [];
    const behavior: WebSocketBehavior = {
      open: (socket) => {
        const notAMessage = 42 as unknown as string;
        results.push(
          thrown(() => socket.send(notAMessage)),
          thrown(() => socket.send(null as unknown as string)),
          thrown(() => socket.publish('t', notAMessage)),
          thrown(() => socket.ping(notAMessage)),
          thrown(() => socket.ping('x'.repeat(126))),
          thrown(() => socket.ping(new Uint8Array(126))),
          thrown(() => socket.close(999)),
          thrown(() => socket.close(1000, 'r'.repeat(124))),
          thrown(() => socket.close(1000, 'é'.repeat(62))),
          thrown(() => socket.close(1000, 5 as unknown as string)),
        );
        results.push(socket.ping('p'.repeat(125)), socket.closed);
        socket.send('still open');
      },
      message: (socket, data) => {
        if (Buffer.from(data).toString() === 'bye') socket.close(4000, 'r'.repeat(123));
      },
    };
    return serveWs(behavior, async (server) => {
      const client = await TestWebSocket.open(server.address.port);
      const [frame] = await client.next(1);
      expect(frame?.data.toString()).toBe('still open');
      client.sendText('bye');
      const closed = await client.closed;
      expect([closed.code, closed.reason]).toEqual([4000, 'r'.repeat(123)]);
      expect(results).toEqual([
        wrongType('a message must be a string or a Uint8Array, got number'),
        wrongType('a message must be a string or a Uint8Array, got null'),
        wrongType('a message must be a string or a Uint8Array, got number'),
        wrongType('a message must be a string or a Uint8Array, got number'),
        invalid('a ping carries at most 125 bytes'),
        invalid('a ping carries at most 125 bytes'),
        invalid('close code 999 may not be sent (RFC 6455 §7.4)'),
        invalid('a close reason is a string of at most 123 bytes'),
        invalid('a close reason is a string of at most 123 bytes'),
        invalid('a close reason is a string of at most 123 bytes'),
        'sent',
        false,
      ]);
      expect(client.frames.filter((f) => f.opcode === Opcode.PING).map((f) => f.data.toString())).toEqual(['p'.repeat(125)]);
    });
  });

  it('refuses a bad message to the server’s publish() too, and publishes nothing once the server closed', async () => {
    const loop = createLoop();
    const server = await loop.serveHttp({ port: 0, websocket: {} }, noHttp);
    const ws = server.websocket;
    expect(thrown(() => ws?.publish('t', 42 as unknown as string))).toEqual(wrongType('a message must be a string or a Uint8Array, got number'));
    expect(ws?.publish('t', 'nobody listens')).toBe(false);
    server.close();
    expect([ws?.publish('t', 'x'), ws?.subscriberCount('t')]).toEqual([false, 0]);
    await loop.run();
    loop.close();
  });

  it('refuses a protocol that is not a token and a reject status outside 4xx-5xx, leaving the upgrade to decide', () => {
    const results: unknown[] = [];
    const decide = (upgrade: WebSocketUpgrade, path: string): void => {
      if (path === '/protocol') {
        results.push(
          thrown(() => upgrade.accept(undefined, 'two words')),
          thrown(() => upgrade.accept(undefined, '')),
          thrown(() => upgrade.accept(undefined, 'x\r\nInjected: 1')),
          thrown(() => upgrade.accept(undefined, 7 as unknown as string)),
        );
        upgrade.accept(undefined, 'chat.v2');
      } else {
        results.push(thrown(() => upgrade.reject(399)), thrown(() => upgrade.reject(600)), thrown(() => upgrade.reject(404.5)));
        upgrade.reject(path === '/599' ? 599 : 400, 'refused');
      }
    };
    return serveWs({ upgrade: (request, upgrade) => decide(upgrade, request.url) }, async (server) => {
      const client = await TestWebSocket.open(server.address.port, { path: '/protocol', headers: 'Sec-WebSocket-Protocol: chat.v2\r\n' });
      expect(client.headers['sec-websocket-protocol']).toBe('chat.v2');
      expect(client.headers).not.toHaveProperty('injected');
      client.close(1000);
      await client.closed;
      for (const [path, status] of [
        ['/400', 400],
        ['/599', 599],
      ] as const) {
        const refused = await TestWebSocket.open(server.address.port, { path }).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(UpgradeRefused);
        expect([(refused as UpgradeRefused).status, (refused as UpgradeRefused).body]).toEqual([status, 'refused']);
      }
      expect(results).toEqual([
        invalid('protocol must be a token, got "two words"'),
        invalid('protocol must be a token, got ""'),
        invalid('protocol must be a token, got "x\\r\\nInjected: 1"'),
        invalid('protocol must be a token, got 7'),
        invalid('status must be an integer in [400, 599], got 399'),
        invalid('status must be an integer in [400, 599], got 600'),
        invalid('status must be an integer in [400, 599], got 404.5'),
        invalid('status must be an integer in [400, 599], got 399'),
        invalid('status must be an integer in [400, 599], got 600'),
        invalid('status must be an integer in [400, 599], got 404.5'),
      ]);
    });
  });

  it('keeps the first decision of an upgrade: a later accept() or reject() changes nothing', () => {
    const behavior: WebSocketBehavior = {
      upgrade: (request, upgrade) => {
        if (request.url === '/accepted') {
          upgrade.accept('first');
          upgrade.reject(403, 'too late');
          upgrade.accept('second');
        } else {
          upgrade.reject(403, 'first');
          upgrade.accept('too late');
          upgrade.reject(404, 'second');
        }
      },
      open: (socket) => socket.send(String(socket.data)),
    };
    return serveWs(behavior, async (server, errors) => {
      const client = await TestWebSocket.open(server.address.port, { path: '/accepted', headers: 'Sec-WebSocket-Extensions: permessage-deflate\r\n' });
      const [frame] = await client.next(1);
      expect(frame?.data.toString()).toBe('first');
      // Accepted without a protocol, and with no extension negotiated: neither header is sent.
      expect(client.headers).not.toHaveProperty('sec-websocket-protocol');
      expect(client.headers).not.toHaveProperty('sec-websocket-extensions');
      client.close(1000);
      await client.closed;
      const refused = await TestWebSocket.open(server.address.port, { path: '/rejected' }).catch((error: unknown) => error);
      expect([(refused as UpgradeRefused).status, (refused as UpgradeRefused).body]).toEqual([403, 'first']);
      expect(errors).toEqual([]);
    });
  });
});

describe('WebSocket behaviour kept by the backend', () => {
  it('publishes text as text and bytes as binary unless told, from a socket and from the server', () => {
    let kept: WebSocket | undefined;
    let server: HttpServer | undefined;
    const behavior: WebSocketBehavior = {
      open: (socket) => {
        socket.subscribe('news');
        kept = socket;
      },
      message: (socket) => {
        socket.publish('news', 'socket text');
        socket.publish('news', Uint8Array.of(1, 2));
        socket.publish('news', 'socket text as binary', true);
        socket.publish('news', Uint8Array.of(5), false);
        server?.websocket?.publish('news', 'server text');
        server?.websocket?.publish('news', Uint8Array.of(3));
        server?.websocket?.publish('news', Uint8Array.of(4), false);
      },
    };
    return serveWs(behavior, async (started) => {
      server = started;
      const listener = await TestWebSocket.open(started.address.port);
      await until(() => kept !== undefined);
      const talker = await TestWebSocket.open(started.address.port);
      talker.sendText('go');
      // A socket's publish() does not reach itself: the talker is subscribed too, the listener gets all seven.
      const frames = await listener.next(7);
      expect(frames.map((f) => [f.opcode, f.opcode === Opcode.TEXT ? f.data.toString() : [...f.data]])).toEqual([
        [Opcode.TEXT, 'socket text'],
        [Opcode.BINARY, [1, 2]],
        [Opcode.BINARY, [...Buffer.from('socket text as binary')]],
        [Opcode.TEXT, '\u0005'],
        [Opcode.TEXT, 'server text'],
        [Opcode.BINARY, [3]],
        [Opcode.TEXT, '\u0004'],
      ]);
      listener.close(1000);
      talker.close(1000);
      await Promise.all([listener.closed, talker.closed]);
    });
  });

  it('says a closed socket is subscribed to nothing and unsubscribes nothing', () => {
    const after: unknown[] = [];
    const behavior: WebSocketBehavior = {
      open: (socket) => {
        socket.subscribe('a');
        after.push(socket.topics(), socket.isSubscribed('a'));
      },
      close: (socket) => after.push(socket.topics(), socket.isSubscribed('a'), socket.unsubscribe('a'), socket.bufferedAmount),
    };
    return serveWs(behavior, async (server) => {
      const client = await TestWebSocket.open(server.address.port);
      client.close(1000);
      await client.closed;
      await until(() => after.length === 6);
      expect(after).toEqual([['a'], true, [], false, false, 0]);
    });
  });

  it('terminate() drops the connection without a close frame and reports 1006 to close', () => {
    const closes: [number, string][] = [];
    const behavior: WebSocketBehavior = {
      message: (socket) => socket.terminate(),
      close: (_socket, code, reason) => closes.push([code, reason]),
    };
    return serveWs(behavior, async (server) => {
      const client = await TestWebSocket.open(server.address.port);
      client.sendText('terminate me');
      const closed = await client.closed;
      expect(closed.code).toBeUndefined();
      await until(() => closes.length === 1);
      expect(closes).toEqual([[1006, '']]);
    });
  });

  it('closes open sockets with 1001 "server closing" when the server closes', () => {
    let opened = 0;
    let server: HttpServer | undefined;
    return serveWs({ open: () => opened++ }, async (started) => {
      server = started;
      const client = await TestWebSocket.open(started.address.port);
      await until(() => opened === 1);
      server.close();
      const closed = await client.closed;
      expect([closed.code, closed.reason]).toEqual([1001, 'server closing']);
    });
  });

  const throwers: [string, WebSocketBehavior, (client: TestWebSocket) => void][] = [
    ['open', { open: () => { throw new Error('from open'); } }, () => undefined],
    ['message', { message: () => { throw new Error('from message'); } }, (client) => client.sendText('x')],
    ['ping', { ping: () => { throw new Error('from ping'); } }, (client) => client.ping('x')],
  ];
  for (const [name, behavior, provoke] of throwers) {
    it(`reports an error thrown by ${name} and closes that socket with 1011 "internal error"`, () =>
      serveWs(behavior, async (server, errors) => {
        const client = await TestWebSocket.open(server.address.port);
        provoke(client);
        const closed = await client.closed;
        expect([closed.code, closed.reason]).toEqual([1011, 'internal error']);
        expect(errors.map((error) => (error as Error).message)).toEqual([`from ${name}`]);
      }));
  }

  it('hands ping and pong payloads to their callbacks', () => {
    const seen: string[] = [];
    const behavior: WebSocketBehavior = {
      ping: (_socket, data) => seen.push(`ping ${Buffer.from(data).toString()}`),
      pong: (_socket, data) => seen.push(`pong ${Buffer.from(data).toString()}`),
      open: (socket) => socket.ping('from server'),
    };
    return serveWs(behavior, async (server) => {
      const client = await TestWebSocket.open(server.address.port);
      await until(() => seen.length === 1);
      client.ping('from client');
      await until(() => seen.length === 2);
      expect(seen).toEqual(['pong from server', 'ping from client']);
      client.close(1000);
      await client.closed;
    });
  });

  it('refuses an upgrade request with a head RFC 9112 forbids (two Host lines) with 400, before the upgrade callback', () => {
    const seen: string[] = [];
    return serveWs({ upgrade: (request, upgrade) => (seen.push(request.url), upgrade.accept(undefined)) }, async (server) => {
      const refused = await TestWebSocket.open(server.address.port, { path: '/two-hosts', headers: 'Host: other\r\n' }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(UpgradeRefused);
      expect((refused as UpgradeRefused).status).toBe(400);
      const client = await TestWebSocket.open(server.address.port, { path: '/fine' });
      client.close(1000);
      await client.closed;
      expect(seen).toEqual(['/fine']);
    });
  });

  it('answers an upgrade callback that throws with 500, reporting the error, and goes on upgrading', () =>
    serveWs(
      {
        upgrade: (request, upgrade) => {
          if (request.url === '/throw') throw new Error('from upgrade');
          upgrade.accept(undefined);
        },
      },
      async (server, errors) => {
        const refused = await TestWebSocket.open(server.address.port, { path: '/throw' }).catch((error: unknown) => error);
        expect([(refused as UpgradeRefused).status, (refused as UpgradeRefused).body]).toEqual([500, 'Internal Server Error']);
        expect(errors.map((error) => (error as Error).message)).toEqual(['from upgrade']);
        const client = await TestWebSocket.open(server.address.port, { path: '/fine' });
        client.close(1000);
        await client.closed;
      },
    ));
});
