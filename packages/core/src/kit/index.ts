/**
 * `@loop/core/kit`: the building blocks backends share (the phase machine, handles, the timer
 * heap, the Node-hosted poller). Users need only `@loop/core`; backend authors start here.
 * @packageDocumentation
 */
export { HandleBase } from './handle-base.js';
export { HostPoller } from './host-poller.js';
export { LoopBase, reportToProcess, type Poller } from './loop-base.js';
export { KitPhaseHook, type HookPhase } from './phase-hook.js';
export { KitTimer } from './timer.js';
export { TimerHeap, type HeapEntry } from './timer-heap.js';
export { checkRequestHead, resolveConnectOptions, resolveHttpLimits, resolveListenOptions, type ResolvedListenOptions } from './options.js';
