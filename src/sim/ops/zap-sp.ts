// Zapping one shadow page: 5.16's walk from every valid root, 5.18's store through sp->ptep, and
// 6.18's cmpxchg through sp->ptep under the read lock.
import { SC_ATOMIC, SC_HANDLED, SC_SHARED } from '../event-log.ts';
import { handleChangedSpte } from '../handle-changed-spte.ts';
import type { Kvm, Sp } from '../kvm.ts';
import {
  WARN_ZAP_SP_CMPXCHG_FAILED,
  WARN_ZAP_SP_NOT_PRESENT,
  WARN_ZAP_SP_ROOT,
  type ZapStrategy,
} from '../names.ts';
import type { Op } from '../pause.ts';
import { withZapPath, type KernelProfile } from '../profile.ts';
import { isLastSpte, isShadowPresent, sptePfn } from '../spte.ts';
import { kvmTdpMmuZapGfnRange516 } from './zap-gfn-range.ts';

/**
 * mirrors kvm_tdp_mmu_zap_sp() before the series (5.16, inline in tdp_mmu.h): zap the SP's whole GFN
 * range on every valid root, without yielding. An SP under an invalid root is never reached.
 */
export function kvmTdpMmuZapSpWalk(kvm: Kvm, p: KernelProfile, sp: Sp): boolean {
  return kvmTdpMmuZapGfnRange516(kvm, p, sp.gfn, sp.gfn + sp.span, false);
}

/** *sp->ptep read once (counted), or null with the WARN for a root, which has no parent entry. */
function* readPtep(kvm: Kvm, sp: Sp): Op<{ parent: Sp; i: number; lo: number; hi: number } | null> {
  const parent = sp.parent;
  if (!parent) {
    kvm.warn(WARN_ZAP_SP_ROOT, sp);
    return null;
  }
  const i = sp.parentIndex;
  if (kvm.race) yield;
  const lo = kvm.readSpte(parent, i);
  return { parent, i, lo, hi: kvm.readHi };
}

/** spte_to_child_pt() == sp->spt: the SPTE is present, not a leaf, and names this table. */
const pointsAt = (lo: number, hi: number, level: number, sp: Sp): boolean =>
  isShadowPresent(lo) && !isLastSpte(lo, level) && sptePfn(lo, hi) === sp.pfn;

/**
 * mirrors kvm_tdp_mmu_zap_sp() as merged (5.18): read *sp->ptep and store the non-present value
 * there with the full bookkeeping, whatever root it hangs from, valid or not. The caller flushes.
 * The bookkeeping trusts the value read: under the write lock nothing can change it meanwhile.
 */
export function* kvmTdpMmuZapSpDirect(kvm: Kvm, p: KernelProfile, sp: Sp): Op<boolean> {
  const e = yield* readPtep(kvm, sp);
  if (!e) return false;
  if (!isShadowPresent(e.lo)) {
    kvm.warn(WARN_ZAP_SP_NOT_PRESENT, sp);
    return false;
  }
  const np = kvm.profile.nonPresentHi;
  if (kvm.race) yield;
  kvm.writeSpte(e.parent, e.i, 0, np, SC_HANDLED);
  yield* handleChangedSpte(kvm, p, e.parent, e.i, e.lo, e.hi, 0, np, false);
  return true;
}

/**
 * mirrors kvm_tdp_mmu_zap_possible_nx_huge_page() (6.18, mmu_lock held for read): read *sp->ptep and
 * zap only if it still points at this sp's table (which also means present and not frozen), by
 * cmpxchg to the non-present value; the bookkeeping runs shared, so all 512 entries of the table are
 * exchanged to FROZEN_SPTE. A parent that no longer points here is skipped without a WARN: under the
 * read lock a vCPU may have replaced the table meanwhile. `check: false` is the what-if without the
 * pointer check. The caller flushes.
 */
export function* kvmTdpMmuZapSpAtomic(
  kvm: Kvm,
  p: KernelProfile,
  sp: Sp,
  check = true,
): Op<boolean> {
  const e = yield* readPtep(kvm, sp);
  if (!e) return false;
  if (check && !pointsAt(e.lo, e.hi, e.parent.level, sp)) return false;
  const np = kvm.profile.nonPresentHi;
  if (kvm.race) yield;
  const flags = SC_HANDLED | SC_ATOMIC | SC_SHARED;
  const cur = kvm.cmpxchgSpte(e.parent, e.i, e.lo, e.hi, 0, np, flags);
  if (cur !== null) {
    // Non-leaf SPTEs only get zapped or replaced, so one that changed cannot still point here.
    if (pointsAt(cur, kvm.readHi, e.parent.level, sp)) kvm.warn(WARN_ZAP_SP_CMPXCHG_FAILED, sp);
    return false;
  }
  yield* handleChangedSpte(kvm, p, e.parent, e.i, e.lo, e.hi, 0, np, true);
  return true;
}

export function* kvmTdpMmuZapSp(
  kvm: Kvm,
  p: KernelProfile,
  sp: Sp,
  strategy: ZapStrategy,
  check = true,
): Op<boolean> {
  const q = withZapPath(p, strategy);
  if (strategy === 'walk') return kvmTdpMmuZapSpWalk(kvm, q, sp);
  if (strategy === 'direct') return yield* kvmTdpMmuZapSpDirect(kvm, q, sp);
  return yield* kvmTdpMmuZapSpAtomic(kvm, q, sp, check);
}

/** The mmu_lock mode each zap path runs under. */
export const zapLock = (strategy: ZapStrategy): 'read' | 'write' =>
  strategy === 'atomic' ? 'read' : 'write';
