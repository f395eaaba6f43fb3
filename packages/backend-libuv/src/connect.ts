import { connect } from 'node:net';
import { SocketError, type ConnectOptions, type TcpStream } from '@loop/core';
import { resolveConnectOptions, type LoopBase } from '@loop/core/kit';
import { NodeTcpStream } from './tcp-stream.js';

/** Connect a TCP stream; a failed connect rejects with `ERR_SOCKET` and leaves nothing open. */
export function connectStream(loop: LoopBase, options: ConnectOptions): Promise<TcpStream> {
  const resolved = resolveConnectOptions(options);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: resolved.host, port: resolved.port, allowHalfOpen: true, noDelay: resolved.noDelay });
    const onError = (error: Error): void => {
      socket.destroy();
      reject(new SocketError(`connect to ${resolved.host}:${resolved.port} failed`, error));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(new NodeTcpStream(loop, socket));
    });
  });
}
