import type { HttpRequest, HttpRequestEvents, HttpRequestSnapshot, PeerAddress } from '@loop/core';
import { forEachRawHeader, rawHeaderObject, rawHeaderValue, rawHeaderValues, requestExpired } from '@loop/core/kit';
/** What a request needs from its exchange (an HTTP exchange, or a WebSocket upgrade). */
export interface RequestOwner {
  pauseBody(): void;
  resumeBody(): void;
  remoteAddress(): PeerAddress | undefined;
}

const NO_EVENTS: HttpRequestEvents = Object.freeze({});

/**
 * {@link HttpRequest} over a head uWebSockets.js parsed. The header lines are the server's
 * scanner list (borrowed for the handler's call, which is all the contract promises) or, for a
 * request queued to a later poll phase, a copy of it.
 *
 * `remoteAddress.port` is `undefined`: uWS.js 20.30 tells the peer's IP but not its port (see the package
 * README); the IP is read from uWS on demand, or kept at dispatch for a queued request.
 */
export class UwsHttpRequest implements HttpRequest {
  /** `true` during the handler's synchronous call: the head may be read and callbacks set. */
  live = true;
  events: HttpRequestEvents = NO_EVENTS;
  /** `pause()` was called (and not `resume()`). */
  paused = false;
  /** The peer's address once read (`null`: not yet). */
  private remote: PeerAddress | undefined | null = null;

  constructor(
    private readonly exchange: RequestOwner,
    private readonly methodValue: string,
    private readonly urlValue: string,
    private raw: string[],
  ) {}

  get method(): string {
    if (!this.live) throw requestExpired('request.method was read');
    return this.methodValue;
  }
  get url(): string {
    if (!this.live) throw requestExpired('request.url was read');
    return this.urlValue;
  }
  get httpVersion(): string {
    if (!this.live) throw requestExpired('request.httpVersion was read');
    return '1.1'; // uWS parses HTTP/1.1 request lines only
  }
  get remoteAddress(): PeerAddress | undefined {
    if (!this.live) throw requestExpired('request.remoteAddress was read');
    if (this.remote === null) this.remote = this.exchange.remoteAddress();
    return this.remote;
  }

  header(name: string): string | undefined {
    if (!this.live) throw requestExpired('request.header() was called');
    return rawHeaderValue(this.raw, name);
  }

  headerValues(name: string): string[] {
    if (!this.live) throw requestExpired('request.headerValues() was called');
    return rawHeaderValues(this.raw, name);
  }

  forEachHeader(callback: (name: string, value: string) => void): void {
    if (!this.live) throw requestExpired('request.forEachHeader() was called');
    forEachRawHeader(this.raw, callback);
  }

  headers(): Record<string, string> {
    if (!this.live) throw requestExpired('request.headers() was called');
    return rawHeaderObject(this.raw);
  }

  snapshot(): HttpRequestSnapshot {
    if (!this.live) throw requestExpired('request.snapshot() was called');
    return { method: this.methodValue, url: this.urlValue, httpVersion: '1.1', headers: rawHeaderObject(this.raw), remoteAddress: this.remoteAddress };
  }

  on(events: HttpRequestEvents): this {
    if (!this.live) throw requestExpired('request.on() was called');
    this.events = { ...this.events, ...events };
    return this;
  }

  pause(): this {
    if (!this.paused) {
      this.paused = true;
      this.exchange.pauseBody();
    }
    return this;
  }

  resume(): this {
    if (this.paused) {
      this.paused = false;
      this.exchange.resumeBody();
    }
    return this;
  }

  /** Read the peer's address now, while uWS's response is valid (a request queued for later). */
  keepRemoteAddress(): void {
    this.remote = this.exchange.remoteAddress();
  }

  /** The handler returned: the head expires, and the borrowed header list is let go. */
  expire(): void {
    this.live = false;
    this.raw = EMPTY_RAW;
  }
}

const EMPTY_RAW: string[] = [];
