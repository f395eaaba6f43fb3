/**
 * `@loop/hub`: gevent's programming model on any `@loop` {@link EventLoop}. A hub runs
 * greenlets (from `@loop/greenlet`) on one loop; every blocking-looking call (`sleep`, `join`,
 * `queue.get`, `lock.acquire`, ...) is a switch to the hub, written `yield* call(...)`, that comes
 * back when the loop delivers.
 * @packageDocumentation
 */
export { run, spawn, spawnLater } from './api.js';
export { Channel } from './channel.js';
export { GreenletFailure, HubError, InvalidArgumentError, type HubErrorCode } from './errors.js';
export { AsyncResult, Event } from './event.js';
export { Greenlet, type GetOptions, type GreenletBody, type GreenletResult, type KillOptions, type LinkCallback } from './greenlet.js';
export { Group, GroupBase, Pool, type GroupJoinOptions } from './group.js';
export { Hub, getHub, type HubErrorHandler, type HubOptions } from './hub.js';
export { ResultIterator } from './imap.js';
export { joinall, killall, type JoinAllOptions } from './join.js';
export { BoundedSemaphore, Lock, RLock, Semaphore, withLock, type AcquireOptions, type Lockable } from './lock.js';
export { waitPromise } from './promise.js';
export { LifoQueue, PriorityQueue, Queue, type Compare, type QueueOptions } from './queue.js';
export { sleep } from './sleep.js';
export { Timeout, withTimeout, type WithTimeoutOptions } from './timeout.js';
export type { Blocking } from './waiting.js';
export { GreenletExit, getcurrent } from '@loop/greenlet';
