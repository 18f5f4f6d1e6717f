// Freeing a page table that was cut out of the paging structure.
import { EV, SC_ATOMIC, SC_HANDLED, SC_SHARED } from '../event-log.ts';
import { pagesPerHpage, SPTE_ENT_PER_PAGE } from '../geometry.ts';
import { handleChangedSpte } from '../handle-changed-spte.ts';
import type { Kvm, Sp } from '../kvm.ts';
import { isShadowPresent, REMOVED_SPTE_LO } from '../spte.ts';

/** mirrors tdp_mmu_unlink_sp(): off tdp_mmu_pages, and unaccounted if it was NX-accounted. */
function tdpMmuUnlinkSp(kvm: Kvm, sp: Sp): void {
  sp.linked = false;
  kvm.emit(EV.spUnlinked, sp.id);
  if (sp.nxDisallowed) kvm.unaccountNx(sp);
}

/**
 * mirrors handle_removed_pt() (5.18) / handle_removed_tdp_mmu_page() (5.16): every entry goes to
 * REMOVED_SPTE with its own bookkeeping (recursing into grandchildren), then call_rcu(). Shared:
 * all 512 entries are exchanged; exclusive: only the shadow-present ones are written. 5.16 also
 * flushes the table's GFN range right here; 5.18 leaves the flush to the caller.
 */
export function handleRemovedPt(kvm: Kvm, sp: Sp, shared: boolean): void {
  const level = sp.level;
  const step = pagesPerHpage(level);
  tdpMmuUnlinkSp(kvm, sp);
  const spt = sp.spt;
  const flags = SC_HANDLED | (shared ? SC_ATOMIC | SC_SHARED : 0);
  for (let i = 0; i < SPTE_ENT_PER_PAGE; i++) {
    const oldLo = spt[2 * i] ?? 0;
    const oldHi = spt[2 * i + 1] ?? 0;
    if (!shared) {
      kvm.countRead();
      if (!isShadowPresent(oldLo)) continue;
    }
    kvm.writeSpte(sp, i, REMOVED_SPTE_LO, 0, flags);
    handleChangedSpte(kvm, sp, i, oldLo, oldHi, REMOVED_SPTE_LO, 0, shared);
  }
  if (kvm.era === 'v5.16') kvm.flushTlbs(sp.gfn, step * SPTE_ENT_PER_PAGE);
  kvm.callRcu(sp);
}
