/**
 * `@loop/backend-virtual`: the `EventLoop` contract in deterministic virtual time, with an
 * in-memory TCP network. Time moves only when the loop would otherwise wait, so an hour of
 * timers takes milliseconds; the free choices (which waiting connection is accepted first, the
 * order of simultaneous arrivals) come from a seed, so a run replays exactly. For tests.
 * @packageDocumentation
 */
import { VirtualLoopImpl, type VirtualLoop, type VirtualLoopOptions } from './virtual-loop.js';

export { capabilities, name } from './capabilities.js';
export { exploreSeeds, type ExploreOptions, type SeedOutcome, type SeedReport } from './explore-seeds.js';
export type { LinkOptions, LinkTarget } from './network.js';
export type { VirtualLoop, VirtualLoopOptions } from './virtual-loop.js';

/**
 * Create a loop in virtual time with its own virtual network. Its `now()` starts at `epoch`
 * (default 0) and moves only when the loop would wait: the poll jumps to the next due timer or
 * packet instead of sleeping, one host turn later (the loop still returns to Node between
 * iterations, so promises and Node callbacks go on).
 * @throws EventLoopError `ERR_INVALID_ARG` for a bad seed, epoch, time scale or link.
 * @example
 * ```ts
 * import { createLoop } from '@loop/backend-virtual';
 * const loop = createLoop({ seed: 7 });
 * loop.timer(() => console.log(`an hour later: ${loop.now()} ms`)).start(3_600_000);
 * await loop.run(); // returns within milliseconds of real time
 * loop.close();
 * ```
 */
export function createLoop(options: VirtualLoopOptions = {}): VirtualLoop {
  return new VirtualLoopImpl(options);
}
