import { describe, expect, it } from 'vitest';
import { capabilities, createLoop, name } from './index.js';

describe('capabilities', () => {
  it('declares no HTTP refinement, no settable HTTP limit and no WebSocket: there is no HTTP server for them to refine', () => {
    expect(capabilities.http).toBe(false);
    const refinements = {
      httpPipelining: capabilities.httpPipelining,
      httpBadRequest: capabilities.httpBadRequest,
      httpCloseIdle: capabilities.httpCloseIdle,
      websocket: capabilities.websocket,
      ...Object.fromEntries(Object.entries(capabilities.httpLimits).map(([limit, settable]) => [`httpLimits.${limit}`, settable])),
    };
    expect(Object.keys(refinements)).toHaveLength(10);
    expect(Object.entries(refinements).filter(([, declared]) => declared)).toEqual([]);
  });

  it('cannot be changed at run time: the declaration and its HTTP limits are frozen', () => {
    expect(Object.isFrozen(capabilities)).toBe(true);
    expect(Object.isFrozen(capabilities.httpLimits)).toBe(true);
  });

  it("names itself 'virtual' on the loop and in the UnsupportedError of what it lacks", async () => {
    expect(name).toBe('virtual');
    const loop = createLoop();
    expect(loop.backend).toBe('virtual');
    expect(loop.capabilities).toBe(capabilities);
    expect(() => loop.io(0, () => undefined)).toThrow(expect.objectContaining({ backend: 'virtual', message: expect.stringMatching(/^backend 'virtual' does not support 'io'/) }));
    await expect(loop.serveHttp({ port: 0 }, () => undefined)).rejects.toEqual(expect.objectContaining({ code: 'ERR_UNSUPPORTED', backend: 'virtual', capability: 'http' }));
    loop.close();
  });
});
