import { describe, expect, it } from 'vitest';
import { createLoop, exploreSeeds } from './index.js';

/**
 * Eight clients connect at the same instant and each sends its number: the trace of what the
 * server sees depends only on the seed.
 */
async function trace(seed: number): Promise<string[]> {
  const loop = createLoop({ seed });
  const order: string[] = [];
  const server = await loop.listen({ port: 7000 }, (stream) => {
    order.push('accepted');
    stream.on({ data: (chunk) => order.push(`data ${Buffer.from(chunk).toString()}`), end: () => stream.end() });
  });
  let open = 8;
  loop.callSoon(() => {
    for (let i = 0; i < 8; i++) {
      loop.connect({ port: 7000 }, (error, client) => {
        if (error || !client) throw error ?? new Error('no stream');
        order.push(`connected ${i}`);
        client.on({ data: () => undefined, close: () => --open === 0 && server.close() });
        client.end(`${i}`);
      });
    }
  });
  await loop.run();
  loop.close();
  return order;
}

/**
 * An order-dependent bug: two workers connect at once and the server makes the first connection
 * it accepts the primary; the program assumes worker 'a' (which connects first in program order)
 * always wins. `byName` is the fix: the role no longer depends on the accept order.
 */
async function election(seed: number, byName = false): Promise<string> {
  const loop = createLoop({ seed });
  let primary = '';
  let accepted = 0;
  const server = await loop.listen({ port: 7000 }, (stream) => {
    const first = accepted++ === 0;
    stream.on({
      data: (chunk) => {
        const name = Buffer.from(chunk).toString();
        if (byName ? name === 'a' : first) primary = name;
      },
      end: () => stream.end(),
    });
  });
  let open = 2;
  loop.callSoon(() => {
    for (const name of ['a', 'b']) {
      loop.connect({ port: 7000 }, (_error, client) => {
        client?.on({ data: () => undefined, close: () => --open === 0 && server.close() });
        client?.end(name);
      });
    }
  });
  await loop.run();
  loop.close();
  return primary;
}

describe('determinism', () => {
  it('replays the same order of callbacks for the same seed', async () => {
    const first = await trace(42);
    expect(first.filter((entry) => entry.startsWith('data')).length).toBe(8);
    expect(await trace(42)).toEqual(first);
  });

  it('explores other orders of simultaneous events with other seeds', async () => {
    const traces = new Set<string>();
    for (let seed = 0; seed < 20; seed++) traces.add(JSON.stringify(await trace(seed)));
    expect(traces.size).toBeGreaterThan(5);
  });

  it('keeps the orders the contract fixes whatever the seed: equal timers by start order, callSoon FIFO', async () => {
    const orders = new Set<string>();
    for (let seed = 0; seed < 10; seed++) {
      const loop = createLoop({ seed });
      const order: string[] = [];
      for (const name of ['t1', 't2', 't3']) loop.timer(() => order.push(name)).start(100);
      for (const name of ['s1', 's2', 's3']) loop.callSoon(() => order.push(name));
      await loop.run();
      loop.close();
      orders.add(order.join(' '));
    }
    expect([...orders]).toEqual(['s1 s2 s3 t1 t2 t3']);
  });
});

