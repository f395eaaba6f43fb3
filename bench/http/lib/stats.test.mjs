import { describe, expect, it } from 'vitest';
import { median, range } from './stats.mjs';

describe('median', () => {
  it('is the middle value of an odd count, whatever the order', () => {
    expect(median([5, 1, 4, 2, 3])).toBe(3);
  });

  it('is the mean of the two middle values of an even count', () => {
    expect(median([10, 40, 20, 30])).toBe(25);
  });

  it('ignores values that are not finite, and is NaN with none left', () => {
    expect(median([1, Number.NaN, 3, undefined, 2])).toBe(2);
    expect(median([])).toBeNaN();
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('range', () => {
  it('gives the smallest and largest finite value', () => {
    expect(range([3, Number.NaN, 9, 1])).toEqual([1, 9]);
    expect(range([])).toEqual([Number.NaN, Number.NaN]);
  });
});
