import { describe, expect, it } from 'vitest';
import { SeededRandom } from './seeded-random.js';

function draws(seed: number, count: number): number[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => random.uint32());
}

describe('SeededRandom', () => {
  it('gives the same sequence for the same seed, and another for a neighbouring seed', () => {
    expect(draws(1, 20)).toEqual(draws(1, 20));
    expect(draws(1, 20)).not.toEqual(draws(2, 20));
    expect(draws(2 ** 32, 20)).not.toEqual(draws(0, 20)); // the high half of a seed counts too
  });

  it('draws integers in [0, n) and hits every value of a small range about equally', () => {
    const random = new SeededRandom(0);
    const counts = [0, 0, 0, 0, 0];
    let outside = 0;
    for (let i = 0; i < 50_000; i++) {
      const value = random.below(5);
      if (Number.isInteger(value) && value >= 0 && value < 5) counts[value] = (counts[value] as number) + 1;
      else outside++;
    }
    expect(outside).toBe(0);
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});
