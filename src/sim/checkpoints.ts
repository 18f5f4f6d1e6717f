// Checkpoints of the mirror every `every` events, built in slices behind the user's back: a seek
// across a run of ten million events restores the nearest and replays at most every / 2 events
// (rr and Perfetto seek the same way).
import type { WordSource } from './events.ts';
import { Mirror, type MirrorCheckpoint } from './replay.ts';

/** Events between checkpoints: a replay of half of them takes about 10 ms. */
export const CHECKPOINT_EVERY = 1 << 17;

export class Checkpoints {
  private readonly mirror = new Mirror({}, { trackChanges: true });
  private readonly list: MirrorCheckpoint[];

  constructor(readonly every = CHECKPOINT_EVERY) {
    this.list = [this.mirror.checkpoint(null)];
  }

  /** Events of the log the checkpoints cover so far. */
  get covered(): number {
    return this.mirror.cursor;
  }

  get count(): number {
    return this.list.length;
  }

  /** Go on through `src` until `timeUp()` (asked every 4096 events); true once caught up. */
  advance(src: WordSource, timeUp: () => boolean): boolean {
    const m = this.mirror;
    while (m.cursor < src.length) {
      m.forward(src);
      // list[k] is the state at k * every: the checkpoint comes before any pause.
      if (m.cursor % this.every === 0) this.list.push(m.checkpoint(this.list.at(-1) ?? null));
      if ((m.cursor & 4095) === 0 && m.cursor < src.length && timeUp()) return false;
    }
    return true;
  }

  /** The checkpoint closest to `target` (there is always the one at 0). */
  nearest(target: number): MirrorCheckpoint {
    const k = Math.min(this.list.length - 1, Math.max(0, Math.round(target / this.every)));
    return this.list[k] ?? (this.list[0] as MirrorCheckpoint);
  }
}
