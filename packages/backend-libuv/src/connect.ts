import { connect } from 'node:net';
import { SocketError, type Completion, type ConnectOptions, type TcpStream } from '@loop/core';
import { resolveConnectOptions, type LoopBase } from '@loop/core/kit';
import { NodeTcpStream } from './tcp-stream.js';

/**
 * Connect a TCP stream. Bad options throw; a failed connect completes with `ERR_SOCKET` and
 * leaves nothing open.
 */
export function connectStream(loop: LoopBase, options: ConnectOptions, done: Completion<TcpStream>): void {
  const resolved = resolveConnectOptions(options);
  const socket = connect({ host: resolved.host, port: resolved.port, allowHalfOpen: true, noDelay: resolved.noDelay });
  const onError = (error: Error): void => {
    socket.destroy();
    done(new SocketError(`connect to ${resolved.host}:${resolved.port} failed`, error), undefined);
  };
  socket.once('error', onError);
  socket.once('connect', () => {
    socket.off('error', onError);
    done(undefined, new NodeTcpStream(loop, socket));
  });
}
