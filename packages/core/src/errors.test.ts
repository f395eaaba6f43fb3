import { describe, expect, it } from 'vitest';
import { checkFunction, checkNumber, EventLoopError, InvalidArgumentError, SocketError, UnsupportedError } from './errors.js';

describe('one error hierarchy', () => {
  it('makes a wrong-type argument a TypeError that is also an EventLoopError with ERR_INVALID_ARG', () => {
    const error = new InvalidArgumentError('callback must be a function, got number');
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(EventLoopError);
    expect(error.code).toBe('ERR_INVALID_ARG');
    expect(error.name).toBe('InvalidArgumentError');
  });

  it('keeps the ordinary instanceof for the subclasses of EventLoopError', () => {
    const invalid = new InvalidArgumentError('x');
    const socket = new SocketError('connect failed', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    expect(invalid).not.toBeInstanceOf(SocketError);
    expect(invalid).not.toBeInstanceOf(UnsupportedError);
    expect(socket).toBeInstanceOf(EventLoopError);
    expect(socket).not.toBeInstanceOf(UnsupportedError);
    expect(new EventLoopError('ERR_LOOP_CLOSED', 'closed')).not.toBeInstanceOf(SocketError);
    expect(new TypeError('plain')).not.toBeInstanceOf(EventLoopError);
    expect({ code: 'ERR_INVALID_ARG' }).not.toBeInstanceOf(EventLoopError);
  });

  it('throws an InvalidArgumentError for the wrong type and a plain EventLoopError for a value out of range', () => {
    const wrongType = (() => {
      try {
        checkNumber('timeout', '5', 0, 10);
      } catch (error) {
        return error;
      }
    })();
    const outOfRange = (() => {
      try {
        checkNumber('timeout', 11, 0, 10);
      } catch (error) {
        return error;
      }
    })();
    expect(wrongType).toBeInstanceOf(TypeError);
    expect(outOfRange).not.toBeInstanceOf(TypeError);
    expect([wrongType, outOfRange].map((e) => [(e as EventLoopError).code, e instanceof EventLoopError])).toEqual([
      ['ERR_INVALID_ARG', true],
      ['ERR_INVALID_ARG', true],
    ]);
    expect(() => checkFunction('callback', null)).toThrow(InvalidArgumentError);
    expect(() => checkFunction('callback', null)).toThrow('callback must be a function, got null');
  });
});
