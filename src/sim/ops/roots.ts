// Root lifetime: the vCPU's root, references, and zapping a whole root.
import { EV, NONE, SC_ATOMIC, SC_HANDLED, SC_SHARED } from '../event-log.ts';
import { PG_LEVEL_1G } from '../geometry.ts';
import { handleChangedSpte } from '../handle-changed-spte.ts';
import type { Kvm, Sp } from '../kvm.ts';
import { isShadowPresent } from '../spte.ts';
import { TdpIter } from '../tdp-iter.ts';

function setRootCount(kvm: Kvm, root: Sp, count: number): void {
  kvm.emit(EV.rootRefcount, root.id, root.rootCount, count);
  root.rootCount = count;
}

/** kvm_tdp_mmu_get_root(): refcount_inc_not_zero(). */
export function kvmTdpMmuGetRoot(kvm: Kvm, root: Sp): boolean {
  if (root.rootCount === 0) return false;
  setRootCount(kvm, root, root.rootCount + 1);
  return true;
}

/** mirrors kvm_tdp_mmu_get_vcpu_root_hpa(): reuse a valid root, else allocate one (refcount 1). */
export function kvmTdpMmuGetVcpuRoot(kvm: Kvm): Sp {
  for (const root of kvm.roots) {
    // The role check compares role.invalid too, so an invalid root is never reused.
    if (!root.invalid && root.level === kvm.rootLevel && kvmTdpMmuGetRoot(kvm, root)) return root;
  }
  const root = kvm.allocSp(0, kvm.rootLevel, null, 0);
  setRootCount(kvm, root, 1);
  root.linked = true;
  kvm.roots.unshift(root);
  kvm.emit(EV.spLinked, root.id);
  return root;
}

/**
 * mirrors kvm_tdp_mmu_put_root() (5.18) for the only case the model reaches: the last reference to an
 * invalidated root is dropped, so it leaves tdp_mmu_roots and is freed after a grace period. (The
 * vCPU only ever lets go of invalid roots, so a valid root never drops to zero here.)
 */
export function kvmTdpMmuPutRoot(kvm: Kvm, root: Sp): void {
  setRootCount(kvm, root, root.rootCount - 1);
  if (root.rootCount > 0) return;
  if (!root.invalid) throw new Error(`model bug: valid root ${root.id} lost its last reference`);
  root.linked = false;
  kvm.roots = kvm.roots.filter((r) => r !== root);
  kvm.emit(EV.spUnlinked, root.id);
  kvm.callRcu(root);
}

/**
 * What a vCPU does before entering the guest (kvm_mmu_free_obsolete_roots() + kvm_mmu_load()): drop
 * an invalidated root and load a valid one.
 */
export function kvmMmuReload(kvm: Kvm): Sp {
  const old = kvm.vcpuRoot;
  if (old && !old.invalid) return old;
  if (old) kvmTdpMmuPutRoot(kvm, old);
  const root = kvmTdpMmuGetVcpuRoot(kvm);
  kvm.vcpuRoot = root;
  kvm.emit(EV.vcpuRoot, old ? old.id : NONE, root.id);
  return root;
}

/** The GFN bound of every whole-address-space walk: tdp_mmu_max_gfn_host(). */
export function tdpMmuMaxGfnHost(kvm: Kvm): number {
  return kvm.maxGfn;
}

/** mirrors __tdp_mmu_zap_root(): the walk stops at `zapLevel` and zaps every present SPTE there. */
function tdpMmuZapRootPass(kvm: Kvm, root: Sp, shared: boolean, zapLevel: number): void {
  const it = new TdpIter(kvm);
  const end = tdpMmuMaxGfnHost(kvm);
  const flags = SC_HANDLED | (shared ? SC_ATOMIC | SC_SHARED : 0);
  for (it.start(root, zapLevel, 0); it.valid && it.gfn < end; it.next()) {
    it.visit();
    if (!isShadowPresent(it.oldLo)) continue;
    if (it.level > zapLevel) continue;
    kvm.writeSpte(it.sp, it.index, 0, 0, flags);
    handleChangedSpte(kvm, it.sp, it.index, it.oldLo, it.oldHi, 0, 0, shared);
  }
}

/** mirrors tdp_mmu_zap_root() (5.18): two passes, 1G level then root level, no TLB flush. */
export function tdpMmuZapRoot(kvm: Kvm, root: Sp, shared: boolean): void {
  tdpMmuZapRootPass(kvm, root, shared, PG_LEVEL_1G);
  tdpMmuZapRootPass(kvm, root, shared, root.level);
}
