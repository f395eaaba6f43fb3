// The option checks at their boundaries: the last value accepted and the first refused, and the
// message each refusal gives. Found by mutation testing (see CONTRIBUTING.md).
import { describe, expect, it } from 'vitest';
import { EventLoopError, UnsupportedError } from '../errors.js';
import { DEFAULT_HTTP_LIMITS } from '../http.js';
import { checkRequestHead, HEAD_OK, HEAD_OK_WITH_BODY, resolveConnectOptions, resolveHttpLimits, resolveListenOptions } from './options.js';

/** The error `fn` throws, which must be an EventLoopError. */
function refusal(fn: () => unknown): EventLoopError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EventLoopError);
    return error as EventLoopError;
  }
  throw new Error('expected a throw');
}

describe('listen options at their limits', () => {
  it('accept ports 0 to 65535 and backlogs 1 to 65535, reusePort only when exactly true', () => {
    expect(resolveListenOptions({ host: '::1', port: 65535, backlog: 1 })).toEqual({ host: '::1', port: 65535, backlog: 1, reusePort: false });
    expect(resolveListenOptions({ port: 0, backlog: 65535, reusePort: true })).toEqual({ host: '127.0.0.1', port: 0, backlog: 65535, reusePort: true });
    expect(resolveListenOptions({ reusePort: 'yes' as never }).reusePort).toBe(false);
  });

  it('refuse what is outside them with ERR_INVALID_ARG and a message naming the option and the value', () => {
    expect(refusal(() => resolveListenOptions({ port: 65536 })).message).toBe('port must be a finite number in [0, 65535], got 65536');
    expect(refusal(() => resolveListenOptions({ port: -1 })).message).toBe('port must be a finite number in [0, 65535], got -1');
    expect(refusal(() => resolveListenOptions({ port: 80.5 })).message).toBe('port must be an integer, got 80.5');
    expect(refusal(() => resolveListenOptions({ port: '80' as never })).message).toBe('port must be an integer, got 80');
    expect(refusal(() => resolveListenOptions({ backlog: 0 })).message).toBe('backlog must be a finite number in [1, 65535], got 0');
    expect(refusal(() => resolveListenOptions({ backlog: 65536 })).message).toBe('backlog must be a finite number in [1, 65535], got 65536');
    expect(refusal(() => resolveListenOptions({ backlog: 1.5 })).message).toBe('backlog must be an integer, got 1.5');
    expect(refusal(() => resolveListenOptions({ host: '' })).message).toBe('host must be a non-empty string, got an empty one');
    expect(refusal(() => resolveListenOptions({ host: 7 as never })).message).toBe('host must be a non-empty string, got 7');
    expect(refusal(() => resolveListenOptions(null as never)).message).toBe('listen options must be an object');
    expect(refusal(() => resolveListenOptions('0' as never)).code).toBe('ERR_INVALID_ARG');
  });
});

describe('connect options at their limits', () => {
  it('default to 127.0.0.1 with no delay, and keep noDelay false only when asked', () => {
    expect(resolveConnectOptions({ port: 1 })).toEqual({ host: '127.0.0.1', port: 1, noDelay: true });
    expect(resolveConnectOptions({ host: 'localhost', port: 65535, noDelay: false })).toEqual({ host: 'localhost', port: 65535, noDelay: false });
    expect(resolveConnectOptions({ port: 8, noDelay: 0 as never }).noDelay).toBe(true);
  });

  it('refuse port 0, a missing port and a non-object with ERR_INVALID_ARG', () => {
    expect(refusal(() => resolveConnectOptions({ port: 0 })).message).toBe('port must be a finite number in [1, 65535], got 0');
    expect(refusal(() => resolveConnectOptions({} as never)).message).toBe('port must be an integer, got undefined');
    expect(refusal(() => resolveConnectOptions(undefined as never)).message).toBe('connect options must be an object');
  });
});

describe('HTTP limits', () => {
  it('accept 1 to 2^31-1 and refuse what is outside, naming the limit', () => {
    expect(resolveHttpLimits({ maxBodySize: 1, keepAliveTimeout: 2 ** 31 - 1 })).toEqual({ ...DEFAULT_HTTP_LIMITS, maxBodySize: 1, keepAliveTimeout: 2 ** 31 - 1 });
    expect(refusal(() => resolveHttpLimits({ maxUrlLength: 0 })).message).toBe(`maxUrlLength must be a finite number in [1, ${2 ** 31 - 1}], got 0`);
    expect(refusal(() => resolveHttpLimits({ headersTimeout: 2 ** 31 })).code).toBe('ERR_INVALID_ARG');
  });

  it('are frozen, and say why a fixed one cannot change', () => {
    expect(Object.isFrozen(resolveHttpLimits({}))).toBe(true);
    const fixed = { backend: 'test', limits: { maxHeaderCount: 64 }, why: 'fixed by the host' };
    const limits = resolveHttpLimits({ maxBodySize: 10 }, fixed);
    expect(limits).toEqual({ ...DEFAULT_HTTP_LIMITS, maxBodySize: 10, maxHeaderCount: 64 });
    const error = refusal(() => resolveHttpLimits({ maxHeaderCount: 100 }, fixed));
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error.message).toContain('maxHeaderCount is fixed at 64 (fixed by the host); got 100');
  });
});

