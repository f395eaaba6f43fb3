/** What the heap needs from an entry: its due time, a tie-breaking sequence, and its slot. */
export interface HeapEntry {
  /** Loop time (ms) at which the entry is due. */
  due: number;
  /** Start order; earlier starts run first among equal due times. */
  seq: number;
  /** Position in the heap, or -1 when not in it. Maintained by the heap. */
  heapIndex: number;
}

/**
 * A binary min-heap ordered by `(due, seq)`, with O(log n) removal of any entry through its
 * `heapIndex` (timers are stopped far more often than they fire). It allocates only when
 * its backing array grows past its largest size so far.
 */
export class TimerHeap<T extends HeapEntry> {
  // `items[0..count)` is the heap. The array never shrinks: V8 trims an array's backing store
  // when pop() takes it below half its capacity, so a heap that empties and refills (a timer per
  // request) would reallocate every time. Slots past `count` are cleared, so they hold nothing.
  private readonly items: (T | undefined)[] = [];
  private count = 0;

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** The earliest entry, or `undefined` when empty. */
  peek(): T | undefined {
    return this.count > 0 ? this.items[0] : undefined;
  }

  /** Insert an entry that is not in the heap. */
  push(entry: T): void {
    const index = this.count++;
    entry.heapIndex = index;
    if (index === this.items.length) this.items.push(entry);
    else this.items[index] = entry;
    this.siftUp(index);
  }

  /** Remove an entry if it is in the heap; a no-op otherwise. */
  remove(entry: T): void {
    const index = entry.heapIndex;
    if (index < 0 || index >= this.count || this.items[index] !== entry) return;
    const lastIndex = --this.count;
    const last = this.items[lastIndex] as T;
    this.items[lastIndex] = undefined;
    entry.heapIndex = -1;
    if (index === lastIndex) return;
    this.items[index] = last;
    last.heapIndex = index;
    this.siftDown(index);
    this.siftUp(last.heapIndex);
  }

  private before(a: T, b: T): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private siftUp(index: number): void {
    const items = this.items;
    const entry = items[index] as T;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex] as T;
      if (!this.before(entry, parent)) break;
      items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = entry;
    entry.heapIndex = index;
  }

  private siftDown(index: number): void {
    const items = this.items;
    const length = this.count;
    const entry = items[index] as T;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && this.before(items[right] as T, items[child] as T)) child = right;
      const smallest = items[child] as T;
      if (!this.before(smallest, entry)) break;
      items[index] = smallest;
      smallest.heapIndex = index;
      index = child;
    }
    items[index] = entry;
    entry.heapIndex = index;
  }
}
