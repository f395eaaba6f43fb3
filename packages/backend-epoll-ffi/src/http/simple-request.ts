/**
 * A fast path in front of llhttp for the requests servers see most: a complete head in one read,
 * in the strictest form RFC 9112 allows, with no body or a `Content-Length` body that is all there.
 *
 * It accepts a strict subset of what llhttp accepts and reads it the same way, and declines
 * everything else (`DECLINED`), which llhttp then parses from the same byte: so it can never accept
 * what llhttp would refuse. test/simple-request.test.ts checks both halves on a corpus and on random
 * mutations of it (whatever this accepts, llhttp accepts with the same method, target, version,
 * header lines, keep-alive verdict and body).
 *
 * The subset, byte by byte:
 * - request line: `GET`, `HEAD`, `POST`, `PUT`, `DELETE`, `OPTIONS` or `PATCH`, one space, an
 *   origin-form target (`/` then visible ASCII, 0x21-0x7E), one space, `HTTP/1.1` or `HTTP/1.0`,
 *   CRLF; no empty line before it;
 * - header lines: a token name, `:`, optional spaces or tabs, a value of tabs and 0x20-0x7E (no
 *   obs-text), CRLF; trailing spaces and tabs are not part of the value (as llhttp trims them);
 * - at most one `Content-Length`, all digits (15 at most); `Connection` at most once, exactly
 *   `close` or `keep-alive` in any case; no tab around either; no `Transfer-Encoding`, `Upgrade` or
 *   `Proxy-Connection` (llhttp gives those meanings of its own);
 * - at most 64 header lines; the head within `maxHead` bytes (llhttp's limit, which answers 431);
 *   the body complete.
 */

/** {@link parseSimpleRequest}'s answer when the request is not in the subset (llhttp decides). */
export const DECLINED = -1;

/** What {@link parseSimpleRequest} read; one object per loop, overwritten by each call. */
export interface SimpleRequest {
  /** The method's index in llhttp's method table (`_http_common`'s `methods`). */
  method: number;
  url: string;
  /** The minor version: 1 or 0. */
  minor: number;
  /** The header lines as `[name, value, ...]`, names as sent: a new array per request. */
  headers: string[];
  /** llhttp's `should_keep_alive` for this request. */
  keepAlive: boolean;
  /** Where the body starts in the buffer, and its length (0: no body). */
  bodyStart: number;
  bodyLength: number;
}

interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const SLASH = 47;

/** RFC 9110 tchar. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

/** Header lines the fast path reads; a head with more goes to llhttp. */
const MAX_FIELDS = 64;

