import { describe, expect, it } from 'vitest';
import type { HttpServer, WebSocketBehavior } from '@loop/core';
import { Opcode, TestWebSocket } from '@loop/core/conformance';
import { createLoop } from '../src/index.js';
import { exchange, withServer, until, noHttp, serveWs } from './helpers.js';

// WebSocket events the other tests do not reach: frames that arrive in the same read as the
// upgrade (queued behind `open`, so copied), errors thrown by the pong and close callbacks, the
// framing send() picks, and the peer's address seen from the upgrade's request. Waits are for
// events, never for the machine being fast.

describe('WebSocket events', () => {
  it('queues frames that arrive while the loop is not running, and delivers them in order, with their own bytes, once it runs', async () => {
    const events: string[] = [];
    const loop = createLoop();
    const server = await loop.serveHttp(
      {
        port: 0,
        websocket: {
          open: () => events.push('open'),
          message: (_socket, data, isBinary) => events.push(`${isBinary ? 'binary' : 'text'} ${Buffer.from(data).toString()}`),
          ping: (_socket, data) => events.push(`ping ${Buffer.from(data).toString()}`),
          pong: (_socket, data) => events.push(`pong ${Buffer.from(data).toString()}`),
          close: (_socket, code) => events.push(`close ${code}`),
        },
      },
      noHttp,
    );
    // uWS answers the upgrade and reads the frames from Node's loop; this loop is not running.
    const client = await TestWebSocket.open(server.address.port);
    client.sendText('first');
    client.sendBinary(Buffer.from('second'));
    client.ping('third');
    client.sendFrame(Opcode.PONG, Buffer.from('fourth'));
    client.sendText('fifth');
    client.close(1000);
    await client.closed; // uWS echoed the close: it has read every frame before it
    expect(events).toEqual([]);
    server.close();
    await loop.run();
    loop.close();
    expect(events).toEqual(['open', 'text first', 'binary second', 'ping third', 'pong fourth', 'text fifth', 'close 1000']);
  });

  it('queues a message that arrives after run() returned, behind nothing, until the loop runs again', async () => {
    const events: string[] = [];
    const loop = createLoop();
    const server = await loop.serveHttp(
      {
        port: 0,
        websocket: {
          open: () => {
            events.push('open');
            loop.stop();
          },
          message: (_socket, data) => events.push(`text ${Buffer.from(data).toString()}`),
          close: (_socket, code) => events.push(`close ${code}`),
        },
      },
      noHttp,
    );
    const firstRun = loop.run();
    const client = await TestWebSocket.open(server.address.port);
    await firstRun; // stopped from open: the socket has nothing queued now
    expect(events).toEqual(['open']);
    client.sendText('later');
    client.close(1000);
    await client.closed; // uWS has read the message, with this loop not running
    expect(events).toEqual(['open']);
    server.close();
    await loop.run();
    loop.close();
    expect(events).toEqual(['open', 'text later', 'close 1000']);
  });

  it('queues upgrades and requests that arrive while the loop is not running, each with its own head', async () => {
    const seen: string[] = [];
    const loop = createLoop();
    const server = await loop.serveHttp(
      {
        port: 0,
        websocket: {
          upgrade: (request, upgrade) => {
            seen.push(`upgrade ${request.url} ${request.header('x-tag') ?? '-'} ${request.remoteAddress?.address ?? '-'}`);
            upgrade.accept(undefined);
          },
        },
      },
      (request, response) => {
        seen.push(`request ${request.url} ${request.header('x-tag') ?? '-'} ${request.remoteAddress?.address ?? '-'}`);
        response.end('ok');
      },
    );
    const port = server.address.port;
    const first = TestWebSocket.open(port, { path: '/ws1', headers: 'X-Tag: one\r\n' });
    const second = TestWebSocket.open(port, { path: '/ws2', headers: 'X-Tag: two\r\nX-Other: 2\r\n' });
    const plain = [exchange(port, 'GET /a HTTP/1.1\r\nHost: t\r\nX-Tag: three\r\nConnection: close\r\n\r\n'), exchange(port, 'GET /b HTTP/1.1\r\nHost: t\r\nX-Tag: four\r\nX-Other: 4\r\nConnection: close\r\n\r\n')];
    // uWS reads the four heads from Node's loop meanwhile; one read later would simply run at once
    // (the expectations hold either way), so this wait only gives the queued path its chance.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([]); // nothing runs a user callback before run()
    const running = loop.run();
    const clients = await Promise.all([first, second]);
    const answers = await Promise.all(plain);
    for (const client of clients) {
      client.close(1000);
      await client.closed;
    }
    server.close();
    await running;
    loop.close();
    expect(answers.map((answer) => answer.text.endsWith('ok'))).toEqual([true, true]);
    expect([...seen].sort()).toEqual(['request /a three 127.0.0.1', 'request /b four 127.0.0.1', 'upgrade /ws1 one 127.0.0.1', 'upgrade /ws2 two 127.0.0.1']);
  });

  it('reports an error thrown by pong and closes that socket with 1011, and reports one thrown by close', () => {
    const behavior: WebSocketBehavior = {
      open: (socket) => socket.ping('p'),
      pong: () => {
        throw new Error('from pong');
      },
      close: () => {
        throw new Error('from close');
      },
    };
    return serveWs(behavior, async (server, errors) => {
      const client = await TestWebSocket.open(server.address.port);
      const closed = await client.closed;
      expect([closed.code, closed.reason]).toEqual([1011, 'internal error']);
      await until(() => errors.length === 2);
      expect(errors.map((error) => (error as Error).message)).toEqual(['from pong', 'from close']);
    });
  });

  it('sends text as a text frame and bytes as binary unless told otherwise', () =>
    serveWs(
      {
        open: (socket) => {
          socket.send('text');
          socket.send(Uint8Array.of(1));
          socket.send('text as binary', true);
          socket.send(Uint8Array.of(0x41), false);
        },
      },
      async (server) => {
        const client = await TestWebSocket.open(server.address.port);
        const frames = await client.next(4);
        expect(frames.map((frame) => [frame.opcode, [...frame.data]])).toEqual([
          [Opcode.TEXT, [...Buffer.from('text')]],
          [Opcode.BINARY, [1]],
          [Opcode.BINARY, [...Buffer.from('text as binary')]],
          [Opcode.TEXT, [0x41]],
        ]);
        client.close(1000);
        await client.closed;
      },
    ));

  it('tells the upgrade’s request the peer’s address, the same before and after the decision', () => {
    const seen: unknown[] = [];
    return serveWs(
      {
        upgrade: (request, upgrade) => {
          seen.push(request.remoteAddress?.address);
          upgrade.accept(undefined);
          seen.push(request.remoteAddress?.address, request.remoteAddress?.family);
        },
      },
      async (server) => {
        const client = await TestWebSocket.open(server.address.port);
        client.close(1000);
        await client.closed;
        expect(seen).toEqual(['127.0.0.1', '127.0.0.1', 'IPv4']);
      },
    );
  });
});
