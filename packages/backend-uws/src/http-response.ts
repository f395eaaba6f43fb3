import { STATUS_CODES } from 'node:http';
import { EventLoopError, InvalidArgumentError, type HttpHeaders, type HttpHeaderValue, type HttpLimits, type HttpResponse, type HttpResponseEvents, type PeerAddress } from '@loop/core';
import { checkChunk } from '@loop/core/kit';
import type { HttpResponse as UwsResponse } from '@trufflesuite/uws-js-unofficial';
import { UwsHttpRequest } from './http-request.js';
import { peerText } from './peer-address.js';
import type { UwsHttpServer } from './http-server.js';
import type { UwsLoop } from './uws-loop.js';

const NO_EVENTS: HttpResponseEvents = Object.freeze({});
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

// Exchange states (bits).
const HEADERS_SENT = 1;
const FINISHED = 2;
const ABORTED = 4;
const DONE_COUNTED = 8;
const CLOSE_EMITTED = 16;
const HANDLER_RETURNED = 32;
const BODY_REFUSED = 64;
const BODY_ENDED = 128;

const statusLines = new Map<number, string>();
/** `"200 OK"` for uWS's writeStatus, made once per code. */
function statusLine(code: number): string {
  let line = statusLines.get(code);
  if (line === undefined) {
    line = `${code} ${STATUS_CODES[code] ?? 'Unknown'}`;
    statusLines.set(code, line);
  }
  return line;
}

function checkStatus(code: unknown): number {
  if (!Number.isInteger(code) || (code as number) < 100 || (code as number) > 999) {
    throw new EventLoopError('ERR_INVALID_ARG', `status must be an integer in [100, 999], got ${String(code)}`);
  }
  return code as number;
}

/** uWS writes what it is given: names and values are checked here, as Node checks them, so no response can be split. */
function checkHeader(name: string, value: string): void {
  if (typeof name !== 'string' || !TOKEN.test(name)) throw new EventLoopError('ERR_INVALID_ARG', `invalid header name ${JSON.stringify(name)}`);
  if (BAD_VALUE.test(value)) throw new EventLoopError('ERR_INVALID_ARG', `invalid character in the value of header '${name}'`);
}

function headerText(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new InvalidArgumentError(`header '${name}' must be a string, a finite number or an array of strings`);
}

function headersSentError(what: string): EventLoopError {
  return new EventLoopError('ERR_HEADERS_SENT', `${what} after the response headers were sent`);
}

/** Statuses whose responses have no body and no Content-Length (RFC 9110 §8.6, §15.3.5, §15.4.5). */
function noBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/** Bytes of a body chunk, as a Content-Length value. */
function byteLength(chunk: Uint8Array | string | undefined): number {
  if (chunk === undefined) return 0;
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
}

/**
 * One request/response pair over a uWS `HttpResponse`; also the {@link HttpResponse} the handler
 * writes. It keeps uWS's rules so the user need not:
 *
 * - uWS's response object is used only while uWS says it is valid: never after `end` or after
 *   `onAborted` (the reference is dropped then), so misuse is a no-op returning `false`.
 * - A response not answered within uWS's request callback gets `onAborted` before that
 *   callback returns (uWS aborts the process otherwise).
 * - Writes made outside a uWS callback for this connection go through `cork()`.
 * - `write()` returning `false` arms `onWritable`, whose next call is the `drain` event.
 * - Events of the exchange (body chunks, end, drain, aborted, close) keep their order: once one
 *   is queued for a later poll phase, the following ones are queued behind it.
 */
