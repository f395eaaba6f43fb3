import { createRequire } from 'node:module';
import { UnsupportedError, type IoWatcher } from '@loop/core';
import { UvPoll, type KoffiModule, type LoopBase } from '@loop/core/kit';

/** What {@link loadUvPoll} found: the binding, or why there is none. */
export type UvPollLoad = { readonly uvPoll: UvPoll; readonly reason?: undefined } | { readonly uvPoll?: undefined; readonly reason: string };

/**
 * Bind libuv's `uv_poll` through the koffi module that `requireKoffi` returns. Never throws: a
 * platform without koffi (no prebuilt binary) or without Node's exported libuv symbols gets a
 * reason instead, and the backend declares `capabilities.io` false.
 */
export function loadUvPoll(requireKoffi: () => unknown): UvPollLoad {
  try {
    return { uvPoll: UvPoll.bind(requireKoffi() as KoffiModule) };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  }
}

// Loaded once, at module load, and lazily through require(): a static import of koffi would make
// importing the backend fail where koffi cannot load, instead of only turning io off.
const loaded = loadUvPoll(() => createRequire(import.meta.url)('koffi'));

/**
 * `true` when this process can watch fds through libuv's `uv_poll` (koffi loaded and Node exports
 * libuv's symbols); the backend's `capabilities.io`.
 */
export const IO_SUPPORTED: boolean = loaded.uvPoll !== undefined;

/** Why {@link IO_SUPPORTED} is false (koffi's or the binding's error message), else `undefined`. */
export const ioUnsupportedReason: string | undefined = loaded.reason;

/**
 * Create the libuv backend's {@link IoWatcher} for `fd` (already checked by the kit): a
 * `uv_poll_t` in Node's own loop, whose callback runs in `loop`'s poll phase.
 * @throws EventLoopError `ERR_INVALID_ARG` when an open watcher on this thread has `fd`;
 * `ERR_UNSUPPORTED` when {@link IO_SUPPORTED} is false (the kit checks the capability first).
 */
export function createUvIoWatcher(loop: LoopBase, fd: number, callback: (watcher: IoWatcher, events: number) => void): IoWatcher {
  if (loaded.uvPoll === undefined) throw new UnsupportedError('libuv', 'io', loaded.reason);
  return loaded.uvPoll.watch(loop, fd, callback);
}

