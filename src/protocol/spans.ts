// Where a run's statements (or an imported trace's records) sit in its event log, as columns: a
// million trace records cross the worker boundary as a few typed arrays, not a million objects.
// The worker writes them with spanTable(); the page reads them through Spans.
import type { KernelId } from '../sim/profile.ts';
import { lineText, type LineSource } from '../sim/trace/read-trace.ts';

/** Per statement or record: its line (1-based), its events [first, end), its kind. */
export interface SpanTable {
  line: Int32Array;
  first: Int32Array;
  end: Int32Array;
  /** Index into `kinds`: a statement's kind, or the event a trace record names. */
  kind: Uint16Array;
  kinds: string[];
  /** Set when the run is an imported trace. */
  trace: TraceColumns | null;
}

/** What the page needs to show a trace record, beside the trace text it already holds. */
export interface TraceColumns {
  /** What the trace shows of the VM: its paging levels, and whose SPTE encoding it prints. */
  levels: 4 | 5;
  kernel: KernelId;
  /** Per record: index into `tasks` ("name-pid"), or -1 when the line names no task. */
  task: Int32Array;
  tasks: string[];
  /** Record indices grouped by task (in log order within one); task t's are [taskStarts[t], taskStarts[t + 1]). */
  byTask: Int32Array;
  taskStarts: Int32Array;
  /** Per record: the CPU the line names, or -1. */
  cpu: Int16Array;
  /** Where each line of the trace starts in the text, with the text's length after the last. */
  lineStarts: Uint32Array;
  /** Records a mailer had wrapped over several lines: [record, the record's text joined]. */
  joined: [number, string][];
  /** What the rebuild had to guess for a record: [record, a sentence]. */
  notes: [number, string][];
}

/** One statement or record, as the views use it. */
export interface StatementSpan {
  line: number;
  kind: string;
  firstEvent: number;
  endEvent: number;
  /** An imported trace's record: the line as the trace printed it, and who printed it. */
  trace?: {
    text: string;
    task: string | null;
    cpu: number | null;
    ts: string | null;
    /** What the rebuild had to guess (null: nothing). */
    note: string | null;
  };
}

/** The columns of a script run's statements. */
export function spanTable(
  rows: readonly { line: number; kind: string; firstEvent: number; endEvent: number }[],
  trace: TraceColumns | null = null,
): SpanTable {
  const n = rows.length;
  const t: SpanTable = {
    line: new Int32Array(n),
    first: new Int32Array(n),
    end: new Int32Array(n),
    kind: new Uint16Array(n),
    kinds: [],
    trace,
  };
  const kindIndex = new Map<string, number>();
  rows.forEach((r, i) => {
    let k = kindIndex.get(r.kind);
    if (k === undefined) kindIndex.set(r.kind, (k = t.kinds.push(r.kind) - 1));
    t.line[i] = r.line;
    t.first[i] = r.firstEvent;
    t.end[i] = r.endEvent;
    t.kind[i] = k;
  });
  return t;
}

/** The buffers a span table can hand over to another thread instead of copying. */
export function spanBuffers(t: SpanTable): ArrayBuffer[] {
  const arrays: ArrayBufferView[] = [t.line, t.first, t.end, t.kind];
  if (t.trace) {
    const { task, cpu, lineStarts, byTask, taskStarts } = t.trace;
    arrays.push(task, cpu, lineStarts, byTask, taskStarts);
  }
  return arrays.map((a) => a.buffer as ArrayBuffer);
}

/** The first index in [0, n) whose key is >= x, for keys ascending with the index. */
export function lowerBound(n: number, key: (i: number) => number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(mid) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What the page reads a trace's lines from: a string, or a big file's pieces never joined. */
export type TextSource = LineSource;

/** A big text as the pieces it was read in: joining 100 MiB is one long main-thread task. */
export class PiecedText implements TextSource {
  readonly length: number;
  /** Where each piece starts in the whole text. */
  private readonly starts: number[] = [];

  constructor(private readonly pieces: readonly string[]) {
    let at = 0;
    for (const p of pieces) {
      this.starts.push(at);
      at += p.length;
    }
    this.length = at;
  }

  private pieceAt(i: number): number {
    return Math.max(0, lowerBound(this.starts.length, (k) => this.starts[k] ?? 0, i + 1) - 1);
  }

  charCodeAt(i: number): number {
    const k = this.pieceAt(i);
    return this.pieces[k]?.charCodeAt(i - (this.starts[k] ?? 0)) ?? NaN;
  }

  slice(from: number, to: number): string {
    let out = '';
    for (let k = this.pieceAt(from); k < this.pieces.length && (this.starts[k] ?? 0) < to; k++) {
      const at = this.starts[k] ?? 0;
      out += (this.pieces[k] ?? '').slice(Math.max(0, from - at), to - at);
    }
    return out;
  }
}

/** The `ts` a trace line's prefix prints (`… [cpu] flags 1234.567890: event: …`), or null. */
const TS_RE = /\]\s+(?:[^\s:]{4,5}\s+)?(\d+\.\d+):\s/;

