import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { TcpStream } from '@loop/core';
import { createLoop } from '../src/index.js';
import { openFdCount, within } from './http-helpers.js';

const PAYLOAD = 256 * 1024;

describe('edge-triggered reads queued for the poll phase', () => {
  it('a stream that stops reading between resume() and its queued read gets no data until it resumes again, then all of it', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop({ trigger: 'edge' });
    const chunks: number[] = [];
    let pauseEach = true;
    let ended = false;
    let stream: TcpStream | undefined;
    const server = await loop.listen({ host: '127.0.0.1', port: 0 }, (accepted) => {
      stream = accepted;
      server.close();
      accepted.on({
        data: (chunk) => {
          chunks.push(chunk.length);
          if (pauseEach) {
            accepted.pause();
            loop.stop();
          }
        },
        end: () => {
          ended = true;
          accepted.close();
        },
      });
    });
    // The peer's bytes are all handed to the kernel before the loop reads: more than one read's worth.
    const peer = await new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: server.address.port });
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
    await new Promise<void>((resolve) => peer.end(Buffer.alloc(PAYLOAD, 7), () => resolve()));
    // The first chunk pauses the stream mid-burst (more is waiting) and stops the run.
    await within(loop.run(), 10_000, 'the first chunk to be read');
    expect(chunks).toHaveLength(1);
    const paused = stream as TcpStream;
    // resume() queues a read for the poll phase; pause() before it runs: that read must read nothing.
    paused.resume();
    paused.pause();
    await loop.run('nowait');
    await loop.run('nowait');
    expect(chunks).toHaveLength(1);
    // Resumed for good: everything else arrives, then the peer's end.
    pauseEach = false;
    paused.resume();
    await within(loop.run(), 10_000, 'the rest and the end to be read');
    expect(ended).toBe(true);
    expect(chunks.reduce((sum, length) => sum + length, 0)).toBe(PAYLOAD);
    peer.destroy();
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});