export class UwsExchange implements HttpResponse {
  readonly request: UwsHttpRequest;
  /** Queued events of this exchange that have not run yet. */
  queued = 0;
  private res: UwsResponse | undefined;
  private readonly loop: UwsLoop;
  private readonly limits: Required<HttpLimits>;
  private events: HttpResponseEvents = NO_EVENTS;
  private statusCode = 200;
  /** Headers set with setHeader: flat [name, value, ...] with values as text; arrays repeat the name. */
  private headerList: string[] | undefined;
  private state = 0;
  private received = 0;
  private held: Uint8Array[] | undefined;
  private pending: unknown[] | undefined;
  private writableArmed = false;
  private waitingDrain = false;
  /** A streamed response with a declared Content-Length: its total, else -1 (chunked). */
  private fixedTotal = -1;
  /** The handler's own `Connection` header: NO_CONNECTION, OWN_CONNECTION or SAYS_CLOSE. */
  private ownConnection = NO_CONNECTION;
  /** Body bytes uWS took so far in the fixed-length path. */
  private written = 0;
  /** Bytes of the fixed-length path that uWS could not take yet (a copy, sent from onWritable). */
  private backlog: Buffer | undefined;
  // Arguments of the operation run inside res.cork(): stored, so no closure is made per call.
  private opChunk: Uint8Array | string | undefined;
  private opHeaders: HttpHeaders | undefined;
  private opResult = false;
  private corkedWrite: (() => void) | undefined;
  private corkedEnd: (() => void) | undefined;
  private corkedRespond: (() => void) | undefined;

  constructor(
    private readonly server: UwsHttpServer,
    res: UwsResponse,
    method: string,
    url: string,
    raw: string[],
    private readonly hasBody: boolean,
    private readonly clientClose: boolean,
  ) {
    this.res = res;
    this.loop = server.loop;
    this.limits = server.limits;
    this.request = new UwsHttpRequest(this, method, url, raw);
    this.isHead = method === 'HEAD';
  }

  private readonly isHead: boolean;

  // ---- HttpResponse ----

  status(code: number): this {
    if (this.state & HEADERS_SENT) throw headersSentError('status() was called');
    this.statusCode = checkStatus(code);
    return this;
  }

  setHeader(name: string, value: HttpHeaderValue): this {
    if (this.state & HEADERS_SENT) throw headersSentError(`setHeader('${String(name)}') was called`);
    // Every value is checked before the list changes: a refused call leaves the header as it was.
    if (!Array.isArray(value)) {
      const text = headerText(name, value); // the common case allocates no array
      checkHeader(name, text);
      const list = (this.headerList ??= []);
      removeHeader(list, name);
      list.push(name, text);
      if (isConnection(name)) this.ownConnection = connectionKind(text);
      return this;
    }
    const texts: string[] = [];
    for (const item of value as readonly string[]) {
      const text = headerText(name, item);
      checkHeader(name, text);
      texts.push(text);
    }
    const list = (this.headerList ??= []);
    removeHeader(list, name);
    for (const text of texts) list.push(name, text);
    if (isConnection(name)) this.ownConnection = connectionKind(texts);
    return this;
  }

  write(chunk: Uint8Array | string): boolean {
    checkChunk(chunk);
    if (this.res === undefined || this.state & FINISHED) return false;
    this.checkFixedRoom(byteLength(chunk)); // before cork(): nothing may throw inside uWS's call
    if (this.server.corked === this) return this.doWrite(chunk);
    this.opChunk = chunk;
    this.cork((this.corkedWrite ??= () => {
      this.opResult = this.doWrite(this.opChunk as Uint8Array | string);
    }));
    this.opChunk = undefined;
    return this.opResult;
  }

  end(chunk?: Uint8Array | string): void {
    if (chunk !== undefined) checkChunk(chunk);
    if (this.res === undefined || this.state & FINISHED) return;
    if (this.state & HEADERS_SENT) this.checkFixedRoom(byteLength(chunk));
    if (this.server.corked === this) {
      this.doEnd(chunk);
      return;
    }
    this.opChunk = chunk;
    this.cork((this.corkedEnd ??= () => this.doEnd(this.opChunk)));
    this.opChunk = undefined;
  }

  respond(status: number, headers?: HttpHeaders, body?: Uint8Array | string): void {
    if (this.res === undefined || this.state & FINISHED) return;
    if (this.state & HEADERS_SENT) throw headersSentError('respond() was called');
    this.statusCode = checkStatus(status);
    if (body !== undefined) checkChunk(body);
    if (headers !== undefined) checkHeaderObject(headers);
    if (this.server.corked === this) {
      this.doRespond(headers, body);
      return;
    }
    this.opHeaders = headers;
    this.opChunk = body;
    this.cork((this.corkedRespond ??= () => this.doRespond(this.opHeaders, this.opChunk)));
    this.opHeaders = undefined;
    this.opChunk = undefined;
  }

