// One error hierarchy: hub errors are EventLoopErrors with stable codes; bad arguments are
// InvalidArgumentErrors, which are TypeErrors with core's code ERR_INVALID_ARG.
import { EventLoopError } from '@loop/core';
import { GreenletError, GreenletExit } from '@loop/greenlet';
import { describe, expect, it } from 'vitest';
import {
  AsyncResult,
  Channel,
  Event,
  Group,
  HubError,
  InvalidArgumentError,
  Pool,
  PriorityQueue,
  Queue,
  Semaphore,
  Timeout,
  getHub,
  sleep,
  withTimeout,
} from '../src/index.js';
import { describeHub, thrownBy } from './helpers.js';

describe('error hierarchy', () => {
  it('makes hub errors, Timeouts, greenlet errors and GreenletExit EventLoopErrors with codes', () => {
    const hubError = new HubError('ERR_HUB_EMPTY', 'empty');
    const timeout = new Timeout(5);
    const greenletError = new GreenletError('ERR_GREENLET_NO_RUN', 'no run');
    const exit = new GreenletExit();
    for (const error of [hubError, timeout, greenletError, exit]) expect(error).toBeInstanceOf(EventLoopError);
    expect([hubError.code, timeout.code, greenletError.code, exit.code]).toEqual(['ERR_HUB_EMPTY', 'ERR_HUB_TIMEOUT', 'ERR_GREENLET_NO_RUN', 'ERR_GREENLET_EXIT']);
    expect(timeout).toBeInstanceOf(HubError);
  });

  it('makes a bad argument an InvalidArgumentError: a TypeError and an EventLoopError with code ERR_INVALID_ARG', () => {
    const error = new InvalidArgumentError('bad');
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(EventLoopError);
    expect(error.code).toBe('ERR_INVALID_ARG');
    expect(error.name).toBe('InvalidArgumentError');
  });
});

describeHub('argument checks', (t) => {
  it('throws InvalidArgumentError (a TypeError) for wrong-type and out-of-range arguments, in main code and in greenlets', async () => {
    const context = t.open();
    const mainCalls: [string, () => unknown][] = [
      ['Hub(not a loop)', () => getHub({} as never)],
      ['hub.spawn(42)', () => (context.hub.spawn as (fn: unknown) => unknown).call(context.hub, 42)],
      ['hub.spawnLater(-1)', () => context.hub.spawnLater(-1, function* () {})],
      ['hub.setErrorHandler(1)', () => context.hub.setErrorHandler(1 as never)],
      ['Queue(0)', () => new Queue(0)],
      ['PriorityQueue(compare: 1)', () => new PriorityQueue(undefined, undefined, 1 as never)],
      ['Semaphore(1.5)', () => new Semaphore(1.5)],
      ['Pool(0)', () => new Pool(0)],
      ['Timeout(NaN)', () => new Timeout(Number.NaN)],
      ['Group.imap(not iterable)', () => new Group(context.hub).imap(() => 1, 5 as never)],
    ];
    for (const [name, call] of mainCalls) {
      const error = thrownBy(call);
      expect([name, error instanceof TypeError, (error as InvalidArgumentError).code]).toEqual([name, true, 'ERR_INVALID_ARG']);
    }
    const inGreenlet = await context.hub.run(function* () {
      const calls: [string, () => unknown][] = [
        ['sleep(-1)', () => sleep(-1)],
        ['sleep("1")', () => sleep('1' as never)],
        ['Event.wait(-5)', () => new Event().wait(-5)],
        ['AsyncResult.get(timeout: "x")', () => new AsyncResult().get({ timeout: 'x' as never })],
        ['Queue.get(options: 3)', () => new Queue().get(3 as never)],
        ['Channel.put(timeout: -1)', () => new Channel().put(1, { timeout: -1 })],
        ['withTimeout(5, not a function)', () => withTimeout(5, 7 as never)],
      ];
      const out: unknown[] = [];
      for (const [name, call] of calls) {
        const error = thrownBy(call);
        out.push([name, error instanceof TypeError, (error as InvalidArgumentError).code]);
      }
      return out;
    });
    for (const entry of inGreenlet) expect((entry as unknown[]).slice(1)).toEqual([true, 'ERR_INVALID_ARG']);
    context.finish();
  });
});
