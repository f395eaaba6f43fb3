// WaiterList, the waiting line of every primitive: arrival order, stale entries (a waiter whose
// token moved on) skipped and swept, payloads and tokens handed back. It reads nothing from a
// greenlet but its token, so stand-ins with a token are enough, and no loop is needed.
import { describe, expect, it } from 'vitest';
import type { Greenlet } from '../src/index.js';
import { WaiterList } from '../src/waiters.js';

function waiter(token = 0): Greenlet {
  return { token } as unknown as Greenlet;
}

describe('WaiterList', () => {
  it('hands out waiters in arrival order with the payload and token each came with', () => {
    const list = new WaiterList();
    const a = waiter(3);
    const b = waiter(7);
    list.add(a, 'pa');
    list.add(b);
    const out: unknown[] = [];
    for (let g = list.shift(); g !== undefined; g = list.shift()) out.push([g === a ? 'a' : 'b', list.payload, list.token]);
    expect(out).toEqual([
      ['a', 'pa', 3],
      ['b', undefined, 7],
    ]);
    expect(list.payload).toBeUndefined();
    expect(list.empty).toBe(true);
  });

  it('skips a waiter whose token moved on (killed, timed out, woken by something else)', () => {
    const list = new WaiterList();
    const gone = waiter();
    const live = waiter();
    list.add(gone, 'gone');
    list.add(live, 'live');
    gone.token++;
    expect(list.count()).toBe(1);
    expect(list.peek()).toBe(live);
    expect(list.shift()).toBe(live);
    expect(list.payload).toBe('live');
    expect(list.shift()).toBeUndefined();
    expect(list.payload).toBeUndefined();
  });

  it('peeks at the first live waiter without taking it, and finds none once all went stale', () => {
    const list = new WaiterList();
    const a = waiter();
    const b = waiter();
    list.add(a);
    list.add(b);
    expect([list.peek(), list.peek(), list.count()]).toEqual([a, a, 2]);
    a.token++;
    b.token++;
    expect(list.empty).toBe(false); // stale entries still count as entries until met
    expect(list.peek()).toBeUndefined();
    expect(list.empty).toBe(true);
    expect(list.count()).toBe(0);
  });

  it('is empty when new, not empty with one entry, and empty again after takeAll', () => {
    const list = new WaiterList();
    expect(list.empty).toBe(true);
    expect(list.shift()).toBeUndefined();
    const a = waiter(5);
    list.add(a, 'p');
    expect(list.empty).toBe(false);
    expect(list.takeAll()).toEqual([a, 5, 'p']);
    expect(list.empty).toBe(true);
    expect(list.takeAll()).toEqual([]);
  });

  it('takes all entries after the ones already shifted, stale ones included', () => {
    const list = new WaiterList();
    const [a, b, c] = [waiter(), waiter(), waiter()];
    list.add(a, 1);
    list.add(b, 2);
    list.add(c, 3);
    list.shift();
    b.token++;
    expect(list.takeAll()).toEqual([b, 0, 2, c, 0, 3]);
  });

  it('counts only live waiters, whatever their place in the line', () => {
    const list = new WaiterList();
    const waiters = [waiter(), waiter(), waiter(), waiter()];
    for (const w of waiters) list.add(w);
    (waiters[1] as Greenlet).token++;
    (waiters[3] as Greenlet).token++;
    expect(list.count()).toBe(2);
    list.shift();
    expect(list.count()).toBe(1);
  });

  it('sweeps stale entries out once the list reaches 16 entries, keeping the live ones in order', () => {
    const list = new WaiterList();
    const stale = Array.from({ length: 15 }, () => waiter());
    for (const w of stale) list.add(w, 'stale');
    for (const w of stale) w.token++;
    const live = waiter();
    list.add(live, 'live'); // the 16th entry: the sweep runs
    expect(list.takeAll()).toEqual([live, 0, 'live']);
  });

  it('does not sweep before the list reaches 16 entries', () => {
    const list = new WaiterList();
    const stale = Array.from({ length: 14 }, () => waiter());
    for (const w of stale) list.add(w);
    for (const w of stale) w.token++;
    list.add(waiter());
    expect(list.takeAll().length).toBe(15 * 3);
  });

  it('sweeps again only once the list has doubled since the last sweep', () => {
    // 20 live waiters (swept at 16 with all kept: the next sweep is due at 32), all gone stale,
    // then `more` new ones.
    const build = (more: number): unknown[] => {
      const list = new WaiterList();
      const first = Array.from({ length: 20 }, () => waiter());
      for (const w of first) list.add(w);
      for (const w of first) w.token++;
      for (let i = 0; i < more; i++) list.add(waiter());
      return list.takeAll();
    };
    expect(build(11).length).toBe(31 * 3);
    expect(build(12).length).toBe(12 * 3);
  });

  it('keeps its order and count across a sweep that keeps many live waiters, and a long run of shifts', () => {
    const list = new WaiterList();
    const waiters = Array.from({ length: 3000 }, (_, i) => waiter(i));
    for (const w of waiters) list.add(w);
    let expected = 0;
    for (let g = list.shift(); g !== undefined; g = list.shift()) {
      expect(list.token).toBe(expected);
      expect(g).toBe(waiters[expected]);
      expected++;
      if (expected === 1500) {
        const more = waiter(3000);
        list.add(more);
        waiters.push(more);
      }
    }
    expect(expected).toBe(3001);
  });

  it('starts counting for its next sweep afresh after takeAll', () => {
    const list = new WaiterList();
    for (let i = 0; i < 20; i++) list.add(waiter()); // swept at 16, all kept: next sweep at 32
    list.takeAll();
    const stale = Array.from({ length: 15 }, () => waiter());
    for (const w of stale) list.add(w);
    for (const w of stale) w.token++;
    const live = waiter();
    list.add(live); // 16 entries: swept again, as in a new list
    expect(list.takeAll()).toEqual([live, 0, undefined]);
  });
});
