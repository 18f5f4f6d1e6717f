// Paints the address-space view in screen pixels: memslot bands, collapsed stretches, one row
// per level with each table under the entry that points to it, and the operation's GFN range.
// Detail follows the zoom: a table too narrow for its entries is one summary cell; wide entries
// get their index and kind. It hands back where tables and entries landed, for the overlays.
import type { MirrorMemslot, MirrorSp } from '../sim/replay.ts';
import { hex } from '../sim/geometry.ts';
import {
  entrySpan,
  pagesSize,
  rowTop,
  type AxisView,
  type GfnAxis,
  type OpCover,
  type Rows,
} from './address-layout.ts';
import type { Rect } from './layout.ts';
import type { OverlayGeometry } from './overlays.ts';
import { codeKind, hasNxGlyph, tableEntryCode, type EntryKind, type Palette } from './palette.ts';

/** The operation at the cursor, as far as the picture draws it. */
export type OpMark = OpCover;

export interface AddressScene {
  axis: GfnAxis;
  view: AxisView;
  rows: Rows;
  /** Tables of the root on the picture, any order. */
  tables: readonly MirrorSp[];
  memslots: readonly MirrorMemslot[];
  /** Roots some vCPU runs on. */
  vcpuRoots: ReadonlySet<number>;
  op: OpMark | null;
  w: number;
  h: number;
}

/** Name strip above a row's cells, and the gap under them. */
const NAME_H = 16;
const ROW_GAP = 8;
/** Below this many pixels an entry is not drawn on its own: the table becomes one cell. */
const MIN_ENTRY_PX = 1.5;
const SEPARATOR_PX = 5;
/** A table at least this wide, with entries too narrow to draw, shows each present entry as a tick. */
const TICKS_PX = 48;
const LABEL_PX = 54;
const LEVEL_NAMES = ['', '4K', '2M', '1G', '512G', '256T'];
/** The row names' column at the left; the axis starts right of it. */
export const GUTTER_W = 112;

export function cellsTop(rows: Rows, level: number): number {
  return rowTop(rows, level) + NAME_H;
}

export function cellsHeight(rows: Rows): number {
  return rows.height - NAME_H - ROW_GAP;
}

interface Summary {
  kind: EntryKind;
  present: number;
}

export class AddressPainter {
  private palette: Palette;
  /** Per table: its commonest present kind and how many are present (a zoomed-out 4 GiB guest has 2,048 of them). */
  private readonly summaries = new Map<number, Summary>();

  constructor(
    private readonly ctx: CanvasRenderingContext2D,
    palette: Palette,
  ) {
    this.palette = palette;
  }

  setPalette(p: Palette): void {
    this.palette = p;
  }

  /** A table's entries changed (none given: every table's). */
  forget(sp?: number): void {
    if (sp === undefined) this.summaries.clear();
    else this.summaries.delete(sp);
  }

  paint(scene: AddressScene): OverlayGeometry {
    const { ctx } = this;
    const p = this.palette;
    const sx = (g: number): number => (scene.axis.x(g) - scene.view.x) * scene.view.k;
    ctx.fillStyle = p.panel;
    ctx.fillRect(0, 0, scene.w, scene.h);
    this.paintSlots(scene, sx);
    this.paintSkipped(scene, false);
    const byId = new Map<number, MirrorSp>();
    for (const sp of scene.tables) {
      byId.set(sp.id, sp);
      this.paintTable(scene, sp, sx);
    }
    this.paintSkipped(scene, true);
    this.paintOp(scene, sx);
    this.paintRows(scene);
    const cellH = cellsHeight(scene.rows);
    const rect = (sp: MirrorSp, g0: number, g1: number): Rect => {
      const x0 = sx(g0);
      return { x: x0, y: cellsTop(scene.rows, sp.level), w: Math.max(sx(g1) - x0, 1), h: cellH };
    };
    const spOf = (id: number): MirrorSp | undefined => byId.get(id);
    return {
      view: { x: 0, y: 0, w: scene.w, h: scene.h },
      table: (id) => {
        const sp = spOf(id);
        return sp ? rect(sp, sp.gfn, sp.gfn + 512 * entrySpan(sp.level)) : null;
      },
      cell: (id, i) => {
        const sp = spOf(id);
        const span = sp ? entrySpan(sp.level) : 0;
        return sp ? rect(sp, sp.gfn + i * span, sp.gfn + (i + 1) * span) : null;
      },
      runs: (id, first, last) => {
        const sp = spOf(id);
        const span = sp ? entrySpan(sp.level) : 0;
        return sp ? [rect(sp, sp.gfn + first * span, sp.gfn + (last + 1) * span)] : [];
      },
    };
  }

