// A guest access, and the page-fault path it takes when the SPTEs do not permit it.
import {
  EV,
  FD_PF_EMULATE,
  FD_PF_FIXED,
  FD_PF_MMIO_SPTE_CREATED,
  FD_PF_SPURIOUS,
  FD_PF_TAKEN,
  FD_FROZEN_SEEN,
  FD_PF_RETRY,
  lo32,
  hi32,
} from '../event-log.ts';
import { KVM_MAX_HUGEPAGE_LEVEL, PG_LEVEL_4K, sptIndex } from '../geometry.ts';
import type { Kvm, Sp } from '../kvm.ts';
import {
  FAULT_TYPES,
  RET_PF_EMULATE,
  RET_PF_FIXED,
  RET_PF_RETRY,
  RET_PF_SPURIOUS,
  type FaultType,
} from '../names.ts';
import type { Op } from '../pause.ts';
import type { KernelProfile } from '../profile.ts';
import {
  isExecutable,
  isLastSpte,
  isMmioSpte,
  isShadowPresent,
  isWritable,
  BIT_R,
} from '../spte.ts';
import { kvmTdpMmuMap, type KvmPageFault } from './map.ts';
import { kvmMmuReload } from './roots.ts';

/** What the CPU's own EPT walk finds for an access (not a KVM SPTE read, so not counted). */
export type WalkResult = 'permitted' | 'violation' | 'misconfig';

/** Where the CPU's walk stopped: the entry that ended it (null when there was no root). */
export interface Walk {
  result: WalkResult;
  sp: Sp | null;
  index: number;
}

/** The hardware walk from the vCPU's root: EPT violation, EPT misconfig (MMIO SPTE) or success. */
export function hardwareWalk(kvm: Kvm, gfn: number, type: FaultType, vcpu = 0): Walk {
  let sp = kvm.vcpuRoots[vcpu] ?? null;
  while (sp) {
    const i = sptIndex(gfn, sp.level);
    const lo = sp.spt[2 * i] ?? 0;
    const hi = sp.spt[2 * i + 1] ?? 0;
    kvm.race?.read(sp, lo, hi);
    if (!isShadowPresent(lo)) {
      // A live MMIO SPTE of the current memslot generation is handled by emulation.
      const mmio = isMmioSpte(lo) && mmioGeneration(lo, hi) === (kvm.memslotGeneration & 0x7ffff);
      return { result: mmio ? 'misconfig' : 'violation', sp, index: i };
    }
    if (isLastSpte(lo, sp.level)) {
      const ok =
        type === 'read' ? (lo & BIT_R) !== 0 : type === 'write' ? isWritable(lo) : isExecutable(lo);
      return { result: ok ? 'permitted' : 'violation', sp, index: i };
    }
    sp = kvm.childOf(lo, hi);
  }
  return { result: 'violation', sp: null, index: 0 };
}

function mmioGeneration(lo: number, hi: number): number {
  return ((lo >>> 3) & 0xff) | (((hi >>> 20) & 0x7ff) << 8);
}

/**
 * Which vCPU stats a fault bumps. 5.x: pf_fixed for anything but a spurious fault (inside
 * tdp_mmu_map_handle_target_level()); 6.x counts in kvm_mmu_page_fault()/kvm_mmu_do_page_fault():
 * pf_taken always, then pf_fixed, pf_emulate or pf_spurious by the return value. pf_spurious is
 * kept under 5.x too, as the model's own count.
 */
function faultStats(p: KernelProfile, ret: number, fault: KvmPageFault): number {
  const race = (ret === RET_PF_RETRY ? FD_PF_RETRY : 0) | (fault.frozenSeen ? FD_FROZEN_SEEN : 0);
  return race | vcpuStats(p, ret, fault);
}

function vcpuStats(p: KernelProfile, ret: number, fault: KvmPageFault): number {
  if (!p.vcpuStats6) {
    if (ret === RET_PF_SPURIOUS) return FD_PF_SPURIOUS;
    return ret === RET_PF_FIXED || ret === RET_PF_EMULATE ? FD_PF_FIXED : 0;
  }
  let f = FD_PF_TAKEN;
  if (ret === RET_PF_FIXED) f |= FD_PF_FIXED;
  else if (ret === RET_PF_EMULATE) f |= FD_PF_EMULATE;
  else if (ret === RET_PF_SPURIOUS) f |= FD_PF_SPURIOUS;
  if (fault.mmioSpteCreated) f |= FD_PF_MMIO_SPTE_CREATED;
  return f;
}

