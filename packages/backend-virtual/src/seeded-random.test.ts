import { describe, expect, it } from 'vitest';
import { SeededRandom } from './seeded-random.js';

/**
 * The published algorithms, written out independently in 32-bit unsigned BigInt arithmetic: the
 * seed's halves are mixed (low ^ high * 0x9e3779b1), splitmix32 gives the four words of sfc32,
 * and sfc32 runs 12 rounds before its first output.
 */
function reference(seed: number, count: number): number[] {
  const M = 2n ** 32n;
  const u = (x: bigint): bigint => ((x % M) + M) % M;
  let state = u(BigInt(seed) % M) ^ u(BigInt(Math.floor(seed / 2 ** 32)) * 0x9e3779b1n);
  const splitmix = (): bigint => {
    state = u(state + 0x9e3779b9n);
    let z = state;
    z = u((z ^ (z >> 16n)) * 0x85ebca6bn);
    z = u((z ^ (z >> 13n)) * 0xc2b2ae35n);
    return z ^ (z >> 16n);
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const sfc = (): bigint => {
    const t = u(a + b + d);
    d = u(d + 1n);
    a = b ^ (b >> 9n);
    b = u(c + (c << 3n));
    c = u((c << 21n) | (c >> 11n));
    c = u(c + t);
    return t;
  };
  for (let i = 0; i < 12; i++) sfc();
  return Array.from({ length: count }, () => Number(sfc()));
}

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

  it('is sfc32 seeded through splitmix32 and warmed up 12 rounds, for small, large and two-halved seeds', () => {
    for (const seed of [0, 1, 42, 2 ** 31 + 7, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      expect(draws(seed, 40), `seed ${seed}`).toEqual(reference(seed, 40));
    }
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
