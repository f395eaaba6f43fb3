import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flockHolders } from './bench-lock.mjs';

// /proc/locks prints the device as hex major:minor and the inode in decimal.
const PROC_LOCKS = `1: FLOCK  ADVISORY  WRITE 1234 00:2c:5678 0 EOF
1: -> FLOCK  ADVISORY  WRITE 999 00:2c:5678 0 EOF
2: POSIX  ADVISORY  WRITE 4321 00:2c:5678 0 EOF
3: FLOCK  ADVISORY  WRITE 2222 00:2c:9999 0 EOF
4: FLOCK  ADVISORY  WRITE 3333 08:01:5678 0 EOF
`;

describe('flockHolders', () => {
  it('finds the flock holders of one file by device and inode, leaving out waiters and POSIX locks', () => {
    const dev = (0x00 << 8) | 0x2c; // major 0, minor 0x2c, as stat() encodes it
    expect(flockHolders(PROC_LOCKS, dev, 5678)).toEqual([1234]);
  });

  it('tells devices apart by their major number', () => {
    const dev = (0x08 << 8) | 0x01;
    expect(flockHolders(PROC_LOCKS, dev, 5678)).toEqual([3333]);
  });
});

describe('holdBenchLock', () => {
  const LOCK_MODULE = new URL('./bench-lock.mjs', import.meta.url).href;
  const lockFile = join(mkdtempSync(join(tmpdir(), 'bench-lock-')), 'lock');
  // A child that takes the lock the way compare.mjs does and prints what happened, then exits.
  const taker = ['--input-type=module', '-e', `import { holdBenchLock } from '${LOCK_MODULE}'; await holdBenchLock(${JSON.stringify(lockFile)}, console.log);`];

  /** Run `command args`; resolves with its stdout once it exits. `onLine` sees each line as it comes. */
  function run(command, args, onLine = () => {}) {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk) => {
        out += chunk;
        for (const line of chunk.split('\n').filter(Boolean)) onLine(line);
      });
      child.on('error', reject);
      child.on('exit', () => resolve(out));
    });
  }

  it('takes the lock when nobody holds it', async () => {
    expect(await run(process.execPath, taker)).toBe(`bench lock: holding ${lockFile}\n`);
  });

  it('does not wait for itself when an ancestor holds the lock (flock <lock> node compare.mjs)', async () => {
    expect(await run('flock', [lockFile, process.execPath, ...taker])).toMatch(/is held by our ancestor pid \d+/);
  });

  it('waits for another holder, then takes the lock', async () => {
    // The holder keeps the lock until its stdin closes; the taker must say it waits, and hold the lock after.
    const holder = spawn('flock', [lockFile, 'cat'], { stdio: ['pipe', 'ignore', 'inherit'] });
    await new Promise((resolve) => holder.on('spawn', resolve));
    // flock(1) may not have the lock yet when it has spawned: wait until a non-blocking try fails.
    while ((await run('flock', ['-n', lockFile, 'echo', 'free'])) === 'free\n') await new Promise((resolve) => setImmediate(resolve));
    const lines = [];
    const out = await run(process.execPath, taker, (line) => {
      lines.push(line);
      if (line.includes('waiting')) holder.stdin.end();
    });
    expect(out).toBe(`bench lock: waiting for ${lockFile} (another benchmark is running)...\nbench lock: holding ${lockFile}\n`);
  });
});
