import { describe, expect, it } from 'vitest';
import { DEFAULT_HTTP_LIMITS } from '../http.js';
import { UnsupportedError } from '../errors.js';
import { checkRequestHead, HEAD_OK, HEAD_OK_WITH_BODY, resolveHttpLimits, resolveListenOptions } from './options.js';

describe('listen options', () => {
  it('default to 127.0.0.1, an ephemeral port and a backlog of 511', () => {
    expect(resolveListenOptions({})).toEqual({ host: '127.0.0.1', port: 0, backlog: 511, reusePort: false });
  });
});

describe('request head checks', () => {
  const limits = resolveHttpLimits({ maxUrlLength: 10, maxHeaderCount: 2, maxHeaderSize: 40, maxBodySize: 5 });

  it('accept a head within every limit, and say whether a body follows', () => {
    expect(checkRequestHead(limits, '/ok', ['Host', 'x', 'Content-Length', '5'])).toBe(HEAD_OK_WITH_BODY);
    expect(checkRequestHead(limits, '/ok', ['Host', 'x', 'Transfer-Encoding', 'chunked'])).toBe(HEAD_OK_WITH_BODY);
    expect(checkRequestHead(limits, '/ok', ['Host', 'x', 'content-length', '0'])).toBe(HEAD_OK);
    expect(checkRequestHead(limits, '/ok', ['Host', 'x'])).toBe(HEAD_OK);
  });

  it('answer 414, 431 and 413 for the limit each head breaks', () => {
    expect(checkRequestHead(limits, '/0123456789', [])).toBe(414);
    expect(checkRequestHead(limits, '/', ['A', '1', 'B', '2', 'C', '3'])).toBe(431);
    expect(checkRequestHead(limits, '/', ['A', 'x'.repeat(40)])).toBe(431);
    expect(checkRequestHead(limits, '/', ['content-length', '6'])).toBe(413);
  });

  it('fill unset limits with the defaults', () => {
    expect(resolveHttpLimits({})).toEqual(DEFAULT_HTTP_LIMITS);
  });

  it('fill a limit the backend fixes with its value, and refuse another value naming the option', () => {
    const fixed = { backend: 'test', limits: { maxHeaderCount: 100 }, why: 'fixed by the host' };
    expect(resolveHttpLimits({}, fixed).maxHeaderCount).toBe(100);
    expect(resolveHttpLimits({ maxHeaderCount: 100 }, fixed).maxHeaderCount).toBe(100);
    let failure: unknown;
    try {
      resolveHttpLimits({ maxHeaderCount: 8 }, fixed);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(UnsupportedError);
    expect(failure).toMatchObject({ code: 'ERR_UNSUPPORTED', backend: 'test', capability: 'httpLimits.maxHeaderCount' });
  });
});
