import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openSocket, parseResponses, rawExchange, within } from './http-helpers.js';

const script = fileURLToPath(new URL('./fixtures/limited-server.mjs', import.meta.url));
const LIMIT = 64;

/** Start the fixture server under `prlimit --nofile=LIMIT`; resolves with its port, fd count and output. */
function startLimited(trigger: string): Promise<{ child: ChildProcess; port: number; fds: number; output: () => string }> {
  const child = spawn('prlimit', [`--nofile=${LIMIT}:${LIMIT}`, process.execPath, script], { env: { ...process.env, TRIGGER: trigger }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return within(
    new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        const match = /listening (\d+) (\d+)/.exec(text);
        if (match) {
          clearInterval(poll);
          resolve({ child, port: Number(match[1]), fds: Number(match[2]), output: () => text });
        }
      }, 10);
      child.once('exit', (code) => {
        clearInterval(poll);
        reject(new Error(`server exited with ${code}: ${text}`));
      });
    }),
    10_000,
    'the limited server to listen',
  );
}

describe.each(['level', 'edge'])(`a server out of file descriptors (%s-triggered, ulimit -n ${LIMIT})`, (trigger) => {
  it('sheds the connections it cannot take (EMFILE), reports it, and keeps serving', async () => {
    const { child, port, fds, output } = await startLimited(trigger);
    try {
      // Enough connections to run the server out of fds, and then some.
      const wanted = LIMIT - fds + 12;
      const sockets = await Promise.all(Array.from({ length: wanted }, () => openSocket(port)));
      const closedByServer = new Set<number>();
      sockets.forEach((socket, i) => {
        socket.on('error', () => undefined);
        socket.on('close', () => closedByServer.add(i));
      });
      // The server accepts what it can; the rest is accepted and closed at once.
      for (let i = 0; i < 200 && closedByServer.size === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(closedByServer.size).toBeGreaterThan(0);
      expect(closedByServer.size).toBeLessThan(wanted);
      // A connection the server kept is served.
      const kept = sockets.findIndex((_, i) => !closedByServer.has(i));
      const keptSocket = sockets[kept];
      if (keptSocket === undefined) throw new Error('no connection was kept');
      const answer = new Promise<Buffer>((resolve) => keptSocket.once('data', resolve));
      keptSocket.write('GET /kept HTTP/1.1\r\nHost: t\r\n\r\n');
      expect(parseResponses(await within(answer, 5_000, 'the kept connection’s answer')).map((r) => r.body)).toEqual(['ok /kept']);
      // Once the fds are back, new connections are served again.
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const after = parseResponses(await rawExchange(port, 'GET /after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'));
      expect(after.map((r) => r.body)).toEqual(['ok /after']);
      expect(output()).toMatch(/error ERR_SOCKET EMFILE/);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
      await within(new Promise((resolve) => child.once('exit', resolve)), 10_000, 'the server to exit');
    }
    const stats = JSON.parse(/stats (.*)/.exec(output())?.[1] ?? '{}') as { acceptShed?: number };
    expect(stats.acceptShed).toBeGreaterThan(0);
    expect(child.exitCode).toBe(0);
  });
});
