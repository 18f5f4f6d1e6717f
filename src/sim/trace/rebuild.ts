// The paging structure a trace implies, rebuilt as a run: every traced SPTE change goes through
// Kvm.writeSpte() like the model's own, so the viewer, step-back and stats read it unchanged.
import {
  EV,
  OP_KERNEL_SHIFT,
  VM_FROM_TRACE,
  hi32,
  lo32,
  SC_HANDLED,
  TR_MISMATCH,
  TR_SEEN,
  TR_SPLIT,
  TR_UNFREEZE,
  TR_GONE,
} from '../event-log.ts';
import { pagesPerHpage, SPTE_ENT_PER_PAGE, sptIndex } from '../geometry.ts';
import { Kvm, type Sp } from '../kvm.ts';
import { OPS } from '../names.ts';
import { HI_BIT63, KERNELS, type KernelId } from '../profile.ts';
import {
  fromBig,
  isLastSpte,
  isRemovedSpte,
  isShadowPresent,
  makeSplitSpte,
  sptePfn,
  toBig,
} from '../spte.ts';
import { Mirror } from '../replay.ts';
import { TRACE_KINDS, type TraceRead, type TraceRecord } from './read-trace.ts';

const TRACE_OP = OPS.indexOf('trace');

/** Where one trace record's events sit in the log, and what the trace said. */
export interface TraceSpan {
  line: number;
  event: string;
  text: string;
  /** Whether the record's text joins lines a mailer had wrapped. */
  joined: boolean;
  task: string | null;
  pid: number | null;
  cpu: number | null;
  ts: string | null;
  firstEvent: number;
  endEvent: number;
  /** What the rebuild had to guess for this record, in a sentence (null: nothing). */
  note: string | null;
}

export interface TraceSummary {
  kernel: KernelId;
  levels: 4 | 5;
  spte_changes: number;
  leaves: { '4k': number; '2m': number; '1g': number };
  tables: number;
  roots: number;
  skipped: Record<string, number>;
  lost_events: number;
  /** Changes whose table had to be chosen among several that fit. */
  ambiguous: number;
  /** Changes whose old_spte disagreed with what the trace had shown before (after lost events). */
  mismatches: number;
  /** Tables whose contents were not all known when first met (the trace began after them). */
  inferred_tables: number;
}

/** One table as the rebuild knows it. */
interface Table {
  sp: Sp;
  /** The host PFN the trace names it by; null until a pointer or kvm_mmu_set_spte gives it. */
  pfn: number | null;
  asId: number;
  /** Per entry: whether the trace has shown its value (or the table began in the trace). */
  seen: Uint8Array;
  /** Per entry: whether that value can be trusted (no events were lost since). */
  known: Uint8Array;
  /** Its parent SPTE stopped pointing here: handle_removed_pt() is zapping it, on `owner`. */
  removing: boolean;
  owner: number | null;
  /** Last record that touched it (ties between candidate tables go to the most recent). */
  used: number;
}

const isPointer = (lo: number, level: number) =>
  level > 1 && isShadowPresent(lo) && !isLastSpte(lo, level);

export class TraceRebuild {
  readonly kvm: Kvm;
  readonly spans: TraceSpan[] = [];
  private readonly tables: Table[] = [];
  private readonly byPfn = new Map<number, Table>();
  /** Live tables by as id, level and first GFN. */
  private readonly at = new Map<string, Table[]>();
  private readonly ofSp = new Map<number, Table>();
  /** Tables being torn down (their parent SPTE changed away), not freed yet. */
  private tornDown: Table[] = [];
  /** The table last freed at each as id, level and first GFN. */
  private readonly freedAt = new Map<string, Table>();
  private seq = 0;
  private changes = 0;
  private ambiguous = 0;
  private mismatches = 0;
  private inferred = 0;
  private lost = 0;
  /** The last change per (level, gfn), for kvm_mmu_set_spte's `at` (it follows the change). */
  private lastChange: {
    level: number;
    gfn: number;
    spte: bigint;
    table: Table;
    index: number;
  } | null = null;
  private readonly nonPresentHi: number;

