import type { TimelineTarget } from '../store/group.ts';
import { Icon } from './Icon.tsx';

/** Start, operation and event steps, play/pause, end: for one session or for both compare panes. */
export function PlaybackButtons({
  target,
  playing,
  label,
}: {
  target: TimelineTarget;
  playing: boolean;
  label: string;
}) {
  return (
    <div className="timeline-buttons" role="toolbar" aria-label={label}>
      <button type="button" onClick={() => target.home()} aria-label="Jump to start" title="Home">
        <Icon name="start" />
      </button>
      <button
        type="button"
        onClick={() => target.stepOperation(-1)}
        aria-label="Previous operation"
        title="Shift+←"
      >
        <Icon name="prevOp" />
      </button>
      <button
        type="button"
        onClick={() => target.stepEvent(-1)}
        aria-label="Previous event"
        title="←"
      >
        <Icon name="prev" />
      </button>
      <button
        type="button"
        className="play"
        onClick={() => target.togglePlay()}
        aria-label={playing ? 'Pause' : 'Play'}
        title="Space"
      >
        {playing ? <Icon name="pause" /> : <Icon name="play" />}
      </button>
      <button type="button" onClick={() => target.stepEvent(1)} aria-label="Next event" title="→">
        <Icon name="next" />
      </button>
      <button
        type="button"
        onClick={() => target.stepOperation(1)}
        aria-label="Next operation"
        title="Shift+→"
      >
        <Icon name="nextOp" />
      </button>
      <button type="button" onClick={() => target.toEnd()} aria-label="Jump to end" title="End">
        <Icon name="end" />
      </button>
    </div>
  );
}
