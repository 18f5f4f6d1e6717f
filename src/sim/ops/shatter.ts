// Splitting a huge leaf into a table of 512 smaller leaves that map the same memory.
import { EV } from '../event-log.ts';
import { pagesPerHpage, roundGfnForLevel, SPTE_ENT_PER_PAGE, sptIndex } from '../geometry.ts';
import type { Kvm, Sp } from '../kvm.ts';
import { drain, type Op } from '../pause.ts';
import type { KernelProfile } from '../profile.ts';
import { isLargePte, isShadowPresent, makeSplitSpte, type Spte } from '../spte.ts';
import { TdpIter } from '../tdp-iter.ts';
import { tdpMmuAllocChildSp, tdpMmuLinkSp } from './map.ts';

const scratch: Spte = { lo: 0, hi: 0 };

/**
 * mirrors tdp_mmu_split_huge_page(): fill the new table while nobody can see it, link it in place of
 * the huge SPTE (the huge leaf's stat drops through the bookkeeping), then add 512 at the level
 * below by hand. No TLB flush: the translations do not change. False when the link lost a race.
 */
export function* tdpMmuSplitHugePage(
  kvm: Kvm,
  p: KernelProfile,
  it: TdpIter,
  sp: Sp,
  shared: boolean,
): Op<boolean> {
  const hugeLo = it.oldLo;
  const hugeHi = it.oldHi;
  const level = it.level;
  for (let i = 0; i < SPTE_ENT_PER_PAGE; i++) {
    const c = makeSplitSpte(hugeLo, hugeHi, level, i, kvm.config.nxHugePages, scratch);
    kvm.writeSpte(sp, i, c.lo, c.hi, 0);
  }
  if (!(yield* tdpMmuLinkSp(kvm, p, it, sp, false, shared))) return false;
  kvm.pages[level - 1] = (kvm.pages[level - 1] ?? 0) + SPTE_ENT_PER_PAGE;
  kvm.emit(EV.splitStats, sp.id);
  return true;
}

/**
 * mirrors tdp_mmu_split_huge_pages_root() as kvm_tdp_mmu_try_split_huge_pages() runs it on every
 * valid root, over the one huge page at `level` that maps `gfn`, with target_level = level - 1.
 * Returns how many huge pages were split.
 */
export function kvmTdpMmuSplitHugePage(
  kvm: Kvm,
  p: KernelProfile,
  gfn: number,
  level: number,
): number {
  const start = roundGfnForLevel(gfn, level);
  const end = start + pagesPerHpage(level);
  let split = 0;
  for (const root of kvm.roots.filter((r) => !r.invalid)) {
    const it = new TdpIter(kvm);
    for (it.start(root, level, start); it.valid && it.gfn < end; it.next()) {
      it.visit();
      if (!isShadowPresent(it.oldLo) || !isLargePte(it.oldLo)) continue;
      drain(tdpMmuSplitHugePage(kvm, p, it, tdpMmuAllocChildSp(kvm, it), true));
      split++;
    }
  }
  return split;
}

/** Whether some valid root maps `gfn` with a huge leaf at exactly `level` (checked before splitting). */
export function hugeLeafAt(kvm: Kvm, gfn: number, level: number): boolean {
  return kvm.roots.some((root) => {
    const t = root.invalid ? null : kvm.tableAt(root, gfn, level);
    if (!t) return false;
    const lo = t.spt[2 * sptIndex(gfn, level)] ?? 0;
    return isShadowPresent(lo) && isLargePte(lo);
  });
}
