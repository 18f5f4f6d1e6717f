// An imported trace under the timeline: one lane per task that printed its records, showing where
// in the log that task's records are (click a stretch to go there) and its last CPU and timestamp
// at the cursor.
import { useMemo } from 'react';
import {
  activeStatement,
  selectCursor,
  selectEventCount,
  selectStatements,
} from '../store/selectors.ts';
import { lanesOf, lastBefore } from './span-marks.ts';
import { useApp, useSession } from './session-context.ts';
import './RaceLanes.css';

/** Lanes beyond these many tasks are summed up in one line. */
const MAX_LANES = 8;
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
