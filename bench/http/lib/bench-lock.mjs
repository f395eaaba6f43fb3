// The machine-wide benchmark lock (house rules: every benchmark runs under
// `flock /tmp/loop-bench.lock`), taken by the harness itself so that the one-command
// `pnpm bench:http` is safe too, and skipped when an ancestor already holds it (a nested flock on
// the same file would wait for ourselves forever).
import { spawn } from 'node:child_process';
import { openSync, readFileSync, statSync } from 'node:fs';
import { readProcStat } from './proc-stat.mjs';

/** Linux's major and minor numbers of a `dev_t` (glibc's gnu_dev_major/minor), as /proc/locks prints them. */
function devParts(dev) {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return [major, minor];
}

/**
 * The pids holding a FLOCK lock on the file `dev`:`ino`, from /proc/locks lines such as
 * `3: FLOCK  ADVISORY  WRITE 1234 00:2c:5678 0 EOF` (waiters, marked `->`, are left out).
 */
export function flockHolders(procLocks, dev, ino) {
  const [major, minor] = devParts(BigInt(dev));
  const holders = [];
  for (const line of procLocks.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== 'FLOCK') continue;
    const [maj, min, inode] = (fields[5] ?? '').split(':');
    if (inode === undefined) continue;
    if (BigInt(`0x${maj}`) === major && BigInt(`0x${min}`) === minor && BigInt(inode) === BigInt(ino)) holders.push(Number(fields[4]));
  }
  return holders;
}

/** `pid`'s ancestors, parent first. */
function ancestors(pid) {
  const list = [];
  for (let current = pid; current > 1; ) {
    try {
      current = readProcStat(current).ppid;
    } catch {
      break;
    }
    list.push(current);
  }
  return list;
}

/** The pid of an ancestor of this process holding the flock on `path`, or `undefined`. */
function ancestorHolding(path) {
  let stat;
  try {
    stat = statSync(path, { bigint: true });
  } catch {
    return undefined;
  }
  const holders = new Set(flockHolders(readFileSync('/proc/locks', 'utf8'), stat.dev, stat.ino));
  return ancestors(process.pid).find((pid) => holders.has(pid));
}

/** Run `flock <args> 3` on our open description of the lock file; resolves with its exit code. */
function flockFd(fd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', [...args, '3'], { stdio: ['ignore', 'inherit', 'inherit', fd] });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

/**
 * Hold the flock on `path` until this process exits, waiting for it if another benchmark has it.
 * `flock(1)` locks our own open file description (passed as its fd 3), so the lock stays with this
 * process after flock(1) exits, the shell idiom `exec 9>lock; flock 9`. `log` gets one line on what
 * happened.
 */
export async function holdBenchLock(path, log) {
  const holder = ancestorHolding(path);
  if (holder !== undefined) {
    log(`bench lock: ${path} is held by our ancestor pid ${holder}`);
    return;
  }
  let fd;
  try {
    fd = openSync(path, 'a');
  } catch {
    fd = openSync(path, 'r'); // someone else's lock file we may not write: flock works on a read-only fd too
  }
  if ((await flockFd(fd, ['-n'])) !== 0) {
    log(`bench lock: waiting for ${path} (another benchmark is running)...`);
    const code = await flockFd(fd, []);
    if (code !== 0) throw new Error(`flock ${path} failed (exit ${code})`);
  }
  log(`bench lock: holding ${path}`);
}
