// The simulated VM: struct kvm_mmu_page, the roots, the memslots, the NX list, stats and counters,
// and the primitives every operation shares (SPTE reads, the one SPTE write, event emission).
import { NxList } from './nx-list.ts';
import { SortedRanges } from './ranges.ts';
import { EV, EventLog, hi32, lo32, NONE, SC_ATOMIC, SPA_FILLED, SPA_UNKNOWN } from './event-log.ts';
import { pagesPerHpage, PG_LEVEL_1G, SPTE_ENT_PER_PAGE, sptIndex } from './geometry.ts';
import {
  DEFAULT_CONFIG,
  LOCK_MODES,
  statsOf,
  zeroCounters,
  type LockMode,
  type Stats,
  type VmConfig,
} from './names.ts';
import { profileOf, type KernelProfile } from './profile.ts';
import { isLastSpte, isRemovedSpte, isShadowPresent, sptePfn } from './spte.ts';
import { TdpIter } from './tdp-iter.ts';

export interface Memslot {
  id: number;
  baseGfn: number;
  npages: number;
  /** Host backing page size as a level: 1 = 4K, 2 = 2M (THP), 3 = 1G (hugetlbfs). */
  backingLevel: number;
  hostPfnBase: number;
}

/** Host PFNs of page-table pages start here; guest memory is backed far above. */
const TABLE_PFN_BASE = 0x10000;
const GUEST_PFN_BASE = 0x4000000;
/** The largest PFN an SPTE's bits 12..51 can hold. */
const MAX_HOST_PFN = 2 ** 40 - 1;
const GIB_PAGES = pagesPerHpage(PG_LEVEL_1G);

/** struct kvm_mmu_page, the fields the TDP MMU uses. */
export class Sp {
  /** The 512 SPTEs as (lo, hi) int32 pairs. */
  readonly spt = new Int32Array(SPTE_ENT_PER_PAGE * 2);
  /** sp->ptep: the parent table and the index of the SPTE that points here; null for a root. */
  parent: Sp | null = null;
  parentIndex = 0;
  /** role.invalid (roots only). */
  invalid = false;
  /** Invalidations whose zap is still due (roots only): 5.16 takes a reference for each, 5.18
   * queues tdp_mmu_zap_root_work, 6.x sets tdp_mmu_scheduled_root_to_zap. */
  zapQueued = 0;
  /** tdp_mmu_root_count (roots only). */
  rootCount = 0;
  /** On the NX list and counted in nx_lpage_splits (5.x lpage_disallowed; 6.x tracked). */
  nxDisallowed = false;
  /** 6.x nx_huge_page_disallowed: set on every table an NX-restricted fault builds, tracked or not. */
  hugeDisallowed = false;
  /** Position in the FIFO NX list: the event index at which it was accounted. */
  nxSeq = 0;
  /** On kvm->arch.tdp_mmu_pages (or tdp_mmu_roots for a root). */
  linked = false;
  /** The SPTE that pointed here was changed: handle_removed_pt() owns the table from then on. */
  detached = false;
  /** Detached and handed to call_rcu(); freed at the end of the RCU read-side section. */
  rcuPending = false;
  freed = false;

  constructor(
    readonly id: number,
    /** sp->gfn: the first GFN the table covers. */
    readonly gfn: number,
    /** sp->role.level: the level of the SPTEs inside this table. */
    readonly level: number,
    /** The root this table hangs from (itself for a root). */
    readonly rootId: number,
  ) {}

  get pfn(): number {
    return TABLE_PFN_BASE + this.id;
  }

  get isRoot(): boolean {
    return this.rootId === this.id;
  }

  /** GFNs the whole table spans: KVM_PAGES_PER_HPAGE(role.level + 1). */
  get span(): number {
    return pagesPerHpage(this.level + 1);
  }
}

/**
 * What a running race hears from the model; null while statements run one at a time. The actor
 * that runs is the scheduler's business: the model only reports what it read, wrote and freed.
 */
export interface RaceHooks {
  /** The running actor read an SPTE of `sp` (lo, hi), a flag of it (as lo), or with no sp a
   * VM-wide value such as the NX list's head: what it does next depends on it. */
  read(sp: Sp | null, lo: number, hi: number): void;
  /** The running actor cannot go on while `busy()` holds (it yields right after). */
  waitWhile(busy: () => boolean): void;
  /** The running actor asks for mmu_lock (it yields right after; the scheduler grants it). */
  lock(mode: 'read' | 'write'): void;
  unlock(): void;
  /** An SPTE is written: `old` is what was really there, which a plain store may not have read. */
  wrote(sp: Sp, index: number, oldLo: number, oldHi: number, lo: number, hi: number): void;
  /** call_rcu(): the table waits for every actor now inside an RCU read-side section. */
  callRcu(sp: Sp): void;
  /**
   * Whether another actor could touch entry `index` of `sp`: false in a detached table or one under
   * an invalid root (where no fresh vCPU walk goes) that no other actor can reach: not read from by
   * a vCPU walking there for that entry, not a parent of a table on the NX list while recovery runs,
   * and no zapper running. A step there needs no scheduling point of its own.
   */
  contended(sp: Sp, index: number): boolean;
  /** Whether no other actor can touch any table of `root` (an invalid root nobody else walks). */
  privateRoot(root: Sp): boolean;
}

