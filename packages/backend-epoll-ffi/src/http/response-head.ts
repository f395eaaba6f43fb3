import { STATUS_CODES } from 'node:http';
import { EventLoopError, InvalidArgumentError, type HttpHeaderValue } from '@loop/core';

/** `HTTP/1.1 <code> <reason>\r\n` for every code, built once. */
const STATUS_LINES: string[] = [];

/** The status line of `code` (100-999). */
export function statusLine(code: number): string {
  let line = STATUS_LINES[code];
  if (line === undefined) {
    line = `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Unknown'}\r\n`;
    STATUS_LINES[code] = line;
  }
  return line;
}

/** `Content-Length: <n>\r\n` lines of small bodies, built once each. */
const LENGTH_LINES: string[] = [];

/** The `Content-Length` line for a body of `length` bytes. */
export function lengthLine(length: number): string {
  if (length >= 4096) return `Content-Length: ${length}\r\n`;
  let line = LENGTH_LINES[length];
  if (line === undefined) {
    line = `Content-Length: ${length}\r\n`;
    LENGTH_LINES[length] = line;
  }
  return line;
}

/** Throws `ERR_INVALID_ARG` unless `code` is an integer status in [100, 999]. */
export function checkStatus(code: unknown): number {
  if (typeof code !== 'number') throw new InvalidArgumentError(`status must be a number, got ${code === null ? 'null' : typeof code}`);
  if (!Number.isInteger(code) || code < 100 || code > 999) {
    throw new EventLoopError('ERR_INVALID_ARG', `status must be an integer in [100, 999], got ${String(code)}`);
  }
  return code;
}

/** Whether a response with `status` carries a body (none for 1xx, 204 and 304; RFC 9110 §6.4.1). */
export function statusHasBody(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304;
}

// RFC 9110 §5.1 token characters, and what a field value may hold (Node's checks: no CR, LF, NUL or
// other control characters, so a value can never end the line or inject another header).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

// Checked lines of string headers seen before, by name: strings never change, so a name and value
// met again (the same header object answering every request, say) skip the checks and the
// concatenation. Bounded: cleared when it grows past LINE_CACHE names.
const LINE_CACHE = 256;
const lineCache = new Map<string, { value: string; line: string }>();

/**
 * `name: value\r\n` for one header (one line per element of an array), checked.
 * @throws EventLoopError `ERR_INVALID_ARG` for a name that is not a token or a value with CR, LF,
 * NUL or another control character
 */
export function headerLines(name: string, value: HttpHeaderValue): string {
  if (typeof value === 'string') {
    const cached = lineCache.get(name);
    if (cached !== undefined && cached.value === value) return cached.line;
    const line = checkedLines(name, value);
    if (lineCache.size >= LINE_CACHE) lineCache.clear();
    lineCache.set(name, { value, line });
    return line;
  }
  return checkedLines(name, value);
}

function checkedLines(name: string, value: HttpHeaderValue): string {
  if (typeof name !== 'string') throw new InvalidArgumentError(`a header name must be a string, got ${typeof name}`);
  if (!TOKEN.test(name)) throw new EventLoopError('ERR_INVALID_ARG', `invalid header name ${JSON.stringify(name)}`);
  if (typeof value === 'number') return `${name}: ${value}\r\n`;
  if (typeof value === 'string') {
    if (BAD_VALUE.test(value)) throw new EventLoopError('ERR_INVALID_ARG', `invalid character in the value of header '${name}'`);
    return `${name}: ${value}\r\n`;
  }
  if (Array.isArray(value)) {
    let lines = '';
    for (const item of value as readonly unknown[]) {
      if (typeof item !== 'string') throw new InvalidArgumentError(`header '${name}' must be a string, a number or an array of strings, got an array holding a ${typeof item}`);
      if (BAD_VALUE.test(item)) throw new EventLoopError('ERR_INVALID_ARG', `invalid value in header '${name}'`);
      lines += `${name}: ${item}\r\n`;
    }
    return lines;
  }
  throw new InvalidArgumentError(`header '${name}' must be a string, a number or an array of strings, got ${value === null ? 'null' : typeof value}`);
}

/** Which headers of a response the server would otherwise add itself. */
export const HAS_LENGTH = 1;
export const HAS_CONNECTION = 2;
export const HAS_DATE = 4;
export const HAS_ENCODING = 8;
/** A `Connection: close` among them. */
export const SAYS_CLOSE = 16;

/**
 * The flags of {@link HAS_LENGTH} & co. for header `name` (any case) with `value`. Cheap for the
 * common names: the length and the first letter rule most out without a comparison.
 */
export function headerFlags(name: string, value: HttpHeaderValue): number {
  const length = name.length;
  if (length === 14 && name.toLowerCase() === 'content-length') return HAS_LENGTH;
  if (length === 10 && name.toLowerCase() === 'connection') return saysClose(value) ? HAS_CONNECTION | SAYS_CLOSE : HAS_CONNECTION;
  if (length === 4 && name.toLowerCase() === 'date') return HAS_DATE;
  if (length === 17 && name.toLowerCase() === 'transfer-encoding') return HAS_ENCODING;
  return 0;
}

const CLOSE = /\bclose\b/i;

/** Whether a `Connection` value (a string, or any line of an array: each goes out as its own line) says `close`. */
function saysClose(value: HttpHeaderValue): boolean {
  if (typeof value === 'string') return CLOSE.test(value);
  return Array.isArray(value) && (value as readonly string[]).some((item) => CLOSE.test(item));
}

/**
 * The `Date` line, formatted once per second (RFC 9110 §6.6.1: the server's best approximation of
 * the time the message was generated; a second is the field's resolution).
 */
export class DateLine {
  private line = '';
  private expires = 0;

  /** The `Date: ...\r\n` line for wall-clock time now (`Date.now()` only once the cached second is over). */
  get(monotonicNow: number): string {
    if (monotonicNow < this.expires) return this.line;
    const wall = Date.now();
    this.line = `Date: ${new Date(wall).toUTCString()}\r\n`;
    this.expires = monotonicNow + (1000 - (wall % 1000));
    return this.line;
  }
}
