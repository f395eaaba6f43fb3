import type { HttpRequest, HttpRequestEvents, SocketAddress } from '@loop/core';
import { RequestHead } from '@loop/core/kit';
import type { HttpExchange } from './http-exchange.js';

/**
 * {@link HttpRequest}: the head as llhttp handed it over (method, url, the flat raw header list),
 * readable during the handler's synchronous call only, as the contract says (the kit's
 * `RequestHead` checks `live` in every accessor and scans the raw list for header lookups).
 */
export class EpollHttpRequest extends RequestHead implements HttpRequest {
  constructor(
    private readonly exchange: HttpExchange,
    private readonly methodName: string,
    private readonly target: string,
    private readonly version: string,
    private readonly raw: string[],
  ) {
    super();
  }

  protected headMethod(): string {
    return this.methodName;
  }
  protected headUrl(): string {
    return this.target;
  }
  protected headVersion(): string {
    return this.version;
  }
  protected headRemote(): SocketAddress | undefined {
    return this.exchange.conn.remoteAddress();
  }
  protected headRaw(): readonly string[] {
    return this.raw;
  }

  on(events: HttpRequestEvents): this {
    this.assertLive('request.on() was called');
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
