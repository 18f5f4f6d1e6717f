// Kernel profiles: every rule in which 5.16, 5.18 and 6.18 differ, as data. A VM picks one profile
// before its paging structure exists; operations receive it and ask it, never a global flag.
import type { ZapMode, ZapStrategy } from './names.ts';

export const KERNELS = ['5.16', '5.18', '6.18'] as const;
export type KernelId = (typeof KERNELS)[number];
export const DEFAULT_KERNEL: KernelId = '5.18';

/** bit 63 as a high word: SHADOW_NONPRESENT_VALUE (6.10+) and EPT's suppress-#VE bit. */
export const HI_BIT63 = 1 << 31;

export interface KernelProfile {
  readonly kernel: KernelId;
  /** What `zap_sp` and `recover_nx` run when the script names no strategy. */
  readonly zapStrategy: ZapStrategy;
  /** What `zap_gfn_range` runs when the script names no mode (5.16 zap_gfn_range frees subtrees). */
  readonly zapMode: ZapMode;
  /** High word of a non-present SPTE and of a fresh table's entries: SHADOW_NONPRESENT_VALUE. */
  readonly nonPresentHi: number;
  /** High-word bits shadow_present_mask adds to every present SPTE (6.10+: suppress #VE). */
  readonly presentHi: number;
  /** handle_removed_tdp_mmu_page() (5.16) flushes the removed table's range itself. */
  readonly removedPtFlush: boolean;
  /** The flush when a fault puts a huge leaf over a table: none (5.16: the handler flushes), the
   * span of the table holding the SPTE (5.18) or the SPTE's own span (6.x). */
  readonly hugeOverTableFlush: 'none' | 'table' | 'spte';
  /** An exec fault splits an NX huge leaf in place instead of zapping it (6.2). */
  readonly splitOnFault: boolean;
  /** disallowed_hugepage_adjust() only steps down over a child with nx_huge_page_disallowed (6.2). */
  readonly adjustNeedsNxChild: boolean;
  /** make_spte() sets Dirty even when the old SPTE was already writable (6.13 rework). */
  readonly dirtyOverWritable: boolean;
  /** tdp_mmu_map_handle_target_level() returns spurious when a present leaf permits the access. */
  readonly spuriousIfPermitted: boolean;
  /** Root lifetime rules (spec §4). */
  readonly roots: '5.16' | '5.18' | '6.18';
  /** The levels at which tdp_mmu_zap_root() zaps, in order, below the root level pass. */
  readonly rootZapPasses: readonly number[];
  /** kvm_tdp_mmu_zap_leafs() walks valid roots only and flushes only for them (6.x). */
  readonly zapLeafsValidOnly: boolean;
  /** The 6.x vCPU stats: pf_taken, pf_emulate, pf_mmio_spte_created; pf_fixed only for FIXED. */
  readonly vcpuStats6: boolean;
}

const V516: KernelProfile = Object.freeze({
  kernel: '5.16',
  zapStrategy: 'walk',
  zapMode: 'subtrees',
  nonPresentHi: 0,
  presentHi: 0,
  removedPtFlush: true,
  hugeOverTableFlush: 'none',
  splitOnFault: false,
  adjustNeedsNxChild: false,
  dirtyOverWritable: false,
  spuriousIfPermitted: false,
  roots: '5.16',
  rootZapPasses: [],
  zapLeafsValidOnly: false,
  vcpuStats6: false,
});

const V518: KernelProfile = Object.freeze({
  ...V516,
  kernel: '5.18',
  zapStrategy: 'direct',
  zapMode: 'leafs',
  removedPtFlush: false,
  hugeOverTableFlush: 'table',
  roots: '5.18',
  rootZapPasses: [3],
});

const V618: KernelProfile = Object.freeze({
  ...V518,
  kernel: '6.18',
  zapStrategy: 'atomic',
  nonPresentHi: HI_BIT63,
  presentHi: HI_BIT63,
  hugeOverTableFlush: 'spte',
  splitOnFault: true,
  adjustNeedsNxChild: true,
  dirtyOverWritable: true,
  spuriousIfPermitted: true,
  roots: '6.18',
  rootZapPasses: [1, 2, 3],
  zapLeafsValidOnly: true,
  vcpuStats6: true,
});

export const PROFILES: Readonly<Record<KernelId, KernelProfile>> = {
  '5.16': V516,
  '5.18': V518,
  '6.18': V618,
};

export function profileOf(kernel: KernelId): KernelProfile {
  return PROFILES[kernel];
}

export const isKernel = (s: string): s is KernelId => (KERNELS as readonly string[]).includes(s);

/**
 * The rules one zap path runs with. A strategy is a kernel's zap as a whole: `walk` (5.16) brings
 * the 5.16 handler that flushes each removed table, `direct` (5.18) and `atomic` (6.18) do not. The
 * SPTE encoding stays the VM's.
 */
export function withZapPath(p: KernelProfile, path: ZapStrategy | ZapMode): KernelProfile {
  const flush = path === 'walk' || path === 'subtrees';
  return flush === p.removedPtFlush ? p : { ...p, removedPtFlush: flush };
}
