// The tree view: one box per table (its 512 entries blitted from the atlas), edges from an entry
// to its child table, headers and badges, at three levels of detail. It paints a TreeScene and
// hands back where each table and entry landed, so overlays and the callout find them.
import { hasNxGlyph, CODE_TABLE, codeKind, type EntryKind, type Palette } from './palette.ts';
import type { MirrorSp } from '../sim/replay.ts';
import type { EntryAtlas } from './EntryAtlas.ts';
import { atlasSlot } from './EntryAtlas.ts';
import {
  BOX_H,
  BOX_W,
  CELL,
  COLS,
  entryRect,
  GAP_X,
  GAP_Y,
  GRID_H,
  GRID_W,
  HEADER_H,
  PAD,
  ROWS,
  type Layout,
  type LayoutTable,
  type Rect,
} from './layout.ts';
import {
  easeOut,
  intersects,
  progress,
  type Anim,
  type OverlayGeometry,
  type PictureView,
} from './overlays.ts';

/** Header text size in world units; text is skipped when it would be tinier than MIN_TEXT_PX. */
const FONT_SIZE = 20;
const MIN_TEXT_PX = 6;
/** Table labels are at least this large on screen (CSS pixels) while their header has room. */
const MIN_LABEL_PX = 12;
const BADGE_H = 22;
/** Below this on-screen width a table is a plain block. */
const MIN_DETAIL_PX = 6;
/** Below this on-screen width a table shows its entries and frame but no header detail. */
const FULL_DETAIL_PX = 64;
/** Cell separators appear once a cell is this large on screen. */
const GRID_LINES_PX = 7;
/** Entries show their index and kind once a cell is this large on screen. */
const LABEL_CELL_PX = 30;
/** The kind written in a cell at close zoom ('' for a non-present entry). */
const ENTRY_SHORT: Record<EntryKind, string> = {
  none: '',
  table: 'PT',
  '4k': '4K',
  '2m': '2M',
  '1g': '1G',
  mmio: 'MMIO',
  removed: 'FRZ', // REMOVED_SPTE (5.x) and FROZEN_SPTE (6.11+) alike
  unknown: '?',
};
/** NX glyphs appear once a cell is this large on screen. */
const GLYPH_PX = 3;

const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;

/**
 * A table as the picture has it: its place in the run's table set, the entry codes last drawn,
 * and its state at the cursor read from the mirror itself (the one home of that state).
 */
export class TableView {
  /** Entry codes (palette.entryCode) as last drawn. */
  readonly codes = new Uint8Array(512);
  nxCount = 0;
  /** The mirror's table at the cursor (undefined: not allocated yet, or stepped back past it). */
  sp: MirrorSp | undefined = undefined;

  constructor(public t: LayoutTable) {}

  get present(): boolean {
    return this.sp !== undefined;
  }
  get linked(): boolean {
    return this.sp?.linked ?? false;
  }
  get freed(): boolean {
    return this.sp?.freed ?? false;
  }
  get invalid(): boolean {
    return this.sp?.invalid ?? false;
  }
  get nxDisallowed(): boolean {
    return this.sp?.nxDisallowed ?? false;
  }
  /** How many entries an imported trace has not shown yet (0 for a run's own tables). */
  get unknownEntries(): number {
    const u = this.sp?.unknown;
    if (!u) return 0;
    let n = 0;
    for (let i = 0; i < u.length; i++) n += u[i] ?? 0;
    return n;
  }
}

interface Edge {
  /** The parent entry's centre, the parent box's bottom, the child header's top centre. */
  sx: number;
  sy: number;
  bottom: number;
  tx: number;
  ty: number;
  /** Size of the parent's cell, for the dot. */
  cell: number;
  /** Progress of a link pulse on this edge, if any. */
  pulse: number | null;
  /** For a bus route: (tx, ty) is the gutter's top, and the edge ends at the header's left. */
  end: { x: number; y: number } | null;
  /** The parent table and where it and the child are drawn (for a family's one edge). */
  parent: number;
  from: Rect;
  to: Rect;
}

