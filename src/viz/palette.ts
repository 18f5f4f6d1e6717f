// Entry colours from the theme's CSS variables, shared by the canvas and the legend.
import { color } from 'd3';
import type { MirrorSp } from '../sim/replay.ts';
import {
  isExecutable,
  isLastSpte,
  isMmioSpte,
  isRemovedSpte,
  isShadowPresent,
} from '../sim/spte.ts';

export type EntryKind = 'none' | 'table' | '4k' | '2m' | '1g' | 'mmio' | 'removed' | 'unknown';

export interface EntryKindInfo {
  kind: EntryKind;
  label: string;
  cssVar: string;
}

/** Every colour an entry can take, in legend order; an entry's code is its position here. */
export const ENTRY_KINDS: readonly EntryKindInfo[] = [
  { kind: 'none', label: 'not present', cssVar: '--spte-none' },
  { kind: 'table', label: 'points to a table', cssVar: '--spte-table' },
  { kind: '4k', label: '4K leaf', cssVar: '--spte-4k' },
  { kind: '2m', label: '2M leaf', cssVar: '--spte-2m' },
  { kind: '1g', label: '1G leaf', cssVar: '--spte-1g' },
  { kind: 'mmio', label: 'MMIO SPTE', cssVar: '--spte-mmio' },
  { kind: 'removed', label: 'REMOVED / FROZEN_SPTE', cssVar: '--spte-removed' },
  { kind: 'unknown', label: 'unknown (not in the trace yet)', cssVar: '--spte-unknown' },
];

/** Not a colour but a glyph on the cell: a 2M/1G leaf whose X bit the NX huge page mitigation withheld. */
export const NX_GLYPH = {
  label: 'huge leaf without X (NX huge pages)',
  cssVar: '--nx-mark',
  glyph: 'diagonal',
} as const;

export const CODE_TABLE = 1;
/** Added to an entry's code when it is an X-stripped huge leaf. */
export const NX_FLAG = 0x10;
const CODE_MASK = 0x0f;

const KIND_CODES: Record<EntryKind, number> = {
  none: 0,
  table: 1,
  '4k': 2,
  '2m': 3,
  '1g': 4,
  mmio: 5,
  removed: 6,
  unknown: 7,
};

/** The code of entry i of a mirrored table: an imported trace's unseen entry is unknown, not 0. */
export function tableEntryCode(sp: MirrorSp, i: number): number {
  if (sp.unknown?.[i]) return KIND_CODES.unknown;
  return entryCode(sp.spt[2 * i] ?? 0, sp.spt[2 * i + 1] ?? 0, sp.level);
}

/** A compact code for what an entry is (kind and leaf size, plus NX_FLAG), as the canvas stores it. */
export function entryCode(lo: number, hi: number, level: number): number {
  // Bit tests rather than spteKind(): a full refresh codes a million entries in one frame.
  if (isShadowPresent(lo)) {
    if (!isLastSpte(lo, level)) return KIND_CODES.table;
    if (level === 1) return KIND_CODES['4k'];
    const code = level === 2 ? KIND_CODES['2m'] : KIND_CODES['1g'];
    return isExecutable(lo) ? code : code | NX_FLAG;
  }
  if (isRemovedSpte(lo, hi)) return KIND_CODES.removed;
  if (isMmioSpte(lo)) return KIND_CODES.mmio;
  return KIND_CODES.none;
}

export function codeKind(code: number): EntryKind {
  return ENTRY_KINDS[code & CODE_MASK]?.kind ?? 'none';
}

/** True for a huge leaf drawn with the NX glyph. */
export const hasNxGlyph = (code: number): boolean => (code & NX_FLAG) !== 0;

export interface Palette {
  /** CSS colour of each entry kind. */
  entries: Record<EntryKind, string>;
  /** The same colours packed for a Uint32Array view of ImageData pixels, indexed by code & 0x0f. */
  pixels: Uint32Array;
  nxMark: string;
  fg: string;
  muted: string;
  border: string;
  panel: string;
  accent: string;
  highlight: string;
  error: string;
  /** A race's actors, by index in the block (cycled past four). */
  actors: string[];
  font: string;
  mono: string;
}

// The light theme's values, for a page that has not loaded theme.css (tests, a bare host).
const FALLBACK: Record<string, string> = {
  '--spte-none': '#e9ecef',
  '--spte-table': '#7a8594',
  '--spte-4k': '#0072b2',
  '--spte-2m': '#e69f00',
  '--spte-1g': '#cc79a7',
  '--spte-mmio': '#009e73',
  '--spte-removed': '#d55e00',
  '--spte-unknown': '#ece3b4',
  '--nx-mark': '#000000',
  '--fg': '#1b1f24',
  '--muted': '#5b6470',
  '--border': '#d5dae1',
  '--panel': '#ffffff',
  '--accent': '#2f6fde',
  '--highlight': '#fff4c2',
  '--error': '#c62828',
  '--actor-0': '#7b1fa2',
  '--actor-1': '#00796b',
  '--actor-2': '#c2185b',
  '--actor-3': '#5d4037',
  '--font': 'system-ui, sans-serif',
  '--mono': 'ui-monospace, monospace',
};

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** An opaque CSS colour as one ImageData pixel word. */
export function packColor(css: string): number {
  const c = color(css)?.rgb() ?? { r: 0, g: 0, b: 0, opacity: 1 };
  const a = Math.round(255 * Math.min(1, Math.max(0, c.opacity)));
  const r = Math.round(c.r) & 0xff;
  const g = Math.round(c.g) & 0xff;
  const b = Math.round(c.b) & 0xff;
  return (
    (LITTLE_ENDIAN
      ? (a << 24) | (b << 16) | (g << 8) | r
      : (r << 24) | (g << 16) | (b << 8) | a) >>> 0
  );
}

/** Build a palette from a variable lookup (the document's computed style, or a test's table). */
export function paletteFrom(lookup: (cssVar: string) => string): Palette {
  const v = (name: string): string => lookup(name).trim() || FALLBACK[name] || '#000000';
  const entries = {} as Record<EntryKind, string>;
  const pixels = new Uint32Array(CODE_MASK + 1);
  ENTRY_KINDS.forEach((k, code) => {
    entries[k.kind] = v(k.cssVar);
    pixels[code] = packColor(entries[k.kind]);
  });
  return {
    entries,
    pixels,
    nxMark: v('--nx-mark'),
    fg: v('--fg'),
    muted: v('--muted'),
    border: v('--border'),
    panel: v('--panel'),
    accent: v('--accent'),
    highlight: v('--highlight'),
    error: v('--error'),
    actors: [0, 1, 2, 3].map((a) => v(`--actor-${a}`)),
    font: v('--font'),
    mono: v('--mono'),
  };
}

/** The palette of the theme now in force on the document. */
export function readPalette(): Palette {
  const style = getComputedStyle(document.documentElement);
  return paletteFrom((name) => style.getPropertyValue(name));
}

/** CSS colour of an entry code. */
export function codeColor(p: Palette, code: number): string {
  return p.entries[codeKind(code)];
}
