import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { serve } from './http-helpers.js';

describe("the async_hooks resource of the server's HTTP parsers", () => {
  it('names the backend, so that async_hooks consumers can tell its parsers from node:http ones', async () => {
    const types: unknown[] = [];
    const hook = createHook({
      init: (_id, type, _trigger, resource) => {
        if (type === 'HTTPINCOMINGMESSAGE') types.push((resource as { type?: unknown }).type);
      },
    });
    hook.enable();
    try {
      await serve('level', {}, (_request, response) => response.respond(204), async ({ send }) => {
        expect((await send('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')).map((r) => r.status)).toEqual([204]);
      });
    } finally {
      hook.disable();
    }
    // (The one-off probe of the parser's shape, when it runs here, reports a resource without a type.)
    expect(types).toContain('@loop/backend-epoll-ffi HTTP parser');
  });
});
