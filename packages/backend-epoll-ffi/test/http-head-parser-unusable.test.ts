import { describe, expect, it, vi } from 'vitest';
import { createLoop } from '../src/index.js';
import { openFdCount, within } from './http-helpers.js';

// This Node's HTTPParser as if it had changed shape: loadLlhttp() refuses it (see llhttp.ts).
vi.mock('../src/http/llhttp.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/http/llhttp.js')>()),
  loadLlhttp: () => {
    throw new Error("Node's internal HTTPParser (_http_common) changed shape: test");
  },
}));

describe('serveHttp on a Node whose HTTPParser the backend cannot use', () => {
  it('rejects with a SocketError caused by the shape error, leaves no listening socket open, and the loop runs on', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop({ trigger: 'level' });
    const failure = await loop.serveHttp({ port: 0 }, (_request, response) => response.respond(204)).then(
      () => undefined,
      (error: unknown) => error as Error & { code?: string },
    );
    expect(failure?.message).toBe('socket setup failed');
    expect((failure?.cause as Error | undefined)?.message).toBe("Node's internal HTTPParser (_http_common) changed shape: test");
    expect(openFdCount()).toBe(fdsBefore);
    const order: string[] = [];
    loop.timer(() => order.push('timer')).start(0);
    await within(loop.run(), 10_000, 'loop to finish');
    expect(order).toEqual(['timer']);
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});
