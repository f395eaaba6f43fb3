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
 * its backing array grows.
 */
export class TimerHeap<T extends HeapEntry> {
  private readonly items: T[] = [];

  /** Number of entries. */
  get size(): number {
    return this.items.length;
  }

  /** The earliest entry, or `undefined` when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Insert an entry that is not in the heap. */
  push(entry: T): void {
    entry.heapIndex = this.items.length;
    this.items.push(entry);
    this.siftUp(entry.heapIndex);
  }

  /** Remove an entry if it is in the heap; a no-op otherwise. */
  remove(entry: T): void {
    const index = entry.heapIndex;
    if (index < 0 || this.items[index] !== entry) return;
    const last = this.items.pop() as T;
    entry.heapIndex = -1;
    if (index === this.items.length) return;
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
    const length = items.length;
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
