// Root lifetime: the vCPU's root, references, and zapping a whole root.
import { EV, NONE, SC_HANDLED } from '../event-log.ts';
import { handleChangedSpteNow } from '../handle-changed-spte.ts';
import type { Kvm, Sp } from '../kvm.ts';
import type { KernelProfile } from '../profile.ts';
import type { Op } from '../pause.ts';
import { isRemovedSpte, isShadowPresent } from '../spte.ts';
import { iterNext, TdpIter } from '../tdp-iter.ts';
import { tdpMmuSetSpteAtomic } from './map.ts';
import { zapGfnRange516 } from './zap-gfn-range.ts';

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

/**
 * mirrors kvm_tdp_mmu_get_vcpu_root_hpa() (5.x) / kvm_tdp_mmu_alloc_root() (6.x): reuse a valid
 * root, else allocate one. Its refcount starts at 1 (the vCPU), or from 6.4 at 2 (the vCPU and the
 * TDP MMU itself, whose reference the zap of an invalidated root puts).
 */
export function kvmTdpMmuGetVcpuRoot(kvm: Kvm, p: KernelProfile): Sp {
  for (const root of kvm.roots) {
    // The role check compares role.invalid too, so an invalid root is never reused.
    if (!root.invalid && root.level === kvm.rootLevel && kvmTdpMmuGetRoot(kvm, root)) return root;
  }
  const root = kvm.allocSp(0, kvm.rootLevel, null, 0);
  setRootCount(kvm, root, p.roots === '6.18' ? 2 : 1);
  root.linked = true;
  kvm.roots.unshift(root);
  kvm.emit(EV.spLinked, root.id);
  return root;
}

/**
 * mirrors kvm_tdp_mmu_put_root(). 5.16: the last reference, valid root or not, takes the root off
 * the list and zaps its whole tree right there. 5.18: the model only ever drops the last reference
 * of an invalidated, already zapped root. 6.x: the last put must find the root invalid (the TDP
 * MMU's own reference keeps valid roots alive). Then call_rcu().
 */
export function kvmTdpMmuPutRoot(kvm: Kvm, p: KernelProfile, root: Sp, shared: boolean): void {
  setRootCount(kvm, root, root.rootCount - 1);
  if (root.rootCount > 0) return;
  if (!root.invalid && p.roots !== '5.16') {
    throw new Error(`model bug: valid root ${root.id} lost its last reference`);
  }
  root.linked = false;
  kvm.roots = kvm.roots.filter((r) => r !== root);
  kvm.emit(EV.spUnlinked, root.id);
  if (p.roots === '5.16') zapGfnRange516(kvm, p, root, 0, tdpMmuMaxGfnHost(kvm), false, shared);
  kvm.callRcu(root);
}

/**
 * What a vCPU does before entering the guest (kvm_mmu_free_obsolete_roots() + kvm_mmu_load()): drop
 * an invalidated root and load a valid one.
 */
export function kvmMmuReload(kvm: Kvm, p: KernelProfile, vcpu: number): Sp {
  const old = kvm.vcpuRoots[vcpu] ?? null;
  if (old && !old.invalid) return old;
  if (old) kvmTdpMmuPutRoot(kvm, p, old, false);
  const root = kvmTdpMmuGetVcpuRoot(kvm, p);
  kvm.vcpuRoots[vcpu] = root;
  kvm.emit(EV.vcpuRoot, old ? old.id : NONE, root.id, vcpu);
  return root;
}

/** The GFN bound of every whole-address-space walk: tdp_mmu_max_gfn_host(). */
export function tdpMmuMaxGfnHost(kvm: Kvm): number {
  return kvm.maxGfn;
}

/**
 * mirrors __tdp_mmu_zap_root(): the walk stops at `zapLevel` and zaps every present SPTE there;
 * shared, by cmpxchg, and a cmpxchg that finds the SPTE changed tries again on what it found.
 */
function* tdpMmuZapRootPass(
  kvm: Kvm,
  p: KernelProfile,
  root: Sp,
  shared: boolean,
  zapLevel: number,
): Op<void> {
  const it = new TdpIter(kvm);
  const end = tdpMmuMaxGfnHost(kvm);
  const np = kvm.profile.nonPresentHi;
  // In a race, a root no other actor can reach is walked without scheduling points.
  const seen = () => kvm.race !== null && !kvm.race.privateRoot(root);
  if (seen()) yield;
  for (
    it.start(root, zapLevel, 0);
    it.valid && it.gfn < end;
    seen() ? yield* iterNext(it) : it.next()
  ) {
    it.visit();
    for (;;) {
      if (!isShadowPresent(it.oldLo) || it.level > zapLevel) break;
      if (!shared) {
        kvm.writeSpte(it.sp, it.index, 0, np, SC_HANDLED);
        handleChangedSpteNow(kvm, p, it.sp, it.index, it.oldLo, it.oldHi, 0, np, false);
        break;
      }
      if (yield* tdpMmuSetSpteAtomic(kvm, p, it, 0, np, seen())) break;
      // A frozen SPTE is someone else's: wait until they are done with it.
      while (kvm.race && isRemovedSpte(it.oldLo, it.oldHi)) {
        const { sp, index } = it;
        kvm.race.waitWhile(() => isRemovedSpte(sp.spt[2 * index] ?? 0, sp.spt[2 * index + 1] ?? 0));
        yield;
        it.reread();
      }
    }
  }
}

/**
 * mirrors tdp_mmu_zap_root() (5.18, 6.x): passes of decreasing granularity (5.18: 1G; 6.9+: 4K, 2M,
 * 1G), then the root level, and no TLB flush.
 */
export function* tdpMmuZapRoot(kvm: Kvm, p: KernelProfile, root: Sp, shared: boolean): Op<void> {
  for (const level of p.rootZapPasses) {
    if (level < root.level) yield* tdpMmuZapRootPass(kvm, p, root, shared, level);
  }
  yield* tdpMmuZapRootPass(kvm, p, root, shared, root.level);
}
