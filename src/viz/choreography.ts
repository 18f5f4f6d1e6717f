// What the picture does for a batch of events, decided in data: which entries to recolour, which
// tables to reload or re-read, and which animations to play. Pure, so it is tested in Node; the
// renderer carries it out.
import type { SimEvent } from '../sim/events.ts';
import type { NewAnim } from './overlays.ts';

export const FLASH_MS = 700;
export const GROW_MS = 380;
export const FADE_MS = 320;
export const PULSE_MS = 400;
export const TRAIL_MS = 400;
export const BOUNCE_MS = 900;
const MAX_FLASHES = 1024;
const MAX_TRAILS = 96;
const MAX_TLB_PULSES = 4;

export interface Choreography {
  /** Entries whose colour is read again from the mirror. */
  entries: { sp: number; index: number }[];
  /** Tables allocated or dropped: all 512 entries and the state are read again. */
  reload: Set<number>;
  /** Tables whose state (linked, freed, invalid, NX) changed. */
  flagged: Set<number>;
  anims: NewAnim[];
  /** The last few TLB flushes, for the renderer to find their spans once tables are current. */
  flushes: { ranged: boolean; gfn: number; pages: number }[];
  /** Iterator moves in the batch (one: the cursor glides; more: the trail shows the path). */
  iterMoves: number;
}

export interface ChoreographyContext {
  direction: 1 | -1;
  animate: boolean;
  /** The CSS colour of an SPTE value at a level (the flash shows the colour it had before). */
  colorOf: (spte: bigint, level: number) => string;
  /** Whether a table has a parent (a root does not grow out of an entry). */
  hasParent: (sp: number) => boolean;
}

export function choreograph(events: readonly SimEvent[], c: ChoreographyContext): Choreography {
  const fwd = c.direction === 1;
  const out: Choreography = {
    entries: [],
    reload: new Set(),
    flagged: new Set(),
    anims: [],
    flushes: [],
    iterMoves: 0,
  };
  const allocatedHere = new Set<number>();
  const flashed = new Set<number>();
  let trails = 0;
  for (const e of events) {
    switch (e.type) {
      case 'spteChanged': {
        out.entries.push({ sp: e.sp, index: e.index });
        const key = e.sp * 512 + e.index;
        if (c.animate && flashed.size < MAX_FLASHES && !flashed.has(key)) {
          flashed.add(key);
          const from = c.colorOf(fwd ? e.old : e.new, e.level);
          out.anims.push({ kind: 'flash', sp: e.sp, index: e.index, from, dur: FLASH_MS });
        }
        break;
      }
      case 'spAllocated':
        out.reload.add(e.sp);
        if (fwd) allocatedHere.add(e.sp);
        break;
      case 'spLinked':
        out.flagged.add(e.sp);
        if (!c.animate) break;
        // A table linked in this batch grows out of its parent entry; stepping back unlinks it.
        if (!fwd)
          out.anims.push({ kind: 'pulse', sp: e.sp, color: 'error', edge: false, dur: PULSE_MS });
        else if (allocatedHere.has(e.sp) && c.hasParent(e.sp))
          out.anims.push({ kind: 'grow', sp: e.sp, dur: GROW_MS });
        else
          out.anims.push({ kind: 'pulse', sp: e.sp, color: 'accent', edge: true, dur: PULSE_MS });
        break;
      case 'spUnlinked':
        out.flagged.add(e.sp);
        if (c.animate)
          out.anims.push({
            kind: 'pulse',
            sp: e.sp,
            color: fwd ? 'error' : 'accent',
            edge: !fwd,
            dur: PULSE_MS,
          });
        break;
      case 'spFreed':
        out.flagged.add(e.sp);
        if (c.animate)
          out.anims.push({
            kind: 'fade',
            sp: e.sp,
            from: fwd ? 1 : 0,
            to: fwd ? 0 : 1,
            dur: FADE_MS,
          });
        break;
      case 'rootInvalidated':
        out.flagged.add(e.sp);
        if (c.animate && fwd)
          out.anims.push({ kind: 'pulse', sp: e.sp, color: 'error', edge: false, dur: PULSE_MS });
        break;
      case 'nxAccounted':
      case 'nxUnaccounted':
        out.flagged.add(e.sp);
        break;
      case 'iterStep':
      case 'iterUp':
        out.iterMoves++;
        if (fwd && c.animate && trails < MAX_TRAILS) {
          trails++;
          out.anims.push({ kind: 'trail', sp: e.sp, index: e.index, dur: TRAIL_MS });
        }
        break;
      case 'tlbFlush':
        if (c.animate) out.flushes.push({ ranged: e.ranged, gfn: e.gfn, pages: e.pages });
        break;
      case 'cmpxchgFailed':
        if (c.animate && fwd) {
          out.anims.push({ kind: 'bounce', sp: e.sp, index: e.index, dur: BOUNCE_MS });
        }
        break;
      default:
        break;
    }
  }
  out.flushes = out.flushes.slice(-MAX_TLB_PULSES);
  return out;
}
