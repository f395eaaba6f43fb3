import { describe, expect, it } from 'vitest';
import type { TcpServer } from '@loop/core';
import { createLoop, type VirtualLoop } from './index.js';

/** How long a connect to `host`:`port` takes in virtual time (one round trip: twice the latency). */
async function connectTime(loop: VirtualLoop, host: string, port: number): Promise<number> {
  const start = loop.now();
  const stream = await loop.connect({ host, port });
  const took = loop.now() - start;
  stream.on({ data: () => undefined });
  stream.end();
  return took;
}

/** Listeners on each host and port, ending each connection once the peer has. */
async function listenAll(loop: VirtualLoop, targets: [string, number][]): Promise<TcpServer[]> {
  return Promise.all(targets.map(([host, port]) => loop.listen({ host, port }, (stream) => stream.on({ data: () => undefined, end: () => stream.end() }))));
}

describe('virtual network links', () => {
  it('sets the default link with an empty target, for every host and port without a link of its own', async () => {
    const loop = createLoop({ link: { latency: 1 } });
    const servers = await listenAll(loop, [['127.0.0.1', 7000], ['db.internal', 5432]]);
    loop.setLink({}, { latency: 7 });
    const running = loop.run();
    expect([await connectTime(loop, '127.0.0.1', 7000), await connectTime(loop, 'db.internal', 5432)]).toEqual([14, 14]);
    for (const server of servers) server.close();
    await running;
    loop.close();
  });

  it('applies a host link to that host only, on every port, and a host-and-port link to that pair only', async () => {
    const loop = createLoop();
    const servers = await listenAll(loop, [['127.0.0.1', 7000], ['db.internal', 7000], ['db.internal', 5432], ['cache.internal', 5432], ['cache.internal', 7000]]);
    loop.setLink({ host: 'db.internal' }, { latency: 30 });
    loop.setLink({ host: 'cache.internal', port: 5432 }, { latency: 4 });
    const running = loop.run();
    const times: string[] = [];
    for (const [host, port] of [['127.0.0.1', 7000], ['db.internal', 7000], ['db.internal', 5432], ['cache.internal', 5432], ['cache.internal', 7000]] as const) {
      times.push(`${host}:${port} ${await connectTime(loop, host, port)}`);
    }
    expect(times).toEqual(['127.0.0.1:7000 0', 'db.internal:7000 60', 'db.internal:5432 60', 'cache.internal:5432 8', 'cache.internal:7000 0']);
    for (const server of servers) server.close();
    await running;
    loop.close();
  });

  it("keeps a host named '*' apart from the targets that leave the host out", async () => {
    const loop = createLoop();
    const servers = await listenAll(loop, [['*', 7000], ['127.0.0.1', 7000]]);
    loop.setLink({ host: '*', port: 7000 }, { latency: 40 });
    const running = loop.run();
    expect([await connectTime(loop, '127.0.0.1', 7000), await connectTime(loop, '*', 7000)]).toEqual([0, 80]);
    for (const server of servers) server.close();
    await running;
    loop.close();
  });

  it('gives a link a latency in [0, 2^53-1] ms and a bandwidth above 0, up to Infinity', () => {
    for (const link of [{ latency: 0 }, { latency: Number.MAX_SAFE_INTEGER }, { bandwidth: 1e-3 }, { bandwidth: Infinity }]) {
      const loop = createLoop({ link });
      loop.setLink({}, link);
      loop.close();
    }
  });

  it('rejects a link that is not an object, or whose latency or bandwidth is not a valid number, saying which and what it got', () => {
    const loop = createLoop();
    const invalid = (message: string): unknown => expect.objectContaining({ code: 'ERR_INVALID_ARG', message });
    for (const link of [5, 'fast']) expect(() => createLoop({ link: link as never })).toThrow(invalid('link options must be an object'));
    for (const link of [null, 5, 'fast']) expect(() => loop.setLink({}, link as never)).toThrow(invalid('link options must be an object'));
    expect(() => loop.setLink({}, { latency: -1 })).toThrow(invalid(`latency must be a finite number in [0, ${Number.MAX_SAFE_INTEGER}], got -1`));
    for (const bandwidth of [0, -5, Number.NaN, '1000']) {
      const message = `bandwidth must be a positive number of bytes per second (or Infinity), got ${String(bandwidth)}`;
      expect(() => createLoop({ link: { bandwidth: bandwidth as never } })).toThrow(invalid(message));
      expect(() => loop.setLink({ port: 80 }, { bandwidth: bandwidth as never })).toThrow(invalid(message));
    }
    loop.close();
  });

  it('takes a target port in [1, 65535] and a non-empty host, and rejects any other target saying what it got', () => {
    const loop = createLoop();
    loop.setLink({ port: 1 }, { latency: 1 });
    loop.setLink({ port: 65535 }, { latency: 1 });
    loop.setLink({ host: 'db.internal' }, { latency: 1 });
    const invalid = (message: string): unknown => expect.objectContaining({ code: 'ERR_INVALID_ARG', message });
    for (const target of [null, 'db.internal']) expect(() => loop.setLink(target as never, {})).toThrow(invalid('link target must be an object'));
    for (const host of ['', 5]) expect(() => loop.setLink({ host: host as never }, {})).toThrow(invalid(`link target host must be a non-empty string, got ${String(host)}`));
    for (const port of [0, 65536, 80.5, '80']) {
      expect(() => loop.setLink({ port: port as never }, {})).toThrow(invalid(`link target port must be an integer in [1, 65535], got ${String(port)}`));
    }
    loop.close();
    expect(() => loop.setLink({}, {})).toThrow(expect.objectContaining({ code: 'ERR_LOOP_CLOSED' }));
  });
});
