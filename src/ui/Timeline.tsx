import { useMemo } from 'react';
import { explainEvent, explainOp } from '../sim/explain.ts';
import { SPEEDS } from '../store/app-store.ts';
import {
  activeStatement,
  selectCursor,
  selectEventCount,
  selectPlaying,
  selectRunStatus,
  selectSpeed,
  selectStatements,
} from '../store/selectors.ts';
import { PlaybackButtons } from './PlaybackButtons.tsx';
import { useApp, useSession } from './session-context.ts';
import './Timeline.css';

const speedLabel = (s: number) => (Number.isFinite(s) ? `${s}×` : 'instant');

/** Play, step, scrub: the cursor over the run's events, with a marker per operation. */
export function Timeline() {
  const session = useSession();
  const cursor = useApp(selectCursor);
  const count = useApp(selectEventCount);
  const playing = useApp(selectPlaying);
  const speed = useApp(selectSpeed);
  const statements = useApp(selectStatements);
  const status = useApp(selectRunStatus);
  const active = useApp(activeStatement);

  const markers = useMemo(
    () => statements.filter((st) => st.endEvent > st.firstEvent),
    [statements],
  );

  const now = useMemo(() => {
    if (cursor === 0 || cursor > session.events.length)
      return 'At the start: nothing has happened yet.';
    const ev = session.eventAt(cursor - 1);
    return explainEvent(ev);
  }, [cursor, session]);

  const op = useMemo(() => {
    if (!active) return null;
    const first = session.eventAt(active.firstEvent);
    return first.type === 'opBegin' ? explainOp(first) : null;
  }, [active, session]);

  return (
    <section className="timeline" aria-label="Timeline">
      <div className="timeline-row">
        <PlaybackButtons target={session} playing={playing} label="Playback" />
        <label className="timeline-speed">
          Speed
          <select
            value={String(speed)}
            onChange={(e) => session.setSpeed(Number(e.target.value))}
            aria-label="Playback speed"
          >
            {SPEEDS.map((s) => (
              <option key={String(s)} value={String(s)}>
                {speedLabel(s)}
              </option>
            ))}
          </select>
        </label>
        <div className="scrubber">
          <input
            type="range"
            min={0}
            max={count}
            value={Math.min(cursor, count)}
            onChange={(e) => session.seek(Number(e.target.value))}
            aria-label="Event cursor"
            aria-valuetext={`event ${cursor} of ${count}`}
          />
          <div className="scrubber-markers" aria-hidden="true">
            {count > 0 &&
              markers.map((st) => (
                <span
                  key={st.firstEvent}
                  className={active?.firstEvent === st.firstEvent ? 'marker active' : 'marker'}
                  style={{ left: `${(st.firstEvent / count) * 100}%` }}
                  title={`line ${st.line}: ${st.kind}`}
                />
              ))}
          </div>
        </div>
        <output className="timeline-position" data-testid="cursor">
          {cursor.toLocaleString('en-US')} / {count.toLocaleString('en-US')}
          {status === 'running' ? ' …' : ''}
        </output>
      </div>
      <p className="timeline-now" aria-live="polite">
        {op && <span className="timeline-op">{op}</span>}
        <span className="timeline-event" data-testid="now">
          {now}
        </span>
      </p>
    </section>
  );
}
