// One run of the NX huge page recovery worker.
import { EV } from '../event-log.ts';
import type { Kvm, Sp } from '../kvm.ts';
import { nxToZap, WARN_NX_HEAD_NOT_DISALLOWED, type ZapStrategy } from '../names.ts';
import type { Op } from '../pause.ts';
import type { KernelProfile } from '../profile.ts';
import { kvmTdpMmuZapSp, zapLock } from './zap-sp.ts';

export interface RecoveryResult {
  toZap: number;
  /** Loop iterations that zapped something (the zap returned true). */
  zapped: number;
  /** Loop iterations spent (an SP the walk cannot reach stays at the head and is picked again). */
  iterations: number;
}

/** The what-ifs: `check: false` drops 6.18's pointer check; `lock: 'read'` runs any zap under the
 * read lock, in 6.18's loop (which unaccounts before it zaps). */
export interface RecoverOptions {
  check: boolean;
  lock: 'read' | 'write';
}

export const recoverDefaults = (strategy: ZapStrategy): RecoverOptions => ({
  check: true,
  lock: zapLock(strategy),
});

/** Not a kernel event: which sp an iteration took and how it went, so the outcome can be told. */
function pick(kvm: Kvm, sp: Sp, ok: boolean): void {
  const root = kvm.sps[sp.rootId];
  kvm.emit(EV.nxRecoverPick, sp.id, ok ? 1 : 0, root?.invalid ? 1 : 0, sp.nxDisallowed ? 1 : 0);
}

/**
 * mirrors kvm_recover_nx_lpages() (5.16 with `walk`, 5.18 with `direct`; mmu_lock held for write)
 * and kvm_recover_nx_huge_pages() on the TDP list (6.18 with `atomic`; mmu_lock held for read):
 * ceil(splits / ratio) SPs from the head of the NX list (the oldest), then one full flush if anything
 * was zapped. 5.x zaps the SP and lets the handler unaccount it; 6.18 unaccounts it first, under
 * tdp_mmu_pages_lock, and then zaps only if the parent still points at it. With `walk`, the 5.16
 * handler also flushes each removed table's range on its own. (No memslot is dirty-logged in the
 * model, so 6.x's "unaccount only" branch for dirty-logged slots is never taken.)
 */
export function* kvmRecoverNxLpages(
  kvm: Kvm,
  p: KernelProfile,
  strategy: ZapStrategy,
  opts: RecoverOptions = recoverDefaults(strategy),
): Op<RecoveryResult> {
  const splits = kvm.nxLpageSplits;
  kvm.race?.read(null, splits, 0);
  const ratio = kvm.config.recoveryRatio;
  const toZap = nxToZap(splits, ratio);
  const unaccountFirst = strategy === 'atomic' || opts.lock === 'read';
  let flush = false;
  let zapped = 0;
  let iterations = 0;
  for (let n = toZap; n > 0; n--) {
    // The head (and 6.18's unaccount) under tdp_mmu_pages_lock.
    if (kvm.race) yield;
    const sp = kvm.nxList.head();
    kvm.race?.read(sp ?? null, sp ? sp.id : -1, 0);
    if (!sp) break;
    iterations++;
    if (!sp.nxDisallowed) kvm.warn(WARN_NX_HEAD_NOT_DISALLOWED, sp);
    if (unaccountFirst) kvm.unaccountNx(sp);
    const ok = yield* kvmTdpMmuZapSp(kvm, p, sp, strategy, opts.check);
    if (ok) {
      flush = true;
      zapped++;
    }
    pick(kvm, sp, ok);
  }
  // kvm_mmu_remote_flush_or_zap(): nothing on the shadow MMU's invalid_list, so a plain full flush.
  if (flush) kvm.flushTlbs();
  return { toZap, zapped, iterations };
}
