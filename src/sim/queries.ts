// Questions a reviewer asks of the event log, answered from the log alone: when did this SPTE
// change and by which operation (rr's "reverse to last write"), and what differs between two
// positions of the cursor.
import { EV, join32 } from './event-log.ts';
import { eventKind, type WordSource } from './events.ts';
import { pagesPerHpage } from './geometry.ts';

/** One change of an entry: the spteChanged event and the opBegin of the operation that made it. */
export interface EntryChange {
  event: number;
  op: number;
  oldLo: number;
  oldHi: number;
  newLo: number;
  newHi: number;
}

/** Changes of sp[index] in events [0, end), oldest first, at most `limit` (the newest kept). */
export function entryChanges(
  src: WordSource,
  sp: number,
  index: number,
  end = src.length,
  limit = 500,
): EntryChange[] {
  const out: EntryChange[] = [];
  let op = -1;
  for (let i = 0; i < end; i++) {
    const kind = eventKind(src, i);
    if (kind === EV.opBegin) op = i;
    if (kind !== EV.spteChanged) continue;
    if (src.word(i, 1) !== sp || (src.word(i, 2) & 0x3ff) !== index) continue;
    out.push({
      event: i,
      op,
      oldLo: src.word(i, 3),
      oldHi: src.word(i, 4),
      newLo: src.word(i, 5),
      newHi: src.word(i, 6),
    });
    if (out.length > limit) out.shift();
  }
  return out;
}

/**
 * Where the timeline goes to show the entry's previous (`dir` -1) or next (`dir` 1) change: just
 * after it. The change shown at `cursor` is the last one before it; previous is the one before
 * that, next the first at or after the cursor. Null when there is none that way.
 */
export function neighbourChange(
  changes: readonly EntryChange[],
  cursor: number,
  dir: 1 | -1,
): number | null {
  if (dir === 1) {
    const next = changes.find((c) => c.event >= cursor);
    return next ? next.event + 1 : null;
  }
  let shown = -1;
  for (let k = changes.length - 1; k >= 0; k--) {
    if ((changes[k]?.event ?? Infinity) < cursor) {
      shown = k;
      break;
    }
  }
  const previous = shown > 0 ? changes[shown - 1] : undefined;
  return previous ? previous.event + 1 : null;
}

/** An SPTE whose value differs between two cursor positions. */
export interface SpteDiff {
  sp: number;
  index: number;
  /** The value at the earlier position and at the later one. */
  fromLo: number;
  fromHi: number;
  toLo: number;
  toHi: number;
}

/**
 * The SPTEs whose value at cursor `b` differs from the value at cursor `a` (either order), by
 * table and index. Only events between the two are read: an entry's value at the earlier position
 * is the old value of its first change there, at the later one the new value of its last.
 */
export function stateDiff(src: WordSource, a: number, b: number): SpteDiff[] {
  const from = Math.min(a, b);
  const to = Math.max(a, b);
  const seen = new Map<number, SpteDiff>();
  for (let i = from; i < to; i++) {
    if (eventKind(src, i) !== EV.spteChanged) continue;
    const sp = src.word(i, 1);
    const index = src.word(i, 2) & 0x3ff;
    const key = sp * 512 + index;
    const d = seen.get(key);
    if (d) {
      d.toLo = src.word(i, 5);
      d.toHi = src.word(i, 6);
    } else {
      seen.set(key, {
        sp,
        index,
        fromLo: src.word(i, 3),
        fromHi: src.word(i, 4),
        toLo: src.word(i, 5),
        toHi: src.word(i, 6),
      });
    }
  }
  return [...seen.values()]
    .filter((d) => d.fromLo !== d.toLo || d.fromHi !== d.toHi)
    .sort((x, y) => x.sp - y.sp || x.index - y.index);
}

/** A parsed event-log filter: every given part must match. */
export interface LogQuery {
  sp?: number;
  index?: number;
  gfn?: { from: number; to: number };
  level?: number;
  kinds?: ReadonlySet<number>;
  /** Words the event's sentence must contain (lower case). */
  text?: string;
}

/** Event kinds by the names a filter uses. */
const KIND_GROUPS: Record<string, readonly number[]> = {
  spte: [EV.spteChanged],
  flush: [EV.tlbFlush],
  iter: [EV.iterStep, EV.iterUp],
  fault: [EV.fault, EV.faultDone],
  nx: [EV.nxAccounted, EV.nxUnaccounted, EV.nxRecoverPick],
  root: [EV.rootInvalidated, EV.rootRefcount, EV.vcpuRoot],
  table: [EV.spAllocated, EV.spLinked, EV.spUnlinked, EV.spFreed],
  lock: [EV.mmuLock],
  op: [EV.opBegin, EV.opEnd],
  warn: [EV.warn],
};
export const LOG_KINDS = Object.keys(KIND_GROUPS);

const NUM = /^(?:0x[0-9a-f]+|[0-9]+)$/i;

/**
 * `sp=3`, `sp=3[0]`, `gfn=0x100000`, `gfn=0x100000-0x100200`, `level=2`, `kind=spte,flush` and
 * free words (matched in the event's sentence, e.g. a kernel function). A string is the problem.
 */
