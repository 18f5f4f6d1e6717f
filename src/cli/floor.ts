// The bare floor the benchmark measures the core against: the same 4K fault-in done as plainly as
// JavaScript allows — tables as typed arrays, an integer walk from the root, the writes, and one
// compact event (table, index|level, new SPTE) per SPTE write. No iterator, no stats, no framing.
import { sptIndex } from '../sim/geometry.ts';
import type { Kvm } from '../sim/kvm.ts';
import { sptePfn } from '../sim/spte.ts';

/** SPTE bits the floor writes, taken once from the core so both build the same tables. */
export interface FloorSptes {
  /** A non-leaf SPTE without its PFN (the child table's PFN is ORed in). */
  tableLo: number;
  tableHi: number;
  /** A 4K leaf without its PFN. */
  leafLo: number;
  leafHi: number;
  /** Host PFN of table 0 (tables get consecutive PFNs, as the core numbers them). */
  tablePfnBase: number;
  /** Host PFN backing `firstGfn`. */
  guestPfn: number;
}

export interface FloorRun {
  /** The tables, in allocation order (0 is the root): 512 (lo, hi) pairs each. */
  tables: Int32Array[];
  events: number;
  /** Bytes of event storage allocated. */
  eventBytes: number;
}

/** GFNs per SPTE by level. */
const SPAN = [0, 1, 512, 512 ** 2, 512 ** 3, 512 ** 4];
const CHUNK_WORDS = 1 << 19;

/**
 * The log's volume to write instead of one 4-word event per SPTE write: records of `words` words
 * (4 or 8), and `extraPerFault` more of them per fault. What the core's log costs, without its logic.
 */
export interface FloorVolume {
  words: 4 | 8;
  extraPerFault: number;
}

/** Write faults on [firstGfn, firstGfn + npages), in order, on a `levels`-level table tree. */
export function floorFaultIn(
  firstGfn: number,
  npages: number,
  levels: number,
  s: FloorSptes,
  volume: FloorVolume = { words: 4, extraPerFault: 0 },
): FloorRun {
  const { words, extraPerFault } = volume;
  const tables: Int32Array[] = [new Int32Array(1024)];
  const chunks: Int32Array[] = [];
  let chunk = new Int32Array(0);
  let off = CHUNK_WORDS;
  let events = 0;
  const event = (table: number, where: number, lo: number, hi: number): void => {
    if (off === CHUNK_WORDS) {
      chunk = new Int32Array(CHUNK_WORDS);
      chunks.push(chunk);
      off = 0;
    }
    chunk[off] = table;
    chunk[off + 1] = where;
    chunk[off + 2] = lo;
    chunk[off + 3] = hi;
    if (words === 8) {
      chunk[off + 4] = lo;
      chunk[off + 5] = hi;
      chunk[off + 6] = table;
      chunk[off + 7] = where;
    }
    off += words;
    events++;
  };
  for (let i = 0; i < npages; i++) {
    const gfn = firstGfn + i;
    let t = 0;
    for (let level = levels; level > 1; level--) {
      // `& 511` truncates the exact quotient: integer indices for any GFN below 2^53.
      const index = (gfn / (SPAN[level] as number)) & 511;
      const spt = tables[t] as Int32Array;
      let lo = spt[2 * index] as number;
      let hi = spt[2 * index + 1] as number;
      if (lo === 0 && hi === 0) {
        const pfn = s.tablePfnBase + tables.length;
        tables.push(new Int32Array(1024));
        lo = s.tableLo | ((pfn % 0x100000) << 12);
        hi = s.tableHi | Math.floor(pfn / 0x100000);
        spt[2 * index] = lo;
        spt[2 * index + 1] = hi;
        event(t, index | (level << 10), lo, hi);
      }
      t = (hi & 0xfffff) * 0x100000 + ((lo >>> 12) & 0xfffff) - s.tablePfnBase;
    }
    const index = gfn & 511;
    const pfn = s.guestPfn + i;
    const lo = s.leafLo | ((pfn % 0x100000) << 12);
    const hi = s.leafHi | Math.floor(pfn / 0x100000);
    const spt = tables[t] as Int32Array;
    spt[2 * index] = lo;
    spt[2 * index + 1] = hi;
    event(t, index | (1 << 10), lo, hi);
    for (let k = 0; k < extraPerFault; k++) event(t, k, gfn, i);
  }
  return { tables, events, eventBytes: chunks.length * CHUNK_WORDS * 4 };
}

/** The floor's SPTE bits read off the core after it faulted `gfn` in (the first fault of a VM). */
export function floorSptesOf(kvm: Kvm, gfn: number): FloorSptes {
  const root = kvm.sp(0);
  let sp = root;
  let lo = 0;
  let hi = 0;
  for (;;) {
    const i = sptIndex(gfn, sp.level);
    lo = sp.spt[2 * i] as number;
    hi = sp.spt[2 * i + 1] as number;
    if (sp.level === 1) break;
    sp = kvm.childOf(lo, hi);
  }
  const rootLo = root.spt[2 * sptIndex(gfn, root.level)] as number;
  const rootHi = root.spt[2 * sptIndex(gfn, root.level) + 1] as number;
  return {
    tableLo: rootLo & 0xfff,
    tableHi: rootHi & ~0xfffff,
    leafLo: lo & 0xfff,
    leafHi: hi & ~0xfffff,
    tablePfnBase: root.pfn,
    guestPfn: sptePfn(lo, hi),
  };
}
