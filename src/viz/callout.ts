// The callout at the entry that changed: a label in screen space (readable at any zoom) beside the
// entry, a leader to it, and a ring big enough to see from the back of a room. Any view can draw
// it: it takes the entry's rectangle on screen, not a layout.
import type { Rect } from './layout.ts';

export interface CalloutContent {
  /** `sp 2[0] · L2` */
  where: string;
  /** `2M leaf → REMOVED_SPTE` */
  change: string;
  /** `0x600004000000bf3 → 0x5a0` */
  detail: string;
  /** Entry colours before and after, for the two swatches. */
  from: string;
  to: string;
}

export interface CalloutStyle {
  panel: string;
  fg: string;
  muted: string;
  accent: string;
  sans: string;
  mono: string;
}

/** Text sizes in CSS pixels: legible on a projector at the default fit. */
export const CALLOUT_TITLE_PX = 16;
export const CALLOUT_DETAIL_PX = 14;
const PAD = 10;
const GAP = 18;
const SWATCH = 14;
const LINE_GAP = 6;
/** The ring around the entry is never smaller than this on screen. */
const MIN_RING = 18;

export interface CalloutBox extends Rect {
  /** The point of the box the leader leaves from. */
  ax: number;
  ay: number;
}

/** Where the label goes: right of the entry if it fits, else left, else below; kept on screen. */
export function placeCallout(
  cell: Rect,
  size: { w: number; h: number },
  view: { w: number; h: number },
): CalloutBox {
  const cx = cell.x + cell.w / 2;
  const cy = cell.y + cell.h / 2;
  const ring = Math.max(cell.w, MIN_RING) / 2;
  const clampX = (x: number) => Math.max(4, Math.min(view.w - size.w - 4, x));
  const clampY = (y: number) => Math.max(4, Math.min(view.h - size.h - 4, y));
  const y = clampY(cy - size.h / 2);
  if (cx + ring + GAP + size.w <= view.w - 4) {
    const x = cx + ring + GAP;
    return { x, y, w: size.w, h: size.h, ax: x, ay: Math.max(y, Math.min(y + size.h, cy)) };
  }
  if (cx - ring - GAP - size.w >= 4) {
    const x = cx - ring - GAP - size.w;
    return {
      x,
      y,
      w: size.w,
      h: size.h,
      ax: x + size.w,
      ay: Math.max(y, Math.min(y + size.h, cy)),
    };
  }
  const below = cy + ring + GAP + size.h <= view.h - 4;
  const by = below ? cy + ring + GAP : clampY(cy - ring - GAP - size.h);
  const x = clampX(cx - size.w / 2);
  return {
    x,
    y: by,
    w: size.w,
    h: size.h,
    ax: Math.max(x, Math.min(x + size.w, cx)),
    ay: below ? by : by + size.h,
  };
}

