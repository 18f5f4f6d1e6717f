// Marking every root invalid, and zapping the invalidated roots later: the window between the two
// is where a vCPU may still run on an old root and where zap_sp can reach SPs the walk cannot.
import { EV } from '../event-log.ts';
import type { Kvm } from '../kvm.ts';
import type { KernelProfile } from '../profile.ts';
import type { Op } from '../pause.ts';
import { tdpMmuZapAllShared516 } from './zap-gfn-range.ts';
import { kvmTdpMmuGetRoot, kvmTdpMmuPutRoot, tdpMmuZapRoot } from './roots.ts';

function markInvalid(kvm: Kvm, root: { id: number; invalid: boolean }): void {
  if (root.invalid) return;
  root.invalid = true;
  kvm.emit(EV.rootInvalidated, root.id);
}

/**
 * mirrors kvm_tdp_mmu_invalidate_all_roots() under the write lock. 5.16: take a reference on every
 * live root (invalid ones again) and set role.invalid. 5.18: take a reference on each valid root,
 * set role.invalid and queue its zap. 6.x: set role.invalid and tdp_mmu_scheduled_root_to_zap; no
 * reference (the TDP MMU's own is gifted to the zap). Nothing is zapped yet.
 */
export function kvmTdpMmuInvalidateAllRoots(kvm: Kvm, p: KernelProfile): number {
  let n = 0;
  for (const root of kvm.roots) {
    if (p.roots === '6.18') {
      if (root.invalid) continue;
    } else if ((p.roots === '5.18' && root.invalid) || !kvmTdpMmuGetRoot(kvm, root)) {
      continue;
    }
    markInvalid(kvm, root);
    root.zapQueued++;
    n++;
  }
  return n;
}

/**
 * mirrors kvm_tdp_mmu_zap_invalidated_roots() under the read lock: each root with a zap due is
 * zapped and the invalidation's reference is put. 5.16 zaps with zap_gfn_range(0, -1) in shared mode
 * (an atomic zap with a ranged flush per top-level SPTE); 5.18 flushes the workqueue whose work runs
 * tdp_mmu_zap_root(); 6.x zaps each scheduled root in four passes.
 */
export function* kvmTdpMmuZapInvalidatedRoots(kvm: Kvm, p: KernelProfile): Op<number> {
  let n = 0;
  if (p.roots === '6.18') {
    // for_each_tdp_mmu_root_yield_safe() holds a reference on each root while it looks at it.
    for (const root of [...kvm.roots]) {
      if (!kvmTdpMmuGetRoot(kvm, root)) continue;
      if (root.zapQueued > 0) {
        root.zapQueued = 0;
        yield* tdpMmuZapRoot(kvm, p, root, true);
        kvmTdpMmuPutRoot(kvm, p, root, true);
        n++;
      }
      kvmTdpMmuPutRoot(kvm, p, root, kvm.race !== null || kvm.lockMode === 'read');
    }
    return n;
  }
  for (const root of [...kvm.roots]) {
    if (root.zapQueued === 0) continue;
    root.zapQueued--;
    if (p.roots === '5.16') tdpMmuZapAllShared516(kvm, p, root);
    else yield* tdpMmuZapRoot(kvm, p, root, true);
    kvmTdpMmuPutRoot(kvm, p, root, true);
    n++;
  }
  return n;
}
