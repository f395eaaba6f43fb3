import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('the README', () => {
  it('has an example that runs: one request served over epoll to Node’s fetch, then a clean exit', () => {
    const start = readme.indexOf('<!-- example');
    const code = /```js\n([\s\S]*?)```/.exec(readme.slice(start))?.[1];
    expect(code).toBeDefined();
    // The same code, importing the built package by path (the test runs inside the workspace).
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = fileURLToPath(new URL('./readme-example.tmp.mjs', import.meta.url));
    writeFileSync(script, (code as string).replace("'@loop/backend-epoll-ffi'", JSON.stringify(entry)));
    try {
      const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 15_000 });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('hello from epoll: GET /hi (1 connection accepted)\n');
      expect(result.status).toBe(0);
    } finally {
      rmSync(script, { force: true });
    }
  });
});
