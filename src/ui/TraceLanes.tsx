// An imported trace under the timeline: one lane per task that printed its records, showing where
// in the log that task's records are (click a stretch to go there) and its last CPU and timestamp
// at the cursor.
import { useMemo } from 'react';
import type { StatementSpan } from '../protocol/messages.ts';
import {
  activeStatement,
  selectCursor,
  selectEventCount,
  selectStatements,
} from '../store/selectors.ts';
import { useApp, useSession } from './session-context.ts';
import './RaceLanes.css';

/** Lanes beyond these many tasks are summed up in one line. */
const MAX_LANES = 8;
/** A lane draws at most this many stretches: closer records merge, as they would on screen. */
const BUCKETS = 400;

interface Lane {
  task: string;
  /** Stretches of [from, to) events, merged to the bucket grid. */
  runs: { from: number; to: number }[];
  /** Indices into the spans of this task's records, in log order. */
  spans: number[];
}

function lanesOf(spans: readonly StatementSpan[], count: number): Lane[] {
  const byTask = new Map<string, Lane>();
  const grid = Math.max(1, Math.ceil(count / BUCKETS));
  spans.forEach((s, k) => {
    const task = s.trace?.task;
    if (!task) return;
    let lane = byTask.get(task);
    if (!lane) byTask.set(task, (lane = { task, runs: [], spans: [] }));
    lane.spans.push(k);
    const from = Math.floor(s.firstEvent / grid) * grid;
    const to = Math.max(s.endEvent, from + grid);
    const last = lane.runs[lane.runs.length - 1];
    if (last && from <= last.to) last.to = Math.max(last.to, to);
    else lane.runs.push({ from, to });
  });
  return [...byTask.values()];
}

/** The last of `lane`'s records that starts before `cursor`. */
function lastBefore(
  lane: Lane,
  spans: readonly StatementSpan[],
  cursor: number,
): StatementSpan | null {
  let lo = 0;
  let hi = lane.spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((spans[lane.spans[mid] ?? 0]?.firstEvent ?? 0) < cursor) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? (spans[lane.spans[lo - 1] ?? 0] ?? null) : null;
}

export function TraceLanes() {
  const session = useSession();
  const spans = useApp(selectStatements);
  const count = useApp(selectEventCount);
  const cursor = useApp(selectCursor);
  const active = useApp(activeStatement);
  const lanes = useMemo(() => lanesOf(spans, count), [spans, count]);
  if (lanes.length === 0 || count === 0) return null;
  const pct = (i: number) => `${(i / count) * 100}%`;
  const shown = lanes.slice(0, MAX_LANES);
  return (
    <div
      className="race-lanes race-lanes--trace"
      role="group"
      aria-label="The imported trace: one lane per task"
    >
      {shown.map((lane, a) => {
        const last = lastBefore(lane, spans, cursor);
        const now = active?.trace?.task === lane.task;
        const words = last?.trace
          ? [
              `line ${last.line}`,
              last.trace.cpu === null ? null : `CPU ${last.trace.cpu}`,
              last.trace.ts,
            ]
              .filter(Boolean)
              .join(' · ')
          : 'no record yet';
        return (
          <div
            key={lane.task}
            className={`race-lane${now ? ' race-lane--now' : ''}`}
            style={{ ['--lane' as string]: `var(--actor-${a % 4})` }}
            data-testid={`trace-lane-${a}`}
          >
            <span className="race-lane__who" title={lane.task}>
              <span className="race-lane__tag">{a}</span>
              {lane.task}
            </span>
            <span className="race-lane__state" title={words}>
              {words}
            </span>
            <div className="race-lane__strip" aria-hidden="true">
              {lane.runs.map((r) => (
                <span
                  key={r.from}
                  className="race-lane__run"
                  style={{ left: pct(r.from), width: pct(r.to - r.from) }}
                  onClick={() => session.seek(Math.min(r.to, count))}
                />
              ))}
              <span className="race-lane__cursor" style={{ left: pct(cursor) }} />
            </div>
          </div>
        );
      })}
      {lanes.length > MAX_LANES && (
        <span className="race-lane__state">
          and {lanes.length - MAX_LANES} more tasks (the event log names each record&apos;s task)
        </span>
      )}
    </div>
  );
}
