import { EventLoopError } from '@loop/core';

/** Throws `ERR_INVALID_ARG` unless `value` is a finite number in `[min, max]` (core's own check is not exported). */
export function checkNumber(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new EventLoopError('ERR_INVALID_ARG', `${name} must be a finite number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}
