import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventLoopError, IoEvents, SocketError, type IoWatcher } from '@loop/core';
import { createLoop, type EpollEventLoop } from '../src/index.js';
import { openFdCount, within } from './http-helpers.js';

const { READABLE, WRITABLE } = IoEvents;

/** A FIFO's two ends, opened separately (so that closing one hangs the other up). */
interface Pipe {
  reader: number;
  writer: number;
  /** Close an end now (the fixture does not close it again). */
  closeEnd(end: 'reader' | 'writer'): void;
  /** An fd of a regular file. */
  file: number;
}

/** Run `fn` with a fresh loop and a FIFO; the loop must close, no error be reported, no fd leak. */
async function withPipe(fn: (loop: EpollEventLoop, pipe: Pipe, errors: unknown[]) => Promise<void> | void): Promise<void> {
  const fdsBefore = openFdCount();
  const dir = mkdtempSync(join(tmpdir(), 'loop-io-events-'));
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  const open = new Set<number>();
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  open.add(reader);
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  open.add(writer);
  const file = openSync(join(dir, 'plain'), 'w');
  open.add(file);
  const closeEnd = (end: 'reader' | 'writer'): void => {
    const fd = end === 'reader' ? reader : writer;
    open.delete(fd);
    closeSync(fd);
  };
  const errors: unknown[] = [];
  const loop = createLoop({ onError: (error) => errors.push(error) });
  try {
    await within(Promise.resolve(fn(loop, { reader, writer, file, closeEnd }, errors)), 10_000, 'io watcher test');
    loop.close();
    expect(errors).toEqual([]);
  } finally {
    for (const fd of open) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  expect(openFdCount()).toBe(fdsBefore);
}

/** Run one iteration that polls without waiting. */
async function oneIteration(loop: EpollEventLoop): Promise<void> {
  await loop.run('nowait');
}

describe('fd watchers on epoll: which events a callback gets', () => {
  it('reports WRITABLE alone for an fd watched for both that can only be written', () =>
    withPipe(async (loop, { writer }) => {
      const seen: number[] = [];
      const watcher = loop.io(writer, (_w, events) => seen.push(events)).start(READABLE | WRITABLE);
      await oneIteration(loop);
      watcher.close();
      await loop.run();
      expect(seen).toEqual([WRITABLE]);
    }));

  it('reports READABLE alone for an fd watched for both that can only be read', () =>
    withPipe(async (loop, { reader, writer }) => {
      writeSync(writer, 'x');
      const seen: number[] = [];
      const watcher = loop.io(reader, (_w, events) => seen.push(events)).start(READABLE | WRITABLE);
      await oneIteration(loop);
      watcher.close();
      await loop.run();
      expect(seen).toEqual([READABLE]);
    }));

  it('reports a hang-up (the writer closed, nothing to read) as READABLE to a reader, whose read then sees the end', () =>
    withPipe(async (loop, { reader, writer, closeEnd }) => {
      writeSync(writer, 'x');
      readSync(reader, Buffer.alloc(1), 0, 1, null); // the FIFO has had a writer, and is empty again
      const seen: string[] = [];
      const watcher = loop.io(reader, (w, events) => {
        seen.push(`${events} read ${readSync(reader, Buffer.alloc(8), 0, 8, null)}`);
        w.close();
      });
      watcher.start(READABLE);
      closeEnd('writer');
      await loop.run();
      expect(seen).toEqual([`${READABLE} read 0`]);
    }));

  it('reports an error (the reader closed) as WRITABLE to a writer, whose write then fails with EPIPE', () =>
    withPipe(async (loop, { writer, closeEnd }) => {
      const seen: string[] = [];
      const watcher = loop.io(writer, (w, events) => {
        let outcome = 'wrote';
        try {
          writeSync(writer, 'x');
        } catch (error) {
          outcome = (error as { code: string }).code;
        }
        seen.push(`${events} ${outcome}`);
        w.close();
      });
      closeEnd('reader');
      watcher.start(WRITABLE);
      await loop.run();
      expect(seen).toEqual([`${WRITABLE} EPIPE`]);
    }));

  it('does not wake for readiness it does not watch: WRITABLE on a readable-only fd, READABLE on a writable-only fd', () =>
    withPipe(async (loop, { reader, writer }) => {
      writeSync(writer, 'x'); // the reader is readable (never writable); the writer writable (never readable)
      const seen: string[] = [];
      const onReader = loop.io(reader, (_w, events) => seen.push(`reader ${events}`)).start(WRITABLE);
      const onWriter = loop.io(writer, (_w, events) => seen.push(`writer ${events}`)).start(READABLE);
      loop.stats.events = 0;
      await oneIteration(loop);
      await oneIteration(loop);
      // Not even an event the watcher then ignores: a level-triggered fd would come back on every tick.
      expect(loop.stats.events).toBe(0);
      expect(seen).toEqual([]);
      onReader.close();
      onWriter.close();
      await loop.run();
    }));

  it('drops the events already fetched for a watcher whose events another callback of the same batch changed', () =>
    withPipe(async (loop, { writer }) => {
      // Two fds that are both writable: two writers of one FIFO.
      const seen: string[] = [];
      const watchers: IoWatcher[] = [];
      const onEvent = (name: string, other: () => IoWatcher) => (_w: IoWatcher, events: number) => {
        seen.push(`${name} ${events}`);
        // The first to run makes the other watch READABLE only: its fetched WRITABLE event is stale.
        if (seen.length === 1) other().start(READABLE);
      };
      const second = openSync(`/proc/self/fd/${writer}`, constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        watchers.push(loop.io(writer, onEvent('a', () => watchers[1] as IoWatcher)).start(WRITABLE));
        watchers.push(loop.io(second, onEvent('b', () => watchers[0] as IoWatcher)).start(WRITABLE));
        loop.stats.events = 0;
        await oneIteration(loop);
        expect(loop.stats.events).toBe(2); // both were fetched in one batch
        expect(seen).toHaveLength(1);
        expect(seen[0]).toMatch(new RegExp(`^[ab] ${WRITABLE}$`));
        for (const watcher of watchers) watcher.close();
        await loop.run();
      } finally {
        closeSync(second);
      }
    }));
});

describe('fd watchers on epoll: state and misuse', () => {
  it('names itself "io watcher" when loop.close() refuses because it is live', () =>
    withPipe(async (loop, { writer }) => {
      const watcher = loop.io(writer, () => undefined).start(WRITABLE);
      expect(() => loop.close()).toThrow(/1 io watcher/);
      watcher.close();
      await loop.run();
    }));

  it('watches no events once closed', () =>
    withPipe(async (loop, { writer }) => {
      const watcher = loop.io(writer, () => undefined).start(WRITABLE);
      expect(watcher.events).toBe(WRITABLE);
      watcher.close();
      expect(watcher.events).toBe(0);
      await loop.run();
    }));

  it('says which fd it cannot watch and why (EPERM for a regular file), and stays inactive', () =>
    withPipe((loop, { file }) => {
      const watcher = loop.io(file, () => undefined);
      let error: unknown;
      try {
        watcher.start(READABLE);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SocketError);
      expect((error as SocketError).message).toBe(`cannot watch fd ${file}: EPERM`);
      expect(((error as SocketError).cause as { syscall?: string }).syscall).toBe('epoll_ctl');
      expect(watcher.events).toBe(0);
      expect(loop.alive()).toBe(false);
      watcher.close();
      return loop.run().then(() => undefined);
    }));

  it('says the fd is already watched, by a watcher or one of the loop’s own sockets, when a second watcher wants it', () =>
    withPipe(async (loop, { writer }) => {
      const first = loop.io(writer, () => undefined);
      let error: unknown;
      try {
        loop.io(writer, () => undefined);
      } catch (caught) {
        error = caught;
      }
      expect((error as EventLoopError).code).toBe('ERR_INVALID_ARG');
      expect((error as EventLoopError).message).toBe(`fd ${writer} is already watched by this loop (by a watcher or one of its own sockets)`);
      first.close();
      await loop.run();
      // Once the first is closed, the fd is free again.
      loop.io(writer, () => undefined).close();
      await loop.run();
    }));
});