  constructor(
    readonly read: TraceRead,
    readonly levels: 4 | 5,
    readonly kernel: KernelId,
  ) {
    this.kvm = new Kvm({ kernel, levels, nxHugePages: true, physBits: levels === 5 ? 57 : 52 });
    this.nonPresentHi = this.kvm.profile.nonPresentHi;
    const k = this.kvm;
    k.emit(
      EV.opBegin,
      OPS.indexOf('vm'),
      0,
      levels,
      0,
      0,
      0,
      1 |
        VM_FROM_TRACE |
        (k.config.physBits << 8) |
        (1 << 16) |
        (KERNELS.indexOf(kernel) << OP_KERNEL_SHIFT),
    );
    k.emit(EV.opEnd, OPS.indexOf('vm'));
  }

  /** The whole trace, record by record. */
  static of(read: TraceRead): TraceRebuild {
    const r = new TraceRebuild(read, levelsOf(read), kernelOf(read));
    for (const rec of read.records) r.add(rec);
    r.finish();
    return r;
  }

  add(rec: TraceRecord): void {
    const k = this.kvm;
    const first = k.log.length;
    const ev = rec.ev;
    const gfn = 'gfn' in ev ? ev.gfn : ev.kind === 'pageFault' ? Number(ev.address >> 12n) : 0;
    k.emit(
      EV.opBegin,
      TRACE_OP,
      rec.line,
      lo32(gfn),
      hi32(gfn),
      0,
      0,
      TRACE_KINDS.indexOf(ev.kind),
    );
    let note: string | null = null;
    this.seq++;
    switch (ev.kind) {
      case 'spteChanged':
        note = this.change(rec, ev.asId, ev.gfn, ev.level, ev.old, ev.new);
        break;
      case 'setSpte':
        note = this.setSpte(ev.gfn, ev.level, ev.spte, ev.at);
        break;
      case 'getPage':
        if (ev.created && ev.level === this.levels) {
          this.newTable(0, ev.level, 0, null, 0, null, false);
          note = 'a new root: its entries start non-present';
        }
        break;
      case 'lost':
        this.lost += ev.count;
        k.emit(EV.traceLost, ev.cpu, ev.count, rec.line);
        // Anything may have changed meanwhile: what was known is only a guess from here on.
        for (const t of this.tables) if (!t.sp.freed) t.known.fill(0);
        break;
      default:
        break;
    }
    // The record's line again, so its end reads as such in the log.
    k.emit(EV.opEnd, TRACE_OP, 0, rec.line);
    this.spans.push({
      line: rec.line,
      event: rec.event,
      text: rec.text,
      joined: rec.joined > 0,
      task: rec.task,
      pid: rec.pid,
      cpu: rec.cpu,
      ts: rec.ts,
      firstEvent: first,
      endEvent: k.log.length,
      note,
    });
  }

  /** The end of the trace: tables still being torn down are gone by now. */
  finish(): void {
    for (const t of this.tornDown) if (!t.sp.freed) this.free(t);
    this.tornDown = [];
  }

  /** The tables linked at the end (roots among them whether they map anything or not). */
  liveTables(): Sp[] {
    return this.tables.filter((t) => !t.sp.freed && !t.removing).map((t) => t.sp);
  }

  summary(): TraceSummary {
    const live = this.tables.filter((t) => !t.sp.freed && !t.removing);
    const mapping = (t: Table) => {
      for (let i = 0; i < SPTE_ENT_PER_PAGE; i++)
        if (isShadowPresent(t.sp.spt[2 * i] ?? 0)) return true;
      return false;
    };
    const roots = live.filter((t) => t.sp.isRoot && mapping(t));
    // The stats as the viewer counts them: the log replayed.
    const m = new Mirror();
    m.seek(this.kvm.log, this.kvm.log.length);
    const s = m.stats();
    return {
      kernel: this.kernel,
      levels: this.levels,
      spte_changes: this.changes,
      leaves: { '4k': s.pages_4k, '2m': s.pages_2m, '1g': s.pages_1g },
      tables: live.filter((t) => !t.sp.isRoot).length + roots.length,
      roots: roots.length,
      skipped: this.read.skipped,
      lost_events: this.lost,
      ambiguous: this.ambiguous,
      mismatches: this.mismatches,
      inferred_tables: this.inferred,
    };
  }

  // ---- Tables ------------------------------------------------------------------------------

  private key = (asId: number, level: number, base: number) => `${asId}:${level}:${base}`;

