/**
 * A small seeded pseudo-random generator (Chris Doty-Humphrey's sfc32, seeded through
 * splitmix32): the source of every free choice the virtual loop makes, so that one seed always
 * makes the same choices. Not for cryptography.
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed - any non-negative safe integer; both of its 32-bit halves are mixed in. */
  constructor(seed: number) {
    let state = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b1);
    // splitmix32 spreads a seed of few set bits (0, 1, 2, ...) over all four words.
    const next = (): number => {
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    // sfc32 is weak for its first outputs: run it a few rounds before use.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** The next value, an integer in `[0, 2^32)`. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in `[0, n)`, for `n` in `[1, 2^32]`. */
  below(n: number): number {
    return Math.floor((this.uint32() / 2 ** 32) * n);
  }
}
