import { EventLoopError, type HttpHeaders, type HttpHeaderValue, type HttpRequestEvents, type HttpResponse, type HttpResponseEvents } from '@loop/core';
import { checkChunk } from '@loop/core/kit';
import type { HttpConnection } from './http-connection.js';
import { EpollHttpRequest } from './http-request.js';
import { checkStatus, HAS_ENCODING, HAS_LENGTH, headerFlags, headerLines, lengthLine, statusHasBody, statusLine } from './response-head.js';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  505: 'HTTP Version Not Supported',
};

function headersSentError(what: string): EventLoopError {
  return new EventLoopError('ERR_HEADERS_SENT', `${what} after the response headers were sent`);
}

function byteLength(chunk: Uint8Array | string): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
}

/**
 * One request and its response: the {@link HttpResponse} the handler writes, the request's body
 * events, and the response's place in the connection's pipeline. Output goes straight to the
 * connection while this exchange is the oldest unanswered one; a pipelined exchange answered early
 * keeps owned copies until its turn.
 */
export class HttpExchange implements HttpResponse {
  readonly request: EpollHttpRequest;
  headersSent = false;
  finished = false;
  /** This response says `Connection: close`: the connection closes once it is out. */
  closeAfter = false;
  /** Output made before this exchange's turn in the pipeline (owned copies). */
  pending: Buffer[] | undefined;
  pendingBytes = 0;
  /** Request bytes received (declared or chunked), for maxBodySize. */
  received = 0;
  /** The request was fully received (llhttp's message complete). */
  bodyDone = false;
  needDrain = false;
  private statusCode = 200;
  private lineNames: string[] | undefined;
  private lines: string[] | undefined;
  private lineFlags = 0;
  private chunked = false;
  private gone = false;
  /** Sent in full, or the connection closed first: the `close` event is due. */
  private over = false;
  private closeSent = false;
  private responseEvents: HttpResponseEvents | undefined;
  private requestEvents: HttpRequestEvents | undefined;
  private bodyPaused = false;
  private held: Buffer[] | undefined;
  private endHeld = false;
  private refused = false;

  constructor(
    readonly conn: HttpConnection,
    method: string,
    url: string,
    version: string,
    rawHeaders: string[],
    /** The client keeps the connection alive (llhttp's verdict from the version and Connection header). */
    readonly keepAlive: boolean,
    /** A HEAD request: the response has no body on the wire. */
    readonly isHead: boolean,
    /** An HTTP/1.0 client: no chunked encoding. */
    readonly http10: boolean,
  ) {
    this.request = new EpollHttpRequest(this, method, url, version, rawHeaders);
  }

  // ---- HttpResponse ----

  get aborted(): boolean {
    return this.gone;
  }

  status(code: number): this {
    if (this.headersSent) throw headersSentError('status() was called');
    this.statusCode = checkStatus(code);
    return this;
  }

  setHeader(name: string, value: HttpHeaderValue): this {
    if (this.headersSent) throw headersSentError(`setHeader('${String(name)}') was called`);
    const line = headerLines(name, value);
    const lower = name.toLowerCase();
    this.lineNames ??= [];
    this.lines ??= [];
    const at = this.lineNames.indexOf(lower);
    if (at >= 0) {
      this.lines[at] = line;
    } else {
      this.lineNames.push(lower);
      this.lines.push(line);
    }
    this.lineFlags |= headerFlags(name, value);
    return this;
  }

  on(events: HttpResponseEvents): this {
    this.responseEvents = { ...this.responseEvents, ...events };
    if (this.over && events.close !== undefined && !this.closeSent) this.conn.loop.deliver(this.emitClose, this, undefined);
    return this;
  }

