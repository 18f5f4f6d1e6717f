// Freeing a page table that was cut out of the paging structure.
import { EV, SC_ATOMIC, SC_HANDLED, SC_SHARED } from '../event-log.ts';
import { pagesPerHpage, SPTE_ENT_PER_PAGE } from '../geometry.ts';
import { spteChanged } from '../handle-changed-spte.ts';
import type { Kvm, Sp } from '../kvm.ts';
import type { Op } from '../pause.ts';
import type { KernelProfile } from '../profile.ts';
import { isRemovedSpte, isShadowPresent, REMOVED_SPTE_LO } from '../spte.ts';

/**
 * mirrors tdp_mmu_unlink_sp(): off tdp_mmu_pages and, if accounted, off the NX list. (6.x clears
 * nx_huge_page_disallowed even when the table was never tracked.)
 */
function tdpMmuUnlinkSp(kvm: Kvm, sp: Sp): void {
  sp.linked = false;
  kvm.emit(EV.spUnlinked, sp.id);
  if (kvm.readFlag(sp, sp.nxDisallowed)) kvm.unaccountNx(sp);
  sp.hugeDisallowed = false;
}

/**
 * mirrors handle_removed_pt() (5.18, 6.x) / handle_removed_tdp_mmu_page() (5.16): every entry goes
 * to REMOVED_SPTE / FROZEN_SPTE with its own bookkeeping (recursing into grandchildren), then
 * call_rcu(). Shared: all 512 entries are exchanged; exclusive: only the shadow-present ones are
 * written. The 5.16 handler also flushes the table's GFN range here; later kernels leave the flush
 * to the caller.
 */
export function* handleRemovedPt(kvm: Kvm, p: KernelProfile, sp: Sp, shared: boolean): Op<void> {
  const level = sp.level;
  const step = pagesPerHpage(level);
  // Under tdp_mmu_pages_lock, which the recovery worker takes too.
  if (kvm.race) yield;
  tdpMmuUnlinkSp(kvm, sp);
  const spt = sp.spt;
  const flags = SC_HANDLED | (shared ? SC_ATOMIC | SC_SHARED : 0);
  const frozenHi = kvm.profile.nonPresentHi;
  for (let i = 0; i < SPTE_ENT_PER_PAGE; i++) {
    if (kvm.race?.contended(sp, i)) yield;
    let oldLo: number;
    let oldHi: number;
    if (shared) {
      // The xchg reads what it replaces; an entry someone else froze is spun on until they are done.
      oldLo = spt[2 * i] ?? 0;
      oldHi = spt[2 * i + 1] ?? 0;
      while (kvm.race && isRemovedSpte(oldLo, oldHi)) {
        kvm.race.waitWhile(() => isRemovedSpte(spt[2 * i] ?? 0, spt[2 * i + 1] ?? 0));
        yield;
        oldLo = spt[2 * i] ?? 0;
        oldHi = spt[2 * i + 1] ?? 0;
      }
      kvm.race?.read(sp, oldLo, oldHi);
    } else {
      oldLo = kvm.readSpte(sp, i);
      oldHi = kvm.readHi;
      if (!isShadowPresent(oldLo)) continue;
      // A plain store after the read: under the write lock nobody can write in between.
      if (kvm.race?.contended(sp, i)) yield;
    }
    kvm.writeSpte(sp, i, REMOVED_SPTE_LO, frozenHi, flags);
    const cut = spteChanged(kvm, sp, i, oldLo, oldHi, REMOVED_SPTE_LO, frozenHi);
    if (cut) yield* handleRemovedPt(kvm, p, cut, shared);
  }
  if (p.removedPtFlush) kvm.flushTlbs(sp.gfn, step * SPTE_ENT_PER_PAGE);
  kvm.callRcu(sp);
}