  on(events: HttpResponseEvents): this {
    this.events = { ...this.events, ...events };
    return this;
  }

  get headersSent(): boolean {
    return (this.state & HEADERS_SENT) !== 0;
  }

  get finished(): boolean {
    return (this.state & FINISHED) !== 0;
  }

  get aborted(): boolean {
    return (this.state & ABORTED) !== 0;
  }

  // ---- the exchange's life, driven by the server and by uWS ----

  /**
   * Whether uWS counts the response as answered (or gone), so that it needs no `onAborted`: a
   * fixed-length body still short of its length is not, even after `end()`.
   */
  get answered(): boolean {
    if (this.state & ABORTED) return true;
    if (!(this.state & FINISHED)) return false;
    return this.fixedTotal < 0 || this.written === this.fixedTotal;
  }

  /** uWS's `onAborted`: made once, only for responses not answered within uWS's request callback. */
  readonly onAborted = (): void => {
    this.res = undefined; // uWS invalidated it: nothing may touch it from here on
    if (this.state & FINISHED) return;
    this.state |= ABORTED;
    this.countDone();
    this.queue(this.emitAborted, undefined);
  };

  /** uWS's `onData`: made once, only for requests with a body. The chunk is uWS's, valid during this call. */
  readonly onData = (chunk: ArrayBuffer, isLast: boolean): void => {
    if (this.state & BODY_REFUSED) return;
    const size = chunk.byteLength;
    this.received += size;
    if (this.received > this.limits.maxBodySize) {
      // A chunked body grew over the limit: 413, or a reset once the response has started.
      this.state |= BODY_REFUSED;
      this.server.corked = this;
      try {
        this.refuse(413);
      } finally {
        this.server.corked = undefined;
      }
      return;
    }
    if (size > 0) {
      if (this.canRunNow()) {
        this.loop.beginDirect();
        this.server.corked = this;
        try {
          this.emitData(new Uint8Array(chunk));
        } finally {
          this.server.corked = undefined;
        }
      } else {
        this.queue(this.emitData, new Uint8Array(chunk.slice(0)));
      }
    }
    if (isLast) {
      this.state |= BODY_ENDED;
      this.queue(this.emitEnd, undefined);
    }
  };

  /** Called by the server once the handler returned (or threw). */
  handlerReturned(): void {
    this.state |= HANDLER_RETURNED;
    this.request.expire();
    // No body follows: `end` runs right after the handler, in this poll phase.
    if (!this.hasBody && this.request.events.end !== undefined) this.queue(this.emitEnd, undefined);
  }

  /**
   * The handler (or a body or drain callback) threw or rejected: report it, answer 500 and close
   * the connection (or reset it when the response had started).
   */
  failed(error: unknown): void {
    this.loop.report(error, 'poll');
    this.refuse(500);
  }

  /** {@link failed}, with the 500 queued behind this exchange's events instead of sent now. */
  failLater(error: unknown): void {
    this.loop.report(error, 'poll');
    this.queue(this.refuse, 500);
  }

  /** The peer's address, read from uWS while its response object is valid. */
  remoteAddress(): PeerAddress | undefined {
    const res = this.res;
    if (res === undefined) return undefined;
    const text = peerText(res.getRemoteAddressAsText());
    if (text.length === 0) return undefined;
    // uWS.js 20.30 has no accessor for the peer's port: undefined says "unknown" (README, declared gaps).
    return { address: text, port: undefined, family: text.includes(':') ? 'IPv6' : 'IPv4' };
  }

