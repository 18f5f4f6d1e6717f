// The TDP page-fault path: choosing the mapping level, then walking and building the tables.
import { EV, SC_ATOMIC, SC_HANDLED, SC_SHARED } from '../event-log.ts';
import {
  KVM_MAX_HUGEPAGE_LEVEL,
  pagesPerHpage,
  PG_LEVEL_4K,
  roundGfnForLevel,
} from '../geometry.ts';
import { handleChangedSpte, spteChanged } from '../handle-changed-spte.ts';
import { handleRemovedPt } from './handle-removed-pt.ts';
import type { Kvm, Memslot, Sp } from '../kvm.ts';
import { RET_PF_EMULATE, RET_PF_FIXED, RET_PF_RETRY, RET_PF_SPURIOUS } from '../names.ts';
import type { Op } from '../pause.ts';
import type { KernelProfile } from '../profile.ts';
import {
  BIT_R,
  isExecutable,
  isLastSpte,
  isLargePte,
  isRemovedSpte,
  isShadowPresent,
  isWritable,
  makeLeafSpte,
  makeMmioSpte,
  makeNonLeafSpte,
  REMOVED_SPTE_LO,
  type LeafRules,
  type Spte,
} from '../spte.ts';
import { iterNext, TdpIter } from '../tdp-iter.ts';
import { tdpMmuSplitHugePage } from './shatter.ts';

/** struct kvm_page_fault, the fields the TDP MMU reads. */
export interface KvmPageFault {
  gfn: number;
  exec: boolean;
  write: boolean;
  slot: Memslot | null;
  maxLevel: number;
  reqLevel: number;
  goalLevel: number;
  hugePageDisallowed: boolean;
  nxHugePageWorkaroundEnabled: boolean;
  /** An MMIO SPTE was installed (the 6.x pf_mmio_spte_created stat). */
  mmioSpteCreated: boolean;
  /** The walk met a frozen SPTE (the model's frozen_seen). */
  frozenSeen: boolean;
}

const SHARED_SET = SC_HANDLED | SC_ATOMIC | SC_SHARED;
const scratch: Spte = { lo: 0, hi: 0 };
// Filled per fault, not allocated: the fault path runs a million times in the benchmark.
const leafRules: LeafRules = {
  nxHugePages: false,
  hostWritable: true,
  presentHi: 0,
  dirtyOverWritable: false,
};

/**
 * mirrors kvm_mmu_max_mapping_level(): the largest level whose aligned frame lies wholly inside the
 * memslot (lpage_info's disallow_lpage marks the partial first and last frames), capped by the host
 * backing page size (host_pfn_mapping_level).
 */
export function kvmMmuMaxMappingLevel(slot: Memslot, gfn: number, maxLevel: number): number {
  let level = Math.min(maxLevel, KVM_MAX_HUGEPAGE_LEVEL);
  for (; level > PG_LEVEL_4K; level--) {
    const start = roundGfnForLevel(gfn, level);
    if (start >= slot.baseGfn && start + pagesPerHpage(level) <= slot.baseGfn + slot.npages) break;
  }
  if (level === PG_LEVEL_4K) return PG_LEVEL_4K;
  return Math.min(slot.backingLevel, level);
}

/** mirrors kvm_mmu_hugepage_adjust(). */
export function kvmMmuHugepageAdjust(fault: KvmPageFault): void {
  fault.hugePageDisallowed = fault.exec && fault.nxHugePageWorkaroundEnabled;
  if (fault.maxLevel === PG_LEVEL_4K) return;
  // A fault with no memslot has an error/noslot PFN: it stays at 4K.
  if (!fault.slot) return;
  fault.reqLevel = kvmMmuMaxMappingLevel(fault.slot, fault.gfn, fault.maxLevel);
  if (fault.reqLevel === PG_LEVEL_4K || fault.hugePageDisallowed) return;
  fault.goalLevel = fault.reqLevel;
}

/**
 * mirrors disallowed_hugepage_adjust(): a table at the goal level forces a step down. Before 6.2 any
 * table does; from 6.2 only one whose sp has nx_huge_page_disallowed.
 */
export function disallowedHugepageAdjust(
  kvm: Kvm,
  p: KernelProfile,
  fault: KvmPageFault,
  lo: number,
  hi: number,
  level: number,
): void {
  if (level > PG_LEVEL_4K && level === fault.goalLevel && isShadowPresent(lo) && !isLargePte(lo)) {
    if (!p.adjustNeedsNxChild) fault.goalLevel--;
    else {
      const child = kvm.childOf(lo, hi);
      if (kvm.readFlag(child, child.hugeDisallowed)) fault.goalLevel--;
    }
  }
}

