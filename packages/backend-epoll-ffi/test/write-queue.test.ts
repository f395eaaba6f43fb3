import { describe, expect, it } from 'vitest';
import { EAGAIN, EINTR, MSG_NOSIGNAL } from '../src/constants.js';
import type { Libc } from '../src/libc.js';
import { iovBuffer, WriteQueue } from '../src/write-queue.js';

const EPIPE = 32;

/**
 * A socket that takes at most the byte counts in `accept` (one per call; `number` errors are given
 * as `{ errno }`), recording every call and the bytes taken. Unlisted calls take everything.
 */
function fakeSocket(accept: (number | { errno: number })[] = []): { libc: Libc; calls: string[]; taken: () => string } {
  const calls: string[] = [];
  const taken: Buffer[] = [];
  const pointers = new Map<bigint, Buffer>();
  let errno = 0;
  const take = (chunks: Buffer[]): number => {
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const next = accept.shift() ?? total;
    if (typeof next === 'object') {
      errno = next.errno;
      return -1;
    }
    let left = Math.min(next, total);
    const count = left;
    for (const chunk of chunks) {
      if (left === 0) break;
      const part = chunk.subarray(0, left);
      taken.push(Buffer.from(part));
      left -= part.length;
    }
    return count;
  };
  const libc = {
    address(buffer: Uint8Array): bigint {
      const pointer = BigInt(pointers.size + 1) << 20n;
      pointers.set(pointer, Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength));
      return pointer;
    },
    send(_fd: number, buffer: Uint8Array, length: number, flags: number): number {
      calls.push(`send ${length}${flags === MSG_NOSIGNAL ? '' : ' (flags!)'}`);
      return take([Buffer.from(buffer.buffer, buffer.byteOffset, length)]);
    },
    writev(_fd: number, iov: Uint8Array, count: number): number {
      const view = Buffer.from(iov.buffer, iov.byteOffset, iov.byteLength);
      const chunks: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        const base = pointers.get(view.readBigUInt64LE(i * 16)) as Buffer;
        chunks.push(base.subarray(0, Number(view.readBigUInt64LE(i * 16 + 8))));
      }
      pointers.clear();
      calls.push(`writev ${chunks.map((chunk) => chunk.length).join('+')}`);
      return take(chunks);
    },
    errno: () => errno,
  } as unknown as Libc;
  return { libc, calls, taken: () => Buffer.concat(taken).toString() };
}

function queued(...parts: string[]): WriteQueue {
  const queue = new WriteQueue();
  for (const part of parts) {
    const bytes = Buffer.from(part);
    queue.push(bytes, 0, bytes.length);
  }
  return queue;
}

describe('write queue', () => {
  it('push() queues a copy of the range it is given: the caller may reuse its buffer at once', () => {
    const queue = new WriteQueue();
    const bytes = Buffer.from('xxhello');
    queue.push(bytes, 2, 7);
    bytes.fill('z');
    expect(queue.size).toBe(5);
    const socket = fakeSocket();
    expect(queue.flush(socket.libc, 3, iovBuffer())).toBe(0);
    expect(socket.taken()).toBe('hello');
  });

  it('push() of an empty range queues nothing', () => {
    const queue = queued('ab');
    queue.push(Buffer.from('cd'), 1, 1);
    queue.push(Buffer.from('cd'), 2, 1);
    expect(queue.size).toBe(2);
    const socket = fakeSocket();
    queue.flush(socket.libc, 3, iovBuffer());
    expect(socket.calls).toEqual(['send 2']);
  });

  it('pushOwned() queues the buffer itself, not a copy, and ignores an empty one', () => {
    const queue = new WriteQueue();
    const owned = Buffer.from('mine');
    queue.pushOwned(owned);
    queue.pushOwned(Buffer.alloc(0));
    owned.write('MINE');
    expect(queue.size).toBe(4);
    const socket = fakeSocket();
    queue.flush(socket.libc, 3, iovBuffer());
    expect(socket.calls).toEqual(['send 4']);
    expect(socket.taken()).toBe('MINE');
  });

  it('clear() drops everything queued', () => {
    const queue = queued('one', 'two');
    queue.clear();
    expect(queue.size).toBe(0);
    const socket = fakeSocket();
    expect(queue.flush(socket.libc, 3, iovBuffer())).toBe(0);
    expect(socket.calls).toEqual([]);
  });

  it('flush() sends one chunk with send(MSG_NOSIGNAL) and several with one writev', () => {
    const one = fakeSocket();
    queued('only').flush(one.libc, 3, iovBuffer());
    expect(one.calls).toEqual(['send 4']);
    const several = fakeSocket();
    queued('a', 'bc', 'def').flush(several.libc, 3, iovBuffer());
    expect(several.calls).toEqual(['writev 1+2+3']);
    expect(several.taken()).toBe('abcdef');
  });

  it('a partial write keeps the rest of a chunk it cut, in order, and the size follows', () => {
    const queue = queued('abc', 'defg', 'hi');
    const socket = fakeSocket([5, { errno: EAGAIN }]);
    expect(queue.flush(socket.libc, 3, iovBuffer())).toBe(0);
    expect(queue.size).toBe(4);
    expect(socket.taken()).toBe('abcde');
    const rest = fakeSocket();
    queue.flush(rest.libc, 3, iovBuffer());
    expect(rest.calls).toEqual(['writev 2+2']);
    expect(rest.taken()).toBe('fghi');
    expect(queue.size).toBe(0);
  });

  it('a full socket (EAGAIN) stops the flush with 0 and keeps everything', () => {
    const queue = queued('keep');
    const socket = fakeSocket([{ errno: EAGAIN }]);
    expect(queue.flush(socket.libc, 3, iovBuffer())).toBe(0);
    expect(socket.calls).toEqual(['send 4']);
    expect(queue.size).toBe(4);
  });

  it('a call interrupted by a signal (EINTR) is made again', () => {
    const queue = queued('again');
    const socket = fakeSocket([{ errno: EINTR }]);
    expect(queue.flush(socket.libc, 3, iovBuffer())).toBe(0);
    expect(socket.calls).toEqual(['send 5', 'send 5']);
    expect(socket.taken()).toBe('again');
    expect(queue.size).toBe(0);
  });

  it('any other failure is returned as its errno, with the bytes still queued', () => {
    const queue = queued('x', 'y');
    const socket = fakeSocket([{ errno: EPIPE }]);
    expect(queue.flush(socket.libc, 3, iovBuffer())).toBe(EPIPE);
    expect(socket.calls).toEqual(['writev 1+1']);
    expect(queue.size).toBe(2);
  });

  it('more chunks than one writev takes go out in several calls of at most 64', () => {
    const queue = queued(...Array.from({ length: 70 }, (_, i) => String.fromCharCode(48 + (i % 40))));
    const socket = fakeSocket();
    queue.flush(socket.libc, 3, iovBuffer());
    expect(socket.calls.map((call) => call.split('+').length)).toEqual([64, 6]);
    expect(queue.size).toBe(0);
  });
});
