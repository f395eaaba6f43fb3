import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EventLoopError, type TcpStream } from '@loop/core';
import { createLoop } from '../src/index.js';
import { openFdCount, within } from './http-helpers.js';

describe('closing a loop that still has a TCP stream', () => {
  it('loop.close() with one live stream fails with ERR_LOOP_BUSY naming "1 tcp stream", and succeeds once it is closed', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const accepted: TcpStream[] = [];
    const server = await loop.listen({ host: '127.0.0.1', port: 0 }, (stream) => {
      accepted.push(stream);
      server.close();
    });
    const socket = await new Promise<Socket>((resolve, reject) => {
      const peer = connect({ host: '127.0.0.1', port: server.address.port });
      peer.once('connect', () => resolve(peer));
      peer.once('error', reject);
    });
    await loop.run('nowait');
    expect(accepted).toHaveLength(1);
    let refusal: unknown;
    try {
      loop.close();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(EventLoopError);
    expect((refusal as EventLoopError).code).toBe('ERR_LOOP_BUSY');
    expect((refusal as EventLoopError).message).toContain('(1 tcp stream;');
    for (const stream of accepted) stream.close();
    await within(loop.run(), 10_000, 'the stream to close');
    loop.close();
    socket.destroy();
    expect(openFdCount()).toBe(fdsBefore);
  });
});
