import { describe, expect, it } from 'vitest';
import { EventLoopError } from '@loop/core';
import { createLoop } from '../src/index.js';
import { openFdCount, within } from './http-helpers.js';

/** loop.close() on a loop that must refuse: the refusal it threw. */
function refusalOf(close: () => void): EventLoopError {
  try {
    close();
  } catch (error) {
    expect(error).toBeInstanceOf(EventLoopError);
    return error as EventLoopError;
  }
  throw new Error('close() did not refuse');
}

// ERR_LOOP_BUSY names what is still live, by kind, so that a leak can be found from the message.
describe('closing a loop that still has a server', () => {
  it('names "1 tcp server" and "1 http server", and closes once both are closed', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const tcp = await loop.listen({ host: '127.0.0.1', port: 0 }, (stream) => stream.close());
    const http = await loop.serveHttp({ host: '127.0.0.1', port: 0 }, (_request, response) => response.end());
    const refusal = refusalOf(() => loop.close());
    expect(refusal.code).toBe('ERR_LOOP_BUSY');
    expect(refusal.message).toContain('(1 tcp server, 1 http server;');
    tcp.close();
    http.close();
    await within(loop.run(), 10_000, 'the servers to close');
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});