/**
 * mirrors tdp_mmu_set_spte_atomic() + its bookkeeping: false, with iter->old_spte refreshed, when
 * the SPTE is no longer what the iterator read (only another actor in a race can change it) or
 * when it is frozen, which only its owner may change.
 */
export function* tdpMmuSetSpteAtomic(
  kvm: Kvm,
  p: KernelProfile,
  it: TdpIter,
  lo: number,
  hi: number,
  /** false: no other actor can see this SPTE, so the cmpxchg needs no scheduling point. */
  point = true,
): Op<boolean> {
  if (isRemovedSpte(it.oldLo, it.oldHi)) return false;
  if (kvm.race && point) yield;
  const cur = kvm.cmpxchgSpte(it.sp, it.index, it.oldLo, it.oldHi, lo, hi, SHARED_SET);
  if (cur !== null) {
    it.oldLo = cur;
    it.oldHi = kvm.readHi;
    return false;
  }
  const cut = spteChanged(kvm, it.sp, it.index, it.oldLo, it.oldHi, lo, hi);
  if (cut) yield* handleRemovedPt(kvm, p, cut, true);
  return true;
}

/**
 * mirrors tdp_mmu_zap_spte_atomic() (5.x): freeze, bookkeeping, ranged flush, then a raw write of
 * the non-present value that needs no bookkeeping. False when the freeze lost a race.
 */
export function* tdpMmuZapSpteAtomic(kvm: Kvm, p: KernelProfile, it: TdpIter): Op<boolean> {
  const np = kvm.profile.nonPresentHi;
  if (!(yield* tdpMmuSetSpteAtomic(kvm, p, it, REMOVED_SPTE_LO, np))) return false;
  kvm.flushTlbs(it.gfn, pagesPerHpage(it.level));
  if (kvm.race) yield;
  kvm.writeSpte(it.sp, it.index, 0, np, 0);
  return true;
}

/**
 * mirrors tdp_mmu_link_sp(): install the non-leaf SPTE, add to tdp_mmu_pages, maybe account NX (5.x
 * does it here). False when the shared install lost a race.
 */
export function* tdpMmuLinkSp(
  kvm: Kvm,
  p: KernelProfile,
  it: TdpIter,
  sp: Sp,
  accountNx: boolean,
  shared: boolean,
): Op<boolean> {
  const { lo, hi } = makeNonLeafSpte(sp.pfn, kvm.profile.presentHi, scratch);
  if (shared) {
    if (!(yield* tdpMmuSetSpteAtomic(kvm, p, it, lo, hi))) return false;
  } else {
    kvm.writeSpte(it.sp, it.index, lo, hi, SC_HANDLED);
    yield* handleChangedSpte(kvm, p, it.sp, it.index, it.oldLo, it.oldHi, lo, hi, false);
  }
  sp.linked = true;
  kvm.emit(EV.spLinked, sp.id);
  if (accountNx) kvm.accountNx(sp);
  return true;
}

/**
 * 6.x: track_possible_nx_huge_page() after the link, under tdp_mmu_pages_lock, and only if the sp
 * still has nx_huge_page_disallowed (a zap may have unlinked it since).
 */
function* trackPossibleNxHugePage(kvm: Kvm, sp: Sp): Op<void> {
  if (kvm.race) yield;
  if (kvm.readFlag(sp, sp.hugeDisallowed)) kvm.accountNx(sp);
}

/** mirrors tdp_mmu_init_child_sp(): role.level - 1, gfn and ptep from the iterator. */
export function tdpMmuAllocChildSp(kvm: Kvm, it: TdpIter, hugeDisallowed = false): Sp {
  return kvm.allocSp(it.gfn, it.level - 1, it.sp, it.index, hugeDisallowed);
}

/** is_access_allowed(): the present leaf already grants what the fault asks for. */
function accessAllowed(fault: KvmPageFault, lo: number): boolean {
  if (fault.exec) return isExecutable(lo);
  if (fault.write) return isWritable(lo);
  return (lo & BIT_R) !== 0;
}

