import { describe, expect, it } from 'vitest';
import { EPOLL_CTL_ADD, EPOLLIN, O_CLOEXEC, O_NONBLOCK } from '../src/constants.js';
import { errnoName, loadLibc, systemError } from '../src/libc.js';

const libc = loadLibc();

describe('libc bindings', () => {
  it('lays struct epoll_event out as the kernel does on this architecture (packed, 12 bytes, on x86_64)', () => {
    if (process.arch === 'x64') {
      expect([libc.epollEventSize, libc.epollDataOffset]).toEqual([12, 4]);
    } else {
      expect([libc.epollEventSize, libc.epollDataOffset]).toEqual([16, 8]);
    }
  });

  it('gets back from epoll_wait the events and the 64-bit data it registered, at the offsets it assumes', () => {
    const epollFd = libc.epoll_create1(O_CLOEXEC);
    const eventFd = libc.eventfd(0, O_NONBLOCK | O_CLOEXEC);
    expect(epollFd).toBeGreaterThanOrEqual(0);
    expect(eventFd).toBeGreaterThanOrEqual(0);
    const size = libc.epollEventSize;
    const at = libc.epollDataOffset;
    const event = Buffer.alloc(size);
    event.writeUInt32LE(EPOLLIN, 0);
    event.writeUInt32LE(eventFd, at);
    event.writeUInt32LE(0xdeadbeef, at + 4); // the high half of data: our token
    expect(libc.epoll_ctl(epollFd, EPOLL_CTL_ADD, eventFd, event)).toBe(0);
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    expect(libc.read(eventFd, one, 8)).toBe(-1); // nothing yet: EAGAIN
    expect(errnoName(libc.errno())).toBe('EAGAIN');
    // eventfd counters are written with write(2); send(2) is for sockets, so use writev with one iovec.
    const iov = Buffer.alloc(16);
    iov.writeBigUInt64LE(libc.address(one), 0);
    iov.writeBigUInt64LE(8n, 8);
    expect(libc.writev(eventFd, iov, 1)).toBe(8);
    const events = Buffer.alloc(size * 4, 0xff);
    expect(libc.epoll_wait(epollFd, events, 4, 0)).toBe(1);
    expect(events.readUInt32LE(0)).toBe(EPOLLIN);
    expect(events.readUInt32LE(at)).toBe(eventFd);
    expect(events.readUInt32LE(at + 4)).toBe(0xdeadbeef);
    libc.close(eventFd);
    libc.close(epollFd);
  });

  it('names errno values and builds Node-style system errors from them', () => {
    expect(errnoName(104)).toBe('ECONNRESET');
    expect(errnoName(11)).toBe('EAGAIN');
    expect(errnoName(9999)).toBe('E9999');
    const error = systemError('accept4', 24);
    expect([error.code, error.errno, error.syscall, error.message]).toEqual(['EMFILE', -24, 'accept4', 'accept4 failed: EMFILE']);
  });
});