  private newTable(
    asId: number,
    level: number,
    base: number,
    parent: Table | null,
    parentIndex: number,
    pfn: number | null,
    unknown: boolean,
  ): Table {
    const sp = this.kvm.allocSp(base, level, parent?.sp ?? null, parentIndex, false, unknown);
    const t: Table = {
      sp,
      pfn,
      asId,
      seen: new Uint8Array(SPTE_ENT_PER_PAGE).fill(unknown ? 0 : 1),
      known: new Uint8Array(SPTE_ENT_PER_PAGE).fill(unknown ? 0 : 1),
      removing: false,
      owner: null,
      used: this.seq,
    };
    if (unknown) this.inferred++;
    this.tables.push(t);
    this.ofSp.set(sp.id, t);
    if (pfn !== null) this.byPfn.set(pfn, t);
    const key = this.key(asId, level, base);
    const list = this.at.get(key);
    if (list) list.push(t);
    else this.at.set(key, [t]);
    sp.linked = true;
    this.kvm.emit(EV.spLinked, sp.id, unknown ? 1 : 0);
    return t;
  }

  /** The table's memory goes back; what it still mapped goes with it (the trace did not show it). */
  private free(t: Table): void {
    const sp = t.sp;
    for (let i = 0; i < SPTE_ENT_PER_PAGE; i++) {
      const lo = sp.spt[2 * i] ?? 0;
      if (!isShadowPresent(lo)) continue;
      const hi = sp.spt[2 * i + 1] ?? 0;
      if (isPointer(lo, sp.level)) {
        const child = this.byPfn.get(sptePfn(lo, hi));
        if (child && !child.sp.freed) this.free(child);
      }
      this.kvm.writeSpte(sp, i, 0, this.nonPresentHi, 0, TR_GONE);
    }
    sp.freed = true;
    sp.linked = false;
    this.kvm.emit(EV.spFreed, sp.id);
    if (t.pfn !== null && this.byPfn.get(t.pfn) === t) this.byPfn.delete(t.pfn);
    const key = this.key(t.asId, sp.level, sp.gfn);
    const list = this.at.get(key);
    if (list) list.splice(list.indexOf(t), 1);
    this.freedAt.set(key, t);
  }

  /** The table a pointer SPTE names, created (contents unknown) the first time the trace shows it. */
  private childFor(parent: Table, index: number, lo: number, hi: number): Table {
    const pfn = sptePfn(lo, hi);
    const known = this.byPfn.get(pfn);
    if (known) return known;
    const level = parent.sp.level - 1;
    const base = parent.sp.gfn + index * pagesPerHpage(parent.sp.level);
    // A table met before its PFN was known, hanging from this entry, is this one.
    const anon = (this.at.get(this.key(parent.asId, level, base)) ?? []).find(
      (t) => t.pfn === null && t.sp.parent === parent.sp && t.sp.parentIndex === index,
    );
    if (anon) {
      anon.pfn = pfn;
      this.byPfn.set(pfn, anon);
      return anon;
    }
    return this.newTable(parent.asId, level, base, parent, index, pfn, true);
  }

