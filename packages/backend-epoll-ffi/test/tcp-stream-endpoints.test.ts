import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLoop, type TriggerMode } from '../src/index.js';
import { openFdCount, within } from './http-helpers.js';

describe.each<TriggerMode>(['level', 'edge'])('the endpoints of a connected stream (%s-triggered)', (trigger) => {
  it('after a connect completes, the local and remote addresses are read whole (a local address other than the remote one is not mixed up with it)', async () => {
    const fdsBefore = openFdCount();
    // A Node server on 127.0.0.2, connected to from the loopback's own address 127.0.0.1: the two
    // endpoints differ in their address bytes, not only in their ports.
    const peers: Socket[] = [];
    const server = createServer((socket) => peers.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
    const port = (server.address() as { port: number }).port;
    const accepted = new Promise<void>((resolve) => server.once('connection', () => resolve()));
    const loop = createLoop({ trigger });
    const running = loop.run();
    const stream = await within(loop.connect({ host: '127.0.0.2', port }), 10_000, 'the connect to complete');
    const local = stream.localAddress;
    const remote = stream.remoteAddress;
    loop.callSoon(() => loop.stop());
    await within(running, 10_000, 'the run to stop');
    await within(accepted, 10_000, 'the Node server to accept');
    expect(remote).toEqual({ address: '127.0.0.2', port, family: 'IPv4' });
    // What the client sees as its own end is what the server sees as its peer, address and port.
    const peer = peers[0] as Socket;
    expect(local).toEqual({ address: peer.remoteAddress, port: peer.remotePort, family: 'IPv4' });
    expect(local?.address).not.toBe('127.0.0.2');
    stream.close();
    await within(loop.run(), 10_000, 'the run to end');
    loop.close();
    for (const socket of peers) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    expect(openFdCount()).toBe(fdsBefore);
  });
});