/** Below this many screen pixels per entry a family's links merge into one edge: hundreds of
 * sub-pixel curves would draw the same grey wedge, at a raster cost of tens of ms. */
const MIN_EDGE_CELL_PX = 0.5;

interface Badge {
  text: string;
  fill: string;
  ink: string;
  outline: boolean;
}

/** What the tree view paints: the layout, each table's state at the cursor, the animations. */
export interface TreeScene {
  layout: Layout;
  views: ReadonlyMap<number, TableView>;
  collapsed: ReadonlySet<number>;
  /** The vCPUs on each root they run on (a root no vCPU runs on is absent). */
  vcpusOn: ReadonlyMap<number, readonly number[]>;
  vcpus: number;
  anims: readonly Anim[];
  atlas: EntryAtlas;
}

/** A table is on the picture when allocated and not freed (or while it fades). */
export function isShown(v: TableView): boolean {
  return v.present && !v.freed;
}

export class TreePainter implements PictureView<TreeScene> {
  private palette!: Palette;
  private hatch: CanvasPattern | null = null;
  private readonly textWidths = new Map<string, number>();
  private scene!: TreeScene;

  constructor(
    private readonly ctx: CanvasRenderingContext2D,
    palette: Palette,
  ) {
    this.setPalette(palette);
  }

  setPalette(palette: Palette): void {
    this.palette = palette;
    this.hatch = this.makeHatch();
    this.textWidths.clear();
  }

  /**
   * Paint the scene (the context already carries the camera at zoom k); `view` is the part of
   * the world on screen. Returns where things landed this frame.
   */
  paint(scene: TreeScene, view: Rect, k: number, now: number): OverlayGeometry {
    this.scene = scene;
    const boxAnims = new Map<number, Anim[]>();
    for (const a of scene.anims) {
      if (a.kind === 'grow' || a.kind === 'fade' || a.kind === 'pulse') {
        const list = boxAnims.get(a.sp);
        if (list) list.push(a);
        else boxAnims.set(a.sp, [a]);
      }
    }

    // Where each drawn table sits this frame (growing tables move), for edges and overlays.
    const placed = new Map<number, { rect: Rect; alpha: number }>();
    for (const [id, box] of scene.layout.boxes) {
      const v = scene.views.get(id);
      if (!v || !v.present) continue;
      let rect = box;
      let alpha = v.freed ? 0 : 1;
      for (const a of boxAnims.get(id) ?? []) {
        const t = easeOut(progress(a, now));
        if (a.kind === 'fade') alpha = lerp(a.from, a.to, t);
        else if (a.kind === 'grow') {
          const from = this.parentCell(v);
          if (from) rect = growRect(from, box, t);
          alpha = Math.min(alpha, 0.35 + 0.65 * t);
        }
      }
      if (alpha <= 0) continue;
      placed.set(id, { rect, alpha });
    }

    const edges = this.collectEdges(placed, view, boxAnims, now);
    this.strokeEdges(edges, k);
    // Small tables are drawn in batches: plain blocks when tiny, entries and a frame when small.
    const blocks: Record<'table' | 'invalid' | 'pending', Rect[]> = {
      table: [],
      invalid: [],
      pending: [],
    };
    const small: { v: TableView; rect: Rect }[] = [];
    for (const [id, { rect, alpha }] of placed) {
      if (!intersects(rect, view)) continue;
      const v = scene.views.get(id);
      if (!v) continue;
      const w = rect.w * k;
      if (w >= FULL_DETAIL_PX || alpha < 1) this.drawTable(v, rect, alpha, k);
      else if (w >= MIN_DETAIL_PX) small.push({ v, rect });
      else blocks[v.invalid ? 'invalid' : v.linked || v.freed ? 'table' : 'pending'].push(rect);
    }
    this.fillBlocks(blocks);
    this.drawSmallTables(small, k);
    this.markEdges(edges, k);
    return {
      view,
      table: (sp) => placed.get(sp)?.rect ?? null,
      cell: (sp, index) => {
        const pl = placed.get(sp);
        return pl ? cellIn(pl.rect, index) : null;
      },
      runs: (sp, first, last) => {
        const pl = placed.get(sp);
        return pl ? rowRuns(pl.rect, first, last) : [];
      },
    };
  }

