// One run of the NX huge page recovery worker.
import { EV } from '../event-log.ts';
import type { Kvm } from '../kvm.ts';
import { WARN_NX_HEAD_NOT_DISALLOWED, type ZapStrategy } from '../names.ts';
import { kvmTdpMmuZapSp } from './zap-sp.ts';

export interface RecoveryResult {
  toZap: number;
  /** Loop iterations that zapped something (kvm_tdp_mmu_zap_sp() returned true). */
  zapped: number;
  /** Loop iterations spent (an SP the walk cannot reach stays at the head and is picked again). */
  iterations: number;
}

/**
 * mirrors kvm_recover_nx_lpages() (5.16 with `walk`, 5.18 with `direct`): zap ceil(splits / ratio)
 * SPs from the head of the NX list (the oldest), then one full flush if anything was zapped. With
 * `walk`, the 5.16 handler also flushes each removed table's range on its own.
 */
export function kvmRecoverNxLpages(kvm: Kvm, strategy: ZapStrategy): RecoveryResult {
  const splits = kvm.nxLpageSplits;
  const ratio = kvm.config.recoveryRatio;
  const toZap = ratio ? Math.ceil(splits / ratio) : 0;
  let flush = false;
  let zapped = 0;
  let iterations = 0;
  for (let n = toZap; n > 0; n--) {
    const sp = kvm.nxList[0];
    if (!sp) break;
    iterations++;
    if (!sp.nxDisallowed) kvm.warn(WARN_NX_HEAD_NOT_DISALLOWED, sp);
    const ok = kvmTdpMmuZapSp(kvm, sp, strategy);
    if (ok) {
      flush = true;
      zapped++;
    }
    // Not a kernel event: it records which sp this iteration took, so the outcome can be told.
    const root = kvm.sps[sp.rootId];
    kvm.emit(EV.nxRecoverPick, sp.id, ok ? 1 : 0, root?.invalid ? 1 : 0, sp.nxDisallowed ? 1 : 0);
  }
  // kvm_mmu_remote_flush_or_zap(): nothing on the shadow MMU's invalid_list, so a plain full flush.
  if (flush) kvm.flushTlbs();
  return { toZap, zapped, iterations };
}
