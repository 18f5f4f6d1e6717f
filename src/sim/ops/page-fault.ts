// A guest access, and the page-fault path it takes when the SPTEs do not permit it.
import { EV, lo32, hi32 } from '../event-log.ts';
import { KVM_MAX_HUGEPAGE_LEVEL, PG_LEVEL_4K, sptIndex } from '../geometry.ts';
import type { Kvm, Sp } from '../kvm.ts';
import { FAULT_TYPES, type FaultType } from '../names.ts';
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
export function hardwareWalk(kvm: Kvm, gfn: number, type: FaultType): Walk {
  let sp = kvm.vcpuRoot;
  while (sp) {
    const i = sptIndex(gfn, sp.level);
    const lo = sp.spt[2 * i] ?? 0;
    const hi = sp.spt[2 * i + 1] ?? 0;
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

/** mirrors kvm_tdp_page_fault() -> direct_page_fault() -> kvm_tdp_mmu_map(); returns RET_PF_*. */
export function kvmTdpPageFault(kvm: Kvm, gfn: number, type: FaultType): number {
  const root = kvmMmuReload(kvm);
  kvm.counters.faults++;
  kvm.emit(EV.fault, FAULT_TYPES.indexOf(type), 0, lo32(gfn), hi32(gfn));
  const fault: KvmPageFault = {
    gfn,
    exec: type === 'exec',
    write: type === 'write',
    slot: kvm.slotFor(gfn),
    maxLevel: KVM_MAX_HUGEPAGE_LEVEL,
    reqLevel: PG_LEVEL_4K,
    goalLevel: PG_LEVEL_4K,
    hugePageDisallowed: false,
    nxHugePageWorkaroundEnabled: kvm.config.nxHugePages,
  };
  const ret = kvmTdpMmuMap(kvm, root, fault);
  kvm.emit(EV.faultDone, ret, fault.goalLevel, lo32(gfn), hi32(gfn), fault.reqLevel);
  return ret;
}

/** The guest touches `gfn`: no exit if the SPTEs permit it, MMIO emulation, or a page fault. */
export function guestAccess(kvm: Kvm, gfn: number, type: FaultType): Walk {
  kvmMmuReload(kvm);
  const walk = hardwareWalk(kvm, gfn, type);
  if (walk.result === 'violation') kvmTdpPageFault(kvm, gfn, type);
  return walk;
}