export function parseLogQuery(text: string): LogQuery | string {
  const q: LogQuery = {};
  const words: string[] = [];
  for (const token of text.trim().split(/\s+/).filter(Boolean)) {
    const eq = token.indexOf('=');
    if (eq < 0) {
      words.push(token.toLowerCase());
      continue;
    }
    const key = token.slice(0, eq);
    const value = token.slice(eq + 1);
    switch (key) {
      case 'sp': {
        const m = /^(\d+)(?:\[(\d+)\])?$/.exec(value);
        if (!m) return `sp=${value}: give a table number, or table[index], e.g. sp=3 or sp=3[0]`;
        q.sp = Number(m[1]);
        if (m[2] !== undefined) q.index = Number(m[2]);
        break;
      }
      case 'gfn': {
        const [a = '', b] = value.split('-');
        if (!NUM.test(a) || (b !== undefined && !NUM.test(b))) {
          return `gfn=${value}: give a GFN or a range, e.g. gfn=0x100000 or gfn=0x100000-0x100200`;
        }
        const from = Number(a);
        const to = b === undefined ? from + 1 : Number(b);
        if (!(to > from)) return `gfn=${value}: the range is empty`;
        q.gfn = { from, to };
        break;
      }
      case 'level': {
        if (!/^[1-5]$/.test(value)) return `level=${value}: give a level from 1 to 5`;
        q.level = Number(value);
        break;
      }
      case 'kind': {
        const kinds = new Set<number>();
        for (const k of value.split(',')) {
          const group = KIND_GROUPS[k];
          if (!group) return `kind=${k}: not a kind (kinds: ${LOG_KINDS.join(', ')})`;
          for (const code of group) kinds.add(code);
        }
        q.kinds = kinds;
        break;
      }
      default:
        return `unknown filter '${key}=' (filters: sp=, gfn=, level=, kind=, or plain words)`;
    }
  }
  if (words.length > 0) q.text = words.join(' ');
  return q;
}

/** What a log filter found: matching event numbers, in order. */
export interface LogMatches {
  indices: number[];
  /** The sentence search stopped early (it decodes each candidate event). */
  truncated: boolean;
}

/** Sentences read per filter before it stops: a word search over a huge log would stall the page. */
export const MAX_TEXT_SCAN = 300_000;

/**
 * The events of `src` that match `q`. The structured parts read raw event words; the words are
 * looked for in `sentence(i)` of the candidates left.
 */
export function filterLog(
  src: WordSource,
  spOf: (id: number) => { gfn: number; level: number },
  q: LogQuery,
  sentence: (i: number) => string,
): LogMatches {
  const indices: number[] = [];
  let read = 0;
  for (let i = 0; i < src.length; i++) {
    const kind = eventKind(src, i);
    if (q.kinds && !q.kinds.has(kind)) continue;
    if (!matchesEntry(src, i, kind, q, spOf)) continue;
    if (q.text !== undefined) {
      if (++read > MAX_TEXT_SCAN) return { indices, truncated: true };
      if (!sentence(i).toLowerCase().includes(q.text)) continue;
    }
    indices.push(i);
  }
  return { indices, truncated: false };
}

/** The events whose table is word 1 (and index, level in word 2 for SPTE and iterator events). */
const ENTRY_EVENTS = new Set<number>([EV.spteChanged, EV.iterStep, EV.iterUp]);
const TABLE_EVENTS = new Set<number>([
  EV.spteChanged,
  EV.iterStep,
  EV.iterUp,
  EV.spAllocated,
  EV.spLinked,
  EV.spUnlinked,
  EV.spFreed,
  EV.nxAccounted,
  EV.nxUnaccounted,
  EV.rootInvalidated,
  EV.rootRefcount,
  EV.nxRecoverPick,
]);

function matchesEntry(
  src: WordSource,
  i: number,
  kind: number,
  q: LogQuery,
  spOf: (id: number) => { gfn: number; level: number },
): boolean {
  if (q.sp !== undefined) {
    if (!TABLE_EVENTS.has(kind) || src.word(i, 1) !== q.sp) return false;
    if (
      q.index !== undefined &&
      (!ENTRY_EVENTS.has(kind) || (src.word(i, 2) & 0x3ff) !== q.index)
    ) {
      return false;
    }
  }
  if (q.level !== undefined) {
    if (!ENTRY_EVENTS.has(kind) || ((src.word(i, 2) >>> 10) & 0xf) !== q.level) return false;
  }
  if (q.gfn !== undefined) {
    const span = gfnSpan(src, i, kind, spOf);
    if (!span || span.to <= q.gfn.from || span.from >= q.gfn.to) return false;
  }
  return true;
}

/** The GFNs an event is about: an entry's span, a fault's GFN, a flush's range (all, if full). */
function gfnSpan(
  src: WordSource,
  i: number,
  kind: number,
  spOf: (id: number) => { gfn: number; level: number },
): { from: number; to: number } | null {
  const w = (k: number) => src.word(i, k);
  if (ENTRY_EVENTS.has(kind)) {
    const level = (w(2) >>> 10) & 0xf;
    const pages = pagesPerHpage(level);
    const from = spOf(w(1)).gfn + (w(2) & 0x3ff) * pages;
    return { from, to: from + pages };
  }
  if (kind === EV.fault || kind === EV.faultDone) {
    const gfn = join32(w(3), w(4));
    return { from: gfn, to: gfn + 1 };
  }
  if (kind === EV.tlbFlush) {
    if (w(1) !== 1) return { from: 0, to: Infinity };
    const gfn = join32(w(3), w(4));
    return { from: gfn, to: gfn + join32(w(5), w(6)) };
  }
  return null;
}
