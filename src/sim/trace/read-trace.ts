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

/** Lines of any ending: CRLF, LF, or CR alone. */
export const splitLines = (text: string): string[] => text.split(/\r\n|\r|\n/);

/** Whether the text is a trace (some line is one of the events above) rather than a scenario. */
export function looksLikeTrace(text: string): boolean {
  const head = text.length > 1 << 20 ? text.slice(0, 1 << 20) : text;
  // A line that is a comment does not count: a scenario may quote a trace line in one.
  return /^(?![ \t]*#)[^\n]*?(?:^|[\s:])(?:kvm_tdp_mmu_spte_changed|kvm_mmu_set_spte|kvm_mmu_spte_requested|kvm_mmu_split_huge_page):/m.test(
    head,
  );
}

/**
 * The kernel whose SPTE encoding the text uses, cheaply: 6.10+ prints SHADOW_NONPRESENT_VALUE
 * (bit 63) for non-present and frozen SPTEs. (The rebuild decides the same from its records.)
 */
export function traceKernel(text: string): KernelId {
  return /(?:old|new)_spte (?:0x)?800000000000(?:0000|05a0)\b/.test(text) ? '6.18' : '5.18';
}

/** Read a whole trace. Never throws: what it cannot read is counted in `skipped`. */
export function readTrace(text: string): TraceRead {
  const lines = splitLines(text);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const out: TraceRead = {
    records: [],
    skipped: {},
    lostEvents: 0,
    firstBad: null,
    lines: lines.length,
  };
  let bad: { line: number; message: string } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (HEADER_RE.test(raw)) continue;
    const lost = LOST_RE.exec(raw);
    if (lost) {
      const count = dec(lost[2]);
      out.lostEvents += count;
      out.records.push({
        line: i + 1,
        text: raw.trim(),
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
    for (let k = 1; !ev && k <= MAX_JOIN && i + k < lines.length; k++) {
      const next = lines[i + k] ?? '';
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
      i += used;
      continue;
    }
    const problem = ev ? rangeProblem(ev) : null;
    if (!ev || problem) {
      bump(out.skipped, `malformed ${split.event}`);
      bad ??= {
        line: i + 1,
        message: problem
          ? `${split.event}: ${problem}`
          : `${split.event}: the payload does not read as the kernel prints it`,
      };
      i += used;
      continue;
    }
    out.records.push({
      line: i + 1,
      text: text.trim(),
      task: split.task,
      pid: split.pid,
      cpu: split.cpu,
      ts: split.ts,
      event: split.event,
      ev,
    });
    i += used;
  }
  if (out.records.length === 0) out.firstBad = bad;
  return out;
}
