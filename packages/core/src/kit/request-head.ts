import type { HttpRequestSnapshot } from '../http.js';
import type { PeerAddress } from '../stream.js';
import { forEachRawHeader, rawHeaderObject, rawHeaderValue, rawHeaderValues, requestExpired } from './raw-headers.js';

/**
 * The read side of an `HttpRequest`'s head with the contract's lifetime rule, for a backend's
 * request class to extend: each accessor throws `ERR_REQUEST_EXPIRED` once {@link RequestHead.live}
 * is false, and the headers are read from a flat raw list (`[name, value, name, value, ...]`, as
 * Node's `rawHeaders`), so a lookup allocates nothing for a single-line field and the header object
 * is built only when `headers()` or `snapshot()` asks for it.
 *
 * A backend supplies the head through the five `head*` methods (called only while live, so they may
 * read memory its parser reuses afterwards) and keeps the body, the events and `pause`/`resume`.
 *
 * @example
 * class MyRequest extends RequestHead implements HttpRequest {
 *   protected headMethod() { return this.parsed.method; }
 *   // ...headUrl, headVersion, headRemote, headRaw, then on(), pause(), resume()
 * }
 */
export abstract class RequestHead {
  /**
   * `true` during the handler's synchronous call: the head may be read and body callbacks set.
   * The backend sets it to `false` when the handler returns.
   */
  live = true;

  /** The method in upper case. */
  protected abstract headMethod(): string;
  /** The request target as sent. */
  protected abstract headUrl(): string;
  /** `'1.1'` or `'1.0'`. */
  protected abstract headVersion(): string;
  /** The peer's address, as far as the backend knows it. */
  protected abstract headRemote(): PeerAddress | undefined;
  /** The header lines as a flat `[name, value, ...]` list, names as sent. */
  protected abstract headRaw(): readonly string[];

  /** Throws `ERR_REQUEST_EXPIRED` once the handler has returned; `what` ends the message. */
  protected assertLive(what: string): void {
    if (!this.live) throw requestExpired(what);
  }

  /** `HttpRequest.method`. */
  get method(): string {
    this.assertLive('request.method was read');
    return this.headMethod();
  }

  /** `HttpRequest.url`. */
  get url(): string {
    this.assertLive('request.url was read');
    return this.headUrl();
  }

  /** `HttpRequest.httpVersion`. */
  get httpVersion(): string {
    this.assertLive('request.httpVersion was read');
    return this.headVersion();
  }

  /** `HttpRequest.remoteAddress`. */
  get remoteAddress(): PeerAddress | undefined {
    this.assertLive('request.remoteAddress was read');
    return this.headRemote();
  }

  /** `HttpRequest.header`. */
  header(name: string): string | undefined {
    this.assertLive('request.header() was called');
    return rawHeaderValue(this.headRaw(), name);
  }

  /** `HttpRequest.headerValues`. */
  headerValues(name: string): string[] {
    this.assertLive('request.headerValues() was called');
    return rawHeaderValues(this.headRaw(), name);
  }

  /** `HttpRequest.forEachHeader`. */
  forEachHeader(callback: (name: string, value: string) => void): void {
    this.assertLive('request.forEachHeader() was called');
    forEachRawHeader(this.headRaw(), callback);
  }

  /** `HttpRequest.headers`. */
  headers(): Record<string, string> {
    this.assertLive('request.headers() was called');
    return rawHeaderObject(this.headRaw());
  }

  /** `HttpRequest.snapshot`. */
  snapshot(): HttpRequestSnapshot {
    this.assertLive('request.snapshot() was called');
    return {
      method: this.headMethod(),
      url: this.headUrl(),
      httpVersion: this.headVersion(),
      headers: rawHeaderObject(this.headRaw()),
      remoteAddress: this.headRemote(),
    };
  }
}
