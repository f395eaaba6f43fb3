import type { HttpRequest } from '@loop/core';
import { describe, expect, it } from 'vitest';
import { serve } from './http-helpers.js';

const GET = 'GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n';

/** The error `fn` throws (fails the test if it throws nothing). */
function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe('a request head outlives its handler call only as an expired object', () => {
  it('refuses request.on() after the handler returned with ERR_REQUEST_EXPIRED naming the call', async () => {
    let kept: HttpRequest | undefined;
    await serve('level', {}, (request, response) => {
      kept = request;
      response.respond(200, {}, 'ok');
    }, async ({ send, errors }) => {
      expect((await send(GET)).map((r) => r.status)).toEqual([200]);
      expect(errors).toEqual([]);
    });
    const error = thrown(() => kept?.on({}));
    expect(error.code).toBe('ERR_REQUEST_EXPIRED');
    expect(error.message).toMatch(/^request\.on\(\) was called after the handler returned/);
  });

  it('expires the request of a handler that threw, as of one that returned', async () => {
    let kept: HttpRequest | undefined;
    const failure = new Error('handler failed');
    await serve('level', {}, (request) => {
      kept = request;
      throw failure;
    }, async ({ send, errors }) => {
      expect((await send(GET)).map((r) => r.status)).toEqual([500]);
      expect(errors.length).toBe(1);
    });
    expect(kept).toBeDefined();
    const error = thrown(() => kept?.url);
    expect(error.code).toBe('ERR_REQUEST_EXPIRED');
    expect(error.message).toMatch(/^request\.url was read after the handler returned/);
  });
});
