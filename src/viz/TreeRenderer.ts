// The controller of the paging-structure canvas: it keeps each table's state at the cursor in
// step with the event stream, turns events into animations, follows the action with the camera
// (PanZoom), takes pointer and keyboard input, and each frame has the tree view (TreePainter)
// paint, then the overlays and the callout on top. The frame loop drives it.
import type { SimEvent } from '../sim/events.ts';
import { pagesPerHpage } from '../sim/geometry.ts';
import type { Mirror, MirrorSp } from '../sim/replay.ts';
import {
  BOX_H,
  BOX_W,
  COLS,
  computeLayout,
  entryRect,
  hitTest,
  type Layout,
  type LayoutTable,
  type Rect,
} from './layout.ts';
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
import { EntryAtlas } from './EntryAtlas.ts';
import { isShown, TableView, TreePainter } from './TreePainter.ts';
import {
  drawOverlays,
  NO_CELL,
  progress,
  type Anim,
  type NewAnim,
  type OverlayGeometry,
} from './overlays.ts';
import { centreOn, fitView, PanZoom, zoomAbout, type View } from './PanZoom.ts';
import { codeColor, hasNxGlyph, readPalette, tableEntryCode, type Palette } from './palette.ts';
import { changeCallout } from '../sim/explain.ts';
import type { FocusChange, PictureRenderer, RendererOptions, Selection } from './picture.ts';

const MAX_K = 8;
const MIN_K = 0.05;
/** Screen margin left around the tree by fit(). */
const FIT_MARGIN = 24;
/** Room left above the tree for the zoom buttons. */
const FIT_TOP = 56;
/** fit() never magnifies a small tree beyond this. */
const FIT_MAX_K = 1.5;

const CURSOR_MS = 260;
const TLB_MS = 450;
/** A batch larger than this (a big jump) shows its result without animation. */
const MAX_ANIMATED_EVENTS = 4096;

/** Tables recoloured per frame after a full sync (512 entries each). */
const RELOAD_TABLES_PER_FRAME = 256;

export class TreeRenderer implements PictureRenderer {
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly atlas = new EntryAtlas();

  private readonly pz: PanZoom;
  private readonly resizeObserver: ResizeObserver;
  private cssW = 0;
  private cssH = 0;
  private dpr = 1;
  private pendingFit = false;
  private requestedView: View | null = null;

  private tables: readonly LayoutTable[] = [];
  private views = new Map<number, TableView>();
  private readonly collapsed = new Set<number>();
  private layout: Layout = computeLayout([], new Set());
  private palette: Palette;
  private readonly painter: TreePainter;

  private selection: Selection | null = null;
  private vcpusOn: ReadonlyMap<number, readonly number[]> = new Map();
  private vcpus = 1;
  private motion = true;
  private anims: Anim[] = [];
  /** The iterator's cell (cellKey), as the mirror has it at the cursor. */
  private iter = NO_CELL;
  private dirty = true;
  /** Tables whose entry colours still have to be read from `reloadFrom` after a sync. */
  private pendingReload: TableView[] = [];
  private reloadFrom: Mirror | null = null;
  private reloadWaits = false;
  private now = 0;
  /** frame() is moving the camera: its zoom events need no drawing of their own. */
  private inFrame = false;
  private frameRequested = false;
  /** The change the callout points at, and whether the camera follows the action. */
  /** A race's actors' cells (actorCells()). */
  private actors: number[] = [];
  private focusChange: FocusChange | null = null;
  private following = true;
  /** The bounds of the tables on the picture when the camera last fitted them. */
  private fitted: Rect | null = null;

