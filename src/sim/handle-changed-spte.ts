// Bookkeeping after an SPTE changed: page stats, and freeing a subtree that was cut off.
import { pagesPerHpage } from './geometry.ts';
import type { Kvm, Sp } from './kvm.ts';
import { WARN_NONLEAF_PFN_CHANGED, WARN_NONPRESENT_CHANGE } from './names.ts';
import { handleRemovedPt } from './ops/handle-removed-pt.ts';
import type { KernelProfile } from './profile.ts';
import { isLastSpte, isMmioSpte, isRemovedSpte, isShadowPresent, sptePfn } from './spte.ts';

/** mirrors __handle_changed_spte(); `sp`/`index` locate the SPTE, whose level is sp.level. */
export function handleChangedSpte(
  kvm: Kvm,
  p: KernelProfile,
  sp: Sp,
  index: number,
  oldLo: number,
  oldHi: number,
  newLo: number,
  newHi: number,
  shared: boolean,
): void {
  const level = sp.level;
  const wasPresent = isShadowPresent(oldLo);
  const isPresent = isShadowPresent(newLo);
  const wasLeaf = wasPresent && isLastSpte(oldLo, level);
  const isLeaf = isPresent && isLastSpte(newLo, level);
  const pfnChanged = sptePfn(oldLo, oldHi) !== sptePfn(newLo, newHi);

  if (wasLeaf && isLeaf && pfnChanged) {
    const gfn = sp.gfn + index * pagesPerHpage(level);
    throw new Error(`BUG: present leaf for gfn 0x${gfn.toString(16)} changed its PFN in place`);
  }
  if (oldLo === newLo && oldHi === newHi) return;

  if (!wasPresent && !isPresent) {
    if (!isMmioSpte(oldLo) && !isMmioSpte(newLo) && !isRemovedSpte(newLo, newHi)) {
      kvm.warn(WARN_NONPRESENT_CHANGE, sp);
    }
    return;
  }

  if (isLeaf !== wasLeaf) kvm.pages[level] = (kvm.pages[level] ?? 0) + (isLeaf ? 1 : -1);

  if (wasPresent && !wasLeaf) {
    const removed = isLeaf || !isPresent;
    if (!removed && pfnChanged) kvm.warn(WARN_NONLEAF_PFN_CHANGED, sp);
    if (removed || pfnChanged) handleRemovedPt(kvm, p, kvm.childOf(oldLo, oldHi), shared);
  }
}
