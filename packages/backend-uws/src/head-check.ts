import type { HttpLimits } from '@loop/core';
import { HEAD_OK, HEAD_OK_WITH_BODY } from '@loop/core/kit';
import type { HttpRequest as UwsRequest } from '@trufflesuite/uws-js-unofficial';

export { HEAD_OK, HEAD_OK_WITH_BODY };

/** 501: a transfer coding other than chunked (RFC 9112 §6.1: "SHOULD respond with 501"). */
export const HEAD_NOT_IMPLEMENTED = 501;

const DIGITS = /^[0-9]+$/;
// RFC 3986 authority characters (host, IP literal, port); anything else in Host is a 400.
const AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:[\]%]+$/;

/**
 * One pass over a request head as uWebSockets.js parsed it: the header lines are copied into a
 * reused flat `[name, value, ...]` list (the kit's raw-header helpers read it), and the head is
 * checked against the server's limits and against what RFC 9112 says a server must refuse and
 * uWS lets through:
 *
 * - Content-Length that is not digits, or given twice with different values (§6.3 item 5): 400.
 *   uWS would use the first line, and a proxy before us might have used the other.
 * - Transfer-Encoding whose final coding is not `chunked` (`chunked, identity`), or with chunked
 *   twice (§6.3 item 4, §7): 400; any coding besides chunked: 501 (uWS would read it as chunked).
 * - No Host line, several, or one that is not an authority (§3.2): 400.
 * - An empty field name, or DEL in a value (RFC 9110 §5.1, §5.5): 400.
 *
 * What uWS refuses itself never gets here (see the package README: it closes, mostly without a
 * status). One scanner per server, reused for every head: no allocation besides the strings
 * uWS makes for each line.
 */
export class HeadScanner {
  /** The header lines of the head last scanned, names in lower case as uWS gives them. */
  readonly raw: string[] = [];
  /** The request target (path and query) of the head last scanned. */
  url = '';
  /** The client asked to close the connection after this exchange (`Connection: close`). */
  clientClose = false;
  /** The declared body length, or -1 (none declared, or chunked). */
  contentLength = -1;
  private size = 0;
  private hosts = 0;
  private bad = false;
  private transferEncoding: string | undefined;
  /** Bound once: uWS calls it per header line. */
  private readonly visit = (name: string, value: string): void => {
    const raw = this.raw;
    raw.push(name, value);
    this.size += name.length + value.length + 4;
    if (name.length === 0 || value.indexOf('\x7f') >= 0) {
      this.bad = true;
      return;
    }
    switch (name) {
      case 'content-length': {
        if (!DIGITS.test(value)) {
          this.bad = true;
          return;
        }
        const length = Number(value);
        if (this.contentLength >= 0 && this.contentLength !== length) this.bad = true;
        this.contentLength = length;
        return;
      }
      case 'transfer-encoding':
        this.transferEncoding = this.transferEncoding === undefined ? value : `${this.transferEncoding}, ${value}`;
        return;
      case 'host':
        this.hosts++;
        if (!AUTHORITY.test(value)) this.bad = true;
        return;
      case 'connection':
        if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) this.clientClose = true;
        return;
    }
  };

  /**
   * Scan `req` (valid during uWS's request callback only) against `limits`: {@link HEAD_OK} or
   * {@link HEAD_OK_WITH_BODY}, else the status to refuse it with (400, 413, 414, 431, 501).
   */
  scan(req: UwsRequest, limits: Required<HttpLimits>): number {
    this.raw.length = 0;
    this.size = 0;
    this.hosts = 0;
    this.bad = false;
    this.clientClose = false;
    this.contentLength = -1;
    this.transferEncoding = undefined;
    const path = req.getUrl();
    const query = req.getQuery() as string | undefined;
    this.url = query === undefined ? path : `${path}?${query}`;
    req.forEach(this.visit);
    if (this.bad || this.hosts !== 1) return 400;
    let chunked = false;
    if (this.transferEncoding !== undefined) {
      const codings = transferCodings(this.transferEncoding);
      if (codings !== HEAD_OK_WITH_BODY) return codings;
      // uWS closes a head with both before calling us; refuse it here too should one get through.
      if (this.contentLength >= 0) return 400;
      chunked = true;
    }
    if (this.url.length > limits.maxUrlLength) return 414;
    if (this.raw.length / 2 > limits.maxHeaderCount || this.size > limits.maxHeaderSize) return 431;
    if (this.contentLength > limits.maxBodySize) return 413;
    return chunked || this.contentLength > 0 ? HEAD_OK_WITH_BODY : HEAD_OK;
  }
}

/** {@link HEAD_OK_WITH_BODY} when `value` is exactly `chunked` as its one and final coding, else 400 or 501. */
function transferCodings(value: string): number {
  const codings = value.split(',');
  let status = HEAD_OK_WITH_BODY;
  for (let i = 0; i < codings.length; i++) {
    const coding = (codings[i] as string).trim().toLowerCase();
    if (coding === '') return 400;
    const last = i === codings.length - 1;
    if (coding === 'chunked') {
      if (!last) return 400; // chunked must be the final coding, and applied once
    } else if (last) {
      return 400; // the body length cannot be determined (§6.3 item 4)
    } else {
      status = HEAD_NOT_IMPLEMENTED;
    }
  }
  return status;
}
