// The one description of the .tdp language: every statement, its keys, their value types, ranges
// and defaults, and the kernel function each statement mirrors. The parser, the quick actions and
// the editor (highlighting, completion, hover, lint) all read it; no list of keys lives elsewhere.
import {
  DEFAULT_CONFIG,
  EXPECT_NAMES,
  MAX_VCPUS,
  FAULT_TYPES,
  STRATEGIES,
  ZAP_MODES,
  type FaultType,
  type ZapMode,
  type ZapStrategy,
} from '../names.ts';
import { KERNELS } from '../profile.ts';

/** What a value must look like. Numbers are decimal or 0x hex with an optional K, M or G suffix. */
export type ValueType =
  /** A guest physical address (4 KiB pages: GFN = gpa >> 12). */
  | { kind: 'gpa' }
  | { kind: 'gfn' }
  /** Bytes, a whole number of 4 KiB pages. */
  | { kind: 'size' }
  /** An integer in [min, max]; `max` undefined means no bound but 2^53-1. */
  | { kind: 'int'; min: number; max?: number }
  | { kind: 'choice'; values: readonly string[] }
  | { kind: 'bool' }
  /** round-robin, random, or actor indices one per scheduling point (0,1,1 or 1*512). */
  | { kind: 'schedule' };

export interface KeySpec {
  name: string;
  type: ValueType;
  doc: string;
  /** What an absent key means, as words (the profile may decide). */
  default?: string;
  required?: boolean;
  /** Another key that says the same thing differently: give one of the two (gpa= or gfn=). */
  or?: string;
}

export interface StatementSpec {
  word: string;
  /** The kernel function the statement runs, or what it stands for. */
  mirrors: string;
  doc: string;
  keys: readonly KeySpec[];
  /** A line that parses after `memslot gpa=0x100000000 size=2M backing=2M`, for docs and tests. */
  example: string;
}

/** Spellings of on/off; a Map so `nx_huge_pages=constructor` finds nothing. */
export const BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ['on', true],
  ['off', false],
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
]);
export const PHYS_BITS = { min: 32, max: 52 } as const;

const GPA: KeySpec = {
  name: 'gpa',
  type: { kind: 'gpa' },
  doc: 'guest physical address (the GFN is gpa >> 12)',
  required: true,
  or: 'gfn',
};
const GFN: KeySpec = {
  name: 'gfn',
  type: { kind: 'gfn' },
  doc: 'guest frame number, instead of gpa=',
  required: true,
  or: 'gpa',
};
const TYPE: KeySpec = {
  name: 'type',
  type: { kind: 'choice', values: FAULT_TYPES },
  doc: 'the access: read, write or exec (an exec fault is what splits huge pages under NX)',
  default: 'read',
};
const VCPU: KeySpec = {
  name: 'vcpu',
  type: { kind: 'int', min: 0, max: MAX_VCPUS - 1 },
  doc: 'the vCPU that makes the access: 0 to vcpus - 1 (each holds its own root reference)',
  default: '0',
};
const STRATEGY: KeySpec = {
  name: 'strategy',
  type: { kind: 'choice', values: STRATEGIES },
  doc: 'how the sp is zapped: walk from every valid root (5.16), a store through sp->ptep (5.18), or a cmpxchg through sp->ptep under the read lock (6.18)',
  default: "the kernel's (5.16 walk, 5.18 direct, 6.18 atomic)",
};

