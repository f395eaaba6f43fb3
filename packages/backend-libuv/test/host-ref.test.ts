// ref() and unref() on the libuv backend's servers and streams reach the Node handles under them:
// once run() has returned, an unreferenced server or socket must not keep the process alive.
// Node lists what keeps it alive in process.getActiveResourcesInfo() (unreferenced handles are
// left out), which the tests read before and after each call.
import { describe, expect, it } from 'vitest';
import { createLoop } from '../src/index.js';

/** How many of Node's active (referenced) resources are of `kind`. */
function alive(kind: 'TCPServerWrap' | 'TCPSocketWrap'): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === kind).length;
}

describe('libuv backend: references reach the Node handles', () => {
  it('lets an unreferenced tcp server and http server stop keeping the process alive, and ref() restores it', async () => {
    const loop = createLoop();
    const tcp = await loop.listen({ port: 0 }, (stream) => stream.close());
    const http = await loop.serveHttp({ port: 0 }, (_request, response) => response.end());
    const servers = alive('TCPServerWrap');
    const seen: number[] = [];
    tcp.unref();
    seen.push(alive('TCPServerWrap') - servers);
    http.unref();
    seen.push(alive('TCPServerWrap') - servers);
    tcp.ref();
    seen.push(alive('TCPServerWrap') - servers);
    http.ref();
    seen.push(alive('TCPServerWrap') - servers);
    expect(seen).toEqual([-1, -2, -1, 0]);
    tcp.close();
    http.close();
    await loop.run();
    loop.close();
  });

  it('lets an unreferenced stream stop keeping the process alive, and ref() restores it', async () => {
    const loop = createLoop();
    const server = await loop.listen({ port: 0 }, (stream) => stream.close());
    const client = await loop.connect({ port: server.address.port });
    const sockets = alive('TCPSocketWrap');
    const seen: number[] = [];
    client.unref();
    seen.push(alive('TCPSocketWrap') - sockets);
    client.ref();
    seen.push(alive('TCPSocketWrap') - sockets);
    expect(seen).toEqual([-1, 0]);
    client.close();
    server.close();
    await loop.run();
    loop.close();
  });
});