  private fillBlocks(blocks: Record<'table' | 'invalid' | 'pending', Rect[]>): void {
    const ctx = this.ctx;
    const p = this.palette;
    const fills = { table: p.entries.table, invalid: p.error, pending: p.muted };
    for (const kind of ['table', 'invalid', 'pending'] as const) {
      if (blocks[kind].length === 0) continue;
      ctx.beginPath();
      for (const r of blocks[kind]) ctx.rect(r.x, r.y, r.w, r.h);
      ctx.globalAlpha = kind === 'pending' ? 0.5 : 1;
      ctx.fillStyle = fills[kind];
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }

  private drawSmallTables(small: { v: TableView; rect: Rect }[], k: number): void {
    if (small.length === 0) return;
    const ctx = this.ctx;
    const p = this.palette;
    ctx.beginPath();
    for (const { rect } of small) ctx.rect(rect.x, rect.y, rect.w, rect.h);
    ctx.fillStyle = p.panel;
    ctx.fill();
    const headers: Record<'invalid' | 'nx', Rect[]> = { invalid: [], nx: [] };
    const solid: Rect[] = [];
    const dashed: Rect[] = [];
    for (const { v, rect } of small) {
      const { sx, sy } = atlasSlot(v.t.id);
      const g = cellIn(rect, 0);
      if (sy >= 0)
        ctx.drawImage(
          this.scene.atlas.canvas,
          sx,
          sy,
          COLS,
          ROWS,
          g.x,
          g.y,
          g.w * COLS,
          g.h * ROWS,
        );
      const header = { x: rect.x, y: rect.y, w: rect.w, h: g.y - rect.y };
      if (v.invalid) headers.invalid.push(header);
      else if (v.nxDisallowed) headers.nx.push(header);
      (v.linked || v.freed ? solid : dashed).push(rect);
    }
    for (const kind of ['invalid', 'nx'] as const) {
      ctx.beginPath();
      for (const r of headers[kind]) ctx.rect(r.x, r.y, r.w, r.h);
      ctx.fillStyle = kind === 'invalid' ? p.error : p.nxMark;
      ctx.fill();
    }
    ctx.strokeStyle = p.muted;
    ctx.lineWidth = 1 / k;
    for (const [list, dash] of [
      [solid, []],
      [dashed, [4 / k, 3 / k]],
    ] as const) {
      ctx.beginPath();
      for (const r of list) ctx.rect(r.x, r.y, r.w, r.h);
      ctx.setLineDash(dash);
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }

  private parentCell(v: TableView): Rect | null {
    if (v.t.parent === null) return null;
    const pbox = this.scene.layout.boxes.get(v.t.parent);
    return pbox ? entryRect(pbox, v.t.parentIndex) : null;
  }

  private drawTable(v: TableView, rect: Rect, alpha: number, k: number): void {
    const ctx = this.ctx;
    const p = this.palette;
    const s = rect.w / BOX_W;
    const ks = k * s;
    const px = 1 / ks;
    const pending = !v.linked && !v.freed;
    ctx.save();
    ctx.globalAlpha = alpha;
    ctx.translate(rect.x, rect.y);
    ctx.scale(s, s);

    if (this.scene.layout.hidden.has(v.t.id)) {
      // A collapsed table casts a second outline: there is more below it.
      ctx.strokeStyle = p.muted;
      ctx.lineWidth = px;
      ctx.strokeRect(4, 4, BOX_W, BOX_H);
    }
    ctx.fillStyle = p.panel;
    ctx.fillRect(0, 0, BOX_W, BOX_H);

    if (v.invalid) {
      ctx.fillStyle = p.error;
      ctx.globalAlpha = alpha * 0.25;
      ctx.fillRect(0, 0, BOX_W, HEADER_H);
      ctx.globalAlpha = alpha;
      if (this.hatch) {
        ctx.fillStyle = this.hatch;
        ctx.fillRect(0, 0, BOX_W, HEADER_H);
      }
    }

    const slot = atlasSlot(v.t.id);
    if (slot.sy >= 0) {
      ctx.drawImage(
        this.scene.atlas.canvas,
        slot.sx,
        slot.sy,
        COLS,
        ROWS,
        PAD,
        HEADER_H,
        GRID_W,
        GRID_H,
      );
    }
    const cellPx = CELL * ks;
    if (cellPx >= GRID_LINES_PX) {
      ctx.beginPath();
      for (let c = 1; c < COLS; c++) {
        ctx.moveTo(PAD + c * CELL, HEADER_H);
        ctx.lineTo(PAD + c * CELL, HEADER_H + GRID_H);
      }
      for (let r = 1; r < ROWS; r++) {
        ctx.moveTo(PAD, HEADER_H + r * CELL);
        ctx.lineTo(PAD + GRID_W, HEADER_H + r * CELL);
      }
      ctx.strokeStyle = p.panel;
      ctx.lineWidth = px;
      ctx.stroke();
    }
    if (v.nxCount > 0 && cellPx >= GLYPH_PX) this.drawNxGlyphs(v, px, cellPx);
    if (cellPx >= LABEL_CELL_PX) this.drawEntryLabels(v);

    ctx.strokeStyle = v.invalid ? p.error : p.muted;
    ctx.lineWidth = (v.t.parent === null ? 2 : 1) * px;
    if (pending) ctx.setLineDash([6 * px, 4 * px]);
    ctx.strokeRect(0, 0, BOX_W, BOX_H);
    ctx.setLineDash([]);

    this.drawHeader(v, ks, px);
    ctx.restore();
  }

  /** Semantic zoom: once cells are big, each shows its index and, if present, its kind. */
  private drawEntryLabels(v: TableView): void {
    const ctx = this.ctx;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (let i = 0; i < 512; i++) {
      const code = v.codes[i] ?? 0;
      const k = codeKind(code);
      const kind = ENTRY_SHORT[k];
      const cx = PAD + (i % COLS) * CELL + CELL / 2;
      const cy = HEADER_H + Math.floor(i / COLS) * CELL;
      // Pale cells (non-present, unknown) take dark text.
      ctx.fillStyle = kind && k !== 'unknown' ? this.palette.panel : this.palette.muted;
      ctx.font = `${CELL * 0.3}px ${this.palette.mono}`;
      ctx.fillText(String(i), cx, cy + CELL * (kind ? 0.3 : 0.5));
      if (kind) {
        ctx.font = `600 ${CELL * 0.32}px ${this.palette.font}`;
        ctx.fillText(kind, cx, cy + CELL * 0.68);
      }
    }
  }

  private drawNxGlyphs(v: TableView, px: number, cellPx: number): void {
    const ctx = this.ctx;
    // A diagonal from the cell's lower-left to upper-right; a dot at sizes where a line blurs.
    ctx.beginPath();
    const inset = CELL * 0.18;
    for (let i = 0; i < 512; i++) {
      if (!hasNxGlyph(v.codes[i] ?? 0)) continue;
      const cx = PAD + (i % COLS) * CELL;
      const cy = HEADER_H + Math.floor(i / COLS) * CELL;
      if (cellPx < 6) {
        ctx.rect(cx + CELL * 0.3, cy + CELL * 0.3, CELL * 0.4, CELL * 0.4);
      } else {
        ctx.moveTo(cx + inset, cy + CELL - inset);
        ctx.lineTo(cx + CELL - inset, cy + inset);
      }
    }
    if (cellPx < 6) {
      ctx.fillStyle = this.palette.nxMark;
      ctx.fill();
    } else {
      ctx.strokeStyle = this.palette.nxMark;
      ctx.lineWidth = Math.max(1.5 * px, CELL * 0.14);
      ctx.stroke();
    }
  }

  private badges(v: TableView): Badge[] {
    const p = this.palette;
    const list: Badge[] = [];
    if (v.t.parent === null) {
      list.push({ text: 'root', fill: p.accent, ink: p.panel, outline: false });
      const on = this.scene.vcpusOn.get(v.t.id);
      // One vCPU: 'vCPU'; several: which ones run here ('vCPU 0,1').
      if (on)
        list.push({
          text: this.scene.vcpus === 1 ? 'vCPU' : `vCPU ${on.join(',')}`,
          fill: p.accent,
          ink: p.accent,
          outline: true,
        });
    }
    if (v.invalid) list.push({ text: 'invalid', fill: p.error, ink: p.panel, outline: false });
    // A table an imported trace implies: some of its entries were never shown.
    if (v.unknownEntries > 0)
      list.push({
        text: `${v.unknownEntries} unknown`,
        fill: p.muted,
        ink: p.muted,
        outline: true,
      });
    if (v.nxDisallowed) list.push({ text: 'NX', fill: p.nxMark, ink: p.panel, outline: false });
    if (!v.linked && !v.freed)
      list.push({ text: 'unlinked', fill: p.muted, ink: p.muted, outline: true });
    const hidden = this.scene.layout.hidden.get(v.t.id);
    if (hidden) list.push({ text: `+${hidden}`, fill: p.muted, ink: p.panel, outline: false });
    return list;
  }

  private drawHeader(v: TableView, ks: number, px: number): void {
    const ctx = this.ctx;
    const p = this.palette;
    const badges = this.badges(v);
    // Labels keep at least MIN_LABEL_PX on screen while the header has room: CSS pixels grow
    // with browser zoom, so zooming the page makes them bigger.
    const size = Math.min(HEADER_H * 0.78, Math.max(FONT_SIZE, MIN_LABEL_PX / ks));
    const scale = size / FONT_SIZE;
    const badgeH = Math.min(HEADER_H - 4, BADGE_H * scale);
    const showText = size * ks >= MIN_TEXT_PX;
    ctx.font = `${size}px ${p.mono}`;
    ctx.textBaseline = 'middle';
    const mid = HEADER_H / 2;
    const by = mid - badgeH / 2;
    let right = BOX_W - PAD;
    for (let i = badges.length - 1; i >= 0; i--) {
      const b = badges[i];
      if (!b) continue;
      const w = showText ? this.textWidth(b.text) * scale + 8 * scale : badgeH;
      right -= w;
      if (b.outline) {
        ctx.strokeStyle = b.fill;
        ctx.lineWidth = Math.max(px, 1);
        ctx.strokeRect(right + 0.5, by + 0.5, w - 1, badgeH - 1);
      } else {
        ctx.fillStyle = b.fill;
        ctx.fillRect(right, by, w, badgeH);
      }
      if (showText) {
        ctx.fillStyle = b.ink;
        ctx.textAlign = 'center';
        ctx.fillText(b.text, right + w / 2, mid + 0.5);
      }
      right -= 3;
    }
    if (!showText) return;
    const children = this.scene.layout.childCount.get(v.t.id) ?? 0;
    const arrow = children === 0 ? '' : this.scene.collapsed.has(v.t.id) ? '▸ ' : '▾ ';
    const gfn = `0x${v.t.gfn.toString(16)}`;
    // The longest label that fits: shortened by whole fields, never cut mid-word.
    const room = Math.max(0, right - PAD - 2);
    const label = [
      `${arrow}sp ${v.t.id} · L${v.t.level} · gfn ${gfn}`,
      `${arrow}sp ${v.t.id} · L${v.t.level} · ${gfn}`,
      `${arrow}sp ${v.t.id} · L${v.t.level}`,
      `sp ${v.t.id}`,
    ].find((t) => this.textWidth(t) * scale <= room);
    if (!label) return;
    ctx.fillStyle = p.fg;
    ctx.textAlign = 'left';
    ctx.fillText(label, PAD, mid + 0.5);
  }

  /** The width of `text` at FONT_SIZE (the mono font scales linearly with its size). */
  private textWidth(text: string): number {
    let w = this.textWidths.get(text);
    if (w === undefined) {
      const font = this.ctx.font;
      this.ctx.font = `${FONT_SIZE}px ${this.palette.mono}`;
      w = this.ctx.measureText(text).width;
      this.ctx.font = font;
      this.textWidths.set(text, w);
    }
    return w;
  }

  private collectEdges(
    placed: Map<number, { rect: Rect; alpha: number }>,
    view: Rect,
    boxAnims: Map<number, Anim[]>,
    now: number,
  ): Edge[] {
    const edges: Edge[] = [];
    for (const [id, { rect }] of placed) {
      const v = this.scene.views.get(id);
      if (!v || !v.linked || v.t.parent === null) continue;
      const parent = this.scene.views.get(v.t.parent);
      const pl = placed.get(v.t.parent);
      if (!parent || !pl || (parent.codes[v.t.parentIndex] ?? 0) !== CODE_TABLE) continue;
      const cell = cellIn(pl.rect, v.t.parentIndex);
      const sx = cell.x + cell.w / 2;
      const sy = cell.y + cell.h / 2;
      const tx = rect.x + rect.w / 2;
      const ty = rect.y;
      const left = Math.min(sx, rect.x - GAP_X);
      const span = { x: left, y: sy, w: Math.max(sx, tx) - left, h: ty - sy };
      if (!intersects(span, view)) continue;
      let pulse: number | null = null;
      for (const a of boxAnims.get(id) ?? [])
        if (a.kind === 'pulse' && a.edge) pulse = progress(a, now);
      const bottom = pl.rect.y + pl.rect.h;
      // A child in a lower row of a wrapped family is reached down the gutter at its left.
      const home = this.scene.layout.boxes.get(id);
      const parentHome = this.scene.layout.boxes.get(v.t.parent);
      const bus = !!home && !!parentHome && home.y > parentHome.y + BOX_H + GAP_Y + 1;
      edges.push({
        sx,
        sy,
        bottom,
        tx: bus ? rect.x - GAP_X / 2 : tx,
        ty: bus ? bottom + GAP_Y : ty,
        cell: cell.w,
        pulse,
        end: bus ? { x: rect.x, y: rect.y + (rect.h * HEADER_H) / BOX_H / 2 } : null,
        parent: v.t.parent,
        from: pl.rect,
        to: rect,
      });
    }
    return edges;
  }

  /** Edges go under the boxes: a line through a family's upper rows stays out of their grids. */
  private strokeEdges(edges: Edge[], k: number): void {
    const ctx = this.ctx;
    ctx.beginPath();
    for (const e of CELL * k >= MIN_EDGE_CELL_PX ? edges : familyEdges(edges)) edgePath(ctx, e);
    ctx.globalAlpha = 0.85;
    ctx.strokeStyle = this.palette.muted;
    ctx.lineWidth = 1.25 / k;
    ctx.stroke();
    ctx.globalAlpha = 1;
  }

  /** On top of the boxes: a dot on each entry that leads to a drawn child, and link pulses. */
  private markEdges(edges: Edge[], k: number): void {
    const ctx = this.ctx;
    if (CELL * k >= 4) {
      ctx.beginPath();
      for (const e of edges) {
        ctx.moveTo(e.sx + e.cell * 0.22, e.sy);
        ctx.arc(e.sx, e.sy, e.cell * 0.22, 0, 2 * Math.PI);
      }
      ctx.fillStyle = this.palette.panel;
      ctx.fill();
    }
    for (const e of edges) {
      if (e.pulse === null) continue;
      ctx.beginPath();
      edgePath(ctx, e);
      ctx.globalAlpha = 1 - e.pulse;
      ctx.strokeStyle = this.palette.accent;
      ctx.lineWidth = 3.5 / k;
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }

  private makeHatch(): CanvasPattern | null {
    const tile = document.createElement('canvas');
    tile.width = 8;
    tile.height = 8;
    const c = tile.getContext('2d');
    if (!c) return null;
    c.strokeStyle = this.palette.error;
    c.globalAlpha = 0.4;
    c.lineWidth = 2;
    c.beginPath();
    // Three strokes so the stripes meet across tile edges.
    for (const o of [-8, 0, 8]) {
      c.moveTo(o, 8);
      c.lineTo(o + 8, 0);
    }
    c.stroke();
    return this.ctx.createPattern(tile, 'repeat');
  }
}

/** Entry `index` of a table drawn at `rect` (which may be scaled while it grows). */
function cellIn(rect: Rect, index: number): Rect {
  const s = rect.w / BOX_W;
  const r = entryRect({ x: 0, y: 0, w: BOX_W, h: BOX_H }, index);
  return { x: rect.x + r.x * s, y: rect.y + r.y * s, w: r.w * s, h: r.h * s };
}

/** The cells first..last of a table as one rectangle per grid row. */
function rowRuns(rect: Rect, first: number, last: number): Rect[] {
  const runs: Rect[] = [];
  for (let row = Math.floor(first / COLS); row <= Math.floor(last / COLS); row++) {
    const a = Math.max(first, row * COLS);
    const b = Math.min(last, row * COLS + COLS - 1);
    const ca = cellIn(rect, a);
    const cb = cellIn(rect, b);
    runs.push({ x: ca.x, y: ca.y, w: cb.x + cb.w - ca.x, h: ca.h });
  }
  return runs;
}

/** One edge per parent, from its bottom centre to the top centre of its drawn children. */
function familyEdges(edges: Edge[]): Edge[] {
  const families = new Map<number, { from: Rect; x0: number; x1: number; y0: number }>();
  for (const e of edges) {
    const f = families.get(e.parent);
    if (!f) families.set(e.parent, { from: e.from, x0: e.to.x, x1: e.to.x + e.to.w, y0: e.to.y });
    else {
      f.x0 = Math.min(f.x0, e.to.x);
      f.x1 = Math.max(f.x1, e.to.x + e.to.w);
      f.y0 = Math.min(f.y0, e.to.y);
    }
  }
  return [...families].map(([parent, f]) => {
    const bottom = f.from.y + f.from.h;
    const to = { x: f.x0, y: f.y0, w: f.x1 - f.x0, h: 0 };
    const sx = f.from.x + f.from.w / 2;
    return {
      sx,
      sy: bottom,
      bottom,
      tx: (f.x0 + f.x1) / 2,
      ty: f.y0,
      cell: 0,
      pulse: null,
      end: null,
      parent,
      from: f.from,
      to,
    };
  });
}

function edgePath(ctx: CanvasRenderingContext2D, e: Edge): void {
  const bend = Math.max(e.ty - e.bottom, 0) / 2;
  ctx.moveTo(e.sx, e.sy);
  ctx.lineTo(e.sx, e.bottom);
  ctx.bezierCurveTo(e.sx, e.bottom + bend, e.tx, e.ty - bend, e.tx, e.ty);
  if (e.end) {
    ctx.lineTo(e.tx, e.end.y);
    ctx.lineTo(e.end.x, e.end.y);
  }
}

function growRect(from: Rect, to: Rect, t: number): Rect {
  const w = lerp(from.w, to.w, t);
  return { x: lerp(from.x, to.x, t), y: lerp(from.y, to.y, t), w, h: (w * BOX_H) / BOX_W };
}
