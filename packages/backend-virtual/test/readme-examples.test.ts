// The README's examples, run as written there (imports adjusted to this package's source).
import { describe, expect, it } from 'vitest';
import type { EventLoop, TcpServer, TcpStream } from '@loop/core';
import { createLoop } from '../src/index.js';

// ---- README: "Example: testing a retry with backoff" (the code under test) ----

/**
 * Connect to `port`, retrying a refused connection after 1 s, 2 s, 4 s, ... (at most 60 s
 * between tries) for as long as the next try starts within `patience` ms. `done` gets the
 * stream (or `undefined`) and the number of tries.
 */
function connectWithBackoff(loop: EventLoop, port: number, patience: number, done: (stream: TcpStream | undefined, tries: number) => void): void {
  const start = loop.now();
  let tries = 0;
  let delay = 1_000;
  const retry = loop.timer(() => attempt());
  const attempt = (): void => {
    tries++;
    loop.connect({ port }, (_error, stream) => {
      if (stream !== undefined || loop.now() + delay - start > patience) {
        retry.close();
        done(stream, tries);
        return;
      }
      retry.start(delay);
      delay = Math.min(delay * 2, 60_000);
    });
  };
  attempt();
}

// ---- README: the tests ----

describe('README: connectWithBackoff', () => {
  it('connects once the server is up, ten minutes in', async () => {
    const loop = createLoop();
    let server: TcpServer | undefined;
    loop
      .timer((timer) => {
        timer.close();
        loop.listen({ port: 5432 }, (stream) => stream.on({ data: () => {}, end: () => stream.end() }), (_error, listening) => (server = listening));
      })
      .start(10 * 60_000);

    const tries: number[] = [];
    let connectedAt = -1;
    connectWithBackoff(loop, 5432, 30 * 60_000, (stream, count) => {
      connectedAt = loop.now();
      tries.push(count);
      stream?.on({ data: () => {}, close: () => server?.close() });
      stream?.end();
    });
    await loop.run(); // 10 minutes of virtual time, a few milliseconds of real time
    loop.close();

    // Tries at 0, 1, 3, 7, 15, 31 and 63 s, then every 60 s: 123, 183, ..., 543, 603 s.
    expect(connectedAt).toBe(603_000);
    expect(tries).toEqual([16]);
  });

  it('gives up when the next try would start after its patience ran out', async () => {
    const loop = createLoop();
    let outcome = '';
    connectWithBackoff(loop, 5432, 5 * 60_000, (stream, count) => {
      outcome = `${stream ? 'connected' : 'gave up'} after ${count} tries at ${loop.now() / 1000} s`;
    });
    await loop.run();
    loop.close();
    expect(outcome).toBe('gave up after 10 tries at 243 s');
  });
});

describe('README: advance()', () => {
  it('runs the timers due after a jump of the clock in the next run', async () => {
    const loop = createLoop();
    const printed: string[] = [];
    loop.timer(() => printed.push(`a minute later: ${loop.now()}`)).start(60_000);
    loop.advance(60_000);
    await loop.run('nowait');
    loop.close();
    expect(printed).toEqual(['a minute later: 60000']);
  });
});