export function spIdFromPfn(pfn: number): number {
  return pfn - TABLE_PFN_BASE;
}

export class Kvm {
  config: VmConfig;
  private _maxGfn: number;
  readonly log = new EventLog();
  /** Every SP ever allocated, by id (ids are never reused, so the log can always name them). */
  readonly sps: Sp[] = [];
  /** kvm->arch.tdp_mmu_roots: newest first, as list_add_rcu() puts them. */
  roots: Sp[] = [];
  /** The vCPU's current root (mmu->root.hpa). */
  /** The root each vCPU runs on, by vCPU index (kvm_mmu_load() fills it). */
  vcpuRoots: (Sp | null)[] = [];
  /** kvm->arch.lpage_disallowed_mmu_pages: accounted at the tail, recovered from the head. */
  readonly nxList = new NxList();
  readonly memslots: Memslot[] = [];
  private readonly slotIndex = new SortedRanges<Memslot>(
    (s) => s.baseGfn,
    (s) => s.baseGfn + s.npages,
  );
  /** Memslot generation: +2 per memslot update (two address spaces on x86). */
  memslotGeneration = 0;
  readonly pages = [0, 0, 0, 0];
  nxLpageSplits = 0;
  readonly counters = zeroCounters();
  /** SPs handed to call_rcu() in the current read-side critical section. */
  readonly rcuList: Sp[] = [];
  /** mmu_lock as the running operation holds it: mmuLock events, or a fault's own fault/faultDone. */
  lockMode: LockMode = 'none';
  private nextHostPfn = GUEST_PFN_BASE;
  private _profile: KernelProfile;
  /** The high word of the SPTE readSpte() or a failed cmpxchgSpte() read last. */
  readHi = 0;
  /** Set while a race runs (see src/sim/race/). */
  race: RaceHooks | null = null;
  /** The iterator a fault walks with outside a race (a million faults, one iterator). */
  readonly faultIter: TdpIter = new TdpIter(this);

  constructor(config: Partial<VmConfig> = {}) {
    this.config = { ...DEFAULT_CONFIG, ...config };
    this._maxGfn = 2 ** (this.config.physBits - 12);
    this._profile = profileOf(this.config.kernel);
  }

  /** The VM's kernel profile: fixed once the paging structure exists (the Simulator enforces it). */
  get profile(): KernelProfile {
    return this._profile;
  }

  get rootLevel(): number {
    return this.config.levels;
  }

  /** Number of GFNs the guest physical address width allows. */
  get maxGfn(): number {
    return this._maxGfn;
  }

  setConfig(config: VmConfig): void {
    this.config = config;
    this._maxGfn = 2 ** (config.physBits - 12);
    this._profile = profileOf(config.kernel);
  }

  /** Take or drop mmu_lock (read_lock()/write_lock()/…_unlock()), as an event the log carries. */
  setLock(mode: LockMode): void {
    if (mode === this.lockMode) return;
    this.emit(EV.mmuLock, LOCK_MODES.indexOf(mode), LOCK_MODES.indexOf(this.lockMode));
    this.lockMode = mode;
  }

  /**
   * The page fault's read lock: its fault and faultDone events already mark where it is taken and
   * dropped, so a million faults cost no extra events.
   */
  faultLock(held: boolean): void {
    this.lockMode = held ? 'read' : 'none';
  }

  stats(): Stats {
    return statsOf(this.pages, this.nxLpageSplits);
  }

  sp(id: number): Sp {
    const sp = this.sps[id];
    if (!sp) throw new RangeError(`no shadow page ${id}`);
    return sp;
  }

  /** spte_to_child_pt(): the table a present non-leaf SPTE points to. */
  childOf(lo: number, hi: number): Sp {
    return this.sp(spIdFromPfn(sptePfn(lo, hi)));
  }