export const SCHEMA = {
  vm: {
    word: 'vm',
    mirrors: 'KVM_CREATE_VM and the kvm module parameters',
    doc: 'Sets up the VM. kernel, levels and phys_bits only before the first operation.',
    keys: [
      {
        name: 'kernel',
        type: { kind: 'choice', values: KERNELS },
        doc: 'the kernel whose TDP MMU the VM follows',
        default: DEFAULT_CONFIG.kernel,
      },
      {
        name: 'levels',
        type: { kind: 'choice', values: ['4', '5'] },
        doc: '4- or 5-level EPT (kvm_mmu_get_tdp_level())',
        default: String(DEFAULT_CONFIG.levels),
      },
      {
        name: 'nx_huge_pages',
        type: { kind: 'bool' },
        doc: 'the iTLB multihit mitigation (kvm.nx_huge_pages): exec faults map 4K under huge backing',
        default: DEFAULT_CONFIG.nxHugePages ? 'on' : 'off',
      },
      {
        name: 'recovery_ratio',
        type: { kind: 'int', min: 0 },
        doc: 'kvm.nx_huge_pages_recovery_ratio: recover_nx zaps 1/ratio of the NX list (0: none)',
        default: String(DEFAULT_CONFIG.recoveryRatio),
      },
      {
        name: 'phys_bits',
        type: { kind: 'int', min: PHYS_BITS.min, max: PHYS_BITS.max },
        doc: "the guest's MAXPHYADDR: GPAs must lie below 2^phys_bits",
        default: `${DEFAULT_CONFIG.physBits} (52 with levels=5)`,
      },
      {
        name: 'vcpus',
        type: { kind: 'int', min: 1, max: MAX_VCPUS },
        doc: 'how many vCPUs the VM has; each loads the root it runs on (kvm_mmu_load())',
        default: String(DEFAULT_CONFIG.vcpus),
      },
    ],
    example: 'vm nx_huge_pages=on recovery_ratio=1',
  },
  memslot: {
    word: 'memslot',
    mirrors: 'KVM_SET_USER_MEMORY_REGION (kvm_set_memslot())',
    doc: 'Adds guest memory backed by host pages of one size; huge backing allows huge leaves.',
    keys: [
      GPA,
      GFN,
      { name: 'size', type: { kind: 'size' }, doc: 'bytes, whole 4 KiB pages', required: true },
      {
        name: 'backing',
        type: { kind: 'choice', values: ['4K', '2M', '1G'] },
        doc: 'the host page size behind the slot',
        default: '4K',
      },
    ],
    example: 'memslot gpa=0x200000000 size=1G backing=1G',
  },
  access: {
    word: 'access',
    mirrors: 'a guest access; kvm_tdp_page_fault() only when the SPTEs do not permit it',
    doc: 'The guest touches one page: the CPU walks the EPT, and faults only if it must.',
    keys: [GPA, GFN, TYPE, VCPU],
    example: 'access gpa=0x100000000 type=exec',
  },
  fault: {
    word: 'fault',
    mirrors: 'kvm_tdp_page_fault() → kvm_tdp_mmu_map()',
    doc: 'Forces the page-fault path for one page, as an EPT violation would.',
    keys: [GPA, GFN, TYPE, VCPU],
    example: 'fault gpa=0x100000000 type=write',
  },
  access_range: {
    word: 'access_range',
    mirrors: 'the guest touching every page of a range, in order',
    doc: 'One access per 4 KiB page of [gpa, gpa + size).',
    keys: [
      GPA,
      GFN,
      { name: 'size', type: { kind: 'size' }, doc: 'bytes, whole 4 KiB pages', required: true },
      TYPE,
      VCPU,
    ],
    example: 'access_range gpa=0x100000000 size=64K type=read',
  },
  shatter: {
    word: 'shatter',
    mirrors: 'kvm_tdp_mmu_try_split_huge_pages() → tdp_mmu_split_huge_page()',
    doc: 'Splits the huge leaf that maps the page into a table of 512 smaller leaves.',
    keys: [
      GPA,
      GFN,
      {
        name: 'level',
        type: { kind: 'int', min: 2, max: 3 },
        doc: 'the huge leaf: 2 (2M) or 3 (1G)',
        required: true,
      },
    ],
    example: 'shatter gpa=0x100000000 level=2',
  },
  zap_sp: {
    word: 'zap_sp',
    mirrors: 'kvm_tdp_mmu_zap_sp()',
    doc: 'Zaps the shadow page of role.level = level that covers the page.',
    keys: [
      GPA,
      GFN,
      {
        name: 'level',
        type: { kind: 'int', min: 1, max: 4 },
        doc: "the sp's role.level: 1 to levels - 1 (the root cannot be zapped this way)",
        required: true,
      },
      STRATEGY,
    ],
    example: 'zap_sp gpa=0x100000000 level=1 strategy=direct',
  },
  zap_gfn_range: {
    word: 'zap_gfn_range',
    mirrors: 'kvm_tdp_mmu_zap_leafs() (5.16: kvm_tdp_mmu_zap_gfn_range())',
    doc: 'Zaps the SPTEs mapping GFNs [start, end) in every root, as an MMU notifier does.',
    keys: [
      { name: 'start', type: { kind: 'gfn' }, doc: 'the first GFN zapped', required: true },
      { name: 'end', type: { kind: 'gfn' }, doc: 'the GFN after the last zapped', required: true },
      {
        name: 'mode',
        type: { kind: 'choice', values: ZAP_MODES },
        doc: 'leafs: only leaf SPTEs (5.18+); subtrees: tables wholly inside the range too (5.16)',
        default: "the kernel's (5.16 subtrees, later leafs)",
      },
    ],
    example: 'zap_gfn_range start=0x100000 end=0x100200 mode=leafs',
  },
  invalidate_roots: {
    word: 'invalidate_roots',
    mirrors: 'kvm_tdp_mmu_invalidate_all_roots()',
    doc: 'Marks every root invalid (role.invalid); zaps nothing yet.',
    keys: [],
    example: 'invalidate_roots',
  },
  zap_invalidated_roots: {
    word: 'zap_invalidated_roots',
    mirrors: 'kvm_tdp_mmu_zap_invalidated_roots()',
    doc: 'Tears down the invalidated roots and puts their references.',
    keys: [],
    example: 'zap_invalidated_roots',
  },
  recover_nx: {
    word: 'recover_nx',
    mirrors: 'kvm_recover_nx_huge_pages() (5.x: kvm_recover_nx_lpages())',
    doc: 'One run of the NX recovery worker: zaps 1/recovery_ratio of the NX list, oldest first.',
    keys: [
      STRATEGY,
      {
        name: 'check',
        type: { kind: 'bool' },
        doc: "what-if: off drops 6.18's check that sp->ptep still points at the sp's table (strategy=atomic)",
        default: 'on',
      },
      {
        name: 'lock',
        type: { kind: 'choice', values: ['read', 'write'] },
        doc: "what-if: the mmu_lock mode; read with strategy=direct runs 5.18's plain-store zap in 6.18's read-lock loop",
        default: "the strategy's own (atomic: read, direct and walk: write)",
      },
    ],
    example: 'recover_nx strategy=walk',
  },
  race: {
    word: 'race',
    mirrors: 'vCPUs and the recovery worker running at once under mmu_lock',
    doc: 'Opens a block: up to `end`, each line is `vcpuN: access …`, `vcpuN: fault …`, `recovery: recover_nx …` or `zapper: zap_invalidated_roots` (5.18, 6.18), one actor each, interleaved at every SPTE read, cmpxchg and store.',
    keys: [
      {
        name: 'schedule',
        type: { kind: 'schedule' },
        doc: 'who runs at each scheduling point: round-robin, random (with seed=), or actor indices in block order, one per point (0,1,1 or 1*512); when a list runs out, the lowest-numbered runnable actor goes on',
        default: 'round-robin',
      },
      {
        name: 'seed',
        type: { kind: 'int', min: 0, max: 0xffffffff },
        doc: 'the seed of schedule=random',
        default: '1',
      },
    ],
    example:
      'race schedule=random seed=7\n  vcpu0: access gpa=0x100000000 type=read\n  recovery: recover_nx\nend',
  },
  end: {
    word: 'end',
    mirrors: 'no kernel function: closes a race block',
    doc: 'Ends the race block above; its actors run to completion here.',
    keys: [],
    example: 'race\n  recovery: recover_nx\nend',
  },
  expect: {
    word: 'expect',
    mirrors: "no kernel function: checks the model's stats and counters",
    doc: 'Checks NAME=NUMBER for stats, counters and roots / invalid_roots / tables.',
    keys: EXPECT_NAMES.map((name) => ({
      name,
      type: { kind: 'int', min: 0 },
      doc: `the ${name} stat or counter equals this`,
    })),
    example: 'expect pages_2m=0 nx_lpage_splits=1',
  },
} as const satisfies Record<string, StatementSpec>;

