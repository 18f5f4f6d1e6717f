// What an operation did, told from its own events: the CPU walk's result, RET_PF_*, what a zap
// returned, what the recovery worker took. Nothing here assumes an event that did not happen.
import { decodeEvent, opArgs, type SimEvent, type SpLookup, type WordSource } from './events.ts';
import { hex, levelName } from './geometry.ts';
import { ACCESS_RESULTS, type OpName } from './names.ts';
import { fromBig, spteKind } from './spte.ts';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** One recovery loop iteration: the sp it took from the NX list head and what became of it. */
export interface RecoveryPick {
  sp: number;
  root: number;
  returned: boolean;
  rootInvalid: boolean;
  stillListed: boolean;
}

/** What a run of kvm_recover_nx_lpages() did. */
export interface RecoveryOutcome {
  toZap: number;
  zapped: number;
  iterations: number;
  picks: RecoveryPick[];
}

/** Counts over an operation's events. */
export interface OpTally {
  op: OpName | null;
  sptesChanged: number;
  tablesAllocated: number;
  tablesFreed: number;
  rootsVisited: Set<number>;
  faults: SimEvent[];
  picks: RecoveryPick[];
  /** The last opEnd in the span (an access_range holds one per page). */
  end: Extract<SimEvent, { type: 'opEnd' }> | null;
  begin: Extract<SimEvent, { type: 'opBegin' }> | null;
  opEnds: Extract<SimEvent, { type: 'opEnd' }>[];
  warns: string[];
  zappedSptes: Extract<SimEvent, { type: 'spteChanged' }>[];
  /** REMOVED_SPTE / FROZEN_SPTE written by a shared (read-lock) or an exclusive teardown. */
  frozenShared: number;
  frozenExclusive: number;
}

/** What an SPTE value is (spte.ts's classifier, over the decoded bigint). */
const kindOf = (v: bigint, level: number) => {
  const s = fromBig(v);
  return spteKind(s.lo, s.hi, level);
};

export function tallyOp(src: WordSource, spOf: SpLookup, first: number, end: number): OpTally {
  const t: OpTally = {
    op: null,
    sptesChanged: 0,
    tablesAllocated: 0,
    tablesFreed: 0,
    rootsVisited: new Set(),
    faults: [],
    picks: [],
    end: null,
    begin: null,
    opEnds: [],
    warns: [],
    zappedSptes: [],
    frozenShared: 0,
    frozenExclusive: 0,
  };
  for (let i = first; i < end; i++) {
    const e = decodeEvent(src, i, spOf);
    switch (e.type) {
      case 'opBegin':
        if (!t.begin) t.begin = e;
        t.op = e.op;
        break;
      case 'opEnd':
        t.end = e;
        t.opEnds.push(e);
        break;
      case 'spteChanged': {
        t.sptesChanged++;
        t.rootsVisited.add(e.root);
        const now = kindOf(e.new, e.level);
        const was = kindOf(e.old, e.level);
        if (e.handled && now === 'none' && (was === 'leaf' || was === 'table')) {
          t.zappedSptes.push(e);
        }
        if (now === 'removed') {
          if (e.shared) t.frozenShared++;
          else t.frozenExclusive++;
        }
        break;
      }
      case 'iterStep':
        t.rootsVisited.add(e.root);
        break;
      case 'spAllocated':
        t.tablesAllocated++;
        break;
      case 'spFreed':
        t.tablesFreed++;
        break;
      case 'faultDone':
        t.faults.push(e);
        break;
      case 'nxRecoverPick':
        t.picks.push({
          sp: e.sp,
          root: spOf(e.sp).rootId,
          returned: e.returned,
          rootInvalid: e.rootInvalid,
          stillListed: e.stillListed,
        });
        break;
      case 'warn':
        t.warns.push(e.message);
        break;
      default:
        break;
    }
  }
  return t;
}

export function recoveryOutcome(t: OpTally): RecoveryOutcome | null {
  if (t.op !== 'recover_nx' || !t.end) return null;
  return {
    toZap: t.end.extra,
    zapped: t.end.result & 0xffff,
    iterations: t.end.result >>> 16,
    picks: t.picks,
  };
}

function faultWords(f: SimEvent): string {
  if (f.type !== 'faultDone') return '';
  const mapped =
    f.ret === 'RET_PF_FIXED' ? `: gfn ${hex(f.gfn)} mapped at ${levelName(f.goalLevel)}` : '';
  return `kvm_tdp_page_fault() returned ${f.ret}${mapped}`;
}

function changes(t: OpTally): string {
  const parts = [plural(t.sptesChanged, 'SPTE change')];
  if (t.tablesAllocated) parts.push(plural(t.tablesAllocated, 'table') + ' allocated');
  if (t.tablesFreed) parts.push(plural(t.tablesFreed, 'table') + ' freed');
  return parts.join(', ');
}

function accessOutcome(t: OpTally, spOf: SpLookup): string {
  const end = t.end;
  if (!end) return '';
  const result = ACCESS_RESULTS[end.result];
  const fault = t.faults[0];
  if (result === 'violation' && fault)
    return `EPT violation → ${faultWords(fault)} (${changes(t)})`;
  const where = end.extra === 0xffffffff ? 'the entry' : `sp ${end.extra}[${end.extra2}]`;
  if (result === 'misconfig')
    return `EPT misconfig: ${where} is an MMIO SPTE of the current generation; the access is emulated, no fault`;
  const level = end.extra === 0xffffffff ? null : spOf(end.extra).level;
  const leaf = level === null ? 'a leaf' : `a ${levelName(level)} leaf`;
  return `no exit: the CPU's walk found ${leaf} at ${where} that permits the access`;
}

