/**
 * What a backend supports. A `false` entry means the matching API throws
 * {@link UnsupportedError}; it is never emulated in a different order or silently ignored.
 */
export interface Capabilities {
  /** `run('once')`. */
  readonly runOnce: boolean;
  /** `run('nowait')`. */
  readonly runNowait: boolean;
  /** `loop.idle()` hooks. */
  readonly idle: boolean;
  /** `loop.prepare()` hooks. */
  readonly prepare: boolean;
  /** `loop.check()` hooks. */
  readonly check: boolean;
  /** `loop.listen()` / `loop.connect()`. */
  readonly tcp: boolean;
  /** `listen({ reusePort: true })`: several sockets bound to one port (SO_REUSEPORT). */
  readonly reusePort: boolean;
  /** `loop.serveHttp()`. */
  readonly http: boolean;
}
