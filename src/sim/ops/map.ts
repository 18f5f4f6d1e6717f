// The TDP page-fault path: choosing the mapping level, then walking and building the tables.
import { EV, SC_ATOMIC, SC_HANDLED, SC_SHARED } from '../event-log.ts';
import {
  KVM_MAX_HUGEPAGE_LEVEL,
  pagesPerHpage,
  PG_LEVEL_4K,
  roundGfnForLevel,
} from '../geometry.ts';
import { handleChangedSpte } from '../handle-changed-spte.ts';
import type { Kvm, Memslot, Sp } from '../kvm.ts';
import { RET_PF_EMULATE, RET_PF_FIXED, RET_PF_RETRY, RET_PF_SPURIOUS } from '../names.ts';
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
import { TdpIter } from '../tdp-iter.ts';
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
    if (!p.adjustNeedsNxChild || kvm.childOf(lo, hi).hugeDisallowed) fault.goalLevel--;
  }
}

/** mirrors tdp_mmu_set_spte_atomic() + its bookkeeping (no contention in the model: never fails). */
export function tdpMmuSetSpteAtomic(
  kvm: Kvm,
  p: KernelProfile,
  it: TdpIter,
  lo: number,
  hi: number,
): void {
  kvm.writeSpte(it.sp, it.index, lo, hi, SHARED_SET);
  handleChangedSpte(kvm, p, it.sp, it.index, it.oldLo, it.oldHi, lo, hi, true);
}

/**
 * mirrors tdp_mmu_zap_spte_atomic() (5.x): freeze, bookkeeping, ranged flush, then a raw write of
 * the non-present value that needs no bookkeeping.
 */
export function tdpMmuZapSpteAtomic(kvm: Kvm, p: KernelProfile, it: TdpIter): void {
  const np = kvm.profile.nonPresentHi;
  tdpMmuSetSpteAtomic(kvm, p, it, REMOVED_SPTE_LO, np);
  kvm.flushTlbs(it.gfn, pagesPerHpage(it.level));
  kvm.writeSpte(it.sp, it.index, 0, np, 0);
}

/** mirrors tdp_mmu_link_sp(): install the non-leaf SPTE, add to tdp_mmu_pages, maybe account NX. */
export function tdpMmuLinkSp(
  kvm: Kvm,
  p: KernelProfile,
  it: TdpIter,
  sp: Sp,
  accountNx: boolean,
  shared: boolean,
): void {
  const spte = makeNonLeafSpte(sp.pfn, kvm.profile.presentHi, scratch);
  if (shared) {
    tdpMmuSetSpteAtomic(kvm, p, it, spte.lo, spte.hi);
  } else {
    kvm.writeSpte(it.sp, it.index, spte.lo, spte.hi, SC_HANDLED);
    handleChangedSpte(kvm, p, it.sp, it.index, it.oldLo, it.oldHi, spte.lo, spte.hi, false);
  }
  sp.linked = true;
  kvm.emit(EV.spLinked, sp.id);
  if (accountNx) kvm.accountNx(sp);
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
function tdpMmuMapHandleTargetLevel(
  kvm: Kvm,
  p: KernelProfile,
  fault: KvmPageFault,
  it: TdpIter,
): number {
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
    tdpMmuSetSpteAtomic(kvm, p, it, lo, hi);
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
export function kvmTdpMmuMap(kvm: Kvm, p: KernelProfile, root: Sp, fault: KvmPageFault): number {
  kvmMmuHugepageAdjust(fault);
  const it = new TdpIter(kvm);
  const end = fault.gfn + 1;
  for (it.start(root, PG_LEVEL_4K, fault.gfn); it.valid && it.gfn < end; it.next()) {
    it.visit();
    if (fault.nxHugePageWorkaroundEnabled) {
      disallowedHugepageAdjust(kvm, p, fault, it.oldLo, it.oldHi, it.level);
    }
    // A frozen SPTE belongs to someone else: retry the fault.
    if (isRemovedSpte(it.oldLo, it.oldHi)) return RET_PF_RETRY;
    if (it.level === fault.goalLevel) break;
    const present = isShadowPresent(it.oldLo);
    if (present && !isLargePte(it.oldLo)) continue;

    const accountNx = fault.hugePageDisallowed && fault.reqLevel >= it.level;
    if (present && p.splitOnFault) {
      // 6.2+: the huge leaf above the goal level is split in place into a table of its pieces.
      const sp = tdpMmuAllocChildSp(kvm, it, fault.hugePageDisallowed);
      tdpMmuSplitHugePage(kvm, p, it, sp, true);
      if (accountNx) kvm.accountNx(sp);
      continue;
    }
    if (present) {
      // 5.x: the huge leaf is zapped and replaced by a table.
      tdpMmuZapSpteAtomic(kvm, p, it);
      it.reread();
    }
    const sp = tdpMmuAllocChildSp(kvm, it, p.adjustNeedsNxChild && fault.hugePageDisallowed);
    tdpMmuLinkSp(kvm, p, it, sp, accountNx, true);
  }
  if (it.level !== fault.goalLevel) return RET_PF_RETRY;
  return tdpMmuMapHandleTargetLevel(kvm, p, fault, it);
}
