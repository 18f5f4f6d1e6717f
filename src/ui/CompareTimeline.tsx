import { useMemo } from 'react';
import { useStore } from 'zustand';
import { SessionGroup } from '../store/group.ts';
import { selectCursor, selectEventCount, selectPlaying } from '../store/selectors.ts';
import type { Session } from '../store/session.ts';
import { PlaybackButtons } from './PlaybackButtons.tsx';
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
        <PlaybackButtons target={group} playing={playing} label="Playback of both panes" />
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
