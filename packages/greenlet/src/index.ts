/**
 * `@loop/greenlet`: greenlets with python-greenlet's switch/parent semantics, built on
 * generators. The one rule: inside a greenlet, switch with `yield* g.switch(...)`, and
 * make every function between `run` and the switch a generator called with `yield*`.
 * @packageDocumentation
 */
export { ContextVar, copyContext } from './context-var.js';
export { GreenletError, GreenletExit, type GreenletErrorCode } from './errors.js';
export { Greenlet, getcurrent, getmain, greenlet, type Context, type RunFunction, type SwitchToken } from './greenlet.js';
export { gettrace, settrace, type TraceEvent, type TraceFunction } from './trace.js';
