import type { HttpRequest, HttpRequestEvents, HttpRequestSnapshot, SocketAddress } from '@loop/core';
import { forEachRawHeader, rawHeaderObject, rawHeaderValue, rawHeaderValues, requestExpired } from '@loop/core/kit';
import type { HttpExchange } from './http-exchange.js';

/**
 * {@link HttpRequest}: the head as llhttp handed it over (method, url, the flat raw header list),
 * readable during the handler's synchronous call only, as the contract says; every accessor checks
 * `live` first. Header lookups scan the raw list and allocate nothing for a single-line field.
 */
export class EpollHttpRequest implements HttpRequest {
  /** `true` during the handler's synchronous call. */
  live = true;

  constructor(
    private readonly exchange: HttpExchange,
    private readonly methodName: string,
    private readonly target: string,
    private readonly version: string,
    private readonly raw: string[],
  ) {}

  get method(): string {
    if (!this.live) throw requestExpired('request.method was read');
    return this.methodName;
  }

  get url(): string {
    if (!this.live) throw requestExpired('request.url was read');
    return this.target;
  }

  get httpVersion(): string {
    if (!this.live) throw requestExpired('request.httpVersion was read');
    return this.version;
  }

  get remoteAddress(): SocketAddress | undefined {
    if (!this.live) throw requestExpired('request.remoteAddress was read');
    return this.exchange.conn.remoteAddress();
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
    return { method: this.methodName, url: this.target, httpVersion: this.version, headers: rawHeaderObject(this.raw), remoteAddress: this.remoteAddress };
  }

  on(events: HttpRequestEvents): this {
    if (!this.live) throw requestExpired('request.on() was called');
    this.exchange.setRequestEvents(events);
    return this;
  }

  pause(): this {
    this.exchange.pauseBody();
    return this;
  }

  resume(): this {
    this.exchange.resumeBody();
    return this;
  }
}
