import { lookup } from 'node:dns';
import { createServer } from 'node:net';
import { SocketError, UnsupportedError, type ListenOptions, type SocketAddress } from '@loop/core';
import { resolveListenOptions } from '@loop/core/kit';
import type { TemplatedApp, us_listen_socket } from '@trufflesuite/uws-js-unofficial';
import type { UwsModule } from './native.js';

/** uSockets listens with this backlog; it has no option for another. */
export const USOCKETS_BACKLOG = 512;

/** A bound uWS listen socket and its address. */
export interface UwsListening {
  readonly socket: us_listen_socket;
  readonly address: SocketAddress;
}

/**
 * Check `options` for uWS: `backlog` is fixed by uSockets, so another value is refused rather than
 * ignored. `reusePort` maps onto uSockets' default (it sets SO_REUSEPORT on Linux unless told
 * `LIBUS_LISTEN_EXCLUSIVE_PORT`, which is what an ordinary listen asks for).
 * @throws EventLoopError `ERR_INVALID_ARG`; UnsupportedError
 */
export function checkListenOptions(backend: string, options: ListenOptions): ReturnType<typeof resolveListenOptions> {
  const resolved = resolveListenOptions(options);
  if (options.backlog !== undefined && options.backlog !== USOCKETS_BACKLOG) {
    throw new UnsupportedError(backend, 'listen.backlog', `uSockets listens with a fixed backlog of ${USOCKETS_BACKLOG}; got ${options.backlog}`);
  }
  return resolved;
}

/**
 * Resolve the host, then listen with uWS. uWS says only whether it worked, so on failure the
 * same bind is tried once with Node, and its errno (`EADDRINUSE`, `EADDRNOTAVAIL`, ...) is
 * what `done` reports. `done` runs from a Node callback, never synchronously.
 */
export function listenUws(
  uws: UwsModule,
  app: TemplatedApp,
  options: ReturnType<typeof resolveListenOptions>,
  done: (error: SocketError | undefined, listening: UwsListening | undefined) => void,
): void {
  lookup(options.host, (lookupError, address, family) => {
    if (lookupError) {
      done(new SocketError(`listen on ${options.host}:${options.port} failed`, lookupError), undefined);
      return;
    }
    let socket: us_listen_socket | false = false;
    const flags = options.reusePort ? 0 : (uws as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT;
    // The binary takes (host, port, options, callback) and calls back synchronously.
    (app.listen as unknown as (host: string, port: number, flags: number, cb: (s: us_listen_socket | false) => void) => void)(
      address,
      options.port,
      flags,
      (listenSocket) => {
        socket = listenSocket;
      },
    );
    if (socket === false) {
      probeListenError(address, options.port, (error) => done(error, undefined));
      return;
    }
    const port = uws.us_socket_local_port(socket as unknown as Parameters<UwsModule['us_socket_local_port']>[0]);
    done(undefined, { socket, address: { address, port, family: family === 6 ? 'IPv6' : 'IPv4' } });
  });
}

/** Find out why a bind failed by trying it with Node (which reports the errno), then let go. */
function probeListenError(host: string, port: number, report: (error: SocketError) => void): void {
  const probe = createServer();
  probe.once('error', (error) => report(new SocketError(`listen on ${host}:${port} failed`, error)));
  probe.listen({ host, port, exclusive: true }, () => {
    probe.close(() => report(new SocketError(`listen on ${host}:${port} failed (uWebSockets.js refused it; a plain bind works now)`, undefined)));
  });
}
