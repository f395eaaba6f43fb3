import type { Server } from 'node:net';
import { SocketError, UnsupportedError, type ListenOptions, type SocketAddress } from '@loop/core';
import { resolveListenOptions } from '@loop/core/kit';
import { socketAddress } from './tcp-stream.js';

/**
 * Bind and listen a Node server per {@link ListenOptions}; resolves with the bound address.
 * A bind error rejects and leaves nothing open.
 */
export function listenServer(server: Server, options: ListenOptions): Promise<SocketAddress> {
  const resolved = resolveListenOptions(options);
  if (resolved.reusePort) {
    // Node 20 accepts `reusePort` and silently ignores it: refuse rather than pretend.
    return Promise.reject(new UnsupportedError('libuv', 'reusePort', 'Node 20 ignores listen({ reusePort }); use the epoll-ffi backend'));
  }
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.close();
      reject(new SocketError(`listen on ${resolved.host}:${resolved.port} failed`, error));
    };
    server.once('error', onError);
    server.listen({ host: resolved.host, port: resolved.port, backlog: resolved.backlog }, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new SocketError('listening socket has no TCP address', undefined));
        return;
      }
      resolve(socketAddress(address.address, address.port, address.family) as SocketAddress);
    });
  });
}
