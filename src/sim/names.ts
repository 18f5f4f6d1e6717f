// Names and shapes shared by the core and everything that reads its events: operation and
// event vocabularies, stats and counters, the VM configuration. Data only.

export type FaultType = 'read' | 'write' | 'exec';
import { DEFAULT_KERNEL, type KernelId } from './profile.ts';

/** Which kernel's zap: 5.16's walk from every valid root, 5.18's store through sp->ptep, or 6.18's
 * cmpxchg through sp->ptep under the read lock after a pointer check. */
export type ZapStrategy = 'walk' | 'direct' | 'atomic';
export interface VmConfig {
  /** The kernel whose rules the VM follows (its profile). */
  kernel: KernelId;
  levels: 4 | 5;
  nxHugePages: boolean;
  recoveryRatio: number;
  /** Guest (and host) MAXPHYADDR: GPAs at or above 2^physBits do not exist. */
  physBits: number;
  /** vCPUs; each loads its own root reference (kvm_mmu_load()). */
  vcpus: number;
}

/** The most vCPUs a script may create (the picture and the log name each). */
export const MAX_VCPUS = 8;

export const DEFAULT_CONFIG: VmConfig = {
  kernel: DEFAULT_KERNEL,
  levels: 4,
  nxHugePages: true,
  recoveryRatio: 60,
  physBits: 46,
  vcpus: 1,
};

export interface Stats {
  pages_4k: number;
  pages_2m: number;
  pages_1g: number;
  nx_lpage_splits: number;
}

/** The kernel's page stats from per-level leaf counts (index = level) and the NX split count. */
export function statsOf(pages: readonly number[], nxLpageSplits: number): Stats {
  return {
    pages_4k: pages[1] ?? 0,
    pages_2m: pages[2] ?? 0,
    pages_1g: pages[3] ?? 0,
    nx_lpage_splits: nxLpageSplits,
  };
}

/** to_zap of one NX recovery run: ceil(accounted / ratio), none when the ratio is 0. */
export const nxToZap = (accounted: number, ratio: number): number =>
  ratio ? Math.ceil(accounted / ratio) : 0;

export interface Counters {
  spte_reads: number;
  spte_writes: number;
  /** Of spte_writes: atomic ones (cmpxchg, xchg), as under the read lock. */
  spte_atomic: number;
  /** Of spte_writes: REMOVED_SPTE / FROZEN_SPTE written into a table being torn down or frozen. */
  spte_frozen: number;
  iter_steps: number;
  tlb_flushes: number;
  tlb_flushes_ranged: number;
  tlb_flushes_full: number;
  sp_allocated: number;
  sp_freed: number;
  faults: number;
  pf_fixed: number;
  pf_spurious: number;
  /** 6.x vCPU stats; they stay 0 under the 5.x profiles, which do not have them. */
  pf_taken: number;
  pf_emulate: number;
  pf_mmio_spte_created: number;
  /** The model's race counters: cmpxchg that found the SPTE changed, faults that returned
   * RET_PF_RETRY, and walks that met a frozen SPTE. */
  cmpxchg_failed: number;
  pf_retry: number;
  frozen_seen: number;
}

export const STAT_NAMES = ['pages_4k', 'pages_2m', 'pages_1g', 'nx_lpage_splits'] as const;
export const COUNTER_NAMES = [
  'spte_reads',
  'spte_writes',
  'spte_atomic',
  'spte_frozen',
  'iter_steps',
  'tlb_flushes',
  'tlb_flushes_ranged',
  'tlb_flushes_full',
  'sp_allocated',
  'sp_freed',
  'faults',
  'pf_fixed',
  'pf_spurious',
  'pf_taken',
  'pf_emulate',
  'pf_mmio_spte_created',
  'cmpxchg_failed',
  'pf_retry',
  'frozen_seen',
] as const;
/** The counters only the 6.x profile keeps. */
export const VCPU_STATS_6 = ['pf_taken', 'pf_emulate', 'pf_mmio_spte_created'] as const;

/** Model facts a script can also `expect`: roots on tdp_mmu_roots and linked non-root tables. */
export const SHAPE_NAMES = ['roots', 'invalid_roots', 'tables'] as const;
export const EXPECT_NAMES: readonly string[] = [...STAT_NAMES, ...COUNTER_NAMES, ...SHAPE_NAMES];

export function zeroCounters(): Counters {
  return {
    spte_reads: 0,
    spte_writes: 0,
    spte_atomic: 0,
    spte_frozen: 0,
    iter_steps: 0,
    tlb_flushes: 0,
    tlb_flushes_ranged: 0,
    tlb_flushes_full: 0,
    sp_allocated: 0,
    sp_freed: 0,
    faults: 0,
    pf_fixed: 0,
    pf_spurious: 0,
    pf_taken: 0,
    pf_emulate: 0,
    pf_mmio_spte_created: 0,
    cmpxchg_failed: 0,
    pf_retry: 0,
    frozen_seen: 0,
  };
}

/** WARN_ON_ONCE sites the model can reach, numbered for the log. */
export const WARNS = [
  'kvm_tdp_mmu_zap_sp: sp->ptep is NULL (the shadow page is a root)',
  'kvm_tdp_mmu_zap_sp: the parent SPTE is not shadow-present',
  'kvm_recover_nx_lpages: the NX list head is not lpage_disallowed',
  'handle_changed_spte: a non-leaf SPTE changed its PFN in place',
  'handle_changed_spte: a non-present SPTE changed to another non-present, non-MMIO value',
  'kvm_tdp_mmu_zap_possible_nx_huge_page: the cmpxchg failed but the SPTE still points at the sp',
] as const;
export const WARN_ZAP_SP_ROOT = 0;
export const WARN_ZAP_SP_NOT_PRESENT = 1;
export const WARN_NX_HEAD_NOT_DISALLOWED = 2;
export const WARN_NONLEAF_PFN_CHANGED = 3;
export const WARN_NONPRESENT_CHANGE = 4;
export const WARN_ZAP_SP_CMPXCHG_FAILED = 5;

export const OPS = [
  'vm',
  'memslot',
  'access',
  'fault',
  'shatter',
  'zap_sp',
  'zap_gfn_range',
  'invalidate_roots',
  'zap_invalidated_roots',
  'recover_nx',
  'race',
  'trace',
] as const;
export type OpName = (typeof OPS)[number];
export const STRATEGIES: readonly ZapStrategy[] = ['walk', 'direct', 'atomic'];
export const ZAP_MODES: readonly ZapMode[] = ['leafs', 'subtrees'];
export const ACCESS_RESULTS = ['permitted', 'violation', 'misconfig'] as const;

export const RET_PF_FIXED = 0;
export const RET_PF_SPURIOUS = 1;
export const RET_PF_RETRY = 2;
export const RET_PF_EMULATE = 3;
export const RET_PF_NAMES = ['RET_PF_FIXED', 'RET_PF_SPURIOUS', 'RET_PF_RETRY', 'RET_PF_EMULATE'];

export const FAULT_TYPES: readonly FaultType[] = ['read', 'write', 'exec'];

/** mmu_lock as an operation holds it (mmuLock events carry the index). */
export type LockMode = 'none' | 'read' | 'write';
export const LOCK_MODES: readonly LockMode[] = ['none', 'read', 'write'];

export type ZapMode = 'leafs' | 'subtrees';