export type StatementWord = keyof typeof SCHEMA;
export const STATEMENT_WORDS = Object.keys(SCHEMA) as StatementWord[];

export function isStatementWord(word: string): word is StatementWord {
  return Object.hasOwn(SCHEMA, word);
}

export function specOf(word: StatementWord): StatementSpec {
  return SCHEMA[word];
}

export function keySpec(word: StatementWord, key: string): KeySpec | undefined {
  return specOf(word).keys.find((k) => k.name === key);
}

/** The values a choice key allows (typed by the caller's own union). */
function choices<T extends string>(word: StatementWord, key: string): readonly T[] {
  const t = keySpec(word, key)?.type;
  if (t?.kind !== 'choice') throw new RangeError(`${word} ${key}= is not a choice`);
  return t.values as readonly T[];
}

export const LEVELS_VALUES = choices<string>('vm', 'levels');
export const TYPE_VALUES = choices<FaultType>('access', 'type');
export const STRATEGY_VALUES = choices<ZapStrategy>('zap_sp', 'strategy');
export const MODE_VALUES = choices<ZapMode>('zap_gfn_range', 'mode');
/** Host backing page sizes; level = index + 1. */
export const BACKING_VALUES = choices<string>('memslot', 'backing');

/** An int key's range. */
export function intRange(word: StatementWord, key: string): { min: number; max?: number } {
  const t = keySpec(word, key)?.type;
  if (t?.kind !== 'int') throw new RangeError(`${word} ${key}= is not an integer`);
  return t;
}

/** A number as the language writes it: decimal or 0x hex, optionally times K, M or G. */
export function readNumber(text: string): number | 'malformed' | 'too-large' {
  const m = /^(0x[0-9a-f]+|[0-9]+)([kmg])?$/i.exec(text);
  const digits = m?.[1];
  if (m === null || digits === undefined) return 'malformed';
  const shift = { k: 10n, m: 20n, g: 30n }[m[2]?.toLowerCase() ?? ''] ?? 0n;
  const v = BigInt(digits) << shift;
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? 'too-large' : Number(v);
}
