// Export and import: the scenario file, the event trace as JSON, and the trace as tracepoint text.
// An import is checked whole before anything changes, and a problem is named with its place.
import { tracepointLine } from '../sim/explain.ts';
import type { SimEvent } from '../sim/events.ts';
import { kernelOfScript } from '../sim/scenario/parse.ts';
import { rememberHead } from '../sim/trace/read-trace.ts';
import { withKernel } from './compare.ts';
import type { Session } from './session.ts';

/** The kernel profile a session's script runs under. */
const kernelOf = (session: Session) => kernelOfScript(session.store.getState().script);

export const TRACE_FORMAT = 'tdpviz-trace';
/** A JSON export this large would not fit in a browser's memory as text. */
export const MAX_EXPORTED_EVENTS = 1_000_000;
/** The largest file File → Import reads: a JSON trace of MAX_EXPORTED_EVENTS fits well under it. */
export const MAX_IMPORT_BYTES = 256 * 2 ** 20;

/** Files larger than this are read a piece at a time and never joined into one flat string. */
export const PIECED_READ_BYTES = 8 * 2 ** 20;
const PIECE_BYTES = 2 * 2 ** 20;

/** A file's text, and for a big file the pieces it was decoded in (see PiecedText). */
export interface FileText {
  text: string;
  pieces: string[] | null;
}

/**
 * Read a file's text. A big one is decoded 2 MiB at a time: decoding or copying 100 MiB at once
 * holds the page for over 100 ms. Its text is the pieces concatenated, which V8 keeps as a rope
 * until something needs it flat; the page reads its lines from the pieces instead.
 */
export async function readFileText(file: Blob): Promise<FileText> {
  if (file.size <= PIECED_READ_BYTES) return { text: await file.text(), pieces: null };
  const decoder = new TextDecoder();
  const pieces: string[] = [];
  for (let at = 0; at < file.size; at += PIECE_BYTES) {
    const bytes = await file.slice(at, at + PIECE_BYTES).arrayBuffer();
    pieces.push(decoder.decode(bytes, { stream: at + PIECE_BYTES < file.size }));
  }
  let level = pieces;
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2) next.push((level[i] ?? '') + (level[i + 1] ?? ''));
    level = next;
  }
  const text = level[0] ?? '';
  rememberHead(text, pieces[0] ?? '');
  return { text, pieces };
}

/** Refuses a file too large to import before any of it is read. */
export function checkImportSize(name: string, bytes: number): void {
  if (bytes > MAX_IMPORT_BYTES) {
    throw new ImportError(
      `${name}: ${(bytes / 2 ** 20).toFixed(0)} MiB is more than the ${MAX_IMPORT_BYTES / 2 ** 20} MiB an import may be`,
    );
  }
}

/** bigint SPTEs as hex strings, so the trace is plain JSON. */
function plain(ev: SimEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ev))
    out[k] = typeof v === 'bigint' ? '0x' + v.toString(16) : v;
  return out;
}

/** The scenario as a file: the user's script, with its kernel written out if it was left implicit. */
export function scenarioFile(session: Session): string {
  const script = session.store.getState().script;
  return withKernel(script, kernelOfScript(script));
}

export function traceJson(session: Session): string {
  const count = session.events.length;
  if (count > MAX_EXPORTED_EVENTS) {
    throw new Error(
      `the run has ${count.toLocaleString('en-US')} events; a JSON trace is limited to ${MAX_EXPORTED_EVENTS.toLocaleString('en-US')}`,
    );
  }
  const events = [];
  for (let i = 0; i < count; i++) events.push(plain(session.eventAt(i)));
  return JSON.stringify(
    {
      format: TRACE_FORMAT,
      version: 1,
      kernel: kernelOf(session),
      script: session.store.getState().script,
      events,
    },
    null,
    1,
  );
}

/** One kvm_tdp_mmu_spte_changed line per SPTE change that went through handle_changed_spte(). */
export function tracepointText(session: Session): string {
  // The encodings differ by kernel (0 vs SHADOW_NONPRESENT_VALUE), so the text says whose they are.
  const lines: string[] = [
    `# tdpviz: kvm_tdp_mmu_spte_changed as kernel ${kernelOf(session)} prints it`,
  ];
  for (let i = 0; i < session.events.length; i++) {
    const line = tracepointLine(session.eventAt(i));
    if (line) lines.push(line);
  }
  return lines.join('\n') + '\n';
}

export class ImportError extends Error {
  override name = 'ImportError';
}

/**
 * The script an imported file holds: a `.tdp` scenario as it is, or the script inside a tdpviz JSON
 * trace (its events are the script's own, so running the script reproduces them).
 */
export function scriptFromFile(
  name: string,
  text: string,
  pieces: readonly string[] | null = null,
): { script: string; events?: number } {
  // A big file's pieces are looked at one by one: trimming or searching the whole would join them.
  const first = pieces ? (pieces[0] ?? '') : text;
  if (name.endsWith('.json') || first.trimStart().startsWith('{')) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ImportError(`${name}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof raw !== 'object' || raw === null)
      throw new ImportError(`${name}: the JSON is not an object`);
    const o = raw as Record<string, unknown>;
    if (o.format !== TRACE_FORMAT) {
      throw new ImportError(
        `${name}: "format" is ${JSON.stringify(o.format)}, expected "${TRACE_FORMAT}"`,
      );
    }
    if (o.version !== 1)
      throw new ImportError(`${name}: trace version ${JSON.stringify(o.version)} is not 1`);
    if (typeof o.script !== 'string')
      throw new ImportError(`${name}: "script" is missing or not text`);
    if (!Array.isArray(o.events))
      throw new ImportError(`${name}: "events" is missing or not a list`);
    return { script: o.script, events: o.events.length };
  }
  if (pieces ? pieces.some((p) => p.includes('\0')) : text.includes('\0'))
    throw new ImportError(`${name}: this is a binary file, not a .tdp scenario`);
  // Trace text (trace-cmd report, tracefs, our own export) opens as a run rebuilt from the trace.
  return { script: text };
}

/** Offer text as a download. */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
