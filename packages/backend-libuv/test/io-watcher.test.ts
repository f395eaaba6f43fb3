import { createRequire } from 'node:module';
import { readSync, writeSync, closeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { IoEvents, type IoWatcher } from '@loop/core';
import { describe, expect, it } from 'vitest';
import { capabilities, createLoop } from '../src/index.js';
import { IO_SUPPORTED, ioUnsupportedReason, loadUvPoll } from '../src/io-watcher.js';

const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');

describe('libuv backend: fd watchers through uv_poll', () => {
  it('declares capabilities.io from whether uv_poll could be bound at module load (here: it could)', () => {
    expect(ioUnsupportedReason).toBeUndefined();
    expect(IO_SUPPORTED).toBe(true);
    expect(capabilities.io).toBe(true);
  });

  it('turns io off, with the reason, instead of crashing when koffi cannot be loaded', () => {
    const loaded = loadUvPoll(() => {
      throw new Error("Cannot find module 'koffi'");
    });
    expect(loaded.uvPoll).toBeUndefined();
    expect(loaded.reason).toContain("Cannot find module 'koffi'");
  });

  it("turns io off when the process does not export libuv's symbols", () => {
    const loaded = loadUvPoll(() => ({
      ...koffi,
      load: () => ({
        func: () => {
          throw new Error("Cannot find function 'napi_get_uv_event_loop' in shared library");
        },
      }),
    }));
    expect(loaded.uvPoll).toBeUndefined();
    expect(loaded.reason).toContain('napi_get_uv_event_loop');
  });

  it('watches an fd made through FFI: an eventfd becomes readable when a count is written to it', async () => {
    const eventfd = koffi.load(null).func('int eventfd(unsigned int initval, int flags)') as (initval: number, flags: number) => number;
    const EFD_NONBLOCK = 0o4000;
    const fd = eventfd(0, EFD_NONBLOCK);
    expect(fd).toBeGreaterThan(2);
    const loop = createLoop();
    const seen: string[] = [];
    const watcher: IoWatcher = loop.io(fd, (w, events) => {
      const count = Buffer.alloc(8);
      readSync(fd, count);
      seen.push(`${events} ${count.readBigUInt64LE()}`);
      w.close();
    });
    watcher.start(IoEvents.READABLE);
    const three = Buffer.alloc(8);
    three.writeBigUInt64LE(3n);
    loop.timer((timer) => {
      writeSync(fd, three);
      timer.close();
    }).start(5);
    await loop.run();
    expect(seen).toEqual([`${IoEvents.READABLE} 3`]);
    loop.close();
    closeSync(fd);
  });

  it("watches on a worker thread's own libuv loop: its events arrive while the main thread is blocked", async () => {
    // The worker runs the built backend (dist): vitest's TypeScript transform does not reach workers.
    // flags[1]: the main thread is about to block; flags[0]: the worker's callback ran.
    const backend = new URL('../dist/index.js', import.meta.url).href;
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const fs = require('node:fs');
      const { join } = require('node:path');
      const { execFileSync } = require('node:child_process');
      const flags = new Int32Array(workerData);
      (async () => {
        const { createLoop } = await import(${JSON.stringify(backend)});
        const dir = fs.mkdtempSync(join(require('node:os').tmpdir(), 'loop-io-worker-'));
        execFileSync('mkfifo', [join(dir, 'fifo')]);
        const fd = fs.openSync(join(dir, 'fifo'), fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
        const loop = createLoop();
        const seen = [];
        loop.io(fd, (w, events) => {
          const buffer = Buffer.alloc(16);
          seen.push(events + ' ' + buffer.toString('latin1', 0, fs.readSync(fd, buffer)));
          Atomics.store(flags, 0, 1);
          Atomics.notify(flags, 0);
          w.close();
        }).start(1);
        const running = loop.run();
        parentPort.postMessage('ready');
        // Write only once the main thread blocks: were the watcher on the main thread's libuv loop,
        // nothing would report it until the main thread runs again.
        while (Atomics.load(flags, 1) !== 1) await new Promise((resolve) => setTimeout(resolve, 1));
        fs.writeSync(fd, 'from worker');
        await running;
        loop.close();
        fs.closeSync(fd);
        fs.rmSync(dir, { recursive: true, force: true });
        parentPort.postMessage(seen);
      })().catch((error) => parentPort.postMessage(String((error && error.stack) || error)));
    `;
    const shared = new SharedArrayBuffer(8);
    const flags = new Int32Array(shared);
    const worker = new Worker(source, { eval: true, workerData: shared });
    const messages: unknown[] = [];
    const seen = new Promise<unknown>((resolve, reject) => {
      worker.on('message', (message: unknown) => {
        messages.push(message);
        if (message !== 'ready') resolve(message);
      });
      worker.once('error', reject);
    });
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));
    Atomics.store(flags, 1, 1);
    const waited = Atomics.wait(flags, 0, 0, 5_000); // blocks this thread's libuv loop entirely
    expect(await seen).toEqual([`${IoEvents.READABLE} from worker`]);
    await worker.terminate();
    expect(['ok', 'not-equal']).toContain(waited); // not-equal: the callback beat the wait
  });
});