  respond(status: number, headers?: HttpHeaders, body?: Uint8Array | string): void {
    if (this.finished || this.gone) return;
    if (this.headersSent) throw headersSentError('respond() was called');
    checkStatus(status);
    if (body !== undefined) checkChunk(body);
    let head = statusLine(status);
    let flags = 0;
    const lines = this.lines;
    if (lines !== undefined) {
      const names = this.lineNames as string[];
      for (let i = 0; i < lines.length; i++) {
        if (headers !== undefined && overridden(headers, names[i] as string)) continue;
        head += lines[i] as string;
      }
      flags = this.lineFlags;
    }
    if (headers !== undefined) {
      for (const name in headers) {
        const value = headers[name] as HttpHeaderValue;
        head += headerLines(name, value);
        flags |= headerFlags(name, value);
      }
    }
    const hasBody = statusHasBody(status);
    const length = body === undefined ? 0 : byteLength(body);
    if (hasBody && (flags & (HAS_LENGTH | HAS_ENCODING)) === 0) head += lengthLine(length);
    head += this.conn.connectionLines(this, flags);
    this.headersSent = true;
    this.finished = true;
    this.conn.output(this, head, hasBody && !this.isHead && length > 0 ? body : undefined, undefined, true);
  }

  write(chunk: Uint8Array | string): boolean {
    checkChunk(chunk);
    if (this.finished || this.gone) return false;
    if (!this.headersSent) this.sendStreamingHead();
    const length = byteLength(chunk);
    if (length > 0 && !this.isHead && statusHasBody(this.statusCode)) {
      if (this.chunked) this.conn.output(this, `${length.toString(16)}\r\n`, chunk, '\r\n', false);
      else this.conn.output(this, undefined, chunk, undefined, false);
    }
    if (this.conn.backlogFor(this) >= this.conn.highWaterMark) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  end(chunk?: Uint8Array | string): void {
    if (chunk !== undefined) checkChunk(chunk);
    if (this.finished || this.gone) return;
    if (!this.headersSent) {
      this.respond(this.statusCode, undefined, chunk);
      return;
    }
    const length = chunk === undefined ? 0 : byteLength(chunk);
    const body = length > 0 && !this.isHead && statusHasBody(this.statusCode) ? chunk : undefined;
    this.finished = true;
    if (this.chunked) this.conn.output(this, body === undefined ? undefined : `${length.toString(16)}\r\n`, body, body === undefined ? '0\r\n\r\n' : '\r\n0\r\n\r\n', true);
    else this.conn.output(this, undefined, body, undefined, true);
  }

  /** Headers of a response that streams: chunked unless a length was set (or the client speaks HTTP/1.0, then it closes at the end). */
  private sendStreamingHead(): void {
    let head = statusLine(this.statusCode);
    const lines = this.lines;
    if (lines !== undefined) for (const line of lines) head += line;
    const flags = this.lineFlags;
    if (statusHasBody(this.statusCode) && (flags & (HAS_LENGTH | HAS_ENCODING)) === 0) {
      if (this.http10) this.closeAfter = true;
      else {
        head += 'Transfer-Encoding: chunked\r\n';
        // A response to HEAD has no body on the wire, not even the last chunk.
        this.chunked = !this.isHead;
      }
    }
    head += this.conn.connectionLines(this, flags);
    this.headersSent = true;
    this.conn.output(this, head, undefined, undefined, false);
  }

  /** An error response (400, 408, 413, 414, 431, 500, 505) that closes the connection; no-op once headers went out. */
  sendError(status: number): void {
    if (this.headersSent || this.finished) return;
    const text = `${REASONS[status] ?? 'Error'}\n`;
    this.closeAfter = true;
    this.headersSent = true;
    this.finished = true;
    const head = `${statusLine(status)}Content-Type: text/plain\r\nContent-Length: ${text.length}\r\n${this.conn.server.dateLine()}Connection: close\r\n\r\n`;
    this.conn.output(this, head, this.isHead ? undefined : text, undefined, true);
  }

  // ---- request side, called by the connection ----

  setRequestEvents(events: HttpRequestEvents): void {
    this.requestEvents = { ...this.requestEvents, ...events };
  }

  /** Whether a `data` callback wants the body (else it is read and discarded). */
  get wantsBody(): boolean {
    return this.requestEvents?.data !== undefined;
  }

  /**
   * A body chunk: a fresh copy from llhttp (Node's parser copies body bytes out of its input), or
   * (`borrowed`) a view of the loop's read buffer from the fast path, copied only if it has to wait.
   */
  body(chunk: Buffer, borrowed: boolean): void {
    if (this.refused) return;
    this.received += chunk.length;
    if (this.received > this.conn.server.limits.maxBodySize) {
      // A chunked body went over the limit: 413 if nothing was sent yet, else the connection closes.
      this.refused = true;
      this.conn.refuseBody(this);
      return;
    }
    const data = this.requestEvents?.data;
    if (data === undefined || this.gone) return;
    if (this.bodyPaused || this.held !== undefined) {
      (this.held ??= []).push(borrowed ? Buffer.from(chunk) : chunk);
      return;
    }
    this.guard(data, chunk);
  }

  /** The request is complete. */
  complete(): void {
    this.bodyDone = true;
    if (this.refused || this.gone) return;
    if (this.bodyPaused || this.held !== undefined) {
      this.endHeld = true;
      return;
    }
    const end = this.requestEvents?.end;
    if (end !== undefined) this.guard(end, undefined);
  }

  pauseBody(): void {
    if (this.bodyPaused) return;
    this.bodyPaused = true;
    if (!this.bodyDone) this.conn.pauseReading();
  }

  resumeBody(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    if (this.held !== undefined || this.endHeld) this.conn.loop.deliver(this.releaseHeld, this, undefined);
    this.conn.resumeReading();
  }

  private releaseHeld(): void {
    const held = this.held;
    while (held !== undefined && held.length > 0 && !this.bodyPaused && !this.gone) {
      const data = this.requestEvents?.data;
      const chunk = held.shift() as Buffer;
      if (data !== undefined) this.guard(data, chunk);
    }
    if (held !== undefined && held.length === 0) this.held = undefined;
    if (this.held === undefined && this.endHeld && !this.bodyPaused && !this.gone) {
      this.endHeld = false;
      const end = this.requestEvents?.end;
      if (end !== undefined) this.guard(end, undefined);
    }
  }

  /** Run a callback of this exchange; if it throws, the exchange fails like a throwing handler. */
  guard<A>(callback: (arg: A) => void, arg: A): void {
    try {
      callback(arg);
    } catch (error) {
      this.failed(error);
    }
  }

  /** The handler (or a body or drain callback) threw or rejected: report it, answer 500 and close this connection. */
  failed(error: unknown): void {
    this.conn.loop.report(error, 'poll');
    if (this.gone) return;
    if (!this.headersSent) this.sendError(500);
    else this.conn.abortAfterFailure();
  }

  /**
   * The connection is gone: from now on writes return false. Returns whether the response had not
   * gone out in full, so the request's `aborted` callback is due ({@link runAborted}, later).
   */
  detach(): boolean {
    if (this.gone || (this.finished && this.pending === undefined)) return false;
    this.gone = true;
    return true;
  }

  /** Tell the request's `aborted` callback that the client left before the response ended. */
  runAborted(): void {
    const aborted = this.requestEvents?.aborted;
    if (aborted !== undefined) {
      try {
        aborted();
      } catch (error) {
        this.conn.loop.report(error, 'poll');
      }
    }
  }

  /** The connection's queue drained after write() returned false. */
  drained(): void {
    if (!this.needDrain || this.gone) return;
    this.needDrain = false;
    const drain = this.responseEvents?.drain;
    if (drain !== undefined) this.guard(drain, undefined);
  }

  /**
   * The exchange is over: its response was handed to the kernel in full, or the connection closed
   * first. The `close` callback runs once, in a later poll tick (this may be inside user code).
   */
  markOver(): void {
    if (this.over) return;
    this.over = true;
    if (this.responseEvents?.close !== undefined) this.conn.loop.deliver(this.emitClose, this, undefined);
  }

  private emitClose(): void {
    if (this.closeSent) return;
    this.closeSent = true;
    const close = this.responseEvents?.close;
    if (close === undefined) return;
    try {
      close();
    } catch (error) {
      this.conn.loop.report(error, 'poll');
    }
  }
}

/** Whether `headers` has a key equal to `lower` ignoring case. */
function overridden(headers: HttpHeaders, lower: string): boolean {
  for (const name in headers) if (name.length === lower.length && name.toLowerCase() === lower) return true;
  return false;
}
