import { describe, expect, it } from 'vitest';
import { TimerHeap, type HeapEntry } from './timer-heap.js';

const entry = (due: number, seq: number): HeapEntry & { name: string } => ({ due, seq, heapIndex: -1, name: `${due}/${seq}` });

function drain(heap: TimerHeap<HeapEntry & { name: string }>): string[] {
  const out: string[] = [];
  for (let top = heap.peek(); top; top = heap.peek()) {
    out.push(top.name);
    heap.remove(top);
  }
  return out;
}

describe('TimerHeap', () => {
  it('yields entries by due time, then by sequence', () => {
    const heap = new TimerHeap<HeapEntry & { name: string }>();
    for (const [due, seq] of [[5, 0], [1, 1], [5, 2], [0, 3], [1, 4]] as const) heap.push(entry(due, seq));
    expect(drain(heap)).toEqual(['0/3', '1/1', '1/4', '5/0', '5/2']);
  });

  it('removes an entry from the middle and keeps the order of the rest', () => {
    const heap = new TimerHeap<HeapEntry & { name: string }>();
    const entries = Array.from({ length: 50 }, (_, i) => entry((i * 37) % 50, i));
    for (const e of entries) heap.push(e);
    for (const e of entries.filter((_, i) => i % 3 === 0)) heap.remove(e);
    const expected = entries
      .filter((_, i) => i % 3 !== 0)
      .sort((a, b) => a.due - b.due || a.seq - b.seq)
      .map((e) => e.name);
    expect(drain(heap)).toEqual(expected);
  });

  it('treats removing an entry that is not in the heap as a no-op', () => {
    const heap = new TimerHeap<HeapEntry & { name: string }>();
    const inside = entry(1, 0);
    const outside = entry(0, 1);
    heap.push(inside);
    heap.remove(outside);
    heap.remove(inside);
    heap.remove(inside);
    expect(heap.size).toBe(0);
    expect(inside.heapIndex).toBe(-1);
  });
});

describe('TimerHeap against a sorted reference', () => {
  /** A small deterministic PRNG (mulberry32), so a failure replays with its seed. */
  function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const byDueThenSeq = (a: HeapEntry, b: HeapEntry): number => a.due - b.due || a.seq - b.seq;

  for (const seed of [1, 2, 3, 42, 2024]) {
    it(`keeps its order through random pushes, removals from anywhere and pops (seed ${seed})`, () => {
      const next = random(seed);
      const heap = new TimerHeap<HeapEntry & { name: string }>();
      const inside: (HeapEntry & { name: string })[] = [];
      let seq = 0;
      for (let step = 0; step < 3000; step++) {
        const roll = next();
        if (roll < 0.5 || inside.length === 0) {
          // Few distinct due times, so equal dues (ordered by seq) are common.
          const added = entry(Math.floor(next() * 20), seq++);
          heap.push(added);
          inside.push(added);
        } else if (roll < 0.85) {
          const index = Math.floor(next() * inside.length);
          const [removed] = inside.splice(index, 1);
          heap.remove(removed as HeapEntry & { name: string });
          expect((removed as HeapEntry).heapIndex).toBe(-1);
        } else {
          inside.sort(byDueThenSeq);
          const expected = inside.shift();
          const top = heap.peek();
          expect(top?.name).toBe(expected?.name);
          heap.remove(top as HeapEntry & { name: string });
        }
        expect(heap.size).toBe(inside.length);
        expect(heap.peek()?.name).toBe([...inside].sort(byDueThenSeq)[0]?.name);
      }
      expect(drain(heap)).toEqual(inside.sort(byDueThenSeq).map((e) => e.name));
    });
  }

  it('tells each entry its slot: an entry removed by its slot after others moved is the one removed', () => {
    const heap = new TimerHeap<HeapEntry & { name: string }>();
    const entries = Array.from({ length: 31 }, (_, i) => entry(31 - i, i));
    for (const e of entries) heap.push(e);
    // Every entry's heapIndex points at itself: removing through it removes exactly that entry.
    for (const e of [...entries].reverse().filter((_, i) => i % 2 === 0)) {
      heap.remove(e);
      expect(e.heapIndex).toBe(-1);
    }
    const left = entries.filter((_, i) => (30 - i) % 2 !== 0);
    expect(drain(heap)).toEqual(left.sort(byDueThenSeq).map((e) => e.name));
  });

  it('reuses its slots after emptying: refilled, it orders again', () => {
    const heap = new TimerHeap<HeapEntry & { name: string }>();
    for (let round = 0; round < 3; round++) {
      const entries = [entry(3, round * 10), entry(1, round * 10 + 1), entry(2, round * 10 + 2), entry(1, round * 10 + 3)];
      for (const e of entries) heap.push(e);
      expect(drain(heap)).toEqual(['1/' + String(round * 10 + 1), '1/' + String(round * 10 + 3), '2/' + String(round * 10 + 2), '3/' + String(round * 10)]);
      expect(heap.size).toBe(0);
      expect(heap.peek()).toBeUndefined();
    }
  });
});
