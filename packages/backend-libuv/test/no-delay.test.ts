// TCP_NODELAY on the libuv backend's sockets, read back from the kernel: Node cannot tell it, so
// the socket's fd is found through /proc (its inode, from /proc/net/tcp by its two ports) and
// getsockopt() is called through koffi, which the io watcher already loads.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLoop } from '../src/index.js';

const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
const getsockopt = koffi.load(null).func('int getsockopt(int fd, int level, int optname, _Out_ int *optval, _Inout_ uint32_t *optlen)') as (
  fd: number,
  level: number,
  name: number,
  value: number[],
  length: number[],
) => number;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;

/** This process's fd of the IPv4 TCP socket from `localPort` to `remotePort`. */
function socketFd(localPort: number, remotePort: number): number {
  const hex = (port: number): string => `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const row = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => fields[1]?.endsWith(hex(localPort)) && fields[2]?.endsWith(hex(remotePort)));
  if (row === undefined) throw new Error(`no socket from ${localPort} to ${remotePort}`);
  const link = `socket:[${row[9]}]`;
  const fd = readdirSync('/proc/self/fd').find((entry) => {
    try {
      return readlinkSync(`/proc/self/fd/${entry}`) === link;
    } catch {
      return false; // the fd readdir itself used, gone already
    }
  });
  if (fd === undefined) throw new Error(`socket ${link} is not this process's`);
  return Number(fd);
}

/** Whether TCP_NODELAY is set on the socket from `localPort` to `remotePort`. */
function noDelay(localPort: number, remotePort: number): boolean {
  const value = [0];
  if (getsockopt(socketFd(localPort, remotePort), IPPROTO_TCP, TCP_NODELAY, value, [4]) !== 0) throw new Error('getsockopt failed');
  return value[0] !== 0;
}

function plainClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('libuv backend: TCP_NODELAY', () => {
  it('sets it on accepted streams, and setNoDelay() clears and sets it again', async () => {
    const loop = createLoop();
    const seen: boolean[] = [];
    const server = await loop.listen({ port: 0 }, (stream) => {
      const local = stream.localAddress?.port as number;
      const remote = stream.remoteAddress?.port as number;
      seen.push(noDelay(local, remote));
      stream.setNoDelay(false);
      seen.push(noDelay(local, remote));
      stream.setNoDelay(true);
      seen.push(noDelay(local, remote));
      stream.close();
      server.close();
    });
    const client = await plainClient(server.address.port);
    client.on('error', () => undefined);
    await loop.run();
    client.destroy();
    expect(seen).toEqual([true, false, true]);
    loop.close();
  });

  it('sets it on connected streams unless noDelay: false is asked for', async () => {
    const loop = createLoop();
    const server = await loop.listen({ port: 0 }, (stream) => stream.close());
    const port = server.address.port;
    const fast = await loop.connect({ port });
    const nagle = await loop.connect({ port, noDelay: false });
    const seen = [fast, nagle].map((stream) => noDelay(stream.localAddress?.port as number, port));
    expect(seen).toEqual([true, false]);
    fast.close();
    nagle.close();
    server.close();
    await loop.run();
    loop.close();
  });

  it('sets it on the connections of an http server', async () => {
    const loop = createLoop();
    let seen: boolean | undefined;
    let client: Socket | undefined;
    const server = await loop.serveHttp({ port: 0 }, (_request, response) => {
      seen = noDelay(server.address.port, client?.localPort as number);
      response.end();
      server.close();
    });
    client = await plainClient(server.address.port);
    client.on('error', () => undefined);
    client.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    client.resume();
    await loop.run();
    client.destroy();
    expect(seen).toBe(true);
    loop.close();
  });
});
