// Reading trace-cmd report / tracefs text into records: the kvmmmu and kvm tracepoints the TDP MMU
// prints, with the prefix (task, pid, CPU, timestamp) kept and everything else counted by name.
import type { KernelId } from '../profile.ts';

export type TraceEv =
  | { kind: 'spteChanged'; asId: number; gfn: number; level: number; old: bigint; new: bigint }
  | { kind: 'setSpte'; gfn: number; spte: bigint; level: number; at: bigint }
  | { kind: 'spteRequested'; gfn: number; pfn: bigint; level: number }
  | { kind: 'split'; gfn: number; spte: bigint; level: number; errno: number }
  | { kind: 'pageFault'; vcpu: number | null; address: bigint; errorCode: bigint }
  | { kind: 'getPage'; gfn: number; level: number; created: boolean }
  | { kind: 'prepareZap'; gfn: number; level: number }
  | { kind: 'lost'; cpu: number; count: number };

/** Record kinds in the order a trace record's opBegin names them (word 7), and their events. */
export const TRACE_KINDS = [
  'spteChanged',
  'setSpte',
  'spteRequested',
  'split',
  'pageFault',
  'getPage',
  'prepareZap',
  'lost',
] as const satisfies readonly TraceEv['kind'][];
export const TRACE_EVENT_NAMES: Record<TraceEv['kind'], string> = {
  spteChanged: 'kvm_tdp_mmu_spte_changed',
  setSpte: 'kvm_mmu_set_spte',
  spteRequested: 'kvm_mmu_spte_requested',
  split: 'kvm_mmu_split_huge_page',
  pageFault: 'kvm_page_fault',
  getPage: 'kvm_mmu_get_page',
  prepareZap: 'kvm_mmu_prepare_zap_page',
  lost: 'lost events',
};

export interface TraceRecord {
  /** 1-based line of the text where the record starts (a wrapped record spans more). */
  line: number;
  /** The record's text, with wrapped lines joined. */
  text: string;
  /** Lines after the first that a mailer's wrap had split off (0: the record is one line). */
  joined: number;
  task: string | null;
  pid: number | null;
  cpu: number | null;
  /** Seconds since boot as printed (kept as text: no rounding). */
  ts: string | null;
  event: string;
  ev: TraceEv;
}

export interface TraceRead {
  records: TraceRecord[];
  /** Lines left out, by reason (`kvm_exit`, `malformed kvm_mmu_set_spte`, `stack trace`, …). */
  skipped: Record<string, number>;
  lostEvents: number;
  /** The first line that looked like a trace line but did not parse, when nothing parsed. */
  firstBad: { line: number; message: string } | null;
  lines: number;
}

/** The events this reader understands, with the payload each must match. */
const HEX = '(?:0x)?([0-9a-fA-F]+)';
const PAYLOADS: Record<string, RegExp> = {
  kvm_tdp_mmu_spte_changed: new RegExp(
    `^as id (\\d+) gfn ${HEX} level (\\d+) old_spte ${HEX} new_spte ${HEX}$`,
  ),
  kvm_mmu_spte_requested: new RegExp(`^gfn ${HEX} pfn ${HEX} level (\\d+)$`),
  kvm_mmu_set_spte: new RegExp(`^gfn ${HEX} spte ${HEX} \\(([-rwxu]*)\\) level (\\d+) at ${HEX}$`),
  kvm_mmu_split_huge_page: new RegExp(`^gfn ${HEX} spte ${HEX} level (\\d+) errno (-?\\d+)$`),
  kvm_page_fault: new RegExp(
    `^(?:vcpu (\\d+) rip 0x[0-9a-fA-F]+ address 0x([0-9a-fA-F]+) error_code 0x([0-9a-fA-F]+)|address ${HEX} error_code ${HEX})$`,
  ),
  kvm_mmu_get_page: new RegExp(`^sp gen \\d+ gfn ${HEX} l(\\d+) .*?(new|existing)$`),
  kvm_mmu_prepare_zap_page: new RegExp(`^sp gen \\d+ gfn ${HEX} l(\\d+) `),
};

