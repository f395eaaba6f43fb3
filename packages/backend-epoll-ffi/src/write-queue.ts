import { EAGAIN, EINTR, MSG_NOSIGNAL } from './constants.js';
import type { Libc } from './libc.js';

// iovecs per writev (IOV_MAX is 1024; a few dozen already fill a socket buffer).
const IOV_COUNT = 64;

/**
 * Bytes waiting for a socket to take them: owned copies, in order. Only streams under
 * backpressure have any, so nothing here is on the hot path of a response that fits the socket
 * buffer (those go out with one send(2) straight from the loop's output buffer).
 */
export class WriteQueue {
  private readonly chunks: Buffer[] = [];
  /** Bytes queued. */
  size = 0;

  /** Queue a copy of `bytes[from, to)`: the caller may reuse its buffer after this. */
  push(bytes: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    this.chunks.push(Buffer.from(bytes.subarray(from, to)));
    this.size += to - from;
  }

  /** Queue `chunk` itself (already owned by the queue's user, never reused). */
  pushOwned(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Drop everything (the stream closed). */
  clear(): void {
    this.chunks.length = 0;
    this.size = 0;
  }

  /**
   * Hand as much as the socket takes to `fd`: send(2) with MSG_NOSIGNAL for one chunk, writev(2)
   * for several (Node ignores SIGPIPE for the whole process, so writev's EPIPE is an errno, never
   * a signal). Returns 0 once the socket is full or the queue empty, or the errno of a failure.
   */
  flush(libc: Libc, fd: number, iov: Buffer): number {
    const chunks = this.chunks;
    while (chunks.length > 0) {
      let written: number;
      if (chunks.length === 1) {
        const only = chunks[0] as Buffer;
        written = libc.send(fd, only, only.length, MSG_NOSIGNAL);
      } else {
        const count = Math.min(chunks.length, IOV_COUNT);
        for (let i = 0; i < count; i++) {
          const chunk = chunks[i] as Buffer;
          iov.writeBigUInt64LE(libc.address(chunk), i * 16);
          iov.writeBigUInt64LE(BigInt(chunk.length), i * 16 + 8);
        }
        written = libc.writev(fd, iov, count);
      }
      if (written < 0) {
        const errno = libc.errno();
        if (errno === EINTR) continue;
        return errno === EAGAIN ? 0 : errno;
      }
      this.consume(written);
    }
    return 0;
  }

  private consume(written: number): void {
    this.size -= written;
    const chunks = this.chunks;
    let left = written;
    while (left > 0) {
      const first = chunks[0] as Buffer;
      if (first.length <= left) {
        left -= first.length;
        chunks.shift();
      } else {
        chunks[0] = first.subarray(left);
        left = 0;
      }
    }
  }
}

/** A buffer for {@link WriteQueue.flush}'s iovecs (one per loop: flushes never overlap). */
export function iovBuffer(): Buffer {
  return Buffer.alloc(IOV_COUNT * 16);
}
