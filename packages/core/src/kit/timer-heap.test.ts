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
