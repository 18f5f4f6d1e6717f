// Zapping one shadow page: the pre-series walk from every valid root, or the write through sp->ptep.
import { SC_HANDLED } from '../event-log.ts';
import { handleChangedSpte } from '../handle-changed-spte.ts';
import type { Kvm, Sp } from '../kvm.ts';
import { WARN_ZAP_SP_NOT_PRESENT, WARN_ZAP_SP_ROOT, type ZapStrategy } from '../names.ts';
import { isShadowPresent } from '../spte.ts';
import { kvmTdpMmuZapGfnRange516 } from './zap-gfn-range.ts';

/**
 * mirrors kvm_tdp_mmu_zap_sp() before the series (5.16, inline in tdp_mmu.h): zap the SP's whole GFN
 * range on every valid root, without yielding. An SP under an invalid root is never reached.
 */
export function kvmTdpMmuZapSpWalk(kvm: Kvm, sp: Sp): boolean {
  return kvmTdpMmuZapGfnRange516(kvm, sp.gfn, sp.gfn + sp.span, false);
}

/**
 * mirrors kvm_tdp_mmu_zap_sp() as merged (5.18): read *sp->ptep and write 0 there with the full
 * bookkeeping, whatever root it hangs from, valid or not. The caller flushes.
 */
export function kvmTdpMmuZapSpDirect(kvm: Kvm, sp: Sp): boolean {
  const parent = sp.parent;
  if (!parent) {
    kvm.warn(WARN_ZAP_SP_ROOT, sp);
    return false;
  }
  const i = sp.parentIndex;
  kvm.countRead();
  const oldLo = parent.spt[2 * i] ?? 0;
  const oldHi = parent.spt[2 * i + 1] ?? 0;
  if (!isShadowPresent(oldLo)) {
    kvm.warn(WARN_ZAP_SP_NOT_PRESENT, sp);
    return false;
  }
  kvm.writeSpte(parent, i, 0, 0, SC_HANDLED);
  handleChangedSpte(kvm, parent, i, oldLo, oldHi, 0, 0, false);
  return true;
}

export function kvmTdpMmuZapSp(kvm: Kvm, sp: Sp, strategy: ZapStrategy): boolean {
  kvm.era = strategy === 'walk' ? 'v5.16' : 'v5.18';
  return strategy === 'walk' ? kvmTdpMmuZapSpWalk(kvm, sp) : kvmTdpMmuZapSpDirect(kvm, sp);
}
