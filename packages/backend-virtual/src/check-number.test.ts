import { describe, expect, it } from 'vitest';
import { checkNumber } from './check-number.js';

describe('checkNumber', () => {
  it('accepts both bounds of its range and returns the value', () => {
    expect(checkNumber('latency', 0, 0, 10)).toBe(0);
    expect(checkNumber('latency', 10, 0, 10)).toBe(10);
    expect(checkNumber('latency', 2.5, 0, 10)).toBe(2.5);
  });

  it('rejects a value past either bound, or not a finite number, with ERR_INVALID_ARG naming the option, its range and what it got', () => {
    for (const bad of [-0.5, 10.5, Number.NaN, Infinity, '5', undefined]) {
      expect(() => checkNumber('latency', bad, 0, 10)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG', message: `latency must be a finite number in [0, 10], got ${String(bad)}` }),
      );
    }
  });
});