function countStats(kvm: Kvm, f: number): void {
  const c = kvm.counters;
  if (f & FD_PF_FIXED) c.pf_fixed++;
  if (f & FD_PF_SPURIOUS) c.pf_spurious++;
  if (f & FD_PF_TAKEN) c.pf_taken++;
  if (f & FD_PF_EMULATE) c.pf_emulate++;
  if (f & FD_PF_MMIO_SPTE_CREATED) c.pf_mmio_spte_created++;
  if (f & FD_PF_RETRY) c.pf_retry++;
  if (f & FD_FROZEN_SEEN) c.frozen_seen++;
}

const newFault = (): KvmPageFault => ({
  gfn: 0,
  exec: false,
  write: false,
  slot: null,
  maxLevel: KVM_MAX_HUGEPAGE_LEVEL,
  reqLevel: PG_LEVEL_4K,
  goalLevel: PG_LEVEL_4K,
  hugePageDisallowed: false,
  nxHugePageWorkaroundEnabled: false,
  mmioSpteCreated: false,
  frozenSeen: false,
});
const sequentialFault = newFault();

/** kvm_mmu_do_page_fault()'s struct kvm_page_fault initializer. */
function initFault(f: KvmPageFault, kvm: Kvm, gfn: number, type: FaultType): KvmPageFault {
  f.gfn = gfn;
  f.exec = type === 'exec';
  f.write = type === 'write';
  f.slot = kvm.slotFor(gfn);
  f.maxLevel = KVM_MAX_HUGEPAGE_LEVEL;
  f.reqLevel = PG_LEVEL_4K;
  f.goalLevel = PG_LEVEL_4K;
  f.hugePageDisallowed = false;
  f.nxHugePageWorkaroundEnabled = kvm.config.nxHugePages;
  f.mmioSpteCreated = false;
  f.frozenSeen = false;
  return f;
}

/**
 * mirrors kvm_tdp_page_fault() -> direct_page_fault() -> kvm_tdp_mmu_map() under mmu_lock held for
 * read; returns RET_PF_*.
 */
export function* kvmTdpPageFault(
  kvm: Kvm,
  p: KernelProfile,
  gfn: number,
  type: FaultType,
  vcpu = 0,
): Op<number> {
  const root = kvmMmuReload(kvm, p, vcpu);
  kvm.counters.faults++;
  // read_lock(&kvm->mmu_lock) from here to faultDone.
  kvm.emit(EV.fault, FAULT_TYPES.indexOf(type), 0, lo32(gfn), hi32(gfn));
  // Racing faults each need their own; one at a time, a single object is filled per fault.
  const fault = initFault(kvm.race ? newFault() : sequentialFault, kvm, gfn, type);
  if (kvm.race) {
    kvm.race.lock('read');
    yield;
  } else kvm.faultLock(true);
  const ret = yield* kvmTdpMmuMap(kvm, p, root, fault);
  if (kvm.race) kvm.race.unlock();
  else kvm.faultLock(false);
  const stats = faultStats(p, ret, fault);
  countStats(kvm, stats);
  kvm.emit(EV.faultDone, ret, fault.goalLevel, lo32(gfn), hi32(gfn), fault.reqLevel, stats);
  return ret;
}

/** The guest touches `gfn`: no exit if the SPTEs permit it, MMIO emulation, or a page fault. */
export function* guestAccess(
  kvm: Kvm,
  p: KernelProfile,
  gfn: number,
  type: FaultType,
  vcpu = 0,
): Op<Walk> {
  kvmMmuReload(kvm, p, vcpu);
  if (kvm.race) yield;
  const walk = hardwareWalk(kvm, gfn, type, vcpu);
  if (walk.result === 'violation') yield* kvmTdpPageFault(kvm, p, gfn, type, vcpu);
  return walk;
}