/** Reads a span table; statements and records are in log order and in line order. */
export class Spans implements Iterable<StatementSpan> {
  static readonly none = new Spans(spanTable([]), '');
  private readonly joined: Map<number, string>;
  private readonly notes: Map<number, string>;
  /** Spans handed out recently: the same index gives the same object (stable for selectors). */
  private readonly made = new Map<number, StatementSpan>();

  /** `text` is the script the run was made from (a trace record's line is read from it). */
  constructor(
    readonly table: SpanTable,
    private readonly text: TextSource,
  ) {
    this.joined = new Map(table.trace?.joined ?? []);
    this.notes = new Map(table.trace?.notes ?? []);
  }

  get length(): number {
    return this.table.line.length;
  }

  get isTrace(): boolean {
    return this.table.trace !== null;
  }

  line(i: number): number {
    return this.table.line[i] ?? 0;
  }

  first(i: number): number {
    return this.table.first[i] ?? 0;
  }

  end(i: number): number {
    return this.table.end[i] ?? 0;
  }

  kind(i: number): string {
    return this.table.kinds[this.table.kind[i] ?? 0] ?? '';
  }

  /** Line `line` (1-based) of the trace, as printed; '' beyond it. */
  traceLine(line: number): string {
    const starts = this.table.trace?.lineStarts;
    if (!starts || line < 1 || line >= starts.length) return '';
    return lineText(this.text, starts, line - 1);
  }

  /** Lines in the trace (0 for a script). */
  get traceLines(): number {
    return Math.max(0, (this.table.trace?.lineStarts.length ?? 1) - 1);
  }

  at(i: number): StatementSpan | null {
    if (i < 0 || i >= this.length) return null;
    const made = this.made.get(i);
    if (made) return made;
    if (this.made.size >= 256) this.made.clear();
    const span: StatementSpan = {
      line: this.line(i),
      kind: this.kind(i),
      firstEvent: this.first(i),
      endEvent: this.end(i),
    };
    const tr = this.table.trace;
    if (tr) {
      const text = this.joined.get(i) ?? this.traceLine(span.line).trim();
      const task = tr.task[i] ?? -1;
      const cpu = tr.cpu[i] ?? -1;
      span.trace = {
        text,
        task: task < 0 ? null : (tr.tasks[task] ?? null),
        cpu: cpu < 0 ? null : cpu,
        ts: TS_RE.exec(text)?.[1] ?? null,
        note: this.notes.get(i) ?? null,
      };
    }
    this.made.set(i, span);
    return span;
  }

  /** The span whose events contain event `e`, or -1. */
  containing(e: number): number {
    const i = this.lastStartingAtOrBefore(e);
    return i >= 0 && e < this.end(i) ? i : -1;
  }

  /** The last span whose first event is at or before `e`, or -1. */
  lastStartingAtOrBefore(e: number): number {
    return lowerBound(this.length, (i) => this.first(i), e + 1) - 1;
  }

  /** The span whose events start at event `e` (the first such), or -1. */
  startingAt(e: number): number {
    const i = lowerBound(this.length, (k) => this.first(k), e);
    return i < this.length && this.first(i) === e ? i : -1;
  }

  /** The first span on script line `line`, or -1. */
  onLine(line: number): number {
    const i = lowerBound(this.length, (k) => this.line(k), line);
    return i < this.length && this.line(i) === line ? i : -1;
  }

  /** The first span with events that ends after event `at`, or -1. */
  nextEndingAfter(at: number): number {
    for (let i = Math.max(0, this.lastStartingAtOrBefore(at)); i < this.length; i++) {
      if (this.end(i) > at && this.end(i) > this.first(i)) return i;
    }
    return -1;
  }

  /** The last span with events that starts before event `at`, or -1. */
  prevStartBefore(at: number): number {
    for (let i = lowerBound(this.length, (k) => this.first(k), at) - 1; i >= 0; i--) {
      if (this.end(i) > this.first(i)) return i;
    }
    return -1;
  }

  *[Symbol.iterator](): Iterator<StatementSpan> {
    for (let i = 0; i < this.length; i++) {
      const s = this.at(i);
      if (s) yield s;
    }
  }
}
