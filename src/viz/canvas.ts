// What every canvas view does the same way: mount a full-size canvas, size it for the device's
// pixels, code an SPTE value for colour, and draw the callout for the change at the cursor.
import { changeCallout } from '../sim/explain.ts';
import type { Mirror } from '../sim/replay.ts';
import { fromBig } from '../sim/spte.ts';
import { drawCallout, type CalloutContent } from './callout.ts';
import type { Rect } from './layout.ts';
import { cellKey, NO_CELL } from './overlays.ts';
import { codeColor, entryCode, type Palette } from './palette.ts';
import type { FocusChange } from './picture.ts';

export function mountCanvas(host: HTMLElement): {
  canvas: HTMLCanvasElement;
  ctx: CanvasRenderingContext2D;
} {
  const canvas = document.createElement('canvas');
  Object.assign(canvas.style, {
    display: 'block',
    width: '100%',
    height: '100%',
    touchAction: 'none',
    cursor: 'default',
  });
  host.appendChild(canvas);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('canvas 2D is not available');
  return { canvas, ctx };
}

export interface CanvasSize {
  w: number;
  h: number;
  dpr: number;
}

/** Sizes the backing store to the element's CSS size times the device ratio; null if unchanged. */
export function fitCanvas(canvas: HTMLCanvasElement, was: CanvasSize): CanvasSize | null {
  const size = {
    w: canvas.clientWidth,
    h: canvas.clientHeight,
    dpr: window.devicePixelRatio || 1,
  };
  if (size.w === was.w && size.h === was.h && size.dpr === was.dpr) return null;
  canvas.width = Math.max(1, Math.round(size.w * size.dpr));
  canvas.height = Math.max(1, Math.round(size.h * size.dpr));
  return size;
}

/** The entry code of an SPTE value as events carry it. */
export function spteCode(v: bigint, level: number): number {
  const { lo, hi } = fromBig(v);
  return entryCode(lo, hi, level);
}

/** The iterator's cell (cellKey) in the mirror, or NO_CELL (in a race each actor has its own). */
export function iterCell(mirror: Mirror): number {
  if (mirror.actor >= 0) return NO_CELL;
  return mirror.iter ? cellKey(mirror.iter.sp, mirror.iter.index) : NO_CELL;
}

/** In a race, each actor's cell (cellKey or NO_CELL) by index; empty outside one. */
export function actorCells(mirror: Mirror): number[] {
  if (mirror.actor < 0) return [];
  return mirror.actorCells.map((c) => (c ? cellKey(c.sp, c.index) : NO_CELL));
}

/** The callout for `f` beside its cell (screen pixels; the context at device scale). */
export function drawChangeCallout(
  ctx: CanvasRenderingContext2D,
  f: FocusChange,
  cell: Rect,
  p: Palette,
  view: { w: number; h: number },
): void {
  const content: CalloutContent = {
    ...changeCallout(f),
    from: codeColor(p, spteCode(f.type === 'spteChanged' ? f.old : f.expected, f.level)),
    to: codeColor(p, spteCode(f.type === 'spteChanged' ? f.new : f.current, f.level)),
  };
  drawCallout(ctx, cell, content, { ...p, sans: p.font }, view);
}

/** Each root some vCPU runs on, with those vCPUs. */
export function vcpusByRoot(mirror: Mirror): Map<number, number[]> {
  const on = new Map<number, number[]>();
  mirror.vcpuRoots.forEach((root, v) => {
    if (root !== null) on.set(root, [...(on.get(root) ?? []), v]);
  });
  return on;
}
