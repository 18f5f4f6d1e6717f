// The entry atlas: every table's 512 entry colours in one image at one pixel per entry (32 × 16
// per table), uploaded to a canvas only where it changed, and blitted scaled by the views.
import { COLS, ROWS } from './layout.ts';

/** 64 tables of 32 × 16 pixels per atlas row, 2048 pixels wide. */
const TABLES_PER_ROW = 64;
const WIDTH = TABLES_PER_ROW * COLS;
const MAX_ROWS = 2047;
const CAPACITY = TABLES_PER_ROW * MAX_ROWS;
/** Dirty tables above this count upload the atlas rows they are in, whole. */
const PARTIAL_UPLOAD_LIMIT = 48;

/** Where a table's pixels sit in the atlas (sy < 0: beyond its capacity, not drawn). */
export function atlasSlot(id: number): { sx: number; sy: number } {
  if (id >= CAPACITY) return { sx: 0, sy: -1 };
  return { sx: (id % TABLES_PER_ROW) * COLS, sy: Math.floor(id / TABLES_PER_ROW) * ROWS };
}

/** The pixel of entry `index` of table `id` in the atlas image (-1: not in the atlas). */
export function atlasPixel(id: number, index: number): number {
  const { sx, sy } = atlasSlot(id);
  if (sy < 0) return -1;
  return (sy + Math.floor(index / COLS)) * WIDTH + sx + (index % COLS);
}

export class EntryAtlas {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private image: ImageData;
  private words: Uint32Array;
  private full = true;
  private readonly dirty = new Set<number>();

  constructor() {
    this.canvas = document.createElement('canvas');
    const ctx = this.canvas.getContext('2d');
    if (!ctx) throw new Error('canvas 2D is not available');
    this.ctx = ctx;
    this.image = new ImageData(WIDTH, ROWS);
    this.words = new Uint32Array(this.image.data.buffer);
    this.canvas.width = WIDTH;
    this.canvas.height = ROWS;
  }

  /** Room for tables 0 .. count - 1. */
  ensure(count: number): void {
    const need = Math.min(MAX_ROWS, Math.max(1, Math.ceil(count / TABLES_PER_ROW)));
    const have = this.image.height / ROWS;
    if (need <= have) return;
    // Doubling: a structure growing table by table reallocates and re-uploads log(n) times.
    const rows = Math.min(MAX_ROWS, Math.max(need, have * 2));
    const image = new ImageData(WIDTH, rows * ROWS);
    const words = new Uint32Array(image.data.buffer);
    words.set(this.words);
    this.image = image;
    this.words = words;
    this.canvas.height = rows * ROWS;
    this.full = true;
  }

  /** One entry's colour (a packed pixel word). */
  set(id: number, index: number, pixel: number): void {
    const at = atlasPixel(id, index);
    if (at < 0) return;
    this.words[at] = pixel;
    this.dirty.add(id);
  }

  /** A whole table from its entry codes and the palette's pixel words. */
  paint(id: number, codes: Uint8Array, pixels: Uint32Array): void {
    if (atlasPixel(id, 0) < 0) return;
    for (let i = 0; i < 512; i++)
      this.words[atlasPixel(id, i)] = pixels[(codes[i] ?? 0) & 0x0f] ?? 0;
    this.dirty.add(id);
  }

  /** Everything is uploaded again on the next upload (a resize cleared the canvas). */
  invalidate(): void {
    this.full = true;
  }

  upload(): void {
    if (this.full) {
      this.ctx.putImageData(this.image, 0, 0);
    } else if (this.dirty.size > PARTIAL_UPLOAD_LIMIT) {
      // Many tables (a seek's reload, 256 a frame): only the atlas rows they sit in, not all of it.
      const rows = new Set<number>();
      for (const id of this.dirty) rows.add(Math.floor(id / TABLES_PER_ROW));
      for (const row of rows) this.ctx.putImageData(this.image, 0, 0, 0, row * ROWS, WIDTH, ROWS);
    } else {
      for (const id of this.dirty) {
        const { sx, sy } = atlasSlot(id);
        this.ctx.putImageData(this.image, 0, 0, sx, sy, COLS, ROWS);
      }
    }
    this.dirty.clear();
    this.full = false;
  }
}
