// What the timeline draws of a run's spans: operation markers on the scrubber and an imported
// trace's lanes per task. Bucketed to what a scrubber can show, found by binary search, so a
// trace's million records cost a few thousand steps.
import { lowerBound, type Spans } from '../protocol/spans.ts';

/** Markers per run: one per 0.25 % of its events, as a scrubber this wide can show them. */
export const MARKER_BINS = 400;
export const binOf = (event: number, count: number) => Math.floor((event / count) * MARKER_BINS);

const fmt = new Intl.NumberFormat('en-US');

/**
 * A marker per operation, those in one bin merged: per bin a binary search over the span columns,
 * so a trace's million records cost a few thousand steps.
 */
export function markersOf(spans: Spans, count: number) {
  const out: { bin: number; first: number; title: string }[] = [];
  if (count === 0) return out;
  const { first, end } = spans.table;
  const n = first.length;
  const binAt = (i: number) => binOf(first[i] ?? 0, count);
  let i = 0;
  while (i < n) {
    const bin = binAt(i);
    const next = lowerBound(n, binAt, bin + 1);
    // The bin's operations: its spans that have events.
    let from = -1;
    let to = -1;
    let ops = 0;
    for (let k = i; k < next; k++) {
      if ((end[k] ?? 0) <= (first[k] ?? 0)) continue;
      if (from < 0) from = k;
      to = k;
      // Counting stops being worth it past a few: the rest are counted from the span range.
      if (++ops > 8) break;
    }
    if (from >= 0) {
      const unit = spans.isTrace ? 'records' : 'statements';
      out.push({
        bin,
        first: first[from] ?? 0,
        title:
          ops === 1
            ? `line ${spans.line(from)}: ${spans.kind(from)}`
            : ops <= 8
              ? `lines ${spans.line(from)}–${spans.line(to)}: ${ops} operations`
              : `lines ${spans.line(from)}–${spans.line(next - 1)}: ${fmt.format(next - from)} ${unit}`,
      });
    }
    i = next;
  }
  return out;
}

/** A lane draws at most this many stretches: closer records merge, as they would on screen. */
const BUCKETS = 400;

export interface Lane {
  task: string;
  /** Stretches of [from, to) events, merged to the bucket grid. */
  runs: { from: number; to: number }[];
  /** Indices into the spans of this task's records, in log order. */
  spans: Int32Array;
}

/** Per task, its records and where in the log they are, per bucket: a few binary searches each. */
export function lanesOf(spans: Spans, count: number): Lane[] {
  const trace = spans.table.trace;
  if (!trace || count === 0) return [];
  const { first, end } = spans.table;
  const grid = Math.max(1, Math.ceil(count / BUCKETS));
  return trace.tasks.map((task, t) => {
    const recs = trace.byTask.subarray(trace.taskStarts[t] ?? 0, trace.taskStarts[t + 1] ?? 0);
    const startOf = (j: number) => first[recs[j] ?? 0] ?? 0;
    const runs: Lane['runs'] = [];
    for (let lo = 0; lo < count; lo += grid) {
      const hi = lo + grid;
      // The task's last record starting before the bucket ends: it is in the bucket or runs into it.
      const j = lowerBound(recs.length, startOf, hi) - 1;
      const rec = recs[j];
      if (j < 0 || rec === undefined || ((first[rec] ?? 0) < lo && (end[rec] ?? 0) <= lo)) continue;
      const last = runs[runs.length - 1];
      if (last && last.to === lo) last.to = Math.min(count, hi);
      else runs.push({ from: lo, to: Math.min(count, hi) });
    }
    return { task, runs, spans: recs };
  });
}

/** The last of `lane`'s records that starts before `cursor`. */
export function lastBefore(lane: Lane, spans: Spans, cursor: number) {
  const i = lowerBound(lane.spans.length, (j) => spans.first(lane.spans[j] ?? 0), cursor);
  return i > 0 ? spans.at(lane.spans[i - 1] ?? 0) : null;
}
