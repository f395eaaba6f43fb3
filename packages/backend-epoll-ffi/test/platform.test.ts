import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { platformProblem } from '../src/platform.js';

const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('platforms', () => {
  it('runs on Linux x64 and arm64 only', () => {
    expect(platformProblem('linux', 'x64')).toBeUndefined();
    expect(platformProblem('linux', 'arm64')).toBeUndefined();
    expect(platformProblem('darwin', 'arm64')).toMatch(/Linux-only/);
    expect(platformProblem('win32', 'x64')).toMatch(/Linux-only/);
    expect(platformProblem('linux', 'ia32')).toMatch(/x64 and arm64/);
  });

  it('imports anywhere, and createLoop throws UnsupportedError where epoll is missing (a process that says it is darwin)', () => {
    // The package must load without touching koffi or libc: those load on the first createLoop.
    const script = `
      Object.defineProperty(process, 'platform', { value: 'darwin' });
      const backend = await import(${JSON.stringify(entry)});
      console.log(JSON.stringify({ name: backend.name, io: backend.capabilities.io }));
      try { backend.createLoop(); console.log('no throw'); }
      catch (error) { console.log(JSON.stringify({ name: error.name, code: error.code, capability: error.capability, message: error.message })); }
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(result.status).toBe(0);
    const [exported, thrown] = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(exported).toEqual({ name: 'epoll-ffi', io: true });
    expect(thrown).toMatchObject({ name: 'UnsupportedError', code: 'ERR_UNSUPPORTED', capability: 'platform' });
    expect(String(thrown?.['message'])).toContain('Linux-only, and this is darwin');
  });
});
