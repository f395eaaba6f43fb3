import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

function runScript(body: string): { stdout: string; stderr: string; status: number | null } {
  const script = `import { createLoop } from ${JSON.stringify(entry)};\nconst loop = createLoop();\n${body}`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

describe('the default error handler', () => {
  it('prints a throwing callback’s stack and the loop runs the callbacks after it', () => {
    const result = runScript(`
      loop.timer(() => { throw new Error('boom in timer'); }).start(0);
      loop.timer(() => console.log('still running')).start(1);
      await loop.run();
      loop.close();
    `);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('still running');
    expect(result.stderr).toContain('a timer callback threw');
    expect(result.stderr).toMatch(/Error: boom in timer\n\s+at /);
  });

  it('hands the error to process uncaughtException listeners when there are some', () => {
    const result = runScript(`
      process.on('uncaughtException', (error) => console.log('listener saw ' + error.message));
      loop.callSoon(() => { throw new Error('boom in pending'); });
      await loop.run();
      loop.close();
    `);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('listener saw boom in pending');
  });
});
