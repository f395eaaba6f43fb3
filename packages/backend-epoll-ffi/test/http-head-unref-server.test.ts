import { describe, expect, it } from 'vitest';
import { createLoop } from '../src/index.js';
import { eventually, openFdCount, openSocket, within } from './http-helpers.js';

describe('an unreferenced http server', () => {
  it('lets the loop finish once nothing else holds it, though a keep-alive connection is still open (its timeout sweep holds nothing)', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop({ trigger: 'level' });
    // A referenced timer holds the loop until the first request is answered.
    const holder = loop.timer(() => undefined).start(600_000);
    const order: string[] = [];
    const server = await loop.serveHttp({ port: 0, keepAliveTimeout: 600_000 }, (_request, response) => {
      order.push('request');
      response.respond(200, {}, 'ok');
      holder.close();
    });
    server.unref();
    const running = loop.run();
    const socket = await openSocket(server.address.port);
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await within(running, 10_000, 'loop to finish with only an unreferenced server and its open connection left');
    order.push('loop finished');
    expect(order).toEqual(['request', 'loop finished']);
    await eventually(() => received.endsWith('\r\n\r\nok'), 'the response to reach the client');
    // Close the server and its connection, then the client.
    server.close();
    await within(loop.run(), 10_000, 'loop to finish after server.close()');
    socket.destroy();
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });
});
