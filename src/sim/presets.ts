// The preset scenarios shipped in public/presets/ (the UI lists them; a test runs every one).
export interface Preset {
  file: string;
  title: string;
  summary: string;
}

export const PRESETS: readonly Preset[] = [
  {
    file: 'nx-recovery.tdp',
    title: 'NX huge pages and recovery',
    summary:
      'The kernel selftest nx_huge_pages_test step by step: split on exec, recovered, huge again.',
  },
  {
    file: 'nx-recovery-6.18.tdp',
    title: 'NX recovery under the read lock (6.18)',
    summary:
      'kvm_recover_nx_huge_pages(): unaccount first, the pointer check, a cmpxchg, 512 frozen entries.',
  },
  {
    file: 'race-recovery-6.18.tdp',
    title: '6.18: recovery races a vCPU fault',
    summary:
      'Two actors under the read lock: the interleaving the pointer check is for, and the what-if that breaks the stats.',
  },
  {
    file: 'mapping-tour.tdp',
    title: '4K / 2M / 1G mapping tour',
    summary: 'How host backing and memslot alignment decide the leaf size, and an MMIO SPTE.',
  },
  {
    file: 'shatter.tdp',
    title: 'Shattering huge pages',
    summary: 'tdp_mmu_split_huge_page: 1G into 2M into 4K, in place, without a TLB flush.',
  },
  {
    file: 'zap-sp-strategies.tdp',
    title: 'zap_sp: walk vs direct',
    summary:
      'The same kind of table zapped by walking from the root and through sp->ptep, with costs.',
  },
  {
    file: 'invalid-root-zap.tdp',
    title: 'Zapping under an invalidated root',
    summary: 'Between invalidation and zap: the walk cannot reach the accounted table; direct can.',
  },
];
