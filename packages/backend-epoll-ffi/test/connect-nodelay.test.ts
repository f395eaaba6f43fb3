import { describe, expect, it } from 'vitest';
import type { TcpStream } from '@loop/core';
import { IPPROTO_TCP, TCP_NODELAY } from '../src/constants.js';
import { createLoop, type EpollEventLoop } from '../src/index.js';
import { loadLibc } from '../src/libc.js';
import { openFdCount, within } from './http-helpers.js';

const libc = loadLibc();

/** TCP_NODELAY on `stream`'s socket (white box: read back from the fd). */
function noDelayOf(stream: TcpStream): number {
  const value = Buffer.alloc(4);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(4);
  expect(libc.getsockopt((stream as unknown as { fd: number }).fd, IPPROTO_TCP, TCP_NODELAY, value, length)).toBe(0);
  return value.readInt32LE(0);
}

/** The stream of a connect to `port`, completed by running `loop` (stopped then). */
async function connected(loop: EpollEventLoop, port: number): Promise<TcpStream> {
  const running = loop.run();
  const stream = await within(loop.connect({ host: '127.0.0.1', port }), 10_000, 'the connect to complete');
  loop.callSoon(() => loop.stop());
  await within(running, 10_000, 'the run to stop');
  return stream;
}

describe('TCP_NODELAY on connected streams', () => {
  it('two default connects in a row both get TCP_NODELAY (the second is not left with what the first one’s completion read)', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const accepted: TcpStream[] = [];
    const server = await loop.listen({ host: '127.0.0.1', port: 0 }, (stream) => accepted.push(stream));
    const first = await connected(loop, server.address.port);
    const second = await connected(loop, server.address.port);
    const third = await connected(loop, server.address.port);
    expect([noDelayOf(first), noDelayOf(second), noDelayOf(third)].map((value) => value !== 0)).toEqual([true, true, true]);
    for (const stream of [first, second, third, ...accepted]) stream.close();
    server.close();
    await within(loop.run(), 10_000, 'the run to end');
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});