  private paintSlots(scene: AddressScene, sx: (g: number) => number): void {
    const { ctx } = this;
    const p = this.palette;
    const top = scene.rows.top - 18;
    const bottom = scene.rows.top + scene.rows.levels * scene.rows.height;
    for (const m of scene.memslots) {
      const x0 = sx(m.baseGfn);
      const x1 = sx(m.baseGfn + m.npages);
      if (x1 < 0 || x0 > scene.w) continue;
      ctx.globalAlpha = 0.1;
      ctx.fillStyle = p.accent;
      ctx.fillRect(x0, top, x1 - x0, bottom - top);
      ctx.globalAlpha = 1;
      ctx.strokeStyle = p.accent;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(x0 + 0.5, top);
      ctx.lineTo(x0 + 0.5, bottom);
      ctx.moveTo(x1 - 0.5, top);
      ctx.lineTo(x1 - 0.5, bottom);
      ctx.stroke();
      const label = `memslot ${m.id} · ${pagesSize(m.npages)} · ${LEVEL_NAMES[m.backingLevel] ?? '?'} backing`;
      this.text(label, Math.max(x0, 4) + 4, top + 13, p.accent, 13, x1 - Math.max(x0, 4) - 8);
    }
  }

  /** The collapsed stretches: a tint under the tables, then the cut and its size over them. */
  private paintSkipped(scene: AddressScene, over: boolean): void {
    const { ctx } = this;
    const p = this.palette;
    const top = scene.rows.top;
    const h = scene.rows.levels * scene.rows.height - ROW_GAP;
    for (const s of scene.axis.segments) {
      if (!s.skipped) continue;
      const x0 = (s.x0 - scene.view.x) * scene.view.k;
      const x1 = (s.x1 - scene.view.x) * scene.view.k;
      if (x1 < 0 || x0 > scene.w) continue;
      if (!over) {
        ctx.fillStyle = p.border;
        ctx.globalAlpha = 0.35;
        ctx.fillRect(x0, top, x1 - x0, h);
        ctx.globalAlpha = 1;
        continue;
      }
      // A zigzag down the middle: the axis is cut here.
      const mid = (x0 + x1) / 2;
      ctx.strokeStyle = p.muted;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (let y = top, i = 0; y <= top + h; y += 8, i++) {
        const x = mid + (i % 2 === 0 ? -3 : 3);
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
      ctx.stroke();
      // Written down the cut, so a narrow gap still says how much it hides.
      const label = `${pagesSize(s.g1 - s.g0)} skipped`;
      ctx.font = `600 12px ${p.font}`;
      const lw = ctx.measureText(label).width + 8;
      if (lw > h) continue;
      ctx.save();
      ctx.translate(mid, top + h / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.fillStyle = p.panel;
      ctx.fillRect(-lw / 2, -8, lw, 16);
      this.centred(label, 0, 4, p.muted, 12, h);
      ctx.restore();
    }
  }

  private paintRows(scene: AddressScene): void {
    const { ctx } = this;
    const p = this.palette;
    const { rows } = scene;
    ctx.fillStyle = p.panel;
    ctx.fillRect(0, 0, GUTTER_W, scene.h);
    ctx.fillStyle = p.border;
    ctx.fillRect(GUTTER_W - 1, rows.top, 1, rows.levels * rows.height - ROW_GAP);
    for (let level = rows.levels; level >= 1; level--) {
      const y = cellsTop(rows, level);
      const what = level === rows.levels ? 'root' : `${LEVEL_NAMES[level] ?? ''} entries`;
      this.text(`L${level}`, 10, y + 18, p.fg, 16, GUTTER_W - 14, 700);
      this.text(what, 10, y + 36, p.muted, 12, GUTTER_W - 14);
    }
  }

  private paintTable(scene: AddressScene, sp: MirrorSp, sx: (g: number) => number): void {
    const { ctx } = this;
    const p = this.palette;
    const span = entrySpan(sp.level);
    const x0 = sx(sp.gfn);
    const x1 = sx(sp.gfn + 512 * span);
    if (x1 < 0 || x0 > scene.w) return;
    const y = cellsTop(scene.rows, sp.level);
    const h = cellsHeight(scene.rows);
    // Entries are span GFNs wide at the axis's scale there: below a pixel or so the table is one cell.
    const scale = scene.axis.scaleIn(sp.gfn, sp.gfn + 512 * span);
    if (span * scale * scene.view.k < MIN_ENTRY_PX) {
      if (x1 - x0 >= TICKS_PX) this.paintTicks(sp, sx, scene.w, y, h);
      else this.paintSummary(sp, x0, x1, y, h);
    } else {
      // Only the entries on screen, found through the axis.
      const first = Math.max(0, Math.floor((scene.axis.gfnAt(scene.view.x) - sp.gfn) / span));
      for (let i = first; i < 512; i++) {
        const ex0 = sx(sp.gfn + i * span);
        if (ex0 > scene.w) break;
        const ex1 = sx(sp.gfn + (i + 1) * span);
        if (ex1 < 0) continue;
        const code = tableEntryCode(sp, i);
        const kind = codeKind(code);
        const wide = ex1 - ex0;
        ctx.fillStyle = p.entries[kind];
        ctx.fillRect(ex0, y, Math.max(wide, 1), h);
        if (wide >= SEPARATOR_PX) {
          ctx.fillStyle = p.panel;
          ctx.fillRect(ex1 - 1, y, 1, h);
        }
        if (hasNxGlyph(code) && wide >= 8) this.nxGlyph(ex0, y, wide - 1, h);
        if (kind === 'mmio' && wide >= 10)
          this.centred('M', (ex0 + ex1) / 2, y + h / 2 + 5, p.panel, 13, wide);
        if (wide >= LABEL_PX) this.entryLabel(sp, i, kind, ex0, y, wide - 1, h);
      }
    }
    // Not linked (being built, or cut out and not yet freed): dashed, as the tree draws it.
    const unlinked = !sp.linked && sp.parent !== null;
    ctx.strokeStyle = scene.vcpuRoots.has(sp.id) || sp.invalid || unlinked ? p.fg : p.muted;
    ctx.lineWidth = unlinked ? 2 : 1;
    ctx.setLineDash(sp.invalid || unlinked ? [4, 3] : []);
    ctx.strokeRect(x0 + 0.5, y + 0.5, Math.max(x1 - x0 - 1, 1), h - 1);
    ctx.setLineDash([]);
    if (x1 - x0 >= 40) {
      const left = Math.max(x0, 0) + 3;
      const name = sp.parent === null ? `root sp ${sp.id}` : `sp ${sp.id}`;
      const extra = unlinked
        ? ' · unlinked'
        : sp.invalid
          ? ' · invalid'
          : sp.nxDisallowed
            ? ' · NX'
            : '';
      this.text(`${name}${extra}`, left, y - 4, p.fg, 12, Math.min(x1, scene.w) - left - 2, 600);
    }
  }

  /** A table too narrow for its entries: the share of present entries, in the commonest colour. */
  private paintSummary(sp: MirrorSp, x0: number, x1: number, y: number, h: number): void {
    const { ctx } = this;
    const p = this.palette;
    const { kind, present } = this.summary(sp);
    ctx.fillStyle = p.entries.none;
    ctx.fillRect(x0, y, Math.max(x1 - x0, 1), h);
    if (present === 0) return;
    ctx.fillStyle = p.entries[kind];
    // Filled from the bottom by the share present: a full table is a full bar.
    const fill = Math.max(2, (h * present) / 512);
    ctx.fillRect(x0, y + h - fill, Math.max(x1 - x0, 1), fill);
  }

  /** Each present entry as a mark at least a pixel wide where it lies, in its kind's colour. */
  private paintTicks(
    sp: MirrorSp,
    sx: (g: number) => number,
    w: number,
    y: number,
    h: number,
  ): void {
    const { ctx } = this;
    const p = this.palette;
    const span = entrySpan(sp.level);
    const x0 = sx(sp.gfn);
    ctx.fillStyle = p.entries.none;
    ctx.fillRect(x0, y, sx(sp.gfn + 512 * span) - x0, h);
    for (let i = 0; i < 512; i++) {
      const kind = codeKind(tableEntryCode(sp, i));
      if (kind === 'none') continue;
      const ex = sx(sp.gfn + i * span);
      if (ex > w) break;
      if (ex < -2) continue;
      ctx.fillStyle = p.entries[kind];
      ctx.fillRect(ex, y, Math.max(1.5, sx(sp.gfn + (i + 1) * span) - ex), h);
    }
  }

  private summary(sp: MirrorSp): Summary {
    const known = this.summaries.get(sp.id);
    if (known) return known;
    const counts = new Map<EntryKind, number>();
    let present = 0;
    for (let i = 0; i < 512; i++) {
      const kind = codeKind(tableEntryCode(sp, i));
      if (kind === 'none') continue;
      // An unknown entry colours the summary but is not counted as present.
      if (kind !== 'unknown') present++;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    let kind: EntryKind = 'none';
    for (const [k, n] of counts) if (kind === 'none' || n > (counts.get(kind) ?? 0)) kind = k;
    const s = { kind, present };
    this.summaries.set(sp.id, s);
    return s;
  }

  private entryLabel(
    sp: MirrorSp,
    i: number,
    kind: EntryKind,
    x: number,
    y: number,
    w: number,
    h: number,
  ): void {
    const p = this.palette;
    const light = kind === 'none' || kind === 'unknown';
    const dark = light ? p.fg : p.panel;
    const what =
      kind === 'none'
        ? ''
        : kind === 'table'
          ? '→ table'
          : kind === 'unknown'
            ? 'unknown'
            : kind.toUpperCase();
    this.text(`[${i}] ${what}`, x + 4, y + 15, dark, 12, w - 6, 600);
    if (h >= 38 && w >= 96) {
      const gfn = sp.gfn + i * entrySpan(sp.level);
      this.text(`gfn ${hex(gfn)}`, x + 4, y + 31, dark, 11, w - 6);
    }
  }

  private nxGlyph(x: number, y: number, w: number, h: number): void {
    const { ctx } = this;
    ctx.strokeStyle = this.palette.nxMark;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x + 2, y + h - 2);
    ctx.lineTo(x + Math.min(w, h) - 2, y + 2);
    ctx.stroke();
  }

  private paintOp(scene: AddressScene, sx: (g: number) => number): void {
    const op = scene.op;
    if (op === null) return;
    const { ctx } = this;
    const p = this.palette;
    const { rows } = scene;
    const x0 = sx(op.start);
    const x1 = Math.max(sx(op.end), x0 + 2);
    const downTo = op.kind === 'column' ? op.downTo : 1;
    const top = rows.top - 2;
    const bottom = cellsTop(rows, downTo) + cellsHeight(rows) + 2;
    ctx.globalAlpha = 0.12;
    ctx.fillStyle = p.accent;
    ctx.fillRect(x0, top, x1 - x0, bottom - top);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = p.accent;
    ctx.lineWidth = 2;
    ctx.setLineDash(op.kind === 'range' ? [6, 4] : []);
    ctx.strokeRect(x0, top, x1 - x0, bottom - top);
    ctx.setLineDash([]);
    ctx.font = `600 13px ${p.font}`;
    const tw = ctx.measureText(op.label).width + 10;
    const tx = Math.min(Math.max(x0, GUTTER_W + 4), scene.w - tw - 4);
    ctx.fillStyle = p.accent;
    ctx.fillRect(tx, rows.top - 44, tw, 19);
    this.text(op.label, tx + 5, rows.top - 30, p.panel, 13, tw, 600);
  }

  private text(
    s: string,
    x: number,
    y: number,
    color: string,
    px: number,
    maxW: number,
    weight = 400,
  ): void {
    if (maxW < 12) return;
    const { ctx } = this;
    ctx.font = `${weight} ${px}px ${this.palette.font}`;
    ctx.fillStyle = color;
    ctx.textAlign = 'left';
    let t = s;
    while (t.length > 1 && ctx.measureText(t).width > maxW) t = t.slice(0, -2);
    if (t !== s) t = `${t.slice(0, -1)}…`;
    if (t.length > 1) ctx.fillText(t, x, y);
  }

  private centred(s: string, x: number, y: number, color: string, px: number, maxW: number): void {
    const { ctx } = this;
    ctx.font = `600 ${px}px ${this.palette.font}`;
    if (ctx.measureText(s).width > maxW) return;
    ctx.fillStyle = color;
    ctx.textAlign = 'center';
    ctx.fillText(s, x, y);
    ctx.textAlign = 'left';
  }
}
