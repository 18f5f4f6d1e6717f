// The run's event log on the page: the worker's batches, kept as they arrived (transferred, not
// copied), read through the same WordSource interface the core's own log offers.
import { EV, WORDS } from '../sim/event-log.ts';
import { batchKind, decodeEvent, type SpMeta, type WordSource } from '../sim/events.ts';

/** Every table the run allocates, known as soon as its batch arrives (for layout and decoding). */
export interface TableInfo extends SpMeta {
  id: number;
  parent: number | null;
  parentIndex: number;
}

interface Batch {
  first: number;
  end: number;
  words: Uint32Array;
}

export class EventStore implements WordSource {
  private batches: Batch[] = [];
  private last: Batch | null = null;
  length = 0;
  tables: TableInfo[] = [];

  clear(): void {
    this.batches = [];
    this.last = null;
    this.length = 0;
    this.tables = [];
  }

  /** Decoding's view of a table, valid for any event of the run. */
  readonly spOf = (id: number): TableInfo => {
    const t = this.tables[id];
    if (!t) throw new RangeError(`no table ${id} in this run`);
    return t;
  };

  /** Append a batch; batches must arrive in order and without gaps. */
  append(first: number, words: Uint32Array): void {
    if (first !== this.length)
      throw new Error(`event batch starts at ${first}, expected ${this.length}`);
    const b = { first, end: first + words.length / WORDS, words };
    this.batches.push(b);
    this.length = b.end;
    const n = words.length / WORDS;
    for (let k = 0; k < n; k++) {
      if (batchKind(words, k) !== EV.spAllocated) continue;
      const e = decodeEvent(this, first + k, this.spOf);
      if (e.type !== 'spAllocated') continue;
      this.tables[e.sp] = {
        id: e.sp,
        parent: e.parent,
        parentIndex: e.parentIndex,
        gfn: e.gfn,
        level: e.level,
        rootId: e.parent === null ? e.sp : (this.tables[e.parent]?.rootId ?? e.sp),
      };
    }
  }

  word(i: number, w: number): number {
    let b = this.last;
    if (!b || i < b.first || i >= b.end) {
      b = this.find(i);
      this.last = b;
    }
    return b.words[(i - b.first) * WORDS + w] ?? 0;
  }

  private find(i: number): Batch {
    let lo = 0;
    let hi = this.batches.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = this.batches[mid];
      if (!b) break;
      if (i < b.first) hi = mid - 1;
      else if (i >= b.end) lo = mid + 1;
      else return b;
    }
    throw new RangeError(`no event ${i} (${this.length} received)`);
  }
}
