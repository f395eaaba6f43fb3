import type { Server } from 'node:net';
import { SocketError, type SocketAddress } from '@loop/core';
import type { ResolvedListenOptions } from '@loop/core/kit';
import { socketAddress } from './tcp-stream.js';

/**
 * Whether this Node honours `listen({ reusePort })` (added in Node 23.1 and 22.12; Node 20 accepts
 * the option and silently ignores it, so there the backend declares the capability missing).
 */
export const NODE_HONOURS_REUSE_PORT = ((): boolean => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12);
})();

/**
 * Bind and listen a Node server; `done` gets the bound address, or a `SocketError` after which
 * nothing is left open.
 */
export function listenServer(server: Server, options: ResolvedListenOptions, done: (error: SocketError | undefined, address: SocketAddress | undefined) => void): void {
  const onError = (error: Error): void => {
    server.close();
    done(new SocketError(`listen on ${options.host}:${options.port} failed`, error), undefined);
  };
  server.once('error', onError);
  const listenOptions: { host: string; port: number; backlog: number; reusePort?: boolean } = {
    host: options.host,
    port: options.port,
    backlog: options.backlog,
  };
  if (options.reusePort) listenOptions.reusePort = true;
  server.listen(listenOptions, () => {
    server.off('error', onError);
    const address = server.address();
    if (address === null || typeof address === 'string') {
      server.close();
      done(new SocketError('listening socket has no TCP address', undefined), undefined);
      return;
    }
    done(undefined, socketAddress(address.address, address.port, address.family));
  });
}