describe('request heads at the limits', () => {
  const limits = resolveHttpLimits({ maxUrlLength: 10, maxHeaderCount: 2, maxHeaderSize: 40, maxBodySize: 5 });

  it('accept a head exactly at each limit and refuse one just past it', () => {
    expect(checkRequestHead(limits, '/123456789', [])).toBe(HEAD_OK);
    expect(checkRequestHead(limits, '/1234567890', [])).toBe(414);
    expect(checkRequestHead(limits, '/', ['A', '1', 'B', '2'])).toBe(HEAD_OK);
    expect(checkRequestHead(limits, '/', ['A', '1', 'B', '2', 'C', '3'])).toBe(431);
    // "name: value\r\n" per line: 1 + 35 + 4 = 40 bytes.
    expect(checkRequestHead(limits, '/', ['A', 'x'.repeat(35)])).toBe(HEAD_OK);
    expect(checkRequestHead(limits, '/', ['A', 'x'.repeat(36)])).toBe(431);
    expect(checkRequestHead(limits, '/', ['Content-Length', '5'])).toBe(HEAD_OK_WITH_BODY);
    expect(checkRequestHead(limits, '/', ['CONTENT-LENGTH', '6'])).toBe(413);
  });

  it('count the size of every line, names and values alike', () => {
    expect(checkRequestHead(limits, '/', ['Aa', 'x'.repeat(14), 'Bb', 'y'.repeat(14)])).toBe(HEAD_OK);
    expect(checkRequestHead(limits, '/', ['Aa', 'x'.repeat(14), 'Bbb', 'y'.repeat(14)])).toBe(431);
  });

  it('read the declared body and chunked encoding only from those exact fields, in any case', () => {
    expect(checkRequestHead(limits, '/', ['Transfer-Encoding', 'chunked'])).toBe(HEAD_OK_WITH_BODY);
    expect(checkRequestHead(limits, '/', ['TRANSFER-ENCODING', 'chunked'])).toBe(HEAD_OK_WITH_BODY);
    expect(checkRequestHead(limits, '/', ['X-Transfer-Enc', '1'])).toBe(HEAD_OK);
    expect(checkRequestHead(limits, '/', ['X-Content-Lengt', '9'])).toBe(HEAD_OK);
    expect(checkRequestHead(limits, '/', ['Content-Lengths', '9'])).toBe(HEAD_OK);
    expect(checkRequestHead(limits, '/', ['Content-Length', '0'])).toBe(HEAD_OK);
    expect(checkRequestHead(limits, '/', ['Content-Length', '1'])).toBe(HEAD_OK_WITH_BODY);
  });

  it('take no other field of the same length as Transfer-Encoding for it', () => {
    expect('X-Forwarded-Proto'.length).toBe('transfer-encoding'.length);
    expect(checkRequestHead(limits, '/', ['X-Forwarded-Proto', 'https'])).toBe(HEAD_OK);
  });
});

describe('options of the wrong type', () => {
  it('refuse a port that is not a number with an InvalidArgumentError (a TypeError), and null options like missing ones', () => {
    expect(refusal(() => resolveListenOptions({ port: '80' as never }))).toBeInstanceOf(TypeError);
    expect(refusal(() => resolveConnectOptions({ port: '80' as never }))).toBeInstanceOf(TypeError);
    expect(refusal(() => resolveListenOptions({ port: 80.5 }))).not.toBeInstanceOf(TypeError);
    expect(refusal(() => resolveConnectOptions(null as never)).message).toBe('connect options must be an object');
  });
});

describe('listen options: the code of each refusal', () => {
  it('refuse a fractional backlog with ERR_INVALID_ARG: a number out of range, not a wrong type', () => {
    const error = refusal(() => resolveListenOptions({ backlog: 2.5 }));
    expect(error.code).toBe('ERR_INVALID_ARG');
    expect(error).not.toBeInstanceOf(TypeError);
  });
});
