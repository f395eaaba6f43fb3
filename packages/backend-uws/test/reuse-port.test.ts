import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SocketError } from '@loop/core';
import { createLoop } from '../src/index.js';
import { exchange } from './helpers.js';

const SERVER = new URL('./fixtures/serve-pid.mjs', import.meta.url).pathname;
const DIST = new URL('../dist/index.js', import.meta.url).pathname;

/** A free port: bind 0 with Node, read it, let go. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

/** Start the pid server as its own process; resolves once it listens. */
function startServer(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().startsWith('listening')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

describe('several processes on one port (reusePort: uSockets sets SO_REUSEPORT)', () => {
  it('lets two processes serve one port, and the kernel spreads connections between them', async () => {
    // The child processes run the built package (tsc -b runs before the tests).
    expect(existsSync(DIST)).toBe(true);
    const port = await freePort();
    const servers = [await startServer(port), await startServer(port)];
    try {
      const pids = new Set<string>();
      for (let i = 0; i < 200 && pids.size < 2; i++) {
        const result = await exchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        pids.add(result.text.slice(result.text.indexOf('\r\n\r\n') + 4));
      }
      expect(pids).toEqual(new Set(servers.map((child) => String(child.pid))));
    } finally {
      await Promise.all(
        servers.map(
          (child) =>
            new Promise<void>((resolve) => {
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
    }
  }, 20_000);

  it('refuses a second server on a port in use without reusePort, with EADDRINUSE', async () => {
    const loop = createLoop();
    const first = await loop.serveHttp({ port: 0 }, (_request, response) => response.end());
    const failure = await loop.serveHttp({ port: first.address.port }, (_request, response) => response.end()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SocketError);
    expect((failure as SocketError).errno).toBe('EADDRINUSE');
    first.close();
    await loop.run();
    loop.close();
  });
});
