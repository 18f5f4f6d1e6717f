// Non-overlapping half-open ranges kept sorted by start, so finding the one holding a GFN and
// checking a new one for overlap are binary searches (search_memslots() is one too), not a scan
// of every memslot per fault or per added slot.

export class SortedRanges<T> {
  private readonly items: T[] = [];

  constructor(
    private readonly start: (t: T) => number,
    private readonly end: (t: T) => number,
  ) {}

  /** The index of the first range starting above `x`. */
  private upper(x: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const it = this.items[mid];
      if (it !== undefined && this.start(it) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The range holding `x`, if any. */
  find(x: number): T | undefined {
    const it = this.items[this.upper(x) - 1];
    return it !== undefined && x < this.end(it) ? it : undefined;
  }

  /** A range that [start, end) would overlap, if any. */
  overlap(start: number, end: number): T | undefined {
    const i = this.upper(start);
    const before = this.items[i - 1];
    if (before !== undefined && start < this.end(before)) return before;
    const after = this.items[i];
    return after !== undefined && this.start(after) < end ? after : undefined;
  }

  /** Adds a range that overlaps none (check with overlap() first). */
  insert(t: T): void {
    this.items.splice(this.upper(this.start(t)), 0, t);
  }
}
