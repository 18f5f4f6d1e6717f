// The controller of the address-space view: the same mirror as the tree, drawn with x = GFN
// and one row per level. It keeps a 1-D camera (zoom and pan along the GFNs; rows keep their
// height, as a timeline's tracks do), turns events into the same animations as the tree, and
// takes pointer and keyboard input. The frame loop drives it like the tree.
import type { SimEvent } from '../sim/events.ts';
import type { Mirror, MirrorSp } from '../sim/replay.ts';
import { AddressPainter, cellsHeight, cellsTop, GUTTER_W, type OpMark } from './AddressPainter.ts';
import {
  buildAxis,
  entrySpan,
  interestRanges,
  levelAt,
  type AxisView,
  type GfnAxis,
  type Rows,
} from './address-layout.ts';
import {
  drawChangeCallout,
  fitCanvas,
  actorCells,
  iterCell,
  mountCanvas,
  spteCode,
  vcpusByRoot,
} from './canvas.ts';
import { choreograph } from './choreography.ts';
import {
  drawOverlays,
  NO_CELL,
  type Anim,
  type NewAnim,
  type OverlayGeometry,
} from './overlays.ts';
import type { View } from './PanZoom.ts';
import { codeColor, codeKind, entryCode, readPalette, type Palette } from './palette.ts';
import type { FocusChange, PictureRenderer, RendererOptions, Selection } from './picture.ts';

const FIT_MARGIN = 24;
const TOP = 92;
const BOTTOM = 24;
const MIN_ROW = 44;
const MAX_ROW = 140;
/** Deepest zoom: one GFN this many pixels wide. */
const MAX_PX_PER_GFN = 400;
const GLIDE_MS = 320;
const TLB_MS = 450;
const MAX_ANIMATED_EVENTS = 4096;

interface Flush {
  start: number;
  gfn: number;
  pages: number;
  full: boolean;
}

export class AddressRenderer implements PictureRenderer {
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly painter: AddressPainter;
  private readonly resizeObserver: ResizeObserver;
  private palette: Palette;
  private cssW = 0;
  private cssH = 0;
  private dpr = 1;

  private mirror: Mirror | null = null;
  private axis: GfnAxis = buildAxis([], 1);
  private view: AxisView = { x: 0, k: 1 };
  private glide: { from: AxisView; to: AxisView; start: number } | null = null;
  private fitted = false;
  private requestedView: View | null = null;
  /** A camera asked for (a link): kept exactly while the run streams in, until the user moves. */
  private pinned: AxisView | null = null;
  private following = true;
  private motion = true;

  private selection: Selection | null = null;
  /** A race's actors' cells (actorCells()). */
  private actors: number[] = [];
  private focusChange: FocusChange | null = null;
  private op: OpMark | null = null;
  private anims: Anim[] = [];
  private flushes: Flush[] = [];
  private iter = NO_CELL;
  private dirty = true;
  private frameRequested = false;
  private drag: { x: number; viewX: number; moved: boolean } | null = null;

