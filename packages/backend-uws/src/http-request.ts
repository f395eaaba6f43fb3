import type { HttpRequest, HttpRequestEvents, PeerAddress } from '@loop/core';
import { RequestHead } from '@loop/core/kit';

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
export class UwsHttpRequest extends RequestHead implements HttpRequest {
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
  ) {
    super();
  }

  protected headMethod(): string {
    return this.methodValue;
  }
  protected headUrl(): string {
    return this.urlValue;
  }
  protected headVersion(): string {
    return '1.1'; // uWS parses HTTP/1.1 request lines only
  }
  protected headRemote(): PeerAddress | undefined {
    if (this.remote === null) this.remote = this.exchange.remoteAddress();
    return this.remote;
  }
  protected headRaw(): readonly string[] {
    return this.raw;
  }

  on(events: HttpRequestEvents): this {
    this.assertLive('request.on() was called');
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