/**
 * The prefix: `task-pid [cpu] flags timestamp: event: payload`. The task may hold spaces and dashes
 * (the pid follows the last dash), `(tgid)` and the 4–5 character flags column are optional, and
 * our own export has no prefix at all.
 */
const PREFIX_RE =
  /^\s*(.+)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(\d+)\]\s+(?:[^\s:]{4,5}\s+)?(\d+\.\d+):\s+(\w+):\s*(.*)$/;
const BARE_RE = /^\s*(\w+):\s*(.*)$/;
const LOST_RE = /^\s*CPU:\s*(\d+)\s+\[LOST\s+(\d+)\s+EVENTS\]\s*$/;
const STACK_RE = /^\s*=>\s/;
/** Lines trace-cmd and tracefs print around the events. */
const HEADER_RE = /^\s*(?:#|version\s*=|cpus\s*=|CPU\s+\d+\s+is empty|$)/;
/** An event name as tracepoints are named (what a wrapped piece of payload is not). */
const EVENT_NAME_RE = /^[a-z][a-z0-9_]*$/;
/** A mailer wraps a line at most this many times. */
const MAX_JOIN = 4;

const big = (s: string | undefined): bigint => BigInt('0x' + (s ?? '0'));
const num = (s: string | undefined): number => Number.parseInt(s ?? '0', 16);
const dec = (s: string | undefined): number => Number.parseInt(s ?? '0', 10);

interface Split {
  task: string | null;
  pid: number | null;
  cpu: number | null;
  ts: string | null;
  event: string;
  payload: string;
}

function splitLine(line: string): Split | null {
  const p = PREFIX_RE.exec(line);
  if (p) {
    return {
      task: (p[1] ?? '').trim(),
      pid: dec(p[2]),
      cpu: dec(p[3]),
      ts: p[4] ?? null,
      event: p[5] ?? '',
      payload: (p[6] ?? '').trim(),
    };
  }
  const b = BARE_RE.exec(line);
  if (b && EVENT_NAME_RE.test(b[1] ?? '') && (b[1] ?? '') in PAYLOADS) {
    return {
      task: null,
      pid: null,
      cpu: null,
      ts: null,
      event: b[1] ?? '',
      payload: (b[2] ?? '').trim(),
    };
  }
  return null;
}

/** The record a known event's payload gives, or null when it does not match the format. */
function decodePayload(event: string, payload: string): TraceEv | null {
  const re = PAYLOADS[event];
  const m = re?.exec(payload.replace(/\s+/g, ' '));
  if (!m) return null;
  switch (event) {
    case 'kvm_tdp_mmu_spte_changed':
      return {
        kind: 'spteChanged',
        asId: dec(m[1]),
        gfn: num(m[2]),
        level: dec(m[3]),
        old: big(m[4]),
        new: big(m[5]),
      };
    case 'kvm_mmu_spte_requested':
      return { kind: 'spteRequested', gfn: num(m[1]), pfn: big(m[2]), level: dec(m[3]) };
    case 'kvm_mmu_set_spte':
      return { kind: 'setSpte', gfn: num(m[1]), spte: big(m[2]), level: dec(m[4]), at: big(m[5]) };
    case 'kvm_mmu_split_huge_page':
      return { kind: 'split', gfn: num(m[1]), spte: big(m[2]), level: dec(m[3]), errno: dec(m[4]) };
    case 'kvm_page_fault':
      return m[1] !== undefined
        ? { kind: 'pageFault', vcpu: dec(m[1]), address: big(m[2]), errorCode: big(m[3]) }
        : { kind: 'pageFault', vcpu: null, address: big(m[4]), errorCode: big(m[5]) };
    case 'kvm_mmu_get_page':
      return { kind: 'getPage', gfn: num(m[1]), level: dec(m[2]), created: m[3] === 'new' };
    case 'kvm_mmu_prepare_zap_page':
      return { kind: 'prepareZap', gfn: num(m[1]), level: dec(m[2]) };
    default:
      return null;
  }
}

/** Whether a decoded record is in range: levels 1..5, as id 0 or 1, a GFN below 2^52. */
function rangeProblem(ev: TraceEv): string | null {
  if ('level' in ev && (ev.level < 1 || ev.level > 5)) return `level ${ev.level} is not 1..5`;
  if (ev.kind === 'spteChanged' && ev.asId > 1) return `as id ${ev.asId} is not 0 or 1`;
  if ('gfn' in ev && !(ev.gfn < 2 ** 52)) return 'the gfn is beyond 52 bits';
  return null;
}

const bump = (o: Record<string, number>, k: string, n = 1) => {
  o[k] = (o[k] ?? 0) + n;
};

/**
 * Where each line of the text starts, for any line ending, with the text's length after the last
 * (a final empty line is not a line). Line i (0-based) is lineText(text, starts, i).
 */
export function lineStarts(text: string): Uint32Array {
  let n = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) n++;
    else if (c === 13) {
      n++;
      if (text.charCodeAt(i + 1) === 10) i++;
    }
  }
  const starts = new Uint32Array(n + 1);
  let k = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
    if (c === 10 || c === 13) starts[k++] = i + 1;
  }
  starts[k] = text.length;
  // A text that ends with a line break has no line after it.
  return k > 0 && starts[k - 1] === text.length ? starts.subarray(0, k) : starts;
}