  /**
   * The table at `level` holding the SPTE for `gfn` whose value can be `old`: through the PFN chain
   * when `old` points to a known table, else the fitting table (a known equal value beats an
   * unknown one; a known different value rules a table out), else a new one whose contents are
   * unknown. Returns the table and, when several fit, a note saying so.
   */
  private tableFor(
    rec: TraceRecord,
    asId: number,
    gfn: number,
    level: number,
    old: bigint,
  ): { t: Table; note: string | null } {
    const { lo, hi } = fromBig(old);
    if (isPointer(lo, level)) {
      const child = this.byPfn.get(sptePfn(lo, hi));
      const parent = child?.sp.parent ? this.ofSp.get(child.sp.parent.id) : undefined;
      if (parent && !parent.sp.freed && parent.sp.level === level) return { t: parent, note: null };
    }
    const base = gfn - (gfn % pagesPerHpage(level + 1));
    const index = sptIndex(gfn, level);
    let best: Table[] = [];
    let bestScore = 0;
    for (const t of this.at.get(this.key(asId, level, base)) ?? []) {
      if (!this.fits(t, index, old)) continue;
      const known = t.known[index] === 1;
      // handle_removed_pt() runs to its end on one CPU: its table wins for that task; another
      // task's table being torn down loses to a live one.
      const score = (known ? 2 : 1) + (t.removing ? (t.owner === rec.pid ? 4 : 0) : 0.5);
      if (score > bestScore) {
        best = [t];
        bestScore = score;
      } else if (score === bestScore) best.push(t);
    }
    if (best.length > 0) {
      best.sort((a, b) => b.used - a.used);
      const t = best[0] as Table;
      if (best.length === 1) return { t, note: null };
      this.ambiguous++;
      return {
        t,
        note: `${best.length} tables fit this change; the most recently used (sp ${t.sp.id}) was chosen`,
      };
    }
    // A table the trace already tore down, changed again: the traced kernel wrote freed memory.
    const freed = this.freedAt.get(this.key(asId, level, base));
    if (freed && this.fits(freed, index, old)) {
      return {
        t: freed,
        note: `sp ${freed.sp.id} was already torn down: this change is in freed memory`,
      };
    }
    return { t: this.anonymous(asId, level, base), note: null };
  }

  /** Whether entry `index` of `t` can hold `old`: unknown, equal, or frozen (the store after a
   * freeze is not traced on every path). */
  private fits(t: Table, index: number, old: bigint): boolean {
    if (t.known[index] === 0) return true;
    const lo = t.sp.spt[2 * index] ?? 0;
    const hi = t.sp.spt[2 * index + 1] ?? 0;
    return toBig(lo, hi) === old || isRemovedSpte(lo, hi);
  }

  /** A table the trace shows only by what changes in it: parents made up to a root as needed. */
  private anonymous(asId: number, level: number, base: number): Table {
    if (level >= this.levels) return this.newTable(asId, this.levels, 0, null, 0, null, true);
    const pBase = base - (base % pagesPerHpage(level + 2));
    const pIndex = sptIndex(base, level + 1);
    const parents = (this.at.get(this.key(asId, level + 1, pBase)) ?? []).filter(
      (t) => !t.removing && t.seen[pIndex] === 0,
    );
    parents.sort((a, b) => b.used - a.used);
    const parent = parents[0] ?? this.anonymous(asId, level + 1, pBase);
    return this.newTable(asId, level, base, parent, pIndex, null, true);
  }

  // ---- Records -----------------------------------------------------------------------------