/** mirrors tdp_mmu_map_handle_target_level(). */
function* tdpMmuMapHandleTargetLevel(
  kvm: Kvm,
  p: KernelProfile,
  fault: KvmPageFault,
  it: TdpIter,
): Op<number> {
  const level = it.level;
  // 6.13+: a present leaf that already permits the access is left alone.
  if (
    p.spuriousIfPermitted &&
    isShadowPresent(it.oldLo) &&
    isLastSpte(it.oldLo, level) &&
    accessAllowed(fault, it.oldLo)
  ) {
    return RET_PF_SPURIOUS;
  }
  let ret = RET_PF_FIXED;
  leafRules.nxHugePages = kvm.config.nxHugePages;
  leafRules.presentHi = kvm.profile.presentHi;
  leafRules.dirtyOverWritable = p.dirtyOverWritable;
  const spte = fault.slot
    ? makeLeafSpte(
        kvm.gfnToPfn(fault.slot, roundGfnForLevel(fault.gfn, level)),
        level,
        it.oldLo,
        leafRules,
        scratch,
      )
    : makeMmioSpte(it.gfn, kvm.memslotGeneration, scratch);
  const { lo, hi } = spte;
  if (lo === it.oldLo && hi === it.oldHi) {
    ret = RET_PF_SPURIOUS;
  } else {
    const replacedTable = isShadowPresent(it.oldLo) && !isLastSpte(it.oldLo, level);
    if (!(yield* tdpMmuSetSpteAtomic(kvm, p, it, lo, hi))) return RET_PF_RETRY;
    // 5.18 flushes the span of the table holding the SPTE; 6.x the SPTE's own span; 5.16 nothing
    // here, because its handler flushed the removed table's range already.
    if (replacedTable && p.hugeOverTableFlush === 'table') {
      kvm.flushTlbs(it.sp.gfn, pagesPerHpage(level + 1));
    } else if (replacedTable && p.hugeOverTableFlush === 'spte') {
      kvm.flushTlbs(it.gfn, pagesPerHpage(level));
    }
  }
  // An MMIO SPTE means the access itself must be emulated.
  if (!fault.slot) {
    ret = RET_PF_EMULATE;
    fault.mmioSpteCreated = true;
  }
  return ret;
}

/** mirrors kvm_tdp_mmu_map(): walk from the vCPU's root towards fault.gfn, building what is missing. */
export function* kvmTdpMmuMap(
  kvm: Kvm,
  p: KernelProfile,
  root: Sp,
  fault: KvmPageFault,
): Op<number> {
  kvmMmuHugepageAdjust(fault);
  // One statement at a time, faults never overlap: the VM's own iterator serves them all.
  const it = kvm.race ? new TdpIter(kvm) : kvm.faultIter;
  const end = fault.gfn + 1;
  if (kvm.race) yield;
  for (
    it.start(root, PG_LEVEL_4K, fault.gfn);
    it.valid && it.gfn < end;
    kvm.race ? yield* iterNext(it) : it.next()
  ) {
    it.visit();
    if (fault.nxHugePageWorkaroundEnabled) {
      disallowedHugepageAdjust(kvm, p, fault, it.oldLo, it.oldHi, it.level);
    }
    // A frozen SPTE belongs to someone else: retry the fault.
    if (isRemovedSpte(it.oldLo, it.oldHi)) {
      fault.frozenSeen = true;
      return RET_PF_RETRY;
    }
    if (it.level === fault.goalLevel) break;
    const present = isShadowPresent(it.oldLo);
    if (present && !isLargePte(it.oldLo)) continue;

    const accountNx = fault.hugePageDisallowed && fault.reqLevel >= it.level;
    // 6.x tracks the NX table after linking it; 5.x accounts it inside tdp_mmu_link_sp().
    const track = accountNx && p.adjustNeedsNxChild;
    if (present && p.splitOnFault) {
      // 6.2+: the huge leaf above the goal level is split in place into a table of its pieces.
      const sp = tdpMmuAllocChildSp(kvm, it, fault.hugePageDisallowed);
      if (!(yield* tdpMmuSplitHugePage(kvm, p, it, sp, true))) return retryFreeing(kvm, sp);
      if (accountNx) yield* trackPossibleNxHugePage(kvm, sp);
      continue;
    }
    if (present) {
      // 5.x: the huge leaf is zapped and replaced by a table.
      if (!(yield* tdpMmuZapSpteAtomic(kvm, p, it))) return RET_PF_RETRY;
      if (kvm.race) yield;
      it.reread();
      // Someone else installed an SPTE meanwhile: go on with what is there.
      if (isShadowPresent(it.oldLo)) continue;
    }
    const sp = tdpMmuAllocChildSp(kvm, it, p.adjustNeedsNxChild && fault.hugePageDisallowed);
    if (!(yield* tdpMmuLinkSp(kvm, p, it, sp, accountNx && !track, true))) {
      return retryFreeing(kvm, sp);
    }
    if (track) yield* trackPossibleNxHugePage(kvm, sp);
  }
  if (it.level !== fault.goalLevel) return RET_PF_RETRY;
  return yield* tdpMmuMapHandleTargetLevel(kvm, p, fault, it);
}

/** tdp_mmu_free_sp() on a table that never got linked, and the fault is retried. */
function retryFreeing(kvm: Kvm, sp: Sp): number {
  kvm.freeSp(sp);
  return RET_PF_RETRY;
}
