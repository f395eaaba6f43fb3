import type { EventLoop } from '@loop/core';
import type { Greenlet, GreenletBody, GreenletResult } from './greenlet.js';
import { getHub } from './hub.js';
import { currentHub } from './waiting.js';

/**
 * Spawn `fn(...args)` on the running greenlet's hub (gevent's `spawn`); see `Hub.spawn`. In main
 * code there is no running hub: call `getHub(loop).spawn(...)` there.
 * @throws HubError `ERR_HUB_NO_CURRENT_HUB` outside every hub greenlet; InvalidArgumentError
 * @example
 * ```ts
 * const worker = spawn(function* (url: string) { return yield* fetchPage(url); }, 'https://example.com/');
 * ```
 */
export function spawn<F extends GreenletBody>(fn: F, ...args: Parameters<F>): Greenlet<GreenletResult<F>> {
  return currentHub('spawn()').spawn(fn, ...args);
}

/**
 * Spawn `fn(...args)` `ms` ms from now on the running greenlet's hub (gevent's `spawn_later`).
 * @throws HubError `ERR_HUB_NO_CURRENT_HUB` outside every hub greenlet; InvalidArgumentError
 */
export function spawnLater<F extends GreenletBody>(ms: number, fn: F, ...args: Parameters<F>): Greenlet<GreenletResult<F>> {
  return currentHub('spawnLater()').spawnLater(ms, fn, ...args);
}

/**
 * Run `fn(...args)` as a greenlet on `loop`'s hub until it finishes, from plain code: how a
 * program starts. Shorthand for `getHub(loop).run(fn, ...args)`; see `Hub.run`.
 * @throws EventLoopError `ERR_LOOP_RUNNING` when the loop is already running
 * @example
 * ```ts
 * import { createLoop } from '@loop/core';
 * import { run, sleep } from '@loop/hub';
 * const loop = await createLoop();
 * await run(loop, function* () {
 *   yield* sleep(100);
 *   console.log('done');
 * });
 * loop.close();
 * ```
 */
export function run<F extends GreenletBody>(loop: EventLoop, fn: F, ...args: Parameters<F>): Promise<GreenletResult<F>> {
  return getHub(loop).run(fn, ...args);
}