  /** Refuse with `status` and close, or reset the connection when headers are out already. */
  refuse(status: number): void {
    const res = this.res;
    if (res === undefined || this.state & FINISHED) return;
    if (this.state & HEADERS_SENT) {
      this.res = undefined;
      this.state |= ABORTED;
      this.countDone();
      this.native(res, forceClose);
      this.queue(this.emitClose, undefined);
      return;
    }
    this.statusCode = status;
    this.headerList = undefined;
    const body = `${STATUS_CODES[status] ?? 'Error'}\n`;
    this.state |= HEADERS_SENT;
    const run = (): void => {
      res.writeStatus(statusLine(status)).writeHeader('Content-Type', 'text/plain').end(body, true);
    };
    if (this.server.corked === this) run();
    else this.cork(run);
    this.finish();
  }

  /** True when an event of this exchange may run its user callback inside the current uWS call. */
  private canRunNow(): boolean {
    return this.queued === 0 && this.state & HANDLER_RETURNED && !this.request.paused && this.loop.canRunNow() ? true : false;
  }

  // ---- what runs inside uWS's cork ----

  private doWrite(chunk: Uint8Array | string): boolean {
    const res = this.res as UwsResponse;
    if (!(this.state & HEADERS_SENT)) {
      if (!this.isHead) this.fixedTotal = this.declaredLength();
      this.sendHead(res, true);
    }
    if (this.isHead) return true;
    if (this.fixedTotal >= 0) return this.writeFixed(res, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    this.loop.nativeDepth++;
    let ok: boolean;
    try {
      ok = res.write(chunk);
    } finally {
      this.loop.nativeDepth--;
    }
    if (!ok) this.armDrain(res);
    return ok;
  }

  /**
   * The fixed-length path: uWS's `tryEnd(chunk, total)` sends raw body bytes under the declared
   * Content-Length and takes only what the socket accepts now; the rest is copied into the
   * backlog, which `onWritable` sends from uWS's write offset on, and `write()` says `false`.
   */
  /** Throw `ERR_INVALID_ARG` when `size` more bytes would go past a declared content-length. */
  private checkFixedRoom(size: number): void {
    const total = this.state & HEADERS_SENT ? this.fixedTotal : this.isHead ? -1 : this.declaredLength();
    if (total >= 0 && this.written + (this.backlog?.length ?? 0) + size > total) {
      throw new EventLoopError('ERR_INVALID_ARG', `the body would exceed the declared content-length of ${total} bytes`);
    }
  }

  private writeFixed(res: UwsResponse, bytes: Uint8Array): boolean {
    if (bytes.length === 0) return this.backlog === undefined;
    if (this.backlog !== undefined) {
      this.backlog = Buffer.concat([this.backlog, bytes]);
      this.waitingDrain = true;
      return false;
    }
    if (this.tryEnd(res, bytes)) return true;
    this.armDrain(res);
    return false;
  }

  /** One `tryEnd` of `bytes`: `true` when uWS took all of them, else the rest becomes the backlog. */
  private tryEnd(res: UwsResponse, bytes: Uint8Array): boolean {
    this.loop.nativeDepth++;
    try {
      const [ok] = res.tryEnd(bytes, this.fixedTotal);
      if (ok) {
        this.written += bytes.length;
        this.backlog = undefined;
        if (this.written === this.fixedTotal) this.countDone(); // uWS considers the response answered
        return true;
      }
      const taken = res.getWriteOffset() - this.written;
      this.written += taken;
      this.backlog = Buffer.from(bytes.subarray(taken));
      return false;
    } finally {
      this.loop.nativeDepth--;
    }
  }

  /** The value of a `content-length` set with setHeader, or -1. */
  private declaredLength(): number {
    const list = this.headerList;
    if (list === undefined) return -1;
    for (let i = 0; i < list.length; i += 2) {
      if (isContentLength(list[i] as string) && /^[0-9]+$/.test(list[i + 1] as string)) return Number(list[i + 1]);
    }
    return -1;
  }

  private closeShort(): void {
    const res = this.res;
    if (res === undefined) return;
    this.res = undefined;
    this.native(res, forceClose);
  }

  /** `end()` of a fixed-length response whose head is out. */
  private endFixed(res: UwsResponse, chunk: Uint8Array | string | undefined): void {
    if (chunk !== undefined) this.writeFixed(res, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    this.finish();
    if (this.written + (this.backlog?.length ?? 0) < this.fixedTotal) {
      // Fewer bytes than declared: the client could never tell the end, so the connection goes,
      // in the next poll phase (closed inside uWS's cork, what was written would be lost).
      this.queue(this.closeShort, undefined);
    }
  }

  private doEnd(chunk: Uint8Array | string | undefined): void {
    const res = this.res as UwsResponse;
    const started = (this.state & HEADERS_SENT) !== 0;
    // A chunked response's head is out: uWS would write its Connection header into the body, so
    // it is told nothing (a client's own `Connection: close` it knows about already).
    const close = started ? false : this.closeAfter();
    if (started && this.fixedTotal >= 0) {
      this.endFixed(res, chunk);
      return;
    }
    if (!started) this.sendHead(res, false);
    this.finish();
    this.loop.nativeDepth++;
    try {
      if (!started && (this.isHead || noBody(this.statusCode))) {
        if (this.isHead && !noBody(this.statusCode) && !this.hasHeader('content-length')) res.writeHeader('Content-Length', String(byteLength(chunk)));
        endWithoutBody(res, close && !this.clientClose);
      } else if (this.isHead) {
        // A HEAD whose head went out with write(): `end()` would add uWS's own `Content-Length: 0`
        // beside a declared one (or instead of the chunked framing a GET gets).
        endWithoutBody(res, false);
      } else {
        res.end(chunk, close);
      }
    } finally {
      this.loop.nativeDepth--;
    }
  }

  private doRespond(headers: HttpHeaders | undefined, body: Uint8Array | string | undefined): void {
    const res = this.res as UwsResponse;
    this.state |= HEADERS_SENT;
    this.finish();
    this.loop.nativeDepth++;
    try {
      res.writeStatus(statusLine(this.statusCode));
      let declared: string | undefined;
      const list = this.headerList;
      if (list !== undefined) {
        // A Connection header saying close is left to uWS, which writes its own when it closes.
        const skipOwn = this.ownConnection === SAYS_CLOSE && !this.clientClose;
        for (let i = 0; i < list.length; i += 2) {
          const name = list[i] as string;
          if (headers !== undefined && hasName(headers, name)) continue; // `headers` wins
          if (isContentLength(name)) declared = list[i + 1];
          else if (!skipOwn || !isConnection(name)) res.writeHeader(name, list[i + 1] as string);
        }
      }
      if (headers !== undefined) {
        for (const name in headers) {
          const value = headers[name] as HttpHeaderValue;
          if (isContentLength(name)) declared = String(value);
          // Their Connection header replaces setHeader()'s; one saying close is left to uWS, as above.
          else if (isConnection(name) && (this.ownConnection = connectionKind(typeof value === 'number' ? String(value) : value)) === SAYS_CLOSE && !this.clientClose) continue;
          else if (typeof value === 'string') res.writeHeader(name, value);
          else if (typeof value === 'number') res.writeHeader(name, String(value));
          else for (const item of value) res.writeHeader(name, item);
        }
      }
      const close = this.closeAfter(); // after the headers: theirs may say close
      if (!close && this.ownConnection === NO_CONNECTION) res.writeHeader('Connection', 'keep-alive');
      if (this.isHead || noBody(this.statusCode)) {
        if (this.isHead && !noBody(this.statusCode)) res.writeHeader('Content-Length', declared ?? String(byteLength(body)));
        endWithoutBody(res, close && !this.clientClose);
      } else {
        // uWS writes Content-Length from the body itself; a declared one is not sent twice.
        res.end(body, close);
      }
    } finally {
      this.loop.nativeDepth--;
    }
  }

  /**
   * Status line and headers (a declared Content-Length is left to uWS, which counts the body).
   * A response that will stream says itself whether the connection stays; for one ended at once,
   * `end(body, close)` makes uWS say `Connection: close` and close after sending.
   */
  private sendHead(res: UwsResponse, streaming: boolean): void {
    this.state |= HEADERS_SENT;
    this.loop.nativeDepth++;
    try {
      res.writeStatus(statusLine(this.statusCode));
      const list = this.headerList;
      // A Connection header saying close is left to us or to uWS, which write their own.
      const skipOwn = this.ownConnection === SAYS_CLOSE && !this.clientClose;
      if (list !== undefined) {
        for (let i = 0; i < list.length; i += 2) {
          const name = list[i] as string;
          if ((!isContentLength(name) || this.isHead) && (!skipOwn || !isConnection(name))) res.writeHeader(name, list[i + 1] as string);
        }
      }
      if (!this.closeAfter()) {
        if (this.ownConnection === NO_CONNECTION) res.writeHeader('Connection', 'keep-alive');
      } else if (streaming && !this.clientClose) res.writeHeader('Connection', 'close');
    } finally {
      this.loop.nativeDepth--;
    }
  }

  private hasHeader(lower: string): boolean {
    const list = this.headerList;
    if (list === undefined) return false;
    for (let i = 0; i < list.length; i += 2) if ((list[i] as string).toLowerCase() === lower) return true;
    return false;
  }

  /** This response closes its connection: the client asked, the handler's own header says so, or the server is closing. */
  private closeAfter(): boolean {
    return this.clientClose || this.server.closing || this.ownConnection === SAYS_CLOSE;
  }

  private armDrain(res: UwsResponse): void {
    this.waitingDrain = true;
    if (this.writableArmed) return;
    this.writableArmed = true;
    res.onWritable(() => {
      const backlog = this.backlog;
      if (backlog !== undefined && this.res !== undefined) {
        // Send the rest of the fixed-length body from where uWS stopped taking it.
        if (!this.tryEnd(this.res, backlog)) return false;
      }
      if (this.waitingDrain && !(this.state & FINISHED)) {
        this.waitingDrain = false;
        this.queue(this.emitDrain, undefined);
      }
      return true; // chunked: nothing written here, uWS drains its own buffer
    });
  }

  /** Run `fn` inside uWS's cork for this connection (writes after an asynchronous gap). */
  private cork(fn: () => void): void {
    const res = this.res as UwsResponse;
    this.loop.nativeDepth++;
    try {
      res.cork(fn);
    } finally {
      this.loop.nativeDepth--;
    }
  }

  private native(res: UwsResponse, fn: (res: UwsResponse) => void): void {
    this.loop.nativeDepth++;
    try {
      fn(res);
    } finally {
      this.loop.nativeDepth--;
    }
  }

  /** `end()` or `respond()` handed the response to uWS: the reference is dropped (uWS invalidates it). */
  private finish(): void {
    this.state |= FINISHED;
    this.countDone();
    this.queue(this.emitClose, undefined);
  }

  private countDone(): void {
    if (this.state & DONE_COUNTED) return;
    this.state |= DONE_COUNTED;
    this.server.exchangeDone();
  }

  // ---- events, in the order they happened ----

  private queue<A>(fn: (this: UwsExchange, arg: A) => void, arg: A): void {
    // One FIFO per exchange, so its events keep their order whatever else the loop queues.
    (this.pending ??= []).push(fn, arg);
    this.queued++;
    this.loop.deliver(this.runNext, this, undefined);
  }

  private runNext(): void {
    const pending = this.pending as unknown[];
    const fn = pending.shift() as (this: UwsExchange, arg: unknown) => void;
    const arg = pending.shift();
    this.queued--;
    fn.call(this, arg);
  }

  private emitData(chunk: Uint8Array): void {
    if (this.state & BODY_REFUSED) return;
    if (this.request.paused || this.held !== undefined) {
      // Only queued chunks get here (a direct one needs an unpaused request): they are copies already.
      (this.held ??= []).push(chunk);
      return;
    }
    const data = this.request.events.data;
    if (data !== undefined) this.guard(data, chunk);
  }

  private emitEnd(): void {
    if (this.state & BODY_REFUSED) return;
    if (this.request.paused || this.held !== undefined) {
      (this.held ??= []).push(END_MARK);
      return;
    }
    const end = this.request.events.end;
    if (end !== undefined) this.guard(end, undefined);
  }

  /** `resume()`: chunks held while paused are delivered in the next poll phase. */
  resumeBody(): void {
    if (this.res !== undefined && !(this.state & FINISHED)) this.native(this.res, resumeRes);
    if (this.held !== undefined) this.queue(this.releaseHeld, undefined);
  }

  /** `pause()`: uWS stops reading the socket; chunks already read are held. */
  pauseBody(): void {
    if (this.res !== undefined && !(this.state & FINISHED)) this.native(this.res, pauseRes);
  }

  private releaseHeld(): void {
    const held = this.held;
    if (held === undefined) return;
    while (held.length > 0 && !this.request.paused) {
      const chunk = held.shift() as Uint8Array;
      if (chunk === END_MARK) {
        const end = this.request.events.end;
        if (end !== undefined) this.guard(end, undefined);
      } else {
        const data = this.request.events.data;
        if (data !== undefined) this.guard(data, chunk);
      }
    }
    if (held.length === 0) this.held = undefined;
  }

  private emitDrain(): void {
    const drain = this.events.drain;
    if (drain !== undefined) this.guard(drain, undefined);
  }

  private emitAborted(): void {
    try {
      this.request.events.aborted?.();
    } catch (error) {
      this.loop.report(error, 'poll');
    }
    this.emitClose();
  }

  private emitClose(): void {
    if (this.state & CLOSE_EMITTED) return;
    this.state |= CLOSE_EMITTED;
    this.events.close?.();
  }

  /** Run a callback of this exchange; if it throws, the exchange fails like a throwing handler. */
  private guard<A>(callback: (arg: A) => void, arg: A): void {
    try {
      callback(arg);
    } catch (error) {
      this.failed(error);
    }
  }
}

const END_MARK = new Uint8Array(0);

function forceClose(res: UwsResponse): void {
  res.close();
}
function pauseRes(res: UwsResponse): void {
  res.pause();
}
function resumeRes(res: UwsResponse): void {
  res.resume();
}

/**
 * End without a body. Only these two forms count as an answer in this uWS build: with any other
 * argument it sends the head, still waits for the body, and aborts the process when the handler
 * returns without `onAborted` (found by testing the binary). The closing form also writes
 * `Content-Length: 0` (a second one beside a HEAD's, one a 204 must not have), so it is used only
 * when the server closes: uWS closes by itself after answering a client that sent `Connection: close`.
 */
function endWithoutBody(res: UwsResponse, close: boolean): void {
  if (close) res.endWithoutBody(0, true);
  else res.endWithoutBody();
}

const NO_CONNECTION = 0;
const OWN_CONNECTION = 1;
const SAYS_CLOSE = 2;
const CLOSE_TOKEN = /\bclose\b/i;

function isConnection(name: string): boolean {
  return name.length === 10 && name.toLowerCase() === 'connection';
}

/** What a Connection value says (each line of an array is one header line). */
function connectionKind(value: string | readonly string[]): number {
  if (typeof value === 'string') return CLOSE_TOKEN.test(value) ? SAYS_CLOSE : OWN_CONNECTION;
  return value.some((line) => CLOSE_TOKEN.test(line)) ? SAYS_CLOSE : OWN_CONNECTION;
}

function isContentLength(name: string): boolean {
  return name.length === 14 && name.toLowerCase() === 'content-length';
}

function hasName(headers: HttpHeaders, name: string): boolean {
  const lower = name.toLowerCase();
  for (const key in headers) if (key.toLowerCase() === lower) return true;
  return false;
}

function removeHeader(list: string[], name: string): void {
  const lower = String(name).toLowerCase();
  for (let i = list.length - 2; i >= 0; i -= 2) {
    if ((list[i] as string).toLowerCase() === lower) list.splice(i, 2);
  }
}

function checkHeaderObject(headers: HttpHeaders): void {
  if (typeof headers !== 'object' || headers === null) throw new InvalidArgumentError('headers must be an object');
  for (const name in headers) {
    const value = headers[name];
    if (Array.isArray(value)) for (const item of value as readonly string[]) checkHeader(name, headerText(name, item));
    else checkHeader(name, headerText(name, value));
  }
}
