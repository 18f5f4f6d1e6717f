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
import {
  isLastSpte,
  isLargePte,
  isRemovedSpte,
  isShadowPresent,
  makeLeafSpte,
  makeMmioSpte,
  makeNonLeafSpte,
  REMOVED_SPTE_LO,
  type Spte,
} from '../spte.ts';
import { TdpIter } from '../tdp-iter.ts';

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
}

const SHARED_SET = SC_HANDLED | SC_ATOMIC | SC_SHARED;
const scratch: Spte = { lo: 0, hi: 0 };

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

/** mirrors disallowed_hugepage_adjust() (5.18: any child table at the goal level forces a step down). */
export function disallowedHugepageAdjust(fault: KvmPageFault, lo: number, level: number): void {
  if (level > PG_LEVEL_4K && level === fault.goalLevel && isShadowPresent(lo) && !isLargePte(lo)) {
    fault.goalLevel--;
  }
}

/** mirrors tdp_mmu_set_spte_atomic() + its bookkeeping (no contention in the model: never fails). */
function tdpMmuSetSpteAtomic(kvm: Kvm, it: TdpIter, lo: number, hi: number): void {
  kvm.writeSpte(it.sp, it.index, lo, hi, SHARED_SET);
  handleChangedSpte(kvm, it.sp, it.index, it.oldLo, it.oldHi, lo, hi, true);
}

/** mirrors tdp_mmu_zap_spte_atomic(): freeze, bookkeeping, ranged flush, then a plain write of 0. */
export function tdpMmuZapSpteAtomic(kvm: Kvm, it: TdpIter): void {
  tdpMmuSetSpteAtomic(kvm, it, REMOVED_SPTE_LO, 0);
  kvm.flushTlbs(it.gfn, pagesPerHpage(it.level));
  kvm.writeSpte(it.sp, it.index, 0, 0, 0);
}

/** mirrors tdp_mmu_link_sp(): install the non-leaf SPTE, add to tdp_mmu_pages, maybe account NX. */
export function tdpMmuLinkSp(
  kvm: Kvm,
  it: TdpIter,
  sp: Sp,
  accountNx: boolean,
  shared: boolean,
): void {
  const spte = makeNonLeafSpte(sp.pfn, scratch);
  if (shared) {
    tdpMmuSetSpteAtomic(kvm, it, spte.lo, spte.hi);
  } else {
    kvm.writeSpte(it.sp, it.index, spte.lo, spte.hi, SC_HANDLED);
    handleChangedSpte(kvm, it.sp, it.index, it.oldLo, it.oldHi, spte.lo, spte.hi, false);
  }
  sp.linked = true;
  kvm.emit(EV.spLinked, sp.id);
  if (accountNx) kvm.accountNx(sp);
}

/** mirrors tdp_mmu_init_child_sp(): role.level - 1, gfn and ptep from the iterator. */
export function tdpMmuAllocChildSp(kvm: Kvm, it: TdpIter): Sp {
  return kvm.allocSp(it.gfn, it.level - 1, it.sp, it.index);
}

/** mirrors tdp_mmu_map_handle_target_level(). */
function tdpMmuMapHandleTargetLevel(kvm: Kvm, fault: KvmPageFault, it: TdpIter): number {
  const level = it.level;
  let ret = RET_PF_FIXED;
  const spte = fault.slot
    ? makeLeafSpte(
        kvm.gfnToPfn(fault.slot, roundGfnForLevel(fault.gfn, level)),
        level,
        kvm.config.nxHugePages,
        true,
        scratch,
      )
    : makeMmioSpte(it.gfn, kvm.memslotGeneration, scratch);
  const { lo, hi } = spte;
  if (lo === it.oldLo && hi === it.oldHi) {
    ret = RET_PF_SPURIOUS;
  } else {
    const replacedTable = isShadowPresent(it.oldLo) && !isLastSpte(it.oldLo, level);
    tdpMmuSetSpteAtomic(kvm, it, lo, hi);
    // 5.18 flushes the whole span of the table holding the SPTE, sp->gfn for level + 1.
    if (replacedTable) kvm.flushTlbs(it.sp.gfn, pagesPerHpage(level + 1));
  }
  // An MMIO SPTE means the access itself must be emulated.
  if (!fault.slot) ret = RET_PF_EMULATE;
  if (ret !== RET_PF_SPURIOUS) kvm.counters.pf_fixed++;
  else kvm.counters.pf_spurious++;
  return ret;
}

/** mirrors kvm_tdp_mmu_map(): walk from the vCPU's root towards fault.gfn, building what is missing. */
export function kvmTdpMmuMap(kvm: Kvm, root: Sp, fault: KvmPageFault): number {
  kvmMmuHugepageAdjust(fault);
  const it = new TdpIter(kvm);
  const end = fault.gfn + 1;
  for (it.start(root, PG_LEVEL_4K, fault.gfn); it.valid && it.gfn < end; it.next()) {
    it.visit();
    if (fault.nxHugePageWorkaroundEnabled) disallowedHugepageAdjust(fault, it.oldLo, it.level);
    if (it.level === fault.goalLevel) break;

    // A huge SPTE above the goal level is zapped and replaced by a table (5.18; 6.2 splits instead).
    if (isShadowPresent(it.oldLo) && isLargePte(it.oldLo)) {
      tdpMmuZapSpteAtomic(kvm, it);
      it.reread();
    }

    if (!isShadowPresent(it.oldLo)) {
      const accountNx = fault.hugePageDisallowed && fault.reqLevel >= it.level;
      if (isRemovedSpte(it.oldLo, it.oldHi)) break;
      const sp = tdpMmuAllocChildSp(kvm, it);
      tdpMmuLinkSp(kvm, it, sp, accountNx, true);
    }
  }
  if (it.level !== fault.goalLevel || isRemovedSpte(it.oldLo, it.oldHi)) return RET_PF_RETRY;
  return tdpMmuMapHandleTargetLevel(kvm, fault, it);
}
