import { describe, expect, it } from 'vitest';
import { DEFAULT_HTTP_LIMITS } from '../http.js';
import { checkRequestHead, resolveHttpLimits, resolveListenOptions } from './options.js';

describe('listen options', () => {
  it('default to 127.0.0.1, an ephemeral port and a backlog of 511', () => {
    expect(resolveListenOptions({})).toEqual({ host: '127.0.0.1', port: 0, backlog: 511, reusePort: false });
  });
});

describe('request head checks', () => {
  const limits = resolveHttpLimits({ maxUrlLength: 10, maxHeaderCount: 2, maxHeaderSize: 40, maxBodySize: 5 });

  it('accept a head within every limit', () => {
    expect(checkRequestHead(limits, '/ok', ['Host', 'x', 'Content-Length', '5'])).toBe(0);
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
});