  private change(
    rec: TraceRecord,
    asId: number,
    gfn: number,
    level: number,
    old: bigint,
    nu: bigint,
  ): string | null {
    if (level > this.levels) return null;
    this.changes++;
    // Tables this task was tearing down are done once it changes something else.
    const { t, note } = this.tableFor(rec, asId, gfn, level, old);
    if (!t.removing && this.tornDown.length > 0) {
      const mine = this.tornDown.filter((x) => x.owner === rec.pid);
      this.tornDown = this.tornDown.filter((x) => x.owner !== rec.pid);
      for (const x of mine) if (!x.sp.freed) this.free(x);
    }
    t.used = this.seq;
    const index = sptIndex(gfn, level);
    const sp = t.sp;
    const o = fromBig(old);
    const n = fromBig(nu);
    const curLo = sp.spt[2 * index] ?? 0;
    const curHi = sp.spt[2 * index + 1] ?? 0;
    let said = note;
    if (t.seen[index] === 0) {
      // The trace shows this entry for the first time: its old value was there before.
      if (isPointer(o.lo, level)) this.childFor(t, index, o.lo, o.hi);
      this.kvm.writeSpte(sp, index, o.lo, o.hi, 0, TR_SEEN);
      t.seen[index] = 1;
    } else if (curLo !== o.lo || curHi !== o.hi) {
      if (isRemovedSpte(curLo, curHi)) {
        this.kvm.writeSpte(sp, index, o.lo, o.hi, 0, TR_UNFREEZE);
      } else {
        this.mismatches++;
        if (isPointer(o.lo, level)) this.childFor(t, index, o.lo, o.hi);
        this.kvm.writeSpte(sp, index, o.lo, o.hi, 0, TR_MISMATCH);
        said = `old_spte differs from the ${toBig(curLo, curHi).toString(16)} the trace showed before`;
      }
    }
    t.known[index] = 1;
    const oldPtr = isPointer(o.lo, level);
    const newPtr = isPointer(n.lo, level);
    const samePtr = oldPtr && newPtr && sptePfn(o.lo, o.hi) === sptePfn(n.lo, n.hi);
    if (newPtr && !samePtr) {
      const pfn = sptePfn(n.lo, n.hi);
      const reused = this.byPfn.get(pfn);
      if (reused) this.free(reused);
      const base = sp.gfn + index * pagesPerHpage(level);
      const child = this.newTable(asId, level - 1, base, t, index, pfn, false);
      if (isShadowPresent(o.lo) && isLastSpte(o.lo, level)) this.split(child, o.lo, o.hi, level);
      this.kvm.writeSpte(sp, index, n.lo, n.hi, SC_HANDLED, 0);
      if (isShadowPresent(o.lo) && isLastSpte(o.lo, level))
        this.kvm.emit(EV.splitStats, child.sp.id);
    } else {
      this.kvm.writeSpte(sp, index, n.lo, n.hi, SC_HANDLED, 0);
    }
    if (oldPtr && !samePtr) {
      const gone = this.byPfn.get(sptePfn(o.lo, o.hi));
      if (gone && !gone.removing) {
        gone.removing = true;
        gone.owner = rec.pid;
        this.tornDown.push(gone);
        gone.sp.linked = false;
        this.kvm.emit(EV.spUnlinked, gone.sp.id);
      }
    }
    // tdp_mmu_zap_spte_atomic() writes non-present right after a traced freeze, without a trace.
    if (isRemovedSpte(n.lo, n.hi) && !t.removing) {
      const npHi = n.hi < 0 ? HI_BIT63 : this.nonPresentHi;
      this.kvm.writeSpte(sp, index, 0, npHi, 0, TR_UNFREEZE);
    }
    this.lastChange = { level, gfn, spte: nu, table: t, index };
    return said;
  }

  /** make_huge_page_split_spte() for each child: the split's writes are not traced. */
  private split(child: Table, lo: number, hi: number, level: number): void {
    const out = { lo: 0, hi: 0 };
    for (let i = 0; i < SPTE_ENT_PER_PAGE; i++) {
      const c = makeSplitSpte(lo, hi, level, i, true, out);
      this.kvm.writeSpte(child.sp, i, c.lo, c.hi, 0, TR_SPLIT);
    }
  }

  /** kvm_mmu_set_spte names the SPTE's physical address: the table it sits in gets its PFN. */
  private setSpte(gfn: number, level: number, spte: bigint, at: bigint): string | null {
    const last = this.lastChange;
    if (!last || last.level !== level || last.spte !== spte || last.gfn !== gfn) return null;
    const pfn = Number(at >> 12n);
    const index = Number((at & 0xfffn) >> 3n);
    if (index !== last.index) return `the SPTE's address names entry ${index}, not ${last.index}`;
    const t = last.table;
    if (t.pfn === null) {
      const other = this.byPfn.get(pfn);
      if (other && other !== t) return `PFN ${pfn.toString(16)} is already sp ${other.sp.id}`;
      t.pfn = pfn;
      this.byPfn.set(pfn, t);
      return `sp ${t.sp.id} is the table at PFN ${pfn.toString(16)}`;
    }
    return t.pfn === pfn
      ? null
      : `the trace puts this SPTE in PFN ${pfn.toString(16)}, not ${t.pfn.toString(16)}`;
  }
}

/** 5-level paging when any record names level 5. */
export function levelsOf(read: TraceRead): 4 | 5 {
  return read.records.some((r) => 'level' in r.ev && r.ev.level === 5) ? 5 : 4;
}

/** 6.10+ when a non-present or frozen SPTE carries bit 63 (SHADOW_NONPRESENT_VALUE), else 5.18. */
export function kernelOf(read: TraceRead): KernelId {
  // The same rule as traceKernel(), on the records.
  for (const r of read.records) {
    if (r.ev.kind !== 'spteChanged') continue;
    for (const v of [r.ev.old, r.ev.new]) {
      const lo = Number(v & 0xffffffffn) | 0;
      if (v >> 63n === 1n && !isShadowPresent(lo)) return '6.18';
    }
  }
  return '5.18';
}
