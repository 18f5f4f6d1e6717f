// What the frame loop and the app ask of a drawing of the mirror: the tree and the address-space
// view both answer it, so switching views keeps the selection, the camera link and the motion.
import type { SimEvent } from '../sim/events.ts';
import type { Mirror } from '../sim/replay.ts';
import type { OpMark } from './AddressPainter.ts';
import type { LayoutTable } from './layout.ts';
import type { View } from './PanZoom.ts';

export interface Selection {
  sp: number;
  index: number | null;
}

export interface RendererOptions {
  onSelect: (sel: Selection | null) => void;
  /**
   * Asks the app's frame loop for a frame() when the renderer changed on its own (pan, zoom,
   * collapse, an animated fit/focus). Without it, those changes are drawn at once and camera moves
   * do not animate.
   */
  requestFrame?: () => void;
  /** The user panned or zoomed: the camera stops following the action. */
  onUserCamera?: () => void;
}

/** The SPTE change the cursor rests on (or the last one of its operation), or a lost cmpxchg. */
export type FocusChange = Extract<SimEvent, { type: 'spteChanged' | 'cmpxchgFailed' }>;

export interface PictureRenderer {
  setTables(tables: readonly LayoutTable[]): void;
  sync(mirror: Mirror): void;
  applyEvents(events: readonly SimEvent[], mirror: Mirror, direction: 1 | -1): void;
  setFocus(change: FocusChange | null): void;
  /** The operation at the cursor, for a view that draws the GFNs it covers. */
  setOp?(op: OpMark | null): void;
  setFollowing(on: boolean): void;
  setSelection(sel: Selection | null): void;
  setTheme(): void;
  setMotion(on: boolean): void;
  fit(): void;
  zoomBy(factor: number): void;
  getView(): View;
  setView(v: View): void;
  /** Draws what is due; true while an animation or a camera glide still runs. */
  frame(now: number): boolean;
  destroy(): void;
}
