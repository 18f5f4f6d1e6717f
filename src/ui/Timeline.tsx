import { useMemo } from 'react';
import { SPEEDS } from '../store/app-store.ts';
import {
  activeStatement,
  selectCursor,
  selectEventCount,
  selectPlaying,
  selectLogFilter,
  selectRunStatus,
  selectSeekingTo,
  selectSpeed,
  selectStatements,
} from '../store/selectors.ts';
import { PlaybackButtons } from './PlaybackButtons.tsx';
import { binOf, markersOf } from './span-marks.ts';
import { RaceLanes } from './RaceLanes.tsx';
import { TraceLanes } from './TraceLanes.tsx';
import { useStepWords } from './step-words.ts';
import { useApp, useSession } from './session-context.ts';
import './Timeline.css';

const speedLabel = (s: number) => (Number.isFinite(s) ? `${s}×` : 'instant');

/** The playback speed, shared by every pane. */
export function SpeedSelect({ speed, onChange }: { speed: number; onChange: (v: number) => void }) {
  return (
    <label className="timeline-speed">
      Speed
      <select
        value={String(speed)}
        onChange={(e) => onChange(Number(e.target.value))}
        aria-label="Playback speed"
      >
        {SPEEDS.map((s) => (
          <option key={String(s)} value={String(s)}>
            {speedLabel(s)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Play, step, scrub: the cursor over the run's events, with a marker per operation. */
export function Timeline() {
  const session = useSession();
  const cursor = useApp(selectCursor);
  const count = useApp(selectEventCount);
  const playing = useApp(selectPlaying);
  const speed = useApp(selectSpeed);
  const statements = useApp(selectStatements);
  const status = useApp(selectRunStatus);
  const seekingTo = useApp(selectSeekingTo);
  const active = useApp(activeStatement);

  const markers = useMemo(() => markersOf(statements, count), [statements, count]);
  const activeBin = active && count > 0 ? binOf(active.firstEvent, count) : -1;
  const found = useApp(selectLogFilter).matches;
  // The log filter's matches on the scrubber: one tick per occupied 0.25 % of the run.
  const ticks = useMemo(() => {
    if (!found || count === 0) return [];
    const bins = new Set<number>();
    for (const i of found) bins.add(Math.floor((i / count) * 400));
    return [...bins];
  }, [found, count]);

  const { now, step, op, outcome } = useStepWords();

  return (
    <section className="timeline" aria-label="Timeline">
      <div className="timeline-row">
        <PlaybackButtons target={session} playing={playing} label="Playback" />
        <SpeedSelect speed={speed} onChange={(v) => session.setSpeed(v)} />
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
          {ticks.length > 0 && (
            <div className="scrubber-matches" aria-hidden="true" data-testid="scrubber-matches">
              {ticks.map((b) => (
                <span key={b} className="match" style={{ left: `${b / 4}%` }} />
              ))}
            </div>
          )}
          <div className="scrubber-markers" aria-hidden="true">
            {count > 0 &&
              markers.map((m) => (
                <span
                  key={m.bin}
                  className={m.bin === activeBin ? 'marker active' : 'marker'}
                  style={{ left: `${(m.first / count) * 100}%` }}
                  title={m.title}
                />
              ))}
          </div>
        </div>
        <output className="timeline-position" data-testid="cursor">
          {cursor.toLocaleString('en-US')} / {count.toLocaleString('en-US')}
          {status === 'running' ? ' …' : ''}
          {seekingTo !== null && (
            <span className="timeline-seeking"> → {seekingTo.toLocaleString('en-US')}…</span>
          )}
        </output>
      </div>
      <RaceLanes />
      <TraceLanes />
      <p className="timeline-now">
        {op && (
          <span className="timeline-op" title={op}>
            {op}
          </span>
        )}
        {outcome ? (
          <span className="timeline-outcome" data-testid="outcome" title={outcome}>
            → {outcome}
          </span>
        ) : (
          <span className="timeline-event" data-testid="now" title={now}>
            {now}
          </span>
        )}
      </p>
      {/* Spoken when the cursor settles, not on every event of a play. */}
      <div className="sr-only" role="status" aria-label="Current step" data-testid="current-step">
        {playing ? (op ?? '') : outcome ? `${step}. Outcome: ${outcome}` : step}
      </div>
    </section>
  );
}
