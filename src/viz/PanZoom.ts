// The camera of a canvas view, wrapping d3-zoom as xyflow's XYPanZoom does: user gestures and
// programmatic moves (a jump, or an animated glide along d3's zoom path) end in one transform.
// The view owns what to show; this owns how the camera gets there. The math is pure, for Node.
import { interpolateZoom, select, zoom, zoomIdentity } from 'd3';
import type { D3ZoomEvent, Selection, ZoomBehavior, ZoomTransform, ZoomView } from 'd3';
import type { Rect } from './layout.ts';

/** A camera: translate (x, y) then scale k, as d3-zoom keeps it. */
export interface View {
  x: number;
  y: number;
  k: number;
}

export interface FitOptions {
  /** Screen margin left around the content, and above it (room for the zoom buttons). */
  margin: number;
  top: number;
  minK: number;
  maxK: number;
}

/** The camera that shows `b` whole in a `w` × `h` view; content shorter than it hangs from the top. */
export function fitView(b: Rect, w: number, h: number, o: FitOptions): View {
  if (b.w === 0 || b.h === 0) return { x: w / 2, y: h / 2, k: 1 };
  const k = Math.min(
    o.maxK,
    Math.max(o.minK, Math.min((w - 2 * o.margin) / b.w, (h - o.top - o.margin) / b.h)),
  );
  const x = w / 2 - (b.x + b.w / 2) * k;
  const y = b.h * k < h - o.top - o.margin ? o.top - b.y * k : h / 2 - (b.y + b.h / 2) * k;
  return { x, y, k };
}

/** Zoom by `factor` about the screen point (px, py), within [minK, maxK]. */
export function zoomAbout(
  t: View,
  factor: number,
  px: number,
  py: number,
  minK: number,
  maxK: number,
): View {
  const k = Math.min(maxK, Math.max(minK, t.k * factor));
  return { x: px - ((px - t.x) * k) / t.k, y: py - ((py - t.y) * k) / t.k, k };
}

/** The camera that puts world point (cx, cy) at the centre of a `w` × `h` view at zoom k. */
export function centreOn(cx: number, cy: number, k: number, w: number, h: number): View {
  return { x: w / 2 - cx * k, y: h / 2 - cy * k, k };
}

const GLIDE_MS = 380;
const easeOut = (t: number): number => 1 - (1 - t) ** 3;
const toTransform = (v: View): ZoomTransform => zoomIdentity.translate(v.x, v.y).scale(v.k);

export interface PanZoomOptions {
  /** Every camera change; `user` is true for a gesture (drag, wheel, pinch). */
  onChange: (t: ZoomTransform, user: boolean) => void;
}

export class PanZoom {
  transform: ZoomTransform = zoomIdentity;
  private readonly behavior: ZoomBehavior<HTMLCanvasElement, unknown>;
  private readonly sel: Selection<HTMLCanvasElement, unknown, null, undefined>;
  private glide: { from: ZoomTransform; to: ZoomTransform; start: number } | null = null;
  private w = 0;
  private h = 0;

  constructor(el: HTMLCanvasElement, opts: PanZoomOptions) {
    this.behavior = zoom<HTMLCanvasElement, unknown>().on(
      'zoom',
      (e: D3ZoomEvent<HTMLCanvasElement, unknown>) => {
        this.transform = e.transform;
        // A gesture takes the camera back from a glide.
        if (e.sourceEvent) this.glide = null;
        opts.onChange(e.transform, e.sourceEvent != null);
      },
    );
    this.sel = select(el);
    this.sel.call(this.behavior).on('dblclick.zoom', null);
  }

  /** The view's size and the zoom range (the range depends on the content). */
  update(o: { width: number; height: number; minK: number; maxK: number }): void {
    this.w = o.width;
    this.h = o.height;
    this.behavior.scaleExtent([o.minK, o.maxK]);
  }

  /** Where the camera is going: the glide's end, or where it is. */
  target(): View {
    const t = this.glide?.to ?? this.transform;
    return { x: t.x, y: t.y, k: t.k };
  }

  get gliding(): boolean {
    return this.glide !== null;
  }

  /** Show `v` now. */
  jump(v: View): void {
    this.glide = null;
    this.behavior.transform(this.sel, toTransform(v));
  }

  /** Glide to `v` over the next frames (step() moves it). */
  glideTo(v: View): void {
    this.glide = { from: this.transform, to: toTransform(v), start: -1 };
  }

  /** Finish a glide at once (motion turned off). */
  settle(): void {
    const g = this.glide;
    if (g) this.jump({ x: g.to.x, y: g.to.y, k: g.to.k });
  }

  /** One frame of a glide; true while it runs. */
  step(now: number): boolean {
    const g = this.glide;
    if (!g) return false;
    if (g.start < 0) g.start = now;
    const t = easeOut(Math.min(1, Math.max(0, (now - g.start) / GLIDE_MS)));
    const view = (z: ZoomTransform): ZoomView => [
      (this.w / 2 - z.x) / z.k,
      (this.h / 2 - z.y) / z.k,
      this.w / z.k,
    ];
    const [cx, cy, vw] = interpolateZoom(view(g.from), view(g.to))(t);
    const k = this.w / vw;
    this.behavior.transform(this.sel, toTransform(centreOn(cx, cy, k, this.w, this.h)));
    if (t >= 1) {
      this.behavior.transform(this.sel, g.to);
      this.glide = null;
    }
    return this.glide !== null;
  }

  destroy(): void {
    this.glide = null;
    this.sel.on('.zoom', null);
  }
}
