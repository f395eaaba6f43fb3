import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const EXAMPLE = new URL('../examples/chat.mjs', import.meta.url).pathname;
const README = new URL('../README.md', import.meta.url).pathname;
const CLIENTS = new URL('./fixtures/chat-clients.mjs', import.meta.url).pathname;

/** Run `node args` and resolve with its stdout once it exits 0. */
function run(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`node ${args.join(' ')} exited with ${code}: ${err}`))));
  });
}

describe('README example', () => {
  it('shows examples/chat.mjs exactly as it is in the repository', () => {
    const readme = readFileSync(README, 'utf8');
    const block = /<!-- examples\/chat\.mjs -->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(EXAMPLE, 'utf8'));
  });

  it('runs the chat server: two of Node’s own WebSocket clients hear each other through it', async () => {
    // The example runs the built package, as a user would (tsc -b runs before the tests).
    const server = spawn(process.execPath, [EXAMPLE], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        server.stdout.on('data', (chunk: Buffer) => {
          const match = /ws:\/\/127\.0\.0\.1:(\d+)\//.exec(chunk.toString());
          if (match) resolve(match[1] as string);
        });
        server.once('exit', (code) => reject(new Error(`the chat server exited with ${code}`)));
      });
      const heard = JSON.parse(await run(['--experimental-websocket', '--no-warnings', CLIENTS], { PORT: port })) as Record<string, string[]>;
      expect(heard).toEqual({
        alice: ['bob joined', 'you: hello bob', 'bob: hi alice', 'bob left'],
        bob: ['alice: hello bob', 'you: hi alice'],
      });
    } finally {
      const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 20_000);
});