  /**
   * The table at `level` on the path to `gfn` under `root`, or null if the path stops earlier. A
   * lookup for the model's own use (validation, the CPU's walk), not a KVM walk: nothing is counted.
   */
  tableAt(root: Sp, gfn: number, level: number): Sp | null {
    let sp = root;
    while (sp.level > level) {
      const i = sptIndex(gfn, sp.level);
      const lo = sp.spt[2 * i] ?? 0;
      if (!isShadowPresent(lo) || isLastSpte(lo, sp.level)) return null;
      sp = this.childOf(lo, sp.spt[2 * i + 1] ?? 0);
    }
    return sp.level === level ? sp : null;
  }

  // ---- SPTE access -------------------------------------------------------------------------

  /** kvm_tdp_mmu_read_spte(): counted; returns the low word and leaves the high one in readHi. */
  readSpte(sp: Sp, index: number): number {
    this.counters.spte_reads++;
    this.log.pendingReads++;
    const lo = sp.spt[2 * index] ?? 0;
    const hi = sp.spt[2 * index + 1] ?? 0;
    this.readHi = hi;
    if (this.race) this.race.read(sp, lo, hi);
    return lo;
  }

  /** A flag of `sp` that another actor may change (nx_huge_page_disallowed and the like), read. */
  readFlag(sp: Sp, value: boolean): boolean {
    if (this.race) this.race.read(sp, value ? 1 : 0, 0);
    return value;
  }

  /**
   * try_cmpxchg64() on an SPTE: the write happens only if the SPTE still holds what the caller read
   * (expLo, expHi). On failure the current value is left in readHi and the return value's place:
   * it returns null on success, else the current low word.
   */
  cmpxchgSpte(
    sp: Sp,
    index: number,
    expLo: number,
    expHi: number,
    lo: number,
    hi: number,
    flags: number,
  ): number | null {
    const curLo = sp.spt[2 * index] ?? 0;
    const curHi = sp.spt[2 * index + 1] ?? 0;
    if (curLo === expLo && curHi === expHi) {
      this.writeSpte(sp, index, lo, hi, flags);
      return null;
    }
    this.counters.cmpxchg_failed++;
    this.readHi = curHi;
    if (this.race) this.race.read(sp, curLo, curHi);
    this.emit(EV.cmpxchgFailed, sp.id, index | (sp.level << 10), expLo, expHi, curLo, curHi);
    return curLo;
  }

  /**
   * The one place an SPTE changes. Every write (plain store, cmpxchg, xchg, the writes into a
   * not-yet-linked table) comes here and leaves as an spteChanged event {sp, index, old, new}.
   */
  writeSpte(sp: Sp, index: number, lo: number, hi: number, flags: number, origin = 0): void {
    const o = index * 2;
    const oldLo = sp.spt[o] ?? 0;
    const oldHi = sp.spt[o + 1] ?? 0;
    sp.spt[o] = lo;
    sp.spt[o + 1] = hi;
    if (this.race) this.race.wrote(sp, index, oldLo, oldHi, lo, hi);
    const c = this.counters;
    c.spte_writes++;
    if (flags & SC_ATOMIC) c.spte_atomic++;
    if (isRemovedSpte(lo, hi)) c.spte_frozen++;
    this.log.push(
      EV.spteChanged,
      sp.id,
      index | (sp.level << 10) | (flags << 16),
      oldLo,
      oldHi,
      lo,
      hi,
      origin,
    );
  }

  // ---- Events ------------------------------------------------------------------------------

  emit(kind: number, w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0, w7 = 0): number {
    return this.log.push(kind, w1, w2, w3, w4, w5, w6, w7);
  }

  /** kvm_flush_remote_tlbs_with_address(): ranged when pages is given, full otherwise. */
  flushTlbs(gfn?: number, pages?: number): void {
    this.counters.tlb_flushes++;
    if (gfn === undefined || pages === undefined) {
      this.counters.tlb_flushes_full++;
      this.emit(EV.tlbFlush, 0);
    } else {
      this.counters.tlb_flushes_ranged++;
      this.emit(EV.tlbFlush, 1, 0, lo32(gfn), hi32(gfn), lo32(pages), hi32(pages));
    }
  }

  warn(code: number, sp: Sp | null): void {
    this.emit(EV.warn, code, sp ? sp.id : NONE);
  }

  // ---- Shadow pages ------------------------------------------------------------------------

