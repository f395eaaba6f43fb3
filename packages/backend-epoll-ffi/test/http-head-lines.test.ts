import { EventLoopError, InvalidArgumentError, type HttpHeaderValue } from '@loop/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  checkStatus,
  DateLine,
  HAS_CONNECTION,
  HAS_DATE,
  HAS_ENCODING,
  HAS_LENGTH,
  headerFlags,
  headerLines,
  lengthLine,
  SAYS_CLOSE,
  statusHasBody,
  statusLine,
} from '../src/http/response-head.js';

/** The error `fn` throws (fails the test if it throws nothing). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('response head lines', () => {
  it('writes the status line with the standard reason, or Unknown for a code without one', () => {
    expect(statusLine(200)).toBe('HTTP/1.1 200 OK\r\n');
    expect(statusLine(404)).toBe('HTTP/1.1 404 Not Found\r\n');
    expect(statusLine(599)).toBe('HTTP/1.1 599 Unknown\r\n');
    expect(statusLine(599)).toBe('HTTP/1.1 599 Unknown\r\n');
  });

  it('writes the Content-Length line of small and large bodies alike', () => {
    for (const length of [0, 7, 4095, 4096, 4097, 1_000_000]) {
      expect(lengthLine(length)).toBe(`Content-Length: ${length}\r\n`);
      expect(lengthLine(length)).toBe(`Content-Length: ${length}\r\n`);
    }
  });

  it('accepts every integer status from 100 to 999 and refuses the rest with ERR_INVALID_ARG naming the value', () => {
    for (const code of [100, 101, 200, 999]) expect(checkStatus(code)).toBe(code);
    for (const code of [99, 1000, 200.5, Number.NaN, -200]) {
      const error = thrown(() => checkStatus(code));
      expect(error).toBeInstanceOf(EventLoopError);
      expect((error as EventLoopError).code).toBe('ERR_INVALID_ARG');
      expect(error.message).toBe(`status must be an integer in [100, 999], got ${String(code)}`);
    }
  });

  it('refuses a status that is not a number with InvalidArgumentError naming its type', () => {
    for (const [code, type] of [['200', 'string'], [null, 'null'], [undefined, 'undefined'], [{}, 'object']] as const) {
      const error = thrown(() => checkStatus(code));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toBe(`status must be a number, got ${type}`);
    }
  });

  it('gives no body to 1xx, 204 and 304 responses and one to every other status', () => {
    expect([100, 101, 199, 200, 204, 205, 299, 304, 303, 305, 404, 500].map(statusHasBody)).toEqual([
      false, false, false, true, false, true, true, false, true, true, true, true,
    ]);
  });

  it('writes one line for a string or number value and one line per element of an array, in order', () => {
    expect(headerLines('X-Str', 'a b\tc')).toBe('X-Str: a b\tc\r\n');
    expect(headerLines('X-Str', 'other')).toBe('X-Str: other\r\n');
    expect(headerLines('X-Num', 42)).toBe('X-Num: 42\r\n');
    expect(headerLines('Set-Cookie', ['a=1', 'b=2'])).toBe('Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n');
    expect(headerLines('X-None', [])).toBe('');
    expect(headerLines("!#$%&'*+-.^_`|~09azAZ", 'v')).toBe("!#$%&'*+-.^_`|~09azAZ: v\r\n");
  });

  it('keeps answering the same lines after more than 256 different header names', () => {
    for (let i = 0; i < 600; i++) expect(headerLines(`X-H${i}`, `v${i}`)).toBe(`X-H${i}: v${i}\r\n`);
    for (let i = 0; i < 600; i++) expect(headerLines(`X-H${i}`, `v${i}`)).toBe(`X-H${i}: v${i}\r\n`);
    for (let i = 0; i < 600; i++) expect(headerLines(`X-H${i}`, `w${i}`)).toBe(`X-H${i}: w${i}\r\n`);
  });

  it('refuses a header name that is not a token anywhere in it with ERR_INVALID_ARG quoting the name', () => {
    for (const name of ['X Y', ' X', 'X ', 'X:Y', 'X\r\nY', 'Ä', '']) {
      const error = thrown(() => headerLines(name, 'v'));
      expect(error).toBeInstanceOf(EventLoopError);
      expect((error as EventLoopError).code).toBe('ERR_INVALID_ARG');
      expect(error.message).toBe(`invalid header name ${JSON.stringify(name)}`);
    }
  });

  it('refuses a header name that is not a string with InvalidArgumentError naming its type', () => {
    const error = thrown(() => headerLines(7 as unknown as string, 'v'));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe('a header name must be a string, got number');
  });

  it('refuses a value with CR, LF, NUL or another control character, alone or in an array', () => {
    for (const value of ['a\r\nX-Injected: 1', 'a\nb', 'a\0', 'a\x7f', 'a\x1b']) {
      const error = thrown(() => headerLines('X-Bad', value));
      expect((error as EventLoopError).code).toBe('ERR_INVALID_ARG');
      expect(error.message).toBe("invalid character in the value of header 'X-Bad'");
      const inArray = thrown(() => headerLines('X-Bad', ['ok', value]));
      expect((inArray as EventLoopError).code).toBe('ERR_INVALID_ARG');
      expect(inArray.message).toBe("invalid value in header 'X-Bad'");
    }
    expect(headerLines('X-Latin', 'caf\xe9')).toBe('X-Latin: caf\xe9\r\n');
  });

  it('refuses a value that is not a string, a number or an array of strings with InvalidArgumentError naming its type', () => {
    const cases: [unknown, string][] = [
      [null, "header 'X-V' must be a string, a number or an array of strings, got null"],
      [undefined, "header 'X-V' must be a string, a number or an array of strings, got undefined"],
      [{}, "header 'X-V' must be a string, a number or an array of strings, got object"],
      [true, "header 'X-V' must be a string, a number or an array of strings, got boolean"],
      [['a', 1], "header 'X-V' must be a string, a number or an array of strings, got an array holding a number"],
    ];
    for (const [value, message] of cases) {
      const error = thrown(() => headerLines('X-V', value as HttpHeaderValue));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toBe(message);
    }
  });
});

describe('which headers a response already carries', () => {
  it('recognises Content-Length, Connection, Date and Transfer-Encoding in any case, and nothing else', () => {
    const flags = (name: string, value: HttpHeaderValue = 'x'): number => headerFlags(name, value);
    expect([flags('Content-Length', 3), flags('content-length'), flags('CONTENT-LENGTH')]).toEqual([HAS_LENGTH, HAS_LENGTH, HAS_LENGTH]);
    expect([flags('Date'), flags('date'), flags('DATE')]).toEqual([HAS_DATE, HAS_DATE, HAS_DATE]);
    expect([flags('Transfer-Encoding'), flags('transfer-encoding'), flags('TRANSFER-ENCODING')]).toEqual([HAS_ENCODING, HAS_ENCODING, HAS_ENCODING]);
    expect([flags('Connection'), flags('connection'), flags('CONNECTION')]).toEqual([HAS_CONNECTION, HAS_CONNECTION, HAS_CONNECTION]);
    // Other names, of the same lengths and of others.
    for (const name of ['X-Content-Len1', 'Content-Type', 'Data', 'X-Transfer-Encode', 'Connectio1', 'Content-Length2', 'X', 'Keep-Alive']) {
      expect(flags(name, 'close')).toBe(0);
    }
  });

  it('sees a Connection value that says close as a whole word in any case', () => {
    expect(headerFlags('Connection', 'close')).toBe(HAS_CONNECTION | SAYS_CLOSE);
    expect(headerFlags('connection', 'Keep-Alive, CLOSE')).toBe(HAS_CONNECTION | SAYS_CLOSE);
    expect(headerFlags('Connection', 'keep-alive')).toBe(HAS_CONNECTION);
    expect(headerFlags('Connection', 'closed')).toBe(HAS_CONNECTION);
    expect(headerFlags('Connection', 1)).toBe(HAS_CONNECTION);
    // An array goes out one line per element: any of them saying close counts.
    expect(headerFlags('Connection', ['close'])).toBe(HAS_CONNECTION | SAYS_CLOSE);
    expect(headerFlags('Connection', ['keep-alive', 'Close'])).toBe(HAS_CONNECTION | SAYS_CLOSE);
    expect(headerFlags('Connection', ['keep-alive', 'closed'])).toBe(HAS_CONNECTION);
    expect(headerFlags('Connection', [])).toBe(HAS_CONNECTION);
  });
});

describe('the Date line', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('formats the wall clock and keeps the line until the monotonic clock reaches the next wall-clock second', () => {
    const wall = Date.UTC(2026, 0, 2, 3, 4, 5, 250);
    const now = vi.spyOn(Date, 'now').mockReturnValue(wall);
    const date = new DateLine();
    const first = date.get(10_000);
    expect(first).toBe('Date: Fri, 02 Jan 2026 03:04:05 GMT\r\n');
    expect(now).toHaveBeenCalledTimes(1);
    // 750 ms are left in that second: until then the line is kept without reading the clock.
    now.mockReturnValue(wall + 5_000);
    expect(date.get(10_000)).toBe(first);
    expect(date.get(10_749)).toBe(first);
    expect(now).toHaveBeenCalledTimes(1);
    // At the next second the clock is read again.
    expect(date.get(10_750)).toBe('Date: Fri, 02 Jan 2026 03:04:10 GMT\r\n');
    expect(now).toHaveBeenCalledTimes(2);
  });
});
