// Bookkeeping after an SPTE changed: page stats, and freeing a subtree that was cut off.
import { pagesPerHpage } from './geometry.ts';
import type { Kvm, Sp } from './kvm.ts';
import { WARN_NONLEAF_PFN_CHANGED, WARN_NONPRESENT_CHANGE } from './names.ts';
import { handleRemovedPt } from './ops/handle-removed-pt.ts';
import { drain, type Op } from './pause.ts';
import type { KernelProfile } from './profile.ts';
import { isLastSpte, isMmioSpte, isRemovedSpte, isShadowPresent, sptePfn } from './spte.ts';

/**
 * mirrors __handle_changed_spte() up to the teardown: the checks and the page stats; returns the
 * child table the change cut off, for handleRemovedPt(). `sp`/`index` locate the SPTE.
 */
export function spteChanged(
  kvm: Kvm,
  sp: Sp,
  index: number,
  oldLo: number,
  oldHi: number,
  newLo: number,
  newHi: number,
): Sp | null {
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
  if (oldLo === newLo && oldHi === newHi) return null;

  if (!wasPresent && !isPresent) {
    if (!isMmioSpte(oldLo) && !isMmioSpte(newLo) && !isRemovedSpte(newLo, newHi)) {
      kvm.warn(WARN_NONPRESENT_CHANGE, sp);
    }
    return null;
  }

  if (isLeaf !== wasLeaf) kvm.pages[level] = (kvm.pages[level] ?? 0) + (isLeaf ? 1 : -1);

  if (wasPresent && !wasLeaf) {
    const removed = isLeaf || !isPresent;
    if (!removed && pfnChanged) kvm.warn(WARN_NONLEAF_PFN_CHANGED, sp);
    if (removed || pfnChanged) {
      const child = kvm.childOf(oldLo, oldHi);
      child.detached = true;
      return child;
    }
  }
  return null;
}

/** mirrors __handle_changed_spte(), the teardown of a cut-off table included. */
export function* handleChangedSpte(
  kvm: Kvm,
  p: KernelProfile,
  sp: Sp,
  index: number,
  oldLo: number,
  oldHi: number,
  newLo: number,
  newHi: number,
  shared: boolean,
): Op<void> {
  const cut = spteChanged(kvm, sp, index, oldLo, oldHi, newLo, newHi);
  if (cut) yield* handleRemovedPt(kvm, p, cut, shared);
}

/** handleChangedSpte() run to its end: the writer holds the write lock or runs alone. */
export function handleChangedSpteNow(
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
  const cut = spteChanged(kvm, sp, index, oldLo, oldHi, newLo, newHi);
  if (cut) drain(handleRemovedPt(kvm, p, cut, shared));
}