  /**
   * tdp_mmu_alloc_sp() + tdp_mmu_init_sp(): role, gfn and ptep are set before linking. From 6.10 the
   * page cache hands out tables filled with SHADOW_NONPRESENT_VALUE; before, zeroed ones.
   */
  allocSp(
    gfn: number,
    level: number,
    parent: Sp | null,
    parentIndex: number,
    hugeDisallowed = false,
    /** An imported trace implies the table; what it holds is unknown. */
    unknown = false,
  ): Sp {
    const id = this.sps.length;
    const sp = new Sp(id, gfn, level, parent ? parent.rootId : id);
    sp.parent = parent;
    sp.parentIndex = parentIndex;
    sp.hugeDisallowed = hugeDisallowed;
    const fillHi = this._profile.nonPresentHi;
    if (fillHi !== 0) for (let i = 1; i < sp.spt.length; i += 2) sp.spt[i] = fillHi;
    this.sps.push(sp);
    this.counters.sp_allocated++;
    this.emit(
      EV.spAllocated,
      id,
      parent ? parent.id : NONE,
      parentIndex,
      lo32(gfn),
      hi32(gfn),
      level | (fillHi !== 0 ? SPA_FILLED : 0) | (unknown ? SPA_UNKNOWN : 0),
    );
    return sp;
  }

  /** account_huge_nx_page(): nx_lpage_splits +1, onto the tail of the NX list. */
  accountNx(sp: Sp): void {
    if (sp.nxDisallowed) return;
    sp.nxDisallowed = true;
    sp.nxSeq = this.log.length;
    this.nxList.push(sp);
    this.nxLpageSplits++;
    this.emit(EV.nxAccounted, sp.id);
  }

  /** unaccount_huge_nx_page(): nx_lpage_splits -1, off the NX list (6.x: the flag is cleared too). */
  unaccountNx(sp: Sp): void {
    sp.nxDisallowed = false;
    sp.hugeDisallowed = false;
    this.nxList.remove(sp);
    this.nxLpageSplits--;
    this.emit(EV.nxUnaccounted, sp.id, sp.nxSeq);
  }

  /** call_rcu(): the table is freed when the current RCU read-side section ends. */
  callRcu(sp: Sp): void {
    sp.rcuPending = true;
    if (this.race) this.race.callRcu(sp);
    else this.rcuList.push(sp);
  }

  /** The RCU callback: the table's memory goes back. */
  freeSp(sp: Sp): void {
    sp.rcuPending = false;
    sp.freed = true;
    this.counters.sp_freed++;
    this.emit(EV.spFreed, sp.id);
  }

  /** rcu_read_unlock() at the end of an operation: the grace period passes, callbacks run. */
  rcuGracePeriod(): void {
    if (this.rcuList.length === 0) return;
    for (const sp of this.rcuList) this.freeSp(sp);
    this.rcuList.length = 0;
  }

  // ---- Memslots ----------------------------------------------------------------------------

  addMemslot(baseGfn: number, npages: number, backingLevel: number): Memslot {
    const slot: Memslot = {
      id: this.memslots.length,
      baseGfn,
      npages,
      backingLevel,
      // Host memory is 1G-aligned and keeps the guest's offset within 1G, so a huge guest page
      // can always be backed by a huge host page (gfn and pfn agree in their low bits).
      hostPfnBase: this.nextHostPfn,
    };
    const firstFrame = baseGfn - (baseGfn % GIB_PAGES);
    const spanned = baseGfn + npages - firstFrame;
    this.nextHostPfn += Math.ceil(spanned / GIB_PAGES) * GIB_PAGES;
    this.memslots.push(slot);
    this.slotIndex.insert(slot);
    this.memslotGeneration += 2;
    this.emit(
      EV.memslotAdded,
      slot.id,
      0,
      lo32(baseGfn),
      hi32(baseGfn),
      lo32(npages),
      hi32(npages),
      backingLevel,
    );
    return slot;
  }

  /**
   * Whether host memory for a memslot over [baseGfn, baseGfn + npages) still fits the SPTE's
   * 40-bit PFN field (52-bit host physical addresses) after the slots laid out before it.
   */
  hostRoomFor(baseGfn: number, npages: number): boolean {
    const firstFrame = baseGfn - (baseGfn % GIB_PAGES);
    const reserved = Math.ceil((baseGfn + npages - firstFrame) / GIB_PAGES) * GIB_PAGES;
    return this.nextHostPfn + reserved <= MAX_HOST_PFN + 1;
  }

  /** A memslot that [gfn, end) would overlap, if any. */
  overlappingSlot(gfn: number, end: number): Memslot | null {
    return this.slotIndex.overlap(gfn, end) ?? null;
  }

  slotFor(gfn: number): Memslot | null {
    return this.slotIndex.find(gfn) ?? null;
  }

  /** The host PFN backing a GFN (gfn_to_pfn). */
  gfnToPfn(slot: Memslot, gfn: number): number {
    return slot.hostPfnBase + gfn - (slot.baseGfn - (slot.baseGfn % GIB_PAGES));
  }
}
