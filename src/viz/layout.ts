// Where every table of a run sits in world coordinates: a tidy tree over the whole run's table set,
// so the picture stays put while the cursor moves (tables appear and vanish, nothing shifts).
import { hierarchy, tree } from 'd3';
import type { HierarchyPointNode } from 'd3';

/** A table as the layout needs it: fixed at allocation, so the layout never depends on the cursor. */
export interface LayoutTable {
  id: number;
  parent: number | null;
  parentIndex: number;
  level: number;
  gfn: number;
  rootId: number;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Layout {
  /** Top-left corner and size of each shown table (header included), by table id. */
  boxes: Map<number, Rect>;
  /** The union of all boxes (all zero when there is nothing to show). */
  bounds: Rect;
  /** For each collapsed table with descendants: how many tables its collapse hides. */
  hidden: Map<number, number>;
  /** Direct children of each table in the full set (collapsed or not). */
  childCount: Map<number, number>;
}

export interface Hit {
  sp: number;
  /** The entry under the point, or null for the header (and the frame around the grid). */
  index: number | null;
}

/** Entries per row and rows per table: 32 × 16 = 512. */
export const COLS = 32;
export const ROWS = 16;
/** Side of one entry cell, in world units. */
export const CELL = 8;
/** Frame between the box edge and the grid (left, right and bottom). */
export const PAD = 4;
/** Height of the label strip above the grid. */
export const HEADER_H = 32;
export const GRID_W = COLS * CELL;
export const GRID_H = ROWS * CELL;
export const BOX_W = GRID_W + 2 * PAD;
export const BOX_H = HEADER_H + GRID_H + PAD;
/** Space between neighbouring boxes of one family, and between tree levels. */
export const GAP_X = 24;
export const GAP_Y = 72;
/** Horizontal pitch of the tidy tree: one box and one gap. */
const PITCH = BOX_W + GAP_X;
/** Extra space between cousins, and between the trees of different roots, in pitches. */
const COUSIN_EXTRA = 0.2;
const ROOT_EXTRA = 0.6;
/** A family of more childless tables than this wraps into rows instead of one long row. */
export const WRAP_MIN = 8;
/** Wrapped rows are this much wider than a square block (512 tables: 20 columns, 26 rows). */
const WRAP_ASPECT = 1;

interface Node {
  table: LayoutTable | null;
  children: Node[];
  /** A row of a wrapped family: its tables, left to right, and the next row below it. */
  row: LayoutTable[] | null;
  cols: number;
  next: Node | null;
}

const tableNode = (table: LayoutTable | null): Node => ({
  table,
  children: [],
  row: null,
  cols: 1,
  next: null,
});

const byIndexThenId = (a: Node, b: Node): number =>
  (a.table?.parentIndex ?? 0) - (b.table?.parentIndex ?? 0) ||
  (a.table?.id ?? 0) - (b.table?.id ?? 0);

/** Columns of a wrapped family of n tables. */
export function wrapColumns(n: number): number {
  const square = Math.sqrt((n * (BOX_H + GAP_Y)) / PITCH);
  return Math.max(WRAP_MIN, Math.ceil(square * WRAP_ASPECT));
}

/** The family as a chain of row nodes, one tree level per row, so the tidy tree keeps it clear. */
function wrapRows(family: Node[]): Node {
  const cols = wrapColumns(family.length);
  let first: Node | null = null;
  let prev: Node | null = null;
  for (let i = 0; i < family.length; i += cols) {
    const row: Node = {
      ...tableNode(null),
      row: family.slice(i, i + cols).flatMap((n) => (n.table ? [n.table] : [])),
      cols,
    };
    if (prev) prev.next = row;
    else first = row;
    prev = row;
  }
  return first ?? tableNode(null);
}

const nodeWidth = (n: Node): number => (n.row ? n.cols * PITCH - GAP_X : BOX_W);

/**
 * Lay out every table as a tidy tree under a virtual super-root. Roots sit side by side, newest
 * (highest id) leftmost, as the kernel's tdp_mmu_roots list orders them; children are ordered by
 * (parentIndex, id). A family of more than WRAP_MIN tables none of which shows children wraps into
 * rows (row-major in the same order), so 512 L1 tables under one L2 make a block, not a ribbon.
 * Descendants of a collapsed table are left out.
 */
export function computeLayout(
  tables: readonly LayoutTable[],
  collapsed: ReadonlySet<number>,
): Layout {
  const nodes = new Map<number, Node>();
  for (const t of tables) nodes.set(t.id, tableNode(t));
  const top = tableNode(null);
  const childCount = new Map<number, number>();
  for (const t of tables) {
    const node = nodes.get(t.id);
    if (!node) continue;
    const parent = t.parent === null ? undefined : nodes.get(t.parent);
    // A table whose parent is not in the set is shown as a root rather than lost.
    if (parent && t.parent !== null) {
      parent.children.push(node);
      childCount.set(t.parent, (childCount.get(t.parent) ?? 0) + 1);
    } else {
      top.children.push(node);
    }
  }
  top.children.sort((a, b) => (b.table?.id ?? 0) - (a.table?.id ?? 0));
  for (const node of nodes.values()) node.children.sort(byIndexThenId);

  const hidden = new Map<number, number>();
  const countAll = (n: Node): number => n.children.reduce((s, c) => s + 1 + countAll(c), 0);
  for (const id of collapsed) {
    const node = nodes.get(id);
    const count = node ? countAll(node) : 0;
    if (count > 0) hidden.set(id, count);
  }
  const showsChildren = (n: Node): boolean =>
    n.children.length > 0 && !(n.table && collapsed.has(n.table.id));
  const visibleChildren = (n: Node): Node[] | null => {
    if (n.row) return n.next ? [n.next] : null;
    if (!showsChildren(n)) return null;
    const family = n.children;
    if (family.length > WRAP_MIN && !family.some(showsChildren)) return [wrapRows(family)];
    return family;
  };

  const boxes = new Map<number, Rect>();
  if (top.children.length === 0) {
    return { boxes, bounds: { x: 0, y: 0, w: 0, h: 0 }, hidden, childCount };
  }

  const root = hierarchy(top, visibleChildren);
  const laid = tree<Node>()
    .nodeSize([PITCH, BOX_H + GAP_Y])
    .separation((a, b) => {
      const extra = a.parent !== b.parent ? COUSIN_EXTRA : a.depth === 1 ? ROOT_EXTRA : 0;
      return ((nodeWidth(a.data) + nodeWidth(b.data)) / 2 + GAP_X) / PITCH + extra;
    })(root);

  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const place = (t: LayoutTable, centreX: number, depth: number): void => {
    // Whole world units keep the grid crisp and the bounds exact.
    const box = {
      x: Math.round(centreX - BOX_W / 2),
      y: (depth - 1) * (BOX_H + GAP_Y),
      w: BOX_W,
      h: BOX_H,
    };
    boxes.set(t.id, box);
    minX = Math.min(minX, box.x);
    minY = Math.min(minY, box.y);
    maxX = Math.max(maxX, box.x + box.w);
    maxY = Math.max(maxY, box.y + box.h);
  };
  laid.each((n: HierarchyPointNode<Node>) => {
    const { table, row } = n.data;
    if (table) place(table, n.x, n.depth);
    const left = n.x - nodeWidth(n.data) / 2 + BOX_W / 2;
    row?.forEach((t, j) => place(t, left + j * PITCH, n.depth));
  });
  return {
    boxes,
    bounds: { x: minX, y: minY, w: maxX - minX, h: maxY - minY },
    hidden,
    childCount,
  };
}

/** The cell of entry `index` (row index/32, column index%32). */
export function entryRect(box: Rect, index: number): Rect {
  return {
    x: box.x + PAD + (index % COLS) * CELL,
    y: box.y + HEADER_H + Math.floor(index / COLS) * CELL,
    w: CELL,
    h: CELL,
  };
}

/** The table (and entry) under world point (x, y), or null on empty space. */
export function hitTest(layout: Layout, x: number, y: number): Hit | null {
  for (const [sp, b] of layout.boxes) {
    if (x < b.x || x >= b.x + b.w || y < b.y || y >= b.y + b.h) continue;
    const gx = x - b.x - PAD;
    const gy = y - b.y - HEADER_H;
    if (gx < 0 || gx >= GRID_W || gy < 0 || gy >= GRID_H) return { sp, index: null };
    return { sp, index: Math.floor(gy / CELL) * COLS + Math.floor(gx / CELL) };
  }
  return null;
}