  constructor(
    private readonly host: HTMLElement,
    private readonly opts: RendererOptions,
  ) {
    const { canvas, ctx } = mountCanvas(host);
    this.canvas = canvas;
    this.ctx = ctx;
    this.palette = readPalette();
    this.painter = new AddressPainter(ctx, this.palette);
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'application');
    this.canvas.setAttribute(
      'aria-label',
      'Address space: one row per level, guest frame numbers left to right. Arrow keys choose an entry, Up the entry pointing to its table, Enter the table an entry points to, Escape clears.',
    );
    this.canvas.addEventListener('keydown', this.onKeyDown);
    this.canvas.addEventListener('pointerdown', this.onPointerDown);
    this.canvas.addEventListener('pointermove', this.onPointerMove);
    this.canvas.addEventListener('pointerup', this.onPointerUp);
    this.canvas.addEventListener('wheel', this.onWheel, { passive: false });
    this.canvas.addEventListener('dblclick', this.onDblClick);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(host);
    this.resize();
  }

  // ---- Inputs from the loop --------------------------------------------------------------------

  /** The tree's table list is not needed: the mirror knows every table's place. */
  setTables(): void {
    this.invalidate();
  }

  sync(mirror: Mirror): void {
    this.mirror = mirror;
    this.anims = [];
    this.flushes = [];
    this.iter = iterCell(mirror);
    this.actors = actorCells(mirror);
    this.painter.forget();
    this.rebuildAxis();
    this.invalidate();
  }

  applyEvents(events: readonly SimEvent[], mirror: Mirror, direction: 1 | -1): void {
    this.mirror = mirror;
    const animate = this.motion && events.length <= MAX_ANIMATED_EVENTS;
    const before = this.iter;
    const plan = choreograph(events, {
      direction,
      animate,
      colorOf: (spte, level) => codeColor(this.palette, spteCode(spte, level)),
      hasParent: (sp) => mirror.sps[sp]?.parent != null,
    });
    for (const e of plan.entries) this.painter.forget(e.sp);
    for (const sp of plan.reload) this.painter.forget(sp);
    for (const a of plan.anims) if (a.kind !== 'tlb' && a.kind !== 'tlbFull') this.queue(a);
    if (animate) {
      for (const f of plan.flushes) {
        this.flushes.push({ start: -1, gfn: f.gfn, pages: f.pages, full: !f.ranged });
      }
    }
    this.iter = iterCell(mirror);
    this.actors = actorCells(mirror);
    if (animate && this.iter !== NO_CELL && this.iter !== before) {
      this.anims = this.anims.filter((a) => a.kind !== 'cursor');
      this.queue({ kind: 'cursor', from: before, dur: 260 });
    }
    this.rebuildAxis();
    this.invalidate();
  }

  setFocus(change: FocusChange | null): void {
    this.focusChange = change;
    if (change && this.following) this.reveal(change.sp, change.index);
    this.invalidate();
  }

  setOp(op: OpMark | null): void {
    const same =
      op === this.op ||
      (op !== null &&
        this.op !== null &&
        op.label === this.op.label &&
        op.start === this.op.start &&
        op.end === this.op.end);
    if (same) return;
    this.op = op;
    this.invalidate();
  }

  setFollowing(on: boolean): void {
    this.following = on;
    if (on) this.fit();
  }

  setSelection(sel: Selection | null): void {
    this.selection = sel;
    this.invalidate();
  }

  setTheme(): void {
    this.palette = readPalette();
    this.painter.setPalette(this.palette);
    this.invalidate();
  }

  setMotion(on: boolean): void {
    this.motion = on;
    if (!on) {
      this.anims = [];
      this.flushes = [];
      if (this.glide) this.view = this.glide.to;
      this.glide = null;
    }
    this.invalidate();
  }

  fit(): void {
    this.pinned = null;
    this.moveTo(this.fitView());
  }

  zoomBy(factor: number): void {
    this.userCamera();
    this.zoomAbout(factor, this.cssW / 2);
  }

  /** The camera, as links keep it: x = the world x at the left edge, k = pixels per unit. */
  getView(): View {
    const v = this.glide?.to ?? this.view;
    return { x: v.x, y: 0, k: v.k };
  }

  setView(v: View): void {
    this.requestedView = v;
    this.applyRequested();
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.canvas.removeEventListener('keydown', this.onKeyDown);
    this.canvas.removeEventListener('pointerdown', this.onPointerDown);
    this.canvas.removeEventListener('pointermove', this.onPointerMove);
    this.canvas.removeEventListener('pointerup', this.onPointerUp);
    this.canvas.removeEventListener('wheel', this.onWheel);
    this.canvas.removeEventListener('dblclick', this.onDblClick);
    this.canvas.remove();
  }

  frame(now: number): boolean {
    this.frameRequested = false;
    for (const a of this.anims) if (a.start < 0) a.start = now;
    for (const f of this.flushes) if (f.start < 0) f.start = now;
    if (this.glide) {
      const t = Math.min(1, (now - this.glide.start) / GLIDE_MS);
      const e = 1 - (1 - t) ** 3;
      const { from, to } = this.glide;
      // Zoom in log space so a deep zoom does not rush through its last steps.
      const k = Math.exp(Math.log(from.k) + (Math.log(to.k) - Math.log(from.k)) * e);
      const centreFrom = from.x + this.cssW / 2 / from.k;
      const centreTo = to.x + this.cssW / 2 / to.k;
      const centre = centreFrom + (centreTo - centreFrom) * e;
      this.view = { x: centre - this.cssW / 2 / k, k };
      if (t >= 1) this.glide = null;
      this.dirty = true;
    }
    const count = this.anims.length + this.flushes.length;
    this.anims = this.anims.filter((a) => now - a.start < a.dur);
    this.flushes = this.flushes.filter((f) => now - f.start < TLB_MS);
    const running = this.anims.length > 0 || this.flushes.length > 0 || this.glide !== null;
    if (this.dirty || running || count > 0) {
      this.draw(now);
      this.dirty = false;
    }
    this.publishView();
    return running;
  }

  // ---- Camera ----------------------------------------------------------------------------------

  private rows(): Rows {
    const levels = this.mirror?.config.levels ?? 4;
    const height = Math.min(MAX_ROW, Math.max(MIN_ROW, (this.cssH - TOP - BOTTOM) / levels));
    return { top: TOP, height, levels };
  }

  private rebuildAxis(): void {
    const m = this.mirror;
    if (!m) return;
    const centreGfn = this.axis.gfnAt(this.view.x + this.cssW / 2 / this.view.k);
    const oldWidth = this.axis.width;
    const tables = this.shownTables();
    const ranges = interestRanges(tables, m.memslots, (lo, hi, level) => {
      const k = codeKind(entryCode(lo, hi, level));
      return k === 'none' || k === 'table';
    });
    const next = buildAxis(ranges, 512 ** m.config.levels);
    const same =
      next.segments.length === this.axis.segments.length &&
      next.segments.every((s, i) => {
        const o = this.axis.segments[i];
        return o !== undefined && o.g0 === s.g0 && o.g1 === s.g1 && o.skipped === s.skipped;
      });
    if (same) return;
    this.axis = next;
    if (this.pinned) {
      this.view = this.pinned;
      this.glide = null;
    } else if (!this.fitted || this.following) {
      this.fitNow();
    } else {
      // Keep the GFN in the middle of the screen where it was, at the same share of the axis.
      const k = (this.view.k * oldWidth) / Math.max(next.width, 1);
      this.view = { x: next.x(centreGfn) - this.cssW / 2 / k, k };
      this.glide = null;
    }
  }

  private fitView(): AxisView {
    const w = Math.max(this.axis.width, 1);
    const left = GUTTER_W + FIT_MARGIN / 2;
    const k = Math.max(1e-9, (this.cssW - left - FIT_MARGIN) / w);
    return { x: -left / k, k };
  }

  private fitNow(): void {
    if (this.cssW === 0 || !this.mirror) return;
    this.fitted = true;
    if (this.applyRequested()) return;
    this.view = this.fitView();
    this.glide = null;
    this.invalidate();
  }

  private applyRequested(): boolean {
    const v = this.requestedView;
    if (v === null || this.cssW === 0 || !this.mirror) return false;
    this.requestedView = null;
    this.fitted = true;
    // Not clamped to the fit: the axis may not have its final width yet.
    this.view = { x: v.x, k: Math.min(MAX_PX_PER_GFN, v.k) };
    this.pinned = this.view;
    this.glide = null;
    this.invalidate();
    return true;
  }

  private clampK(k: number): number {
    const fit = this.fitView().k;
    return Math.min(MAX_PX_PER_GFN, Math.max(fit / 2, k));
  }

  private moveTo(to: AxisView): void {
    if (!this.motion || this.cssW === 0 || !this.opts.requestFrame) {
      this.view = to;
      this.glide = null;
    } else {
      this.glide = { from: this.view, to, start: performance.now() };
    }
    this.invalidate();
  }

  private zoomAbout(factor: number, px: number): void {
    const v = this.glide?.to ?? this.view;
    const k = this.clampK(v.k * factor);
    const world = v.x + px / v.k;
    this.moveTo({ x: world - px / k, k });
  }

  /** Pan (keeping the zoom) so the entry is on screen, if it is not already. */
  private reveal(sp: number, index: number): void {
    const t = this.mirror?.sps[sp];
    if (!t || this.cssW === 0) return;
    const span = entrySpan(t.level);
    const v = this.glide?.to ?? this.view;
    const x0 = (this.axis.x(t.gfn + index * span) - v.x) * v.k;
    const x1 = (this.axis.x(t.gfn + (index + 1) * span) - v.x) * v.k;
    if (x0 >= 16 && x1 <= this.cssW - 16) return;
    const centre = this.axis.x(t.gfn + (index + 0.5) * span);
    this.moveTo({ x: centre - this.cssW / 2 / v.k, k: v.k });
  }

  private userCamera(): void {
    this.pinned = null;
    if (!this.following) return;
    this.following = false;
    this.opts.onUserCamera?.();
  }

  private publishView(): void {
    const v = this.view;
    this.host.dataset.view = `${v.x.toFixed(1)},0.0,${v.k.toPrecision(4)}`;
  }

  private resize(): void {
    const size = fitCanvas(this.canvas, { w: this.cssW, h: this.cssH, dpr: this.dpr });
    if (size === null) return;
    const firstSize = this.cssW === 0;
    this.cssW = size.w;
    this.cssH = size.h;
    this.dpr = size.dpr;
    if (firstSize || this.following) this.fitNow();
    this.draw(performance.now());
    this.invalidate();
  }

  // ---- What is on the picture ------------------------------------------------------------------

  /** The root drawn: the selection's, else the vCPU's, else the newest live root. */
  private shownRoot(): number | null {
    const m = this.mirror;
    if (!m) return null;
    const sel = this.selection ? m.sps[this.selection.sp] : undefined;
    if (sel && !sel.freed) return sel.rootId;
    if (m.vcpuRoot !== null) return m.vcpuRoot;
    const roots = m.roots();
    return roots[roots.length - 1]?.id ?? null;
  }

  private shownTables(): MirrorSp[] {
    const m = this.mirror;
    const root = this.shownRoot();
    if (!m || root === null) return [];
    // An unlinked table (being built, or cut out and draining) is drawn last, over its place.
    const live = m.sps.filter((sp) => sp.rootId === root && !sp.freed);
    return [...live.filter((sp) => !isUnlinked(sp)), ...live.filter(isUnlinked)];
  }

  // ---- Drawing ---------------------------------------------------------------------------------

  private draw(now: number): void {
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const m = this.mirror;
    if (this.cssW === 0 || this.cssH === 0 || !m) return;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const rows = this.rows();
    const at = this.painter.paint({
      axis: this.axis,
      view: this.view,
      rows,
      tables: this.shownTables(),
      memslots: m.memslots,
      vcpuRoots: new Set(vcpusByRoot(m).keys()),
      op: this.op,
      w: this.cssW,
      h: this.cssH,
    });
    this.drawFlushes(rows, now);
    drawOverlays(
      ctx,
      at,
      { anims: this.anims, iter: this.iter, actors: this.actors, selection: this.selection },
      this.palette,
      1,
      now,
    );
    this.drawFocus(at);
  }

  /** A TLB flush lights up the GFNs it covers, across every row (the whole view for a full one). */
  private drawFlushes(rows: Rows, now: number): void {
    const ctx = this.ctx;
    for (const f of this.flushes) {
      const t = Math.min(1, Math.max(0, (now - f.start) / TLB_MS));
      ctx.globalAlpha = 0.4 * (1 - t);
      ctx.fillStyle = this.palette.accent;
      if (f.full) {
        ctx.lineWidth = 2 + 6 * (1 - t);
        ctx.strokeStyle = this.palette.accent;
        ctx.strokeRect(0, 0, this.cssW, this.cssH);
      } else {
        const x0 = (this.axis.x(f.gfn) - this.view.x) * this.view.k;
        const x1 = (this.axis.x(f.gfn + f.pages) - this.view.x) * this.view.k;
        ctx.fillRect(x0, rows.top, Math.max(x1 - x0, 3), rows.levels * rows.height);
      }
      ctx.globalAlpha = 1;
    }
  }

  private drawFocus(at: OverlayGeometry): void {
    const f = this.focusChange;
    const cell = f && at.cell(f.sp, f.index);
    if (!f || !cell || cell.x + cell.w < 0 || cell.x > this.cssW) return;
    drawChangeCallout(this.ctx, f, cell, this.palette, { w: this.cssW, h: this.cssH });
  }

  private queue(a: NewAnim): void {
    this.anims.push({ ...a, start: -1 });
  }

  private invalidate(): void {
    this.dirty = true;
    if (this.frameRequested || !this.opts.requestFrame) return;
    this.frameRequested = true;
    this.opts.requestFrame();
  }

  // ---- Input -----------------------------------------------------------------------------------

  private hit(px: number, py: number): Selection | null {
    if (px < GUTTER_W) return null;
    const level = levelAt(this.rows(), py);
    if (level === null) return null;
    const rows = this.rows();
    const gfn = this.axis.gfnAt(this.view.x + px / this.view.k);
    const t = this.shownTables().find(
      (sp) => sp.level === level && gfn >= sp.gfn && gfn < sp.gfn + 512 * entrySpan(level),
    );
    if (!t) return null;
    const top = cellsTop(rows, level);
    if (py < top) return { sp: t.id, index: null };
    if (py > top + cellsHeight(rows)) return null;
    return { sp: t.id, index: Math.min(511, Math.floor((gfn - t.gfn) / entrySpan(level))) };
  }

  private point(e: MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private readonly onPointerDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    this.drag = { x: e.clientX, viewX: this.view.x, moved: false };
    this.canvas.setPointerCapture(e.pointerId);
  };

  private readonly onPointerMove = (e: PointerEvent): void => {
    const d = this.drag;
    if (d === null) {
      const [px, py] = this.point(e);
      this.canvas.style.cursor = this.hit(px, py) ? 'pointer' : 'default';
      return;
    }
    const dx = e.clientX - d.x;
    if (!d.moved && Math.abs(dx) < 4) return;
    if (!d.moved) this.userCamera();
    d.moved = true;
    this.glide = null;
    this.view = { x: d.viewX - dx / this.view.k, k: this.view.k };
    this.canvas.style.cursor = 'grabbing';
    this.invalidate();
  };

  private readonly onPointerUp = (e: PointerEvent): void => {
    const d = this.drag;
    this.drag = null;
    this.canvas.style.cursor = 'default';
    if (d === null || d.moved) return;
    const [px, py] = this.point(e);
    this.opts.onSelect(this.hit(px, py));
  };

  private readonly onWheel = (e: WheelEvent): void => {
    e.preventDefault();
    this.userCamera();
    const [px] = this.point(e);
    // Horizontal scrolling pans; vertical zooms about the pointer, as a timeline does.
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      this.glide = null;
      this.view = { x: this.view.x + e.deltaX / this.view.k, k: this.view.k };
      this.invalidate();
      return;
    }
    const k = this.clampK(this.view.k * Math.exp(-e.deltaY * 0.002));
    const world = this.view.x + px / this.view.k;
    this.glide = null;
    this.view = { x: world - px / k, k };
    this.invalidate();
  };

  private readonly onDblClick = (e: MouseEvent): void => {
    const [px] = this.point(e);
    this.userCamera();
    this.zoomAbout(e.shiftKey ? 0.25 : 4, px);
  };

  private readonly onKeyDown = (e: KeyboardEvent): void => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const next = this.keySelection(e.key, e.shiftKey);
    if (next === undefined) return;
    e.preventDefault();
    e.stopPropagation();
    this.opts.onSelect(next);
    if (next && next.index !== null) this.reveal(next.sp, next.index);
  };

  /** The selection a key moves to (undefined: the key is not the view's). */
  private keySelection(key: string, shift: boolean): Selection | null | undefined {
    const m = this.mirror;
    if (!m) return undefined;
    if (key === 'Escape') return this.selection ? null : undefined;
    const sel = this.selection;
    const tables = this.shownTables();
    const steps: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1 };
    if (!sel || !tables.some((t) => t.id === sel.sp)) {
      const root = tables.find((t) => t.parent === null);
      return root && (key in steps || key === 'Enter' || key.startsWith('Arrow'))
        ? { sp: root.id, index: 0 }
        : undefined;
    }
    const index = sel.index ?? 0;
    const step = steps[key];
    if (step !== undefined)
      return { sp: sel.sp, index: (index + step * (shift ? 8 : 1) + 512) % 512 };
    const sp = m.sps[sel.sp];
    if (key === 'ArrowUp') {
      return sp?.parent != null ? { sp: sp.parent, index: sp.parentIndex } : undefined;
    }
    if (key === 'Enter' || key === 'ArrowDown') {
      const child = tables.find((t) => t.parent === sel.sp && t.parentIndex === index);
      return child ? { sp: child.id, index: 0 } : undefined;
    }
    return undefined;
  }
}

function isUnlinked(sp: MirrorSp): boolean {
  return !sp.linked && sp.parent !== null;
}