function rangeOutcome(t: OpTally): string {
  const n = t.opEnds.length;
  const exits = t.faults.length;
  const by = new Map<string, number>();
  for (const f of t.faults) if (f.type === 'faultDone') by.set(f.ret, (by.get(f.ret) ?? 0) + 1);
  const rets = [...by].map(([ret, k]) => `${k.toLocaleString('en-US')} ${ret}`).join(', ');
  const fmt = (v: number) => v.toLocaleString('en-US');
  const exitText = exits === 0 ? 'no EPT violation' : `${fmt(exits)} EPT violations (${rets})`;
  return `${fmt(n)} accesses: ${exitText}, ${fmt(n - exits)} without an exit (${changes(t)})`;
}

function recoverText(r: RecoveryOutcome): string {
  if (r.toZap === 0) return 'to_zap = 0: nothing to recover, nothing zapped';
  const head = `to_zap = ${r.toZap}: ${plural(r.iterations, 'iteration')}, ${r.zapped} returned true`;
  if (r.picks.length === 0) return `${head}; the NX list was empty`;
  const picks = r.picks.map((p) => {
    // 6.18 unaccounts first, so an sp off the list was not necessarily zapped.
    if (!p.stillListed && !p.returned)
      return `sp ${p.sp} unaccounted, not zapped (its parent SPTE no longer points at it)`;
    if (!p.stillListed) return `sp ${p.sp} zapped`;
    const why = p.rootInvalid
      ? `it hangs under root sp ${p.root}, which is invalid`
      : `it hangs under root sp ${p.root}`;
    return `sp ${p.sp} not reached (${why}${p.returned ? '; other SPTEs in its range were zapped' : ''})`;
  });
  // Repeated picks of one unreachable sp read as one phrase with a count.
  const merged: string[] = [];
  for (const p of picks) {
    const last = merged.at(-1);
    if (last && (last === p || last.startsWith(`${p} (×`))) {
      const k = last === p ? 2 : Number(/\(×(\d+)\)$/.exec(last)?.[1] ?? '1') + 1;
      merged[merged.length - 1] = `${p} (×${k})`;
    } else merged.push(p);
  }
  return `${head}: ${merged.join('; ')}`;
}

function zapSpOutcome(t: OpTally): string {
  const end = t.end;
  const begin = t.begin;
  if (!end || !begin) return '';
  const ret = end.result === 1 ? 'true' : 'false';
  const strategy = opArgs('zap_sp', begin.c).strategy;
  if (strategy === 'direct' || strategy === 'atomic') {
    const z = t.zappedSptes[0];
    if (end.result !== 1 || !z) {
      const why =
        t.warns[0] ??
        (strategy === 'atomic'
          ? `*sp->ptep no longer points at sp ${begin.b}; nothing written`
          : 'nothing was zapped');
      return `returned false: ${why}`;
    }
    const how = strategy === 'atomic' ? 'cmpxchg' : 'store';
    return `returned true: *sp->ptep (sp ${z.sp}[${z.index}]) ${hex(z.old)} → ${hex(z.new)} by ${how}; ${changes(t)}`;
  }
  const roots = t.rootsVisited.size;
  return `returned ${ret}: the walk visited ${plural(roots, 'root')}; ${changes(t)}`;
}

/** Longer operations are not tallied on the page: one frame could not afford the scan. */
export const MAX_TALLY_EVENTS = 200_000;

/** One line on what the operation of events [first, end) did; null for the setup statements. */
export function outcomeLine(
  src: WordSource,
  spOf: SpLookup,
  kind: string,
  first: number,
  end: number,
): string | null {
  if (end - first > MAX_TALLY_EVENTS) {
    return `${(end - first).toLocaleString('en-US')} events: too many to tally here; the stats show the result`;
  }
  const t = tallyOp(src, spOf, first, end);
  if (!t.end) return null;
  switch (kind) {
    case 'access':
      return accessOutcome(t, spOf);
    case 'access_range':
      return rangeOutcome(t);
    case 'fault': {
      const f = t.faults[0];
      return f ? `${faultWords(f)} (${changes(t)})` : null;
    }
    case 'recover_nx': {
      const r = recoveryOutcome(t);
      return r ? recoverText(r) : null;
    }
    case 'zap_sp':
      return zapSpOutcome(t);
    case 'zap_gfn_range':
      return `returned ${t.end.result === 1 ? 'flush' : 'no flush'}: ${changes(t)}`;
    case 'shatter':
      return `split ${plural(t.end.result, 'huge leaf', 'huge leaves')} (one per valid root that maps it): ${changes(t)}`;
    case 'invalidate_roots':
      return `${plural(t.end.result, 'root')} marked invalid; nothing zapped`;
    case 'zap_invalidated_roots':
      return `${plural(t.end.result, 'invalidated root')} zapped: ${changes(t)}`;
    default:
      return null;
  }
}
