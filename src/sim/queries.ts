// Questions a reviewer asks of the event log, answered from the log alone: when did this SPTE
// change and by which operation (rr's "reverse to last write"), and what differs between two
// positions of the cursor.
import { EV } from './event-log.ts';
import { eventKind, type WordSource } from './events.ts';

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