/** Draw the callout for the entry at `cell` (screen coordinates, CSS pixels). */
export function drawCallout(
  ctx: CanvasRenderingContext2D,
  cell: Rect,
  c: CalloutContent,
  style: CalloutStyle,
  view: { w: number; h: number },
): CalloutBox {
  ctx.save();
  // Narrow panes (compare at 1024 px) take the smaller size, never below 14 px.
  const titlePx = view.w < 360 ? CALLOUT_DETAIL_PX : CALLOUT_TITLE_PX;
  const titleFont = `600 ${titlePx}px ${style.sans}`;
  const detailFont = `${CALLOUT_DETAIL_PX}px ${style.mono}`;
  const maxW = Math.min(view.w - 8, 520);
  const swatches = 2 * SWATCH + 12;
  // Words wrap at spaces rather than being cut: the change is what the room has to read.
  ctx.font = titleFont;
  const titles = wrap(ctx, `${c.where} · ${c.change}`, maxW - 2 * PAD);
  const tw = Math.max(...titles.map((t) => ctx.measureText(t).width));
  ctx.font = detailFont;
  const details = wrap(ctx, c.detail, maxW - 2 * PAD - swatches);
  const dw = Math.max(...details.map((t) => ctx.measureText(t).width)) + swatches;
  const w = Math.min(maxW, Math.max(tw, dw) + 2 * PAD);
  const titleH = titles.length * (titlePx + 4) - 4;
  const detailH = details.length * (CALLOUT_DETAIL_PX + 4) - 4;
  const h = PAD * 2 + titleH + LINE_GAP + detailH + 4;
  const box = placeCallout(cell, { w, h }, view);

  // The ring: the entry itself may be a few pixels wide at the default fit.
  const cx = cell.x + cell.w / 2;
  const cy = cell.y + cell.h / 2;
  const r = Math.max(cell.w, cell.h, MIN_RING) / 2 + 3;
  ctx.lineWidth = 6;
  ctx.strokeStyle = style.panel;
  ctx.strokeRect(cx - r, cy - r, 2 * r, 2 * r);
  ctx.lineWidth = 3;
  ctx.strokeStyle = style.fg;
  ctx.strokeRect(cx - r, cy - r, 2 * r, 2 * r);

  // The leader, from the ring's edge to the box.
  const dx = box.ax - cx;
  const dy = box.ay - cy;
  const len = Math.hypot(dx, dy) || 1;
  const edge = Math.min(r / Math.abs(dx / len || 1e-9), r / Math.abs(dy / len || 1e-9));
  ctx.beginPath();
  ctx.moveTo(cx + (dx / len) * edge, cy + (dy / len) * edge);
  ctx.lineTo(box.ax, box.ay);
  ctx.lineWidth = 2;
  ctx.stroke();

  ctx.fillStyle = style.panel;
  ctx.globalAlpha = 0.96;
  ctx.fillRect(box.x, box.y, box.w, box.h);
  ctx.globalAlpha = 1;
  ctx.lineWidth = 2;
  ctx.strokeStyle = style.fg;
  ctx.strokeRect(box.x, box.y, box.w, box.h);

  ctx.textBaseline = 'top';
  ctx.textAlign = 'left';
  ctx.fillStyle = style.fg;
  ctx.font = titleFont;
  const maxText = box.w - 2 * PAD;
  titles.forEach((t, i) =>
    ctx.fillText(fit(ctx, t, maxText), box.x + PAD, box.y + PAD + i * (titlePx + 4)),
  );
  const y2 = box.y + PAD + titleH + LINE_GAP;
  ctx.fillStyle = c.from;
  ctx.fillRect(box.x + PAD, y2 + 1, SWATCH, SWATCH);
  ctx.fillStyle = c.to;
  ctx.fillRect(box.x + PAD + SWATCH + 4, y2 + 1, SWATCH, SWATCH);
  ctx.strokeStyle = style.muted;
  ctx.lineWidth = 1;
  ctx.strokeRect(box.x + PAD + 0.5, y2 + 1.5, SWATCH - 1, SWATCH - 1);
  ctx.strokeRect(box.x + PAD + SWATCH + 4.5, y2 + 1.5, SWATCH - 1, SWATCH - 1);
  ctx.font = detailFont;
  ctx.fillStyle = style.fg;
  const dx2 = box.x + PAD + swatches;
  details.forEach((t, i) =>
    ctx.fillText(fit(ctx, t, box.x + box.w - PAD - dx2), dx2, y2 + i * (CALLOUT_DETAIL_PX + 4)),
  );
  ctx.restore();
  return box;
}

/** The text in lines of at most `max` pixels, broken at spaces (a word longer than a line stays whole). */
function wrap(ctx: CanvasRenderingContext2D, text: string, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line === '' ? word : `${line} ${word}`;
    if (line !== '' && ctx.measureText(next).width > max) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** The text, cut at a word boundary with an ellipsis when it does not fit `max` pixels. */
function fit(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (ctx.measureText(text).width <= max) return text;
  const words = text.split(' ');
  while (words.length > 1) {
    words.pop();
    const t = `${words.join(' ')} …`;
    if (ctx.measureText(t).width <= max) return t;
  }
  return '…';
}
