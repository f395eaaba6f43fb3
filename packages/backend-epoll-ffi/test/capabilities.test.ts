import { UnsupportedError } from '@loop/core';
import { describe, expect, it } from 'vitest';
import { capabilities, createLoop, name } from '../src/index.js';

// The conformance suite runs what a backend declares and, for what it declares missing, checks that
// the API throws: a flag turned false by mistake would only move tests from one list to the other.
// What this backend offers is pinned here, as its TSDoc and the README's capability list say it.
describe('what backend-epoll-ffi declares', () => {
  it('offers everything but WebSockets: fd watchers, pipelining, 400 for a malformed head, closing idle connections, reusePort, every HTTP limit', () => {
    expect(capabilities).toEqual({
      runOnce: true,
      runNowait: true,
      idle: true,
      prepare: true,
      check: true,
      io: true,
      tcp: true,
      reusePort: true,
      http: true,
      httpPipelining: true,
      httpBadRequest: true,
      httpCloseIdle: true,
      httpLimits: {
        maxHeaderSize: true,
        maxHeaderCount: true,
        maxUrlLength: true,
        maxBodySize: true,
        headersTimeout: true,
        keepAliveTimeout: true,
      },
      websocket: false,
    });
    expect(Object.isFrozen(capabilities) && Object.isFrozen(capabilities.httpLimits)).toBe(true);
  });

  it("names itself 'epoll-ffi' in loop.backend and in the UnsupportedError of what it lacks", async () => {
    expect(name).toBe('epoll-ffi');
    const loop = createLoop();
    try {
      expect(loop.backend).toBe('epoll-ffi');
      expect(loop.capabilities).toBe(capabilities);
      const refused = await loop.serveHttp({ port: 0, host: '127.0.0.1', websocket: {} }, () => undefined).then(
        (server) => server.close(),
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(UnsupportedError);
      expect(refused).toMatchObject({ backend: 'epoll-ffi', capability: 'websocket' });
    } finally {
      loop.close();
    }
  });
});
