// Marking every root invalid, and zapping the invalidated roots later: the window between the two
// is where a vCPU may still run on an old root and where zap_sp can reach SPs the walk cannot.
import { EV } from '../event-log.ts';
import type { Kvm } from '../kvm.ts';
import { kvmTdpMmuGetRoot, kvmTdpMmuPutRoot, tdpMmuZapRoot } from './roots.ts';

/**
 * mirrors kvm_tdp_mmu_invalidate_all_roots() (5.18): take a reference on each valid root, set
 * role.invalid and queue it for zapping. Nothing is zapped yet; vCPUs reload before re-entering.
 */
export function kvmTdpMmuInvalidateAllRoots(kvm: Kvm): number {
  let n = 0;
  for (const root of kvm.roots) {
    if (root.invalid || !kvmTdpMmuGetRoot(kvm, root)) continue;
    root.invalid = true;
    root.zapQueued = true;
    kvm.emit(EV.rootInvalidated, root.id);
    n++;
  }
  return n;
}

/**
 * mirrors kvm_tdp_mmu_zap_invalidated_roots() (5.18: flush the zap workqueue): each queued root is
 * zapped under the read lock (tdp_mmu_zap_root_work) and the invalidation's reference is put.
 */
export function kvmTdpMmuZapInvalidatedRoots(kvm: Kvm): number {
  let n = 0;
  for (const root of [...kvm.roots]) {
    if (!root.zapQueued) continue;
    root.zapQueued = false;
    tdpMmuZapRoot(kvm, root, true);
    kvmTdpMmuPutRoot(kvm, root);
    n++;
  }
  return n;
}