  constructor(
    private readonly host: HTMLElement,
    private readonly opts: RendererOptions,
  ) {
    const { canvas, ctx } = mountCanvas(host);
    this.canvas = canvas;
    this.ctx = ctx;
    this.palette = readPalette();
    this.painter = new TreePainter(this.ctx, this.palette);

    this.pz = new PanZoom(this.canvas, {
      onChange: (t, user) => {
        // The camera, readable from outside the canvas (the browser tests compare views).
        this.host.dataset.view = `${t.x.toFixed(1)},${t.y.toFixed(1)},${t.k.toFixed(4)}`;
        // A gesture stops following the action.
        if (user) this.userCamera();
        if (!this.inFrame) this.inputChanged();
      },
    });
    // Reachable by Tab: arrow keys move the selected entry, so the inspector works without a mouse.
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'application');
    this.canvas.setAttribute(
      'aria-label',
      'Paging structure. Arrow keys choose an entry, Page Up and Page Down another table, Enter the table an entry points to, Escape clears.',
    );
    this.canvas.addEventListener('keydown', this.onKeyDown);
    this.canvas.addEventListener('click', this.onClick);
    this.canvas.addEventListener('dblclick', this.onDblClick);
    this.canvas.addEventListener('mousemove', this.onMouseMove);

    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(host);
    this.resize();
  }

  // ---- Inputs ----------------------------------------------------------------------------------

  setTables(tables: readonly LayoutTable[]): void {
    const wasEmpty = this.views.size === 0;
    const old = this.views;
    this.tables = tables;
    this.views = new Map();
    let maxId = -1;
    for (const t of tables) {
      const prev = old.get(t.id);
      const same =
        prev &&
        prev.t.parent === t.parent &&
        prev.t.parentIndex === t.parentIndex &&
        prev.t.level === t.level &&
        prev.t.gfn === t.gfn;
      // Reuse the view in place: the dirty-pixel queue may hold it.
      if (same) prev.t = t;
      this.views.set(t.id, same ? prev : new TableView(t));
      maxId = Math.max(maxId, t.id);
    }
    for (const id of [...this.collapsed]) if (!this.views.has(id)) this.collapsed.delete(id);
    if (this.selection && !this.views.has(this.selection.sp)) this.selection = null;
    this.anims = this.anims.filter((a) => !('sp' in a) || this.views.has(a.sp));
    const grew = tables.length > old.size;
    this.atlas.ensure(maxId + 1);
    this.relayout();
    if (wasEmpty && tables.length > 0) this.fitNow();
    // The tree grew: a following camera re-fits so no new table lands off-screen.
    else if (grew) this.refitIfFollowing();
  }

  /** Point the callout at this change (null: none); a following camera brings it into view. */
  setFocus(change: FocusChange | null): void {
    const same =
      change === this.focusChange ||
      (change !== null &&
        this.focusChange !== null &&
        change.type === this.focusChange.type &&
        change.sp === this.focusChange.sp &&
        change.index === this.focusChange.index &&
        changeCallout(change).detail === changeCallout(this.focusChange).detail);
    this.focusChange = change;
    if (same) return;
    if (change && this.following) this.reveal(change.sp, change.index);
    this.invalidate();
  }

  /** Follow the action again (the Follow button, key f): re-fit now. */
  setFollowing(on: boolean): void {
    this.following = on;
    if (!on) return;
    this.fit();
    if (this.focusChange) this.reveal(this.focusChange.sp, this.focusChange.index);
  }

  private userCamera(): void {
    if (!this.following) return;
    this.following = false;
    this.opts.onUserCamera?.();
  }

  /** Pan (keeping the zoom) so the entry's table is on screen, if it is not already. */
  private reveal(sp: number, index: number): void {
    const box = this.layout.boxes.get(sp);
    if (!box || this.cssW === 0 || this.pendingFit) return;
    const t = this.pz.target();
    const margin = 16;
    const sx = box.x * t.k + t.x;
    const sy = box.y * t.k + t.y;
    const inside =
      sx >= margin &&
      sy >= margin &&
      sx + box.w * t.k <= this.cssW - margin &&
      sy + box.h * t.k <= this.cssH - margin;
    if (inside) return;
    // A table wider than the view is centred on the entry instead.
    const fits = box.w * t.k <= this.cssW - 2 * margin && box.h * t.k <= this.cssH - 2 * margin;
    const c = fits ? { x: box.x + box.w / 2, y: box.y + box.h / 2 } : centre(entryRect(box, index));
    this.moveCamera(centreOn(c.x, c.y, t.k, this.cssW, this.cssH));
  }

  sync(mirror: Mirror): void {
    // Table flags now; entry colours over the next frames, a slice each (a 4 GiB guest has ~1M).
    for (const v of this.views.values()) v.sp = mirror.sps[v.t.id];
    this.pendingReload = [...this.views.values()];
    this.reloadFrom = mirror;
    this.reloadWaits = true;
    this.vcpusOn = vcpusByRoot(mirror);
    this.vcpus = mirror.config.vcpus;
    this.anims = [];
    this.iter = iterCell(mirror);
    this.actors = actorCells(mirror);
    this.atlas.invalidate();
    this.refitIfFollowing();
    this.invalidate();
  }

  applyEvents(events: readonly SimEvent[], mirror: Mirror, direction: 1 | -1): void {
    const fwd = direction === 1;
    const animate = this.motion && events.length <= MAX_ANIMATED_EVENTS;
    const iterBefore = this.iter;
    const plan = choreograph(events, {
      direction,
      animate,
      colorOf: (spte, level) => codeColor(this.palette, spteCode(spte, level)),
      hasParent: (sp) => this.views.get(sp)?.t.parent != null,
    });
    const { reload, flagged, iterMoves } = plan;
    for (const { sp: id, index: i } of plan.entries) {
      const v = this.views.get(id);
      const sp = mirror.sps[id];
      if (v && sp) this.setCode(v, i, tableEntryCode(sp, i));
    }
    for (const a of plan.anims) this.queue(a);

    for (const id of reload) {
      const v = this.views.get(id);
      if (v) this.reloadTable(v, mirror.sps[id]);
    }
    for (const id of flagged) {
      const v = this.views.get(id);
      if (v && !reload.has(id)) v.sp = mirror.sps[id];
    }
    this.vcpusOn = vcpusByRoot(mirror);
    this.vcpus = mirror.config.vcpus;
    this.iter = iterCell(mirror);
    this.actors = actorCells(mirror);
    // Spans are found after the flags are current, so only tables shown now light up.
    for (const f of plan.flushes) this.queue(this.tlbAnim(f.ranged, f.gfn, f.pages));
    // A single step shows the iterator travelling; over a longer batch the trail shows the path.
    if (animate && this.iter !== NO_CELL && this.iter !== iterBefore) {
      if (iterMoves === 1 || !fwd) this.anims = this.anims.filter((a) => a.kind !== 'trail');
      this.anims = this.anims.filter((a) => a.kind !== 'cursor');
      this.queue({ kind: 'cursor', from: iterBefore, dur: CURSOR_MS });
    }
    if (reload.size > 0 || flagged.size > 0) this.refitIfFollowing();
    this.invalidate();
  }

  /** The union of the tables on the picture at the cursor (null when none is). */
  private shownBounds(): Rect | null {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const [id, b] of this.layout.boxes) {
      const v = this.views.get(id);
      if (!v || !isShown(v)) continue;
      x0 = Math.min(x0, b.x);
      y0 = Math.min(y0, b.y);
      x1 = Math.max(x1, b.x + b.w);
      y1 = Math.max(y1, b.y + b.h);
    }
    return x0 === Infinity ? null : { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
  }

  /** A following camera re-fits when the tables on the picture change their extent. */
  private refitIfFollowing(): void {
    if (!this.following || this.requestedView !== null || this.views.size === 0) return;
    const b = this.shownBounds();
    // Nothing on the picture yet (a run still streaming in): nothing to follow.
    if (!b) return;
    const f = this.fitted;
    if (f && f.x === b.x && f.y === b.y && f.w === b.w && f.h === b.h) return;
    this.fit();
  }

  setSelection(sel: Selection | null): void {
    this.selection = sel;
    this.invalidate();
  }

  setTheme(): void {
    this.palette = readPalette();
    this.painter.setPalette(this.palette);
    for (const v of this.views.values()) this.repaintTable(v);
    this.atlas.invalidate();
    this.invalidate();
  }

  setMotion(on: boolean): void {
    this.motion = on;
    if (!on) {
      this.anims = [];
      this.pz.settle();
    }
    this.invalidate();
  }

  // ---- The frame -------------------------------------------------------------------------------

  frame(now: number): boolean {
    this.now = now;
    this.frameRequested = false;
    const reloading = this.reloadSlice();
    for (const a of this.anims) if (a.start < 0) a.start = now;
    this.inFrame = true;
    this.pz.step(now);
    this.inFrame = false;
    const before = this.anims.length;
    this.anims = this.anims.filter((a) => now - a.start < a.dur);
    const moving = this.anims.length > 0 || this.pz.gliding || before > 0;
    // A reload spread over frames is drawn once it is whole: a large tree's every draw is a raster.
    if ((this.dirty && !reloading) || moving) {
      this.atlas.upload();
      this.draw(now);
      this.dirty = false;
    }
    return moving || reloading;
  }

  /** Recolour the next slice of tables after a sync; true while some are left. */
  private reloadSlice(): boolean {
    const mirror = this.reloadFrom;
    if (!mirror) return false;
    // The sync's own frame is the panels' (the cursor moved): the first slice waits for the next.
    if (this.reloadWaits) {
      this.reloadWaits = false;
      return true;
    }
    // The frame after the last slice only draws: the slice and a full draw would make one long task.
    if (this.pendingReload.length === 0) {
      this.reloadFrom = null;
      return false;
    }
    const batch = this.pendingReload.splice(0, RELOAD_TABLES_PER_FRAME);
    for (const v of batch) this.reloadTable(v, mirror.sps[v.t.id]);
    this.dirty = true;
    return true;
  }

  // ---- Camera ----------------------------------------------------------------------------------

  fit(): void {
    if (this.cssW === 0 || this.cssH === 0) {
      this.pendingFit = true;
      return;
    }
    this.moveCamera(this.fitTransform());
  }

  zoomBy(k: number): void {
    this.userCamera();
    this.zoomAt(k, this.cssW / 2, this.cssH / 2);
  }

  focus(sp: number): void {
    this.expandTo(sp);
    const box = this.layout.boxes.get(sp);
    if (!box || this.cssW === 0) return;
    const k = Math.min(
      Math.max(Math.min((this.cssW * 0.6) / BOX_W, (this.cssH * 0.6) / BOX_H), 0.5),
      2,
    );
    this.moveCamera(centreOn(box.x + box.w / 2, box.y + box.h / 2, k, this.cssW, this.cssH));
  }

  toggleCollapse(sp: number): void {
    if (!this.views.has(sp)) return;
    if (this.collapsed.has(sp)) this.collapsed.delete(sp);
    else if ((this.layout.childCount.get(sp) ?? 0) > 0) this.collapsed.add(sp);
    else return;
    this.relayout();
    this.inputChanged();
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.pz.destroy();
    this.canvas.removeEventListener('keydown', this.onKeyDown);
    this.canvas.removeEventListener('click', this.onClick);
    this.canvas.removeEventListener('dblclick', this.onDblClick);
    this.canvas.removeEventListener('mousemove', this.onMouseMove);
    this.canvas.remove();
    this.anims = [];
    this.views.clear();
  }

  // ---- Table state -----------------------------------------------------------------------------

  private reloadTable(v: TableView, sp: MirrorSp | undefined): void {
    // The table's state is the mirror's own object (replaced when the mirror re-allocates it).
    v.sp = sp;
    if (!sp) return;
    let nx = 0;
    for (let i = 0; i < 512; i++) {
      const code = tableEntryCode(sp, i);
      v.codes[i] = code;
      if (hasNxGlyph(code)) nx++;
    }
    v.nxCount = nx;
    this.repaintTable(v);
  }

  private setCode(v: TableView, index: number, code: number): void {
    const old = v.codes[index] ?? 0;
    if (old === code) return;
    if (hasNxGlyph(old)) v.nxCount--;
    if (hasNxGlyph(code)) v.nxCount++;
    v.codes[index] = code;
    this.atlas.set(v.t.id, index, this.palette.pixels[code & 0x0f] ?? 0);
  }

  private repaintTable(v: TableView): void {
    this.atlas.paint(v.t.id, v.codes, this.palette.pixels);
  }

  private relayout(): void {
    this.layout = computeLayout(this.tables, this.collapsed);
    this.updateScaleExtent();
    this.invalidate();
  }

  private expandTo(sp: number): void {
    let changed = false;
    for (let p = this.views.get(sp)?.t.parent ?? null; p !== null;) {
      if (this.collapsed.delete(p)) changed = true;
      p = this.views.get(p)?.t.parent ?? null;
    }
    if (changed) this.relayout();
  }

  // ---- Animations ------------------------------------------------------------------------------

  private queue(a: NewAnim): void {
    this.anims.push({ ...a, start: -1 });
  }

  private tlbAnim(ranged: boolean, gfn: number, pages: number): NewAnim {
    if (!ranged) return { kind: 'tlbFull', dur: TLB_MS };
    const end = gfn + pages;
    const spans: { sp: number; first: number; last: number }[] = [];
    for (const v of this.views.values()) {
      if (!isShown(v)) continue;
      const per = pagesPerHpage(v.t.level);
      const tEnd = v.t.gfn + per * 512;
      if (end <= v.t.gfn || gfn >= tEnd) continue;
      const first = Math.floor((Math.max(gfn, v.t.gfn) - v.t.gfn) / per);
      const last = Math.floor((Math.min(end, tEnd) - 1 - v.t.gfn) / per);
      spans.push({ sp: v.t.id, first, last });
    }
    return { kind: 'tlb', spans, dur: TLB_MS };
  }

  // ---- Camera internals ------------------------------------------------------------------------

  private fitTransform(): View {
    const shown = this.shownBounds();
    this.fitted = shown;
    return fitView(shown ?? this.layout.bounds, this.cssW, this.cssH, {
      margin: FIT_MARGIN,
      top: FIT_TOP,
      minK: this.minScale(),
      maxK: FIT_MAX_K,
    });
  }

  private fitNow(): void {
    if (this.cssW === 0 || this.cssH === 0) {
      this.pendingFit = true;
      return;
    }
    // A view asked for (a link being opened) wins over fitting.
    const v = this.requestedView;
    this.requestedView = null;
    this.pz.jump(v ?? this.fitTransform());
  }

  /** The camera: what a link keeps of the view. */
  getView(): View {
    return this.pz.target();
  }

  /** Show exactly this camera (before the first layout, instead of fitting). */
  setView(v: View): void {
    this.requestedView = v;
    if (this.views.size > 0 && this.cssW > 0 && this.cssH > 0) this.fitNow();
  }

  /** Below 0.05 only when the tree is so wide that fitting it needs it. */
  private minScale(): number {
    const b = this.layout.bounds;
    if (b.w === 0 || this.cssW === 0) return MIN_K;
    const fitK = Math.min((this.cssW - 2 * FIT_MARGIN) / b.w, (this.cssH - 2 * FIT_MARGIN) / b.h);
    return Math.min(MIN_K, Math.max(1e-4, fitK * 0.5));
  }

  private updateScaleExtent(): void {
    this.pz.update({ width: this.cssW, height: this.cssH, minK: this.minScale(), maxK: MAX_K });
  }

  private zoomAt(factor: number, px: number, py: number): void {
    this.moveCamera(zoomAbout(this.pz.target(), factor, px, py, this.minScale(), MAX_K));
  }

  /** Glide there with motion, jump without. */
  private moveCamera(to: View): void {
    if (!this.motion || this.cssW === 0 || !this.opts.requestFrame) {
      this.pz.jump(to);
      return;
    }
    this.pz.glideTo(to);
    this.invalidate();
  }

  private resize(): void {
    const size = fitCanvas(this.canvas, { w: this.cssW, h: this.cssH, dpr: this.dpr });
    if (size === null) return;
    const { w, h } = size;
    this.cssW = w;
    this.cssH = h;
    this.dpr = size.dpr;
    this.updateScaleExtent();
    if (this.pendingFit && w > 0 && h > 0) {
      this.pendingFit = false;
      this.fitNow();
    }
    // Resizing cleared the canvas: repaint now rather than show a blank frame.
    this.atlas.upload();
    this.draw(this.now);
    this.invalidate();
  }

  // ---- Input -----------------------------------------------------------------------------------

  private readonly onClick = (e: MouseEvent): void => {
    this.opts.onSelect(this.hitAt(e));
  };

  private readonly onKeyDown = (e: KeyboardEvent): void => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const next = this.keySelection(e.key, e.shiftKey);
    if (next === undefined) return;
    e.preventDefault();
    e.stopPropagation();
    this.opts.onSelect(next);
    if (next && this.following) this.reveal(next.sp, next.index ?? 0);
  };

  /** The selection a key moves to (undefined: the key is not the canvas's). */
  private keySelection(key: string, shift: boolean): Selection | null | undefined {
    const shown = [...this.layout.boxes.keys()].filter((id) => {
      const v = this.views.get(id);
      return v !== undefined && isShown(v);
    });
    if (key === 'Escape') return this.selection ? null : undefined;
    const moves: Record<string, number> = {
      ArrowLeft: -1,
      ArrowRight: 1,
      ArrowUp: -COLS,
      ArrowDown: COLS,
    };
    const sel = this.selection;
    if (!sel || !shown.includes(sel.sp)) {
      const first = shown[0];
      return key in moves || key === 'Enter' || key.startsWith('Page')
        ? first === undefined
          ? undefined
          : { sp: first, index: 0 }
        : undefined;
    }
    const index = sel.index ?? 0;
    const step = moves[key];
    if (step !== undefined)
      return { sp: sel.sp, index: (index + step * (shift ? 4 : 1) + 512 * 8) % 512 };
    if (key === 'PageDown' || key === 'PageUp') {
      const k = shown.indexOf(sel.sp) + (key === 'PageDown' ? 1 : -1);
      const sp = shown[(k + shown.length) % shown.length];
      return sp === undefined ? undefined : { sp, index: 0 };
    }
    if (key === 'Enter') {
      const child = this.tables.find((t) => {
        const v = this.views.get(t.id);
        return t.parent === sel.sp && t.parentIndex === index && !!v && v.linked && !v.freed;
      });
      return child ? { sp: child.id, index: 0 } : undefined;
    }
    return undefined;
  }

  private readonly onDblClick = (e: MouseEvent): void => {
    const hit = this.hitAt(e);
    if (hit && hit.index === null) {
      this.toggleCollapse(hit.sp);
    } else {
      const [px, py] = this.pointer(e);
      this.userCamera();
      this.zoomAt(e.shiftKey ? 0.5 : 2, px, py);
    }
  };

  private readonly onMouseMove = (e: MouseEvent): void => {
    if (e.buttons !== 0) return;
    this.canvas.style.cursor = this.hitAt(e) ? 'pointer' : 'default';
  };

  private pointer(e: MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private hitAt(e: MouseEvent): Selection | null {
    const [x, y] = this.pz.transform.invert(this.pointer(e));
    const hit = hitTest(this.layout, x, y);
    if (!hit) return null;
    const v = this.views.get(hit.sp);
    return v && isShown(v) ? hit : null;
  }

  /** A change the app's loop does not know about: ask it for a frame, or draw it now. */
  private inputChanged(): void {
    this.invalidate();
    if (this.opts.requestFrame) return;
    this.atlas.upload();
    this.draw(performance.now());
    this.dirty = false;
  }

  private invalidate(): void {
    this.dirty = true;
    // One request per frame is enough; frame() itself reports whether it wants another.
    if (this.frameRequested || this.inFrame || !this.opts.requestFrame) return;
    this.frameRequested = true;
    this.opts.requestFrame();
  }

  // ---- Drawing ---------------------------------------------------------------------------------

  private draw(now: number): void {
    const ctx = this.ctx;
    const { k, x, y } = this.pz.transform;
    const dpr = this.dpr;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (this.cssW === 0 || this.cssH === 0) return;
    ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * x, dpr * y);
    ctx.imageSmoothingEnabled = false;
    const view: Rect = { x: -x / k, y: -y / k, w: this.cssW / k, h: this.cssH / k };

    const at = this.painter.paint(
      {
        layout: this.layout,
        views: this.views,
        collapsed: this.collapsed,
        vcpusOn: this.vcpusOn,
        vcpus: this.vcpus,
        anims: this.anims,
        atlas: this.atlas,
      },
      view,
      k,
      now,
    );
    drawOverlays(
      ctx,
      at,
      { anims: this.anims, iter: this.iter, actors: this.actors, selection: this.selection },
      this.palette,
      k,
      now,
    );

    const full = this.anims.find((a) => a.kind === 'tlbFull');
    if (full) {
      const t = progress(full, now);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.globalAlpha = 1 - t;
      ctx.strokeStyle = this.palette.accent;
      ctx.lineWidth = 2 + 6 * (1 - t);
      ctx.strokeRect(0, 0, this.cssW, this.cssH);
      ctx.globalAlpha = 1;
    }
    this.drawFocus(at);
  }

  /** The callout, in screen space so its text keeps its size at any zoom. */
  private drawFocus(at: OverlayGeometry): void {
    const f = this.focusChange;
    const c = f && at.cell(f.sp, f.index);
    if (!f || !c) return;
    const { k, x, y } = this.pz.transform;
    const cell = { x: c.x * k + x, y: c.y * k + y, w: c.w * k, h: c.h * k };
    if (cell.x + cell.w < 0 || cell.y + cell.h < 0 || cell.x > this.cssW || cell.y > this.cssH)
      return;
    this.ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    drawChangeCallout(this.ctx, f, cell, this.palette, { w: this.cssW, h: this.cssH });
  }
}

function centre(r: Rect): { x: number; y: number } {
  return { x: r.x + r.w / 2, y: r.y + r.h / 2 };
}