/** Text to read lines from: a string, or a big file's pieces (the page's PiecedText). */
export interface LineSource {
  readonly length: number;
  slice(from: number, to: number): string;
  charCodeAt(i: number): number;
}

/** Line i of the text without its line break. */
export function lineText(text: LineSource, starts: Uint32Array, i: number): string {
  const from = starts[i] ?? 0;
  let to = starts[i + 1] ?? text.length;
  if (to > from && text.charCodeAt(to - 1) === 10) to--;
  if (to > from && text.charCodeAt(to - 1) === 13) to--;
  return text.slice(from, to);
}

/** The last text looksLikeTrace() was asked about (the header asks on every render). */
let lastLook: { text: string; trace: boolean } | null = null;
/** A big text read in pieces, with its first MiB: slicing the whole would join its pieces. */
let pieced: { text: string; head: string } | null = null;
const HEAD = 1 << 20;

/** Remember the first MiB of `text` (made of pieces a page must not join). */
export function rememberHead(text: string, head: string): void {
  pieced = { text, head: head.slice(0, HEAD) };
}

/** The first MiB of the text. */
export function textHead(text: string): string {
  if (pieced?.text === text) return pieced.head;
  return text.length > HEAD ? text.slice(0, HEAD) : text;
}

/** Whether the text is a trace (some line is one of the events above) rather than a scenario. */
export function looksLikeTrace(text: string): boolean {
  if (lastLook?.text === text) return lastLook.trace;
  const head = textHead(text);
  // A line that is a comment does not count: a scenario may quote a trace line in one. Any event
  // line with an ftrace prefix counts (a report may open with many kvm_exit lines).
  const trace =
    /^(?![ \t]*#)[^\n]*?(?:^|[\s:])(?:kvm_tdp_mmu_spte_changed|kvm_mmu_set_spte|kvm_mmu_spte_requested|kvm_mmu_split_huge_page):/m.test(
      head,
    ) ||
    /^[ \t]*[^#\s][^\n]*-\d+ +(?:\( *[\d-]+\) +)?\[\d+\] +(?:[^\s:]{4,5} +)?\d+\.\d+: +\w+:/m.test(
      head,
    );
  lastLook = { text, trace };
  return trace;
}

const NONPRESENT_HI = '800000000000';

/**
 * The kernel whose SPTE encoding the text uses, cheaply: 6.10+ prints SHADOW_NONPRESENT_VALUE
 * (bit 63) for non-present and frozen SPTEs. (The rebuild decides the same from its records.)
 * A plain search, not a regex: it runs on the page over traces of a hundred MiB.
 */
export function traceKernel(text: string): KernelId {
  for (let i = text.indexOf(NONPRESENT_HI); i >= 0; i = text.indexOf(NONPRESENT_HI, i + 1)) {
    const before = text.slice(Math.max(0, i - 8), i);
    const after = text.slice(i + NONPRESENT_HI.length, i + NONPRESENT_HI.length + 5);
    if (/_spte (?:0x)?$/.test(before) && /^(?:0000|05a0)(?![0-9a-fA-F])/.test(after)) return '6.18';
  }
  return '5.18';
}