/** The methods of the subset: name, and its bytes including the following space. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];

/** `true` when `buffer[at, at + lower.length)` equals `lower` (lower-case ASCII) ignoring case. */
function sameBytes(buffer: Buffer, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = buffer[at + i] as number;
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The parser for one llhttp method table: method indexes are llhttp's, looked up once.
 */
export class SimpleRequestParser {
  /** llhttp's index of each method of {@link METHODS}, in that order. */
  private readonly indexes: number[];
  /** Name and value bounds of the header lines being read (4 offsets a line). */
  private readonly bounds = new Int32Array(4 * MAX_FIELDS);

  constructor(methods: readonly string[]) {
    this.indexes = METHODS.map((name) => methods.indexOf(name));
    if (this.indexes.some((index) => index < 0)) throw new Error("llhttp's method table lacks a common method");
  }

  /**
   * Read one request from `buffer[start, end)` into `out`; returns the offset just past it (head and
   * body), or {@link DECLINED}.
   */
  parse(buffer: Buffer, start: number, end: number, maxHead: number, out: SimpleRequest): number {
    // The method and its space.
    const method = this.method(buffer, start, end);
    if (method < 0) return DECLINED;
    let i = start + (METHODS[method] as string).length + 1;
    // The origin-form target.
    if (i >= end || buffer[i] !== SLASH) return DECLINED;
    const urlStart = i;
    for (;;) {
      if (i >= end) return DECLINED;
      const c = buffer[i] as number;
      if (c === SP) break;
      if (c < 0x21 || c > 0x7e) return DECLINED;
      i++;
    }
    const urlEnd = i;
    // " HTTP/1.1\r\n" or " HTTP/1.0\r\n" (i is at the space).
    if (i + 11 > end) return DECLINED;
    if (
      buffer[i + 1] !== 72 || buffer[i + 2] !== 84 || buffer[i + 3] !== 84 || buffer[i + 4] !== 80 ||
      buffer[i + 5] !== SLASH || buffer[i + 6] !== 49 || buffer[i + 7] !== 46 || buffer[i + 9] !== CR || buffer[i + 10] !== LF
    ) {
      return DECLINED;
    }
    const minor = (buffer[i + 8] as number) - 48;
    if (minor !== 0 && minor !== 1) return DECLINED;
    i += 11;
    // Header lines. Their bounds are kept as offsets and the strings cut out of one string of the
    // whole head at the end: one call into C++ instead of one per name and value.
    const bounds = this.bounds;
    let fields = 0;
    let contentLength = -1;
    let connection = 0; // 0 none, 1 close, 2 keep-alive
    for (;;) {
      if (i + 1 >= end) return DECLINED;
      if (buffer[i] === CR) {
        if (buffer[i + 1] !== LF) return DECLINED;
        i += 2;
        break;
      }
      const nameStart = i;
      while (i < end && TOKEN[buffer[i] as number] === 1) i++;
      if (i === nameStart || i >= end || buffer[i] !== COLON) return DECLINED;
      const nameLength = i - nameStart;
      i++;
      // llhttp trims spaces and tabs around a value, but its readers of Content-Length and
      // Connection only skip spaces: a tab in those two is left to llhttp.
      let tab = false;
      while (i < end && (buffer[i] === SP || buffer[i] === HTAB)) {
        if (buffer[i] === HTAB) tab = true;
        i++;
      }
      const valueStart = i;
      let valueEnd = i;
      for (;;) {
        if (i >= end) return DECLINED;
        const c = buffer[i] as number;
        if (c === CR) break;
        if (c >= 0x21 && c <= 0x7e) valueEnd = i + 1;
        else if (c === HTAB) tab = true;
        else if (c !== SP) return DECLINED;
        i++;
      }
      if (i + 1 >= end || buffer[i + 1] !== LF) return DECLINED;
      i += 2;
      // The fields llhttp gives a meaning of its own.
      if (nameLength === 14 && sameBytes(buffer, nameStart, 'content-length')) {
        if (tab || contentLength >= 0 || valueEnd === valueStart || valueEnd - valueStart > 15) return DECLINED;
        contentLength = 0;
        for (let d = valueStart; d < valueEnd; d++) {
          const digit = (buffer[d] as number) - 48;
          if (digit < 0 || digit > 9) return DECLINED;
          contentLength = contentLength * 10 + digit;
        }
      } else if (nameLength === 10 && sameBytes(buffer, nameStart, 'connection')) {
        if (tab || connection !== 0) return DECLINED;
        const length = valueEnd - valueStart;
        if (length === 5 && sameBytes(buffer, valueStart, 'close')) connection = 1;
        else if (length === 10 && sameBytes(buffer, valueStart, 'keep-alive')) connection = 2;
        else return DECLINED;
      } else if (
        (nameLength === 17 && sameBytes(buffer, nameStart, 'transfer-encoding')) ||
        (nameLength === 7 && sameBytes(buffer, nameStart, 'upgrade')) ||
        (nameLength === 16 && sameBytes(buffer, nameStart, 'proxy-connection'))
      ) {
        return DECLINED;
      }
      if (fields === MAX_FIELDS) return DECLINED;
      bounds[4 * fields] = nameStart;
      bounds[4 * fields + 1] = nameStart + nameLength;
      bounds[4 * fields + 2] = valueStart;
      bounds[4 * fields + 3] = valueEnd;
      fields++;
    }
    if (i - start > maxHead) return DECLINED;
    const bodyLength = contentLength > 0 ? contentLength : 0;
    if (i + bodyLength > end) return DECLINED;
    const head = (buffer as Latin1Buffer).latin1Slice(start, i);
    const headers = new Array<string>(2 * fields);
    for (let f = 0; f < fields; f++) {
      headers[2 * f] = head.substring((bounds[4 * f] as number) - start, (bounds[4 * f + 1] as number) - start);
      headers[2 * f + 1] = head.substring((bounds[4 * f + 2] as number) - start, (bounds[4 * f + 3] as number) - start);
    }
    out.method = this.indexes[method] as number;
    out.url = head.substring(urlStart - start, urlEnd - start);
    out.minor = minor;
    out.headers = headers;
    // llhttp_should_keep_alive: HTTP/1.1 unless "close", HTTP/1.0 only with "keep-alive".
    out.keepAlive = minor === 1 ? connection !== 1 : connection === 2;
    out.bodyStart = i;
    out.bodyLength = bodyLength;
    return i + bodyLength;
  }

  /** The index in {@link METHODS} of the method at `at` (followed by a space), or -1. */
  private method(buffer: Buffer, at: number, end: number): number {
    for (let m = 0; m < METHODS.length; m++) {
      const name = METHODS[m] as string;
      if (at + name.length >= end || buffer[at + name.length] !== SP) continue;
      let same = true;
      for (let i = 0; i < name.length; i++) {
        if (buffer[at + i] !== name.charCodeAt(i)) {
          same = false;
          break;
        }
      }
      if (same) return m;
    }
    return -1;
  }
}
