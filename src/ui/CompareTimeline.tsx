import { useMemo } from 'react';
import { useStore } from 'zustand';
import type { Spans } from '../protocol/spans.ts';
import { SessionGroup } from '../store/group.ts';
import {
  selectCursor,
  selectEventCount,
  selectPlaying,
  selectSpeed,
  selectStatements,
} from '../store/selectors.ts';
import type { Session } from '../store/session.ts';
import { PlaybackButtons } from './PlaybackButtons.tsx';
import { SpeedSelect } from './Timeline.tsx';
import './Timeline.css';

/** Where each operation of a run ends (the shared scrubber's stops). */
function ends(ops: Spans): number[] {
  const out: number[] = [];
  for (let i = 0; i < ops.length; i++) if (ops.end(i) > ops.first(i)) out.push(ops.end(i));
  return out;
}

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
  const speed = useStore(a.store, selectSpeed);
  const opsA = useStore(a.store, selectStatements);
  const opsB = useStore(b.store, selectStatements);
  // The shared scrubber counts operations: the panes run the same statements, not the same events.
  const endsA = useMemo(() => ends(opsA), [opsA]);
  const endsB = useMemo(() => ends(opsB), [opsB]);
  const done = endsA.filter((e) => e <= ca).length;
  const seekOp = (k: number) => {
    a.seek(k === 0 ? 0 : (endsA[k - 1] ?? na));
    b.seek(k === 0 ? 0 : (endsB[k - 1] ?? nb));
  };
  return (
    <section className="timeline" aria-label="Shared timeline">
      <div className="timeline-row">
        <PlaybackButtons target={group} playing={playing} label="Playback of both panes" />
        <SpeedSelect speed={speed} onChange={(v) => a.setSpeed(v)} />
        <div className="scrubber">
          <input
            type="range"
            min={0}
            max={endsA.length}
            value={done}
            onChange={(e) => seekOp(Number(e.target.value))}
            aria-label="Operation cursor of both panes"
            aria-valuetext={`operation ${done} of ${endsA.length}`}
          />
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
