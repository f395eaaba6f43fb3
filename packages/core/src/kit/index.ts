/**
 * `@loop/core/kit`: the building blocks backends share (the phase machine, handles, the timer
 * heap, the Node-hosted poller, option checks, request-head helpers). Users need only
 * `@loop/core`; backend authors start here.
 * @packageDocumentation
 */
export { HandleBase } from './handle-base.js';
export { HostPoller } from './host-poller.js';
export { LoopBase, reportToProcess, type Poller } from './loop-base.js';
export {
  checkChunk,
  checkRequestHead,
  HEAD_OK,
  HEAD_OK_WITH_BODY,
  resolveConnectOptions,
  resolveHttpLimits,
  resolveListenOptions,
  type FixedHttpLimits,
  type ResolvedListenOptions,
} from './options.js';
export { KitPhaseHook, type HookPhase } from './phase-hook.js';
export { RequestHead } from './request-head.js';
export { forEachRawHeader, lowerHeaderName, rawHeaderObject, rawHeaderValue, rawHeaderValues, requestExpired, sameHeaderName } from './raw-headers.js';
export { KitTimer } from './timer.js';
export { TimerHeap, type HeapEntry } from './timer-heap.js';
export { checkIoEvents, UvPoll, type KoffiModule } from './uv-poll.js';
