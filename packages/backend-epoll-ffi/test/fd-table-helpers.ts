import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import koffi from 'koffi';
import { expect } from 'vitest';
import { AF_INET, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET } from '../src/constants.js';
import { loadLibc } from '../src/libc.js';
import { encodeSockaddr, SOCKADDR_SIZE } from '../src/sockaddr.js';
import { openFdCount } from './http-helpers.js';

// Helpers for tests that fill this process's fd table or look at its epoll registrations.

const libc = loadLibc();
const RLIMIT_NOFILE = 7;
const libcHandle = koffi.load('libc.so.6');
const getrlimit = libcHandle.func('int getrlimit(int, _Out_ uint64_t *limits)') as (resource: number, limits: bigint[]) => number;
const setrlimit = libcHandle.func('int setrlimit(int, const uint64_t *limits)') as (resource: number, limits: bigint[]) => number;
const dup2 = libcHandle.func('int dup2(int, int)') as (from: number, to: number) => number;

/**
 * Run `fn` with every fd number below the soft RLIMIT_NOFILE taken but `free` of them: the process
 * is out of fds meanwhile (in this process, so in-process code paths are what runs out).
 */
export async function withoutFreeFds(fn: () => Promise<unknown>, free = 0): Promise<void> {
  const limits = [0n, 0n];
  expect(getrlimit(RLIMIT_NOFILE, limits)).toBe(0);
  const fillers: number[] = [];
  try {
    // Lower the soft limit to a little above what is open, then take the numbers left.
    expect(setrlimit(RLIMIT_NOFILE, [BigInt(openFdCount() + 8), limits[1] as bigint])).toBe(0);
    for (;;) {
      try {
        fillers.push(openSync('/dev/null', 'r'));
      } catch {
        break;
      }
    }
    for (let i = 0; i < free; i++) closeSync(fillers.pop() as number);
    await fn();
  } finally {
    for (const fd of fillers) closeSync(fd);
    setrlimit(RLIMIT_NOFILE, limits);
  }
}

/**
 * A blocking socket made here, bound to a free loopback port and listening unless told not to;
 * `at` puts it at that fd number (which must be free).
 */
export function boundSocket(listening = true, at?: number): { fd: number; port: number } {
  let fd = libc.socket(AF_INET, SOCK_STREAM, 0);
  if (at !== undefined && fd !== at) {
    expect(dup2(fd, at)).toBe(at);
    libc.close(fd);
    fd = at;
  }
  const one = Buffer.alloc(4);
  one.writeInt32LE(1);
  libc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
  const address = Buffer.alloc(SOCKADDR_SIZE);
  encodeSockaddr('127.0.0.1', 0, address);
  expect(libc.bind(fd, address, 16)).toBe(0);
  if (listening) expect(libc.listen(fd, 128)).toBe(0);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(SOCKADDR_SIZE);
  libc.getsockname(fd, address, length);
  return { fd, port: address.readUInt16BE(2) };
}

/** Whether `fd` is open in this process. */
export function isOpen(fd: number): boolean {
  return libc.getFileFlags(fd) !== -1;
}

/** Every epoll registration of `fd` in this process, as event masks (read from /proc/self/fdinfo). */
export function epollMasksOf(fd: number): number[] {
  const masks: number[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // the fd of the directory listing itself, closed by now
    }
    if (target !== 'anon_inode:[eventpoll]') continue;
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${name}`, 'utf8');
    } catch {
      continue; // closed meanwhile
    }
    for (const match of info.matchAll(/tfd:\s*(\d+)\s+events:\s*([0-9a-f]+)/g)) {
      if (Number(match[1]) === fd) masks.push(Number.parseInt(match[2] as string, 16) >>> 0);
    }
  }
  return masks;
}
