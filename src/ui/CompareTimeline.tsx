import { useMemo } from 'react';
import { useStore } from 'zustand';
import { SessionGroup } from '../store/group.ts';
import { selectCursor, selectEventCount, selectPlaying } from '../store/selectors.ts';
import type { Session } from '../store/session.ts';
import { Icon } from './Icon.tsx';
import './Timeline.css';

/** The shared timeline of compare mode: every button moves both panes. */
export function CompareTimeline({ a, b }: { a: Session; b: Session }) {
  const group = useMemo(() => new SessionGroup([a, b]), [a, b]);
  const ca = useStore(a.store, selectCursor);
  const cb = useStore(b.store, selectCursor);
  const na = useStore(a.store, selectEventCount);
  const nb = useStore(b.store, selectEventCount);
  const playingA = useStore(a.store, selectPlaying);
  const playingB = useStore(b.store, selectPlaying);
  const playing = playingA || playingB;
  return (
    <section className="timeline" aria-label="Shared timeline">
      <div className="timeline-row">
        <div className="timeline-buttons" role="toolbar" aria-label="Playback of both panes">
          <button type="button" onClick={() => group.home()} aria-label="Jump to start">
            <Icon name="start" />
          </button>
          <button
            type="button"
            onClick={() => group.stepOperation(-1)}
            aria-label="Previous operation"
          >
            <Icon name="prevOp" />
          </button>
          <button type="button" onClick={() => group.stepEvent(-1)} aria-label="Previous event">
            <Icon name="prev" />
          </button>
          <button
            type="button"
            className="play"
            onClick={() => group.togglePlay()}
            aria-label={playing ? 'Pause' : 'Play'}
          >
            {playing ? <Icon name="pause" /> : <Icon name="play" />}
          </button>
          <button type="button" onClick={() => group.stepEvent(1)} aria-label="Next event">
            <Icon name="next" />
          </button>
          <button type="button" onClick={() => group.stepOperation(1)} aria-label="Next operation">
            <Icon name="nextOp" />
          </button>
          <button type="button" onClick={() => group.toEnd()} aria-label="Jump to end">
            <Icon name="end" />
          </button>
        </div>
        <output className="timeline-position" data-testid="compare-cursor">
          A {ca.toLocaleString('en-US')} / {na.toLocaleString('en-US')} · B{' '}
          {cb.toLocaleString('en-US')} / {nb.toLocaleString('en-US')}
        </output>
      </div>
      <p className="timeline-now">
        Both panes step together operation by operation; each pane&apos;s own buttons step it alone.
      </p>
    </section>
  );
}