describe('exploreSeeds', () => {
  it('finds the seeds for which an order-dependent program gives another outcome, and each replays', async () => {
    const report = await exploreSeeds((seed) => election(seed), { seeds: 30 });
    expect(report.outcomes.map((outcome) => outcome.key).sort()).toEqual(['"a"', '"b"']);
    expect(report.divergent.length).toBeGreaterThan(0);
    expect(report.outcomes[0]?.seeds.length).toBeGreaterThanOrEqual(15);
    const rare = report.outcomes[1];
    expect(rare?.seeds).toEqual(report.divergent);
    for (const seed of report.divergent) expect(await election(seed)).toBe(rare?.value);
    expect(report.summary.split('\n')).toHaveLength(2);
    expect(report.summary).toContain(`/30 seeds (${report.divergent.slice(0, 3).join(', ')}`);
  });

  it('reports a single outcome for a program whose result does not depend on the order', async () => {
    const report = await exploreSeeds((seed) => election(seed, true), { seeds: 30 });
    expect(report.outcomes).toHaveLength(1);
    expect(report.outcomes[0]?.value).toBe('a');
    expect(report.divergent).toEqual([]);
  });

  it('records a throw as an outcome and takes a list of seeds and a key function', async () => {
    const report = await exploreSeeds(
      (seed) => {
        if (seed === 7) throw new Error('crashed');
        return { seed, even: seed % 2 === 0 };
      },
      { seeds: [2, 4, 7, 9], key: (value) => (value.even ? 'even' : 'odd') },
    );
    expect(report.outcomes.map((outcome) => [outcome.key, outcome.seeds])).toEqual([
      ['even', [2, 4]],
      ['threw Error: crashed', [7]],
      ['odd', [9]],
    ]);
    expect(report.outcomes[1]?.error).toBeInstanceOf(Error);
    expect(report.outcomes[0]?.value).toEqual({ seed: 2, even: true });
    expect(report.divergent).toEqual([7, 9]);
  });

  it('keys a thrown value that is not an Error by its string form', async () => {
    const report = await exploreSeeds((seed) => {
      if (seed === 1) throw 'no route';
      return 'ok';
    }, { seeds: 2 });
    expect(report.outcomes.map((outcome) => outcome.key)).toEqual(['"ok"', 'threw no route']);
    expect(report.outcomes[1]?.error).toBe('no route');
  });

  it('summarises each outcome with its first eight seeds, and an ellipsis only when there are more', async () => {
    const eight = await exploreSeeds(() => 'same', { seeds: 8 });
    expect(eight.summary).toBe('8/8 seeds (0, 1, 2, 3, 4, 5, 6, 7): "same"');
    const nine = await exploreSeeds((seed) => (seed === 9 ? 'odd one' : 'same'), { seeds: 10 });
    expect(nine.summary).toBe('9/10 seeds (0, 1, 2, 3, 4, 5, 6, 7, …): "same"\n1/10 seeds (9): "odd one"');
  });

  it('accepts the smallest seed count and seed: one run, seed 0', async () => {
    const seen: number[] = [];
    await exploreSeeds((seed) => seen.push(seed), { seeds: 1 });
    await exploreSeeds((seed) => seen.push(seed), { seeds: [0] });
    expect(seen).toEqual([0, 0]);
  });

  it('says what is wrong with a bad seed list or scenario', async () => {
    const invalid = (message: string): unknown => expect.objectContaining({ code: 'ERR_INVALID_ARG', message });
    await expect(exploreSeeds(() => 1, { seeds: 2.5 })).rejects.toEqual(invalid('seeds must be a positive integer or a list of seeds, got 2.5'));
    await expect(exploreSeeds(() => 1, { seeds: new Set<number>() })).rejects.toEqual(invalid('seeds must not be empty'));
    await expect(exploreSeeds(() => 1, { seeds: [3, 0.5] })).rejects.toEqual(invalid('a seed must be a non-negative safe integer, got 0.5'));
    await expect(exploreSeeds(42 as never)).rejects.toEqual(invalid('scenario must be a function'));
  });

  it('rejects a bad seed list or scenario with ERR_INVALID_ARG', async () => {
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARG' });
    await expect(exploreSeeds(() => 1, { seeds: 0 })).rejects.toEqual(invalid);
    await expect(exploreSeeds(() => 1, { seeds: [] })).rejects.toEqual(invalid);
    await expect(exploreSeeds(() => 1, { seeds: [1, -2] })).rejects.toEqual(invalid);
    await expect(exploreSeeds('not a function' as never)).rejects.toEqual(invalid);
  });
});
