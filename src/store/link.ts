// The whole workspace in a URL fragment: JSON, deflated, base64url. Decoding checks every field and
// says what is wrong, so a damaged link changes nothing.
import { looksLikeTrace } from '../sim/trace/read-trace.ts';
import { kernelOfScript } from '../sim/scenario/parse.ts';
import type { Picture, Selection, Theme } from './app-store.ts';

export type Mode = 'explore' | 'compare' | 'tour';

export interface LinkState {
  v: 1;
  mode: Mode;
  script: string;
  cursor: number;
  /** The second pane's script and cursor (compare mode). */
  scriptB?: string;
  cursorB?: number;
  tour?: { id: string; step: number };
  theme?: Theme;
  /** Presentation mode on. */
  present?: boolean;
  /** The address-space view instead of the tree (absent: the tree). */
  picture?: Picture;
  selection?: Selection | null;
  /** The paging-structure camera of each pane: translate (x, y), then scale k. */
  view?: CameraView;
  viewB?: CameraView;
}

export interface CameraView {
  x: number;
  y: number;
  k: number;
}

export const LINK_PREFIX = '#s=';

/** The longest link fragment read, and the most its data may inflate to (a script of 8 MiB). */
export const MAX_LINK_CHARS = 2 ** 21;
export const MAX_LINK_BYTES = 8 * 2 ** 20;

/** Bytes through a (de)compressor, stopping with a LinkError past `limit` output bytes. */
async function pipe(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
  limit = Infinity,
): Promise<Uint8Array> {
  const reader = new Blob([bytes as BlobPart]).stream().pipeThrough(stream).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new LinkError(
        `its data inflates to more than ${limit / 2 ** 20} MiB, the most a link may carry`,
      );
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text))
    throw new LinkError('it contains characters that are not base64url');
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export class LinkError extends Error {
  override name = 'LinkError';
}

/** The kernel a link's script runs, readable in the URL itself (a reviewer sees it in a thread). */
const KERNEL_PARAM = '&kernel=';

export async function encodeLink(state: LinkState): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(state));
  const data = toBase64Url(await pipe(bytes, new CompressionStream('deflate-raw')));
  const hash = LINK_PREFIX + data;
  // A link that decodeLink() would refuse is not made: the user hears why at once.
  if (hash.length > MAX_LINK_CHARS) {
    const what = looksLikeTrace(state.script) ? 'trace' : 'script';
    throw new LinkError(
      `this ${what} is too large for a link: it would be ${hash.length.toLocaleString('en-US')} characters, and a link may be at most ${MAX_LINK_CHARS.toLocaleString('en-US')}; share the file instead (File → Export)`,
    );
  }
  return hash + KERNEL_PARAM + kernelOfScript(state.script);
}

const MODES: readonly Mode[] = ['explore', 'compare', 'tour'];
const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parse a fragment made by encodeLink; throws LinkError naming what is wrong. */
export async function decodeLink(hash: string): Promise<LinkState> {
  if (!hash.startsWith(LINK_PREFIX)) throw new LinkError(`it does not start with ${LINK_PREFIX}`);
  if (hash.length > MAX_LINK_CHARS) {
    throw new LinkError(
      `it is ${hash.length.toLocaleString('en-US')} characters long; a link may be at most ${MAX_LINK_CHARS.toLocaleString('en-US')}`,
    );
  }
  const [data = '', ...params] = hash.slice(LINK_PREFIX.length).split('&');
  let bytes: Uint8Array;
  try {
    bytes = await pipe(fromBase64Url(data), new DecompressionStream('deflate-raw'), MAX_LINK_BYTES);
  } catch (e) {
    if (e instanceof LinkError) throw e;
    throw new LinkError('its data is truncated or corrupt (it does not decompress)');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new LinkError('its data is not valid JSON');
  }
  const state = checkLinkState(raw);
  // The readable kernel= must say what the data says: a hand-edited one would be a lie.
  for (const p of params) {
    const said = p.startsWith('kernel=') ? p.slice('kernel='.length) : null;
    if (said === null) throw new LinkError(`it has an unknown part '${p.slice(0, 40)}'`);
    const runs = kernelOfScript(state.script);
    if (said !== runs) {
      throw new LinkError(`it says kernel=${said.slice(0, 12)} but its script runs kernel ${runs}`);
    }
  }
  return state;
}

/** Check a decoded state field by field; throws LinkError naming the first problem. */
export function checkLinkState(raw: unknown): LinkState {
  if (typeof raw !== 'object' || raw === null) throw new LinkError('its data is not an object');
  const o = raw as Record<string, unknown>;
  if (o.v !== 1)
    throw new LinkError(`it has version ${JSON.stringify(o.v)}; this tdpviz reads version 1`);
  if (!MODES.includes(o.mode as Mode))
    throw new LinkError(`mode ${JSON.stringify(o.mode)} is not one of ${MODES.join(', ')}`);
  if (typeof o.script !== 'string') throw new LinkError('script is missing or not text');
  if (!isCount(o.cursor)) throw new LinkError('cursor is not a non-negative whole number');
  const state: LinkState = { v: 1, mode: o.mode as Mode, script: o.script, cursor: o.cursor };
  if (o.scriptB !== undefined) {
    if (typeof o.scriptB !== 'string') throw new LinkError('scriptB is not text');
    state.scriptB = o.scriptB;
  }
  if (o.cursorB !== undefined) {
    if (!isCount(o.cursorB)) throw new LinkError('cursorB is not a non-negative whole number');
    state.cursorB = o.cursorB;
  }
  if (o.tour !== undefined) {
    const t = o.tour as Record<string, unknown> | null;
    if (typeof t !== 'object' || t === null || typeof t.id !== 'string' || !isCount(t.step)) {
      throw new LinkError('tour must be {id, step}');
    }
    state.tour = { id: t.id, step: t.step };
  }
  if (o.theme !== undefined) {
    if (o.theme !== 'light' && o.theme !== 'dark')
      throw new LinkError('theme must be light or dark');
    state.theme = o.theme;
  }
  if (o.present !== undefined) {
    if (typeof o.present !== 'boolean') throw new LinkError('present must be true or false');
    state.present = o.present;
  }
  if (o.picture !== undefined) {
    if (o.picture !== 'tree' && o.picture !== 'address')
      throw new LinkError('picture must be tree or address');
    state.picture = o.picture;
  }
  for (const key of ['view', 'viewB'] as const) {
    const v = o[key] as Record<string, unknown> | undefined;
    if (v === undefined) continue;
    const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);
    if (
      typeof v !== 'object' ||
      v === null ||
      !finite(v.x) ||
      !finite(v.y) ||
      !finite(v.k) ||
      v.k <= 0
    ) {
      throw new LinkError(`${key} must be {x, y, k} with finite numbers and k > 0`);
    }
    state[key] = { x: v.x, y: v.y, k: v.k };
  }
  if (o.selection !== undefined && o.selection !== null) {
    const sel = o.selection as Record<string, unknown>;
    if (
      typeof sel !== 'object' ||
      !isCount(sel.sp) ||
      !(sel.index === null || isCount(sel.index))
    ) {
      throw new LinkError('selection must be {sp, index}');
    }
    state.selection = { sp: sel.sp, index: sel.index };
  }
  return state;
}
