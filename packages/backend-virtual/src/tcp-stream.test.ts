import { describe, expect, it } from 'vitest';
import type { EventLoopError, SocketError, TcpServer, TcpStream } from '@loop/core';
import { createLoop, type VirtualLoop } from './index.js';

const KIB = 1024;

/** A connected pair; the server side is handed to `onServer` when accepted (in the poll phase). */
async function pair(loop: VirtualLoop, onServer: (stream: TcpStream) => void): Promise<{ server: TcpServer; client: TcpStream }> {
  const server = await loop.listen({ port: 7000 }, onServer);
  const client = await loop.connect({ port: 7000 });
  return { server, client };
}

/** Reject if `promise` has not settled within `ms` of real time: a guard against a hang, not a measure. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let guard: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<T>((_, reject) => (guard = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(guard),
  );
}

/** Run `action` in a timer callback `ms` from now (a callback of the loop, in its timer phase). */
function at(loop: VirtualLoop, ms: number, action: () => void): void {
  loop
    .timer((timer) => {
      timer.close();
      action();
    })
    .start(ms);
}

describe('virtual TCP stream', () => {
  it('rejects a chunk that is not a string or bytes with ERR_INVALID_ARG naming what it got, and goes on working', async () => {
    const loop = createLoop();
    const got: string[] = [];
    const { server, client } = await pair(loop, (stream) => stream.on({ data: (chunk) => got.push(Buffer.from(chunk).toString()), end: () => stream.end() }));
    const invalid = (what: string): unknown => expect.objectContaining({ code: 'ERR_INVALID_ARG', message: `data must be a string or a Uint8Array, got ${what}` });
    expect(() => client.write(null as never)).toThrow(invalid('null'));
    expect(() => client.write(5 as never)).toThrow(invalid('number'));
    expect(() => client.end({} as never)).toThrow(invalid('object'));
    expect(client.writable).toBe(true);
    client.write('still ');
    client.end(new Uint8Array([111, 107]));
    client.on({ data: () => undefined, close: () => server.close() });
    await loop.run();
    expect(got.join('')).toBe('still ok');
    loop.close();
  });

  it('is no longer writable after end(): a later write() returns false and sends nothing', async () => {
    const loop = createLoop();
    const got: string[] = [];
    const { server, client } = await pair(loop, (stream) => stream.on({ data: (chunk) => got.push(Buffer.from(chunk).toString()), end: () => stream.end() }));
    client.write('before');
    client.end();
    expect(client.writable).toBe(false);
    expect(client.write('after')).toBe(false);
    client.end('after end');
    client.on({ data: () => undefined, close: () => server.close() });
    await loop.run();
    expect(got).toEqual(['before']);
    loop.close();
  });

  it('sends nothing for an empty write: the peer never sees an empty chunk', async () => {
    const loop = createLoop();
    const sizes: number[] = [];
    const { server, client } = await pair(loop, (stream) => stream.on({ data: (chunk) => sizes.push(chunk.length), end: () => stream.end() }));
    expect(client.write('')).toBe(true);
    client.write('ab');
    client.write(new Uint8Array(0));
    client.end('');
    client.on({ data: () => undefined, close: () => server.close() });
    await loop.run();
    expect(sizes).toEqual([2]);
    loop.close();
  });

  it('returns false from write() from exactly 16 KiB waiting for the window, not before', async () => {
    const loop = createLoop();
    const { server, client } = await pair(loop, () => undefined); // the server never reads: the window fills
    expect(client.write(Buffer.alloc(128 * KIB))).toBe(true); // the whole window: on the wire, nothing waits
    expect(client.bufferedAmount).toBe(0);
    expect(client.write(Buffer.alloc(16 * KIB - 1))).toBe(true);
    expect(client.write('x')).toBe(false);
    expect(client.bufferedAmount).toBe(16 * KIB);
    client.close();
    server.close();
    await loop.run();
    loop.close();
  });

  it('sends what fits the peer\'s window and the rest as the peer reads, then the end after all of it', async () => {
    const loop = createLoop();
    const log: string[] = [];
    let serverSide: TcpStream | undefined;
    const { server, client } = await pair(loop, (stream) => (serverSide = stream));
    client.write(Buffer.alloc(200 * KIB, 7));
    client.end();
    expect(client.bufferedAmount).toBe(72 * KIB); // 128 KiB went out, 72 KiB wait for the window
    client.on({ data: () => undefined, close: () => server.close() });
    at(loop, 1_000, () =>
      serverSide?.on({
        data: (chunk) => log.push(`${chunk.length} at ${loop.now()}`),
        end: () => {
          log.push(`end at ${loop.now()}`);
          serverSide?.end();
        },
      }),
    );
    await loop.run();
    expect(log).toEqual([`${128 * KIB} at 1000`, `${72 * KIB} at 1000`, 'end at 1000']);
    loop.close();
  });

  it('sends a write that exactly fills the window whole, with the end right behind it', async () => {
    const loop = createLoop();
    const log: string[] = [];
    let serverSide: TcpStream | undefined;
    const { server, client } = await pair(loop, (stream) => (serverSide = stream));
    client.end(Buffer.alloc(128 * KIB));
    client.on({ data: () => undefined, close: () => server.close() });
    at(loop, 1_000, () =>
      serverSide?.on({
        data: (chunk) => log.push(`data ${chunk.length}`),
        end: () => {
          log.push('end');
          serverSide?.end();
        },
      }),
    );
    await loop.run();
    expect(log).toEqual([`data ${128 * KIB}`, 'end']);
    loop.close();
  });

  it('emits end once, even when callbacks are set again or the stream resumes after it', async () => {
    const loop = createLoop();
    const log: string[] = [];
    const { server, client } = await pair(loop, (stream) => {
      const events = {
        data: () => undefined,
        end: () => {
          log.push(`end at ${loop.now()}`);
          stream.on(events); // setting callbacks again must not replay the end
          stream.pause().resume();
        },
      };
      stream.on(events);
      at(loop, 1_000, () => {
        stream.pause().resume();
        stream.end();
      });
    });
    client.on({ data: () => undefined, close: () => server.close() });
    client.end();
    await loop.run();
    expect(log).toEqual(['end at 0']);
    loop.close();
  });

  it('closes once it ends after the peer\'s end, from a later callback', async () => {
    const loop = createLoop();
    const log: string[] = [];
    const { server, client } = await pair(loop, (stream) => {
      stream.on({ data: () => undefined, end: () => log.push(`server end at ${loop.now()}`), close: () => log.push(`server close at ${loop.now()}`) });
      at(loop, 500, () => stream.end());
    });
    client.on({ data: () => undefined, end: () => log.push(`client end at ${loop.now()}`), close: () => server.close() });
    client.end();
    await loop.run();
    expect(log).toEqual(['server end at 0', 'client end at 500', 'server close at 500']);
    loop.close();
  });

  it('sees the end of a peer that ended before the connection was accepted, and closes when it ends too, without callbacks', async () => {
    const loop = createLoop();
    let serverSide: TcpStream | undefined;
    const { server, client } = await pair(loop, (stream) => {
      serverSide = stream;
      stream.end(); // never calls on(): the peer's end came before the accept
    });
    let clientClosed = '';
    client.on({ data: () => undefined, close: (error) => (clientClosed = error === undefined ? 'clean' : error.code) });
    client.end();
    let serverOpenAt1s: boolean | undefined;
    at(loop, 1_000, () => {
      serverOpenAt1s = serverSide?.localAddress !== undefined;
      serverSide?.close();
      server.close();
    });
    await loop.run();
    expect(serverOpenAt1s).toBe(false);
    expect(clientClosed).toBe('clean');
    loop.close();
  });

  it('closes with ERR_SOCKET ECONNRESET and a message saying the peer reset it', async () => {
    const loop = createLoop();
    let closeError: EventLoopError | undefined;
    const { server, client } = await pair(loop, (stream) => {
      stream.on({ data: () => undefined, close: (error) => (closeError = error) });
      stream.write('never read');
    });
    at(loop, 10, () => {
      client.close(); // with 'never read' unread: a reset
      server.close();
    });
    await loop.run();
    expect(closeError).toEqual(expect.objectContaining({ code: 'ERR_SOCKET', errno: 'ECONNRESET', message: 'connection reset by peer: ECONNRESET' }));
    loop.close();
  });

  it('stops reading when its data callback is removed, and sees the end only after what it left unread', async () => {
    const loop = createLoop();
    const log: string[] = [];
    const { server, client } = await pair(loop, (stream) => {
      const record = (chunk: Uint8Array): void => {
        log.push(`${Buffer.from(chunk).toString()} at ${loop.now()}`);
        if (log.length === 1) {
          stream.on({ data: undefined }); // stop reading for now
          at(loop, 500, () => stream.on({ data: record }));
        }
      };
      stream.on({ data: record, end: () => (log.push(`end at ${loop.now()}`), stream.end()) });
    });
    client.write('a');
    client.end('b');
    client.on({ data: () => undefined, close: () => server.close() });
    await loop.run();
    expect(log).toEqual(['a at 0', 'b at 500', 'end at 500']);
    loop.close();
  });

  it('reports a throwing end callback and still closes once both sides ended', async () => {
    const errors: string[] = [];
    const loop = createLoop({ onError: (error, phase) => errors.push(`${phase}: ${(error as Error).message}`) });
    const log: string[] = [];
    const { server, client } = await pair(loop, (stream) => {
      stream.end('bye'); // our end is out before the peer's arrives
      stream.on({
        data: () => undefined,
        end: () => {
          throw new Error('bad end handler');
        },
        close: (error) => log.push(`server closed ${error === undefined ? 'clean' : error.code}`),
      });
    });
    client.on({ data: () => undefined, end: () => client.end(), close: () => server.close() });
    await loop.run();
    expect(errors).toEqual(['poll: bad end handler']);
    expect(log).toEqual(['server closed clean']);
    loop.close();
  });

  it('resets a writer whose reader closed after reading, rather than leaving its queued data waiting for the window forever', async () => {
    const loop = createLoop();
    const log: string[] = [];
    const { server, client } = await pair(loop, (stream) =>
      stream.on({
        data: (chunk) => {
          log.push(`reader read ${chunk.length} and closes`);
          stream.close(); // nothing else unread: a FIN, and the window it read is opened
        },
      }),
    );
    client.write(Buffer.alloc(200 * KIB)); // 128 KiB fill the window, 72 KiB wait for it
    client.on({
      data: () => undefined,
      end: () => log.push(`writer sees the end with ${client.bufferedAmount} bytes waiting`),
      close: (error) => {
        log.push(`writer closed: ${error === undefined ? 'clean' : `${error.code} ${(error as SocketError).errno}`}`);
        server.close();
      },
    });
    await within(loop.run(), 5_000, 'the run');
    // The reader's FIN, its window update and the reset that answers the rest arrive at one instant:
    // the reset closes the writer before its end callback would run.
    expect(log).toEqual([`reader read ${128 * KIB} and closes`, 'writer closed: ERR_SOCKET ECONNRESET']);
    loop.close();
  });

  it('runs no drain callback once its data callback closed it, though the window opened in the same instant', async () => {
    const loop = createLoop();
    const log: string[] = [];
    let serverSide: TcpStream | undefined;
    const { server, client } = await pair(loop, (stream) => (serverSide = stream));
    expect(client.write(Buffer.alloc(200 * KIB))).toBe(false); // 72 KiB wait for the window: a drain is due once they leave
    client.on({
      data: (chunk) => {
        log.push(`client got ${Buffer.from(chunk).toString()}`);
        client.close();
      },
      drain: () => log.push('client drain'),
      close: () => log.push('client closed'),
    });
    at(loop, 1_000, () => {
      let answered = false;
      serverSide?.on({
        data: () => {
          if (!answered) serverSide?.write('bye'); // goes out before the window update for what was read
          answered = true;
        },
        end: () => serverSide?.end(),
        close: () => server.close(),
      });
    });
    await loop.run();
    expect(log).toEqual(['client got bye', 'client closed']);
    loop.close();
  });

  it('reports a throwing connection callback and still accepts the connections after it', async () => {
    const errors: string[] = [];
    const loop = createLoop({ onError: (error, phase) => errors.push(`${phase}: ${(error as Error).message}`) });
    let accepted = 0;
    const server = await loop.listen({ port: 7000 }, (stream) => {
      stream.on({ data: () => undefined, end: () => stream.end() });
      if (++accepted === 1) throw new Error('bad connection handler');
    });
    const clients = await Promise.all([loop.connect({ port: 7000 }), loop.connect({ port: 7000 })]);
    let open = clients.length;
    for (const client of clients) {
      client.on({ data: () => undefined, close: () => --open === 0 && server.close() });
      client.end();
    }
    await loop.run();
    expect(accepted).toBe(2);
    expect(errors).toEqual(['poll: bad connection handler']);
    loop.close();
  });

  it('names its live streams and servers when close() is refused', async () => {
    const loop = createLoop();
    const { server, client } = await pair(loop, (stream) => stream.on({ data: () => undefined, end: () => stream.end() }));
    expect(() => loop.close()).toThrow(expect.objectContaining({ code: 'ERR_LOOP_BUSY', message: expect.stringMatching(/\b1 tcp server\b.*\b1 tcp stream\b|\b1 tcp stream\b.*\b1 tcp server\b/) }));
    client.on({ data: () => undefined, close: () => server.close() });
    client.end();
    await loop.run();
    loop.close();
  });
});

