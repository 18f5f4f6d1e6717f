// The run's event log on the page: the worker's batches, kept as they arrived (transferred, not
// copied), read through the same WordSource interface the core's own log offers.
import { EV, join32, NONE, WORDS } from '../sim/event-log.ts';
import type { SpMeta, WordSource } from '../sim/events.ts';

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
    for (let o = 0; o < words.length; o += WORDS) {
      if (((words[o] ?? 0) & 0xff) !== EV.spAllocated) continue;
      const id = words[o + 1] ?? 0;
      const parentWord = words[o + 2] ?? NONE;
      const parent = parentWord === NONE ? null : parentWord;
      this.tables[id] = {
        id,
        parent,
        parentIndex: words[o + 3] ?? 0,
        gfn: join32(words[o + 4] ?? 0, words[o + 5] ?? 0),
        level: words[o + 6] ?? 0,
        rootId: parent === null ? id : (this.tables[parent]?.rootId ?? id),
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
