import { describe, expect, it } from 'vitest';
import { EventLoopError } from '@loop/core';
import { createLoop } from '../src/index.js';

/** What `fn` throws, as [is a TypeError, is an EventLoopError, code]. */
function thrown(fn: () => unknown): [boolean, boolean, string] {
  try {
    fn();
  } catch (error) {
    return [error instanceof TypeError, error instanceof EventLoopError, (error as { code?: string }).code ?? ''];
  }
  return [false, false, 'no throw'];
}

describe('the options this backend adds', () => {
  it('refuses a trigger of the wrong type with a TypeError, and an unknown one with ERR_INVALID_ARG', () => {
    expect(thrown(() => createLoop({ trigger: 5 as never }))).toEqual([true, true, 'ERR_INVALID_ARG']);
    expect(thrown(() => createLoop({ trigger: 'sideways' as never }))).toEqual([false, true, 'ERR_INVALID_ARG']);
    const loop = createLoop({ trigger: 'edge' });
    expect(loop.trigger).toBe('edge');
    loop.close();
  });

  it('refuses bad fd, exclusive and parser options synchronously in the callback form', () => {
    const loop = createLoop();
    const noop = (): void => undefined;
    expect(thrown(() => loop.listen({ fd: '3' as never }, noop, noop))).toEqual([true, true, 'ERR_INVALID_ARG']);
    expect(thrown(() => loop.listen({ fd: -1 }, noop, noop))).toEqual([false, true, 'ERR_INVALID_ARG']);
    expect(thrown(() => loop.listen({ fd: 3, exclusive: 'yes' as never }, noop, noop))).toEqual([true, true, 'ERR_INVALID_ARG']);
    expect(thrown(() => loop.serveHttp({ port: 0, parser: 1 as never }, noop, noop))).toEqual([true, true, 'ERR_INVALID_ARG']);
    expect(thrown(() => loop.serveHttp({ port: 0, parser: 'other' as never }, noop, noop))).toEqual([false, true, 'ERR_INVALID_ARG']);
    expect(loop.alive()).toBe(false);
    loop.close();
  });

  it('refuses a write of the wrong type with a TypeError that is an EventLoopError', async () => {
    const loop = createLoop();
    const server = await loop.listen({ port: 0 }, (stream) => stream.on({ data: () => undefined, end: () => stream.end() }));
    const client = await loop.connect({ port: server.address.port });
    expect(thrown(() => client.write(42 as never))).toEqual([true, true, 'ERR_INVALID_ARG']);
    client.on({ data: () => undefined, close: () => server.close() });
    client.end();
    await loop.run();
    loop.close();
  });
});
