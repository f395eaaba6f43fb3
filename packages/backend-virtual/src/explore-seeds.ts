import { EventLoopError } from '@loop/core';

/** One distinct outcome of {@link exploreSeeds}, with the seeds that produced it. */
export interface SeedOutcome<T> {
  /** The outcome's key: what outcomes are compared by. */
  readonly key: string;
  /** The scenario's result for the first of `seeds`, or `undefined` when it threw. */
  readonly value: T | undefined;
  /** What the scenario threw or rejected with, for the first of `seeds`; `undefined` when it returned. */
  readonly error: unknown;
  /** Every seed that gave this outcome, in the order they ran. */
  readonly seeds: readonly number[];
}

/** What {@link exploreSeeds} found. */
export interface SeedReport<T> {
  /** The distinct outcomes, most common first (ties: the one seen first). */
  readonly outcomes: readonly SeedOutcome<T>[];
  /** The seeds whose outcome differs from the most common one: the orders worth replaying. */
  readonly divergent: readonly number[];
  /** One line per outcome: its share of the seeds, its first seeds, and its key. */
  readonly summary: string;
}

/** Options of {@link exploreSeeds}. */
export interface ExploreOptions<T> {
  /** The seeds to try: a count `n` (the seeds 0 to n-1) or a list. Default 100. */
  readonly seeds?: number | Iterable<number>;
  /**
   * What outcomes are compared by. Default: `JSON.stringify` of the result; a throw or rejection
   * becomes `threw <name>: <message>`, so a crash is an outcome like any other.
   */
  readonly key?: (value: T) => string;
}

function seedList(seeds: number | Iterable<number>): number[] {
  if (typeof seeds === 'number') {
    if (!Number.isInteger(seeds) || seeds < 1) throw new EventLoopError('ERR_INVALID_ARG', `seeds must be a positive integer or a list of seeds, got ${String(seeds)}`);
    return Array.from({ length: seeds }, (_, i) => i);
  }
  const list = [...seeds];
  if (list.length === 0) throw new EventLoopError('ERR_INVALID_ARG', 'seeds must not be empty');
  for (const seed of list) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new EventLoopError('ERR_INVALID_ARG', `a seed must be a non-negative safe integer, got ${String(seed)}`);
  }
  return list;
}

function thrownKey(error: unknown): string {
  return error instanceof Error ? `threw ${error.name}: ${error.message}` : `threw ${String(error)}`;
}

/**
 * Find order-dependent bugs: run `scenario` once per seed, one after another, and group the
 * seeds by outcome. The scenario makes its own loop with the seed it is given
 * (`createLoop({ seed })`), runs it, and returns what should not depend on the order of events
 * (a result, a trace, a verdict). A correct program gives one outcome for every seed; each other
 * outcome names seeds that replay it exactly.
 * @throws EventLoopError `ERR_INVALID_ARG` for a bad seed list (the promise rejects); a throwing
 * scenario is recorded as an outcome, not rethrown.
 * @example
 * ```ts
 * const report = await exploreSeeds(async (seed) => {
 *   const loop = createLoop({ seed });
 *   const result = await myScenario(loop);
 *   loop.close();
 *   return result;
 * }, { seeds: 200 });
 * if (report.divergent.length > 0) console.log(report.summary); // replay one with createLoop({ seed })
 * ```
 */
export async function exploreSeeds<T>(scenario: (seed: number) => T | Promise<T>, options: ExploreOptions<T> = {}): Promise<SeedReport<T>> {
  if (typeof scenario !== 'function') throw new EventLoopError('ERR_INVALID_ARG', 'scenario must be a function');
  const seeds = seedList(options.seeds ?? 100);
  const key = options.key ?? ((value: T): string => JSON.stringify(value) ?? String(value));
  const byKey = new Map<string, { key: string; value: T | undefined; error: unknown; seeds: number[] }>();
  for (const seed of seeds) {
    let value: T | undefined;
    let error: unknown;
    let outcome: string;
    try {
      value = await scenario(seed);
      outcome = key(value);
    } catch (thrown) {
      error = thrown;
      value = undefined;
      outcome = thrownKey(thrown);
    }
    const entry = byKey.get(outcome);
    if (entry) entry.seeds.push(seed);
    else byKey.set(outcome, { key: outcome, value, error, seeds: [seed] });
  }
  // Stable sort: among equally common outcomes, the one seen first stays first.
  const outcomes = [...byKey.values()].sort((a, b) => b.seeds.length - a.seeds.length);
  const divergent = outcomes.slice(1).flatMap((outcome) => outcome.seeds);
  const summary = outcomes
    .map((outcome) => {
      const shown = outcome.seeds.slice(0, 8).join(', ') + (outcome.seeds.length > 8 ? ', …' : '');
      return `${outcome.seeds.length}/${seeds.length} seeds (${shown}): ${outcome.key}`;
    })
    .join('\n');
  return { outcomes, divergent, summary };
}