/** Read a whole trace. Never throws: what it cannot read is counted in `skipped`. */
export function readTrace(text: string): TraceRead {
  const r = new TraceReader(text);
  r.step(Infinity);
  return r.result();
}

/** A trace read a slice of lines at a time, so a worker can report progress and hear Stop. */
export class TraceReader {
  readonly starts: Uint32Array;
  /** Lines in the text. */
  readonly lines: number;
  private readonly out: TraceRead;
  private bad: { line: number; message: string } | null = null;
  /** The next line to read (0-based). */
  private i = 0;

  constructor(private readonly text: string) {
    this.starts = lineStarts(text);
    this.lines = this.starts.length - 1;
    this.out = { records: [], skipped: {}, lostEvents: 0, firstBad: null, lines: this.lines };
  }

  /** Lines read so far. */
  get position(): number {
    return this.i;
  }

  private line(i: number): string {
    return lineText(this.text, this.starts, i);
  }

  /** Read about `n` more lines (a wrapped record is read whole); false once the text is done. */
  step(n: number): boolean {
    const { out, lines } = this;
    const stop = Math.min(lines, this.i + n);
    for (; this.i < stop; this.i++) {
      const i = this.i;
      const raw = this.line(i);
      if (HEADER_RE.test(raw)) continue;
      const lost = LOST_RE.exec(raw);
      if (lost) {
        const count = dec(lost[2]);
        out.lostEvents += count;
        out.records.push({
          line: i + 1,
          text: raw.trim(),
          joined: 0,
          task: null,
          pid: null,
          cpu: dec(lost[1]),
          ts: null,
          event: 'LOST EVENTS',
          ev: { kind: 'lost', cpu: dec(lost[1]), count },
        });
        continue;
      }
      if (STACK_RE.test(raw)) {
        bump(out.skipped, 'stack trace');
        continue;
      }
      // A line a mailer wrapped: join the next ones while that makes an unreadable record readable.
      let text = raw;
      let used = 0;
      let split = splitLine(text);
      let ev = split && split.event in PAYLOADS ? decodePayload(split.event, split.payload) : null;
      let acc = raw;
      for (let k = 1; !ev && k <= MAX_JOIN && i + k < lines; k++) {
        const next = this.line(i + k);
        if (HEADER_RE.test(next) || LOST_RE.test(next) || STACK_RE.test(next)) break;
        // A line that reads on its own starts a record, unless this one is a bare prefix.
        if (split && splitLine(next)) break;
        const piece = next.trimStart();
        // A mailer breaks at a space, or inside a long token: try both joins.
        for (const t of [acc + ' ' + piece, acc + piece]) {
          const s = splitLine(t);
          const e = s && s.event in PAYLOADS ? decodePayload(s.event, s.payload) : null;
          if (e) {
            text = t;
            split = s;
            ev = e;
            used = k;
            break;
          }
        }
        acc = acc + ' ' + piece;
      }
      if (!split) {
        bump(out.skipped, 'not a trace line');
        continue;
      }
      if (!(split.event in PAYLOADS)) {
        bump(out.skipped, split.event);
        this.i += used;
        continue;
      }
      const problem = ev ? rangeProblem(ev) : null;
      if (!ev || problem) {
        bump(out.skipped, `malformed ${split.event}`);
        this.bad ??= {
          line: i + 1,
          message: problem
            ? `${split.event}: ${problem}`
            : `${split.event}: the payload does not read as the kernel prints it`,
        };
        this.i += used;
        continue;
      }
      out.records.push({
        line: i + 1,
        text: text.trim(),
        joined: used,
        task: split.task,
        pid: split.pid,
        cpu: split.cpu,
        ts: split.ts,
        event: split.event,
        ev,
      });
      this.i += used;
    }
    return this.i < lines;
  }

  /** What was read so far (all of it once step() has returned false). */
  result(): TraceRead {
    this.out.firstBad = this.out.records.length === 0 ? this.bad : null;
    return this.out;
  }
}
