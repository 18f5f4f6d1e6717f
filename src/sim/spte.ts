// SPTE encoding, EPT flavour with A/D bits enabled and exec-only support (so shadow_present_mask
// is 0). An SPTE lives as two 32-bit halves (lo = bits 0..31, hi = bits 32..63) so the hot paths
// never allocate a bigint. Halves are kept as signed int32 (what bit operators yield, and what V8
// keeps unboxed); `toBig`/`fromBig` convert at the edges.

export const BIT_R = 1 << 0; // VMX_EPT_READABLE_MASK, shadow_user_mask
export const BIT_W = 1 << 1; // PT_WRITABLE_MASK
export const BIT_X = 1 << 2; // shadow_x_mask (EPT has no NX bit)
export const MEMTYPE_SHIFT = 3; // bits 3..5 EPT memory type
export const BIT_IPAT = 1 << 6;
export const BIT_LARGE = 1 << 7; // PT_PAGE_SIZE_MASK
export const BIT_ACCESSED = 1 << 8; // shadow_accessed_mask
export const BIT_DIRTY = 1 << 9; // shadow_dirty_mask
export const BIT_PRESENT = 1 << 11; // SPTE_MMU_PRESENT_MASK
/** Bits 12..31 of the PFN field that live in the low word. */
const LO_PFN_MASK = 0xfffff000;
/** Bits 32..51 (PFN) in the high word. */
const HI_PFN_MASK = 0x000fffff;
export const HI_HOST_WRITABLE = 1 << (57 - 32); // EPT_SPTE_HOST_WRITABLE
export const HI_MMU_WRITABLE = 1 << (58 - 32); // EPT_SPTE_MMU_WRITABLE

/** MTRR_TYPE_WRBACK << VMX_EPT_MT_EPTE_SHIFT | VMX_EPT_IPAT_BIT, what vmx_get_mt_mask() gives RAM. */
export const MT_MASK_WB = (6 << MEMTYPE_SHIFT) | BIT_IPAT;
/** REMOVED_SPTE (5.x) / FROZEN_SPTE (6.11, with bit 63 in the high word): bits 5, 7, 8, 10. */
export const REMOVED_SPTE_LO = 0x5a0;
const HI_BIT63 = 1 << 31;
/** VMX_EPT_MISCONFIG_WX_VALUE: W+X without R. */
export const MMIO_VALUE = 0x6;
const MMIO_MASK = 0x7; // VMX_EPT_RWX_MASK: shadow_mmio_mask

export interface Spte {
  lo: number;
  hi: number;
}

export const isShadowPresent = (lo: number): boolean => (lo & BIT_PRESENT) !== 0;
export const isLargePte = (lo: number): boolean => (lo & BIT_LARGE) !== 0;
/** is_last_spte(): a level-1 SPTE is always a leaf; above it, bit 7 says so. */
export const isLastSpte = (lo: number, level: number): boolean =>
  level === 1 || (lo & BIT_LARGE) !== 0;
export const isLeaf = (lo: number, level: number): boolean =>
  isShadowPresent(lo) && isLastSpte(lo, level);
/** is_frozen_spte(): 0x5a0 (5.x) or SHADOW_NONPRESENT_VALUE | 0x5a0 (6.11+). */
export const isRemovedSpte = (lo: number, hi: number): boolean =>
  lo === REMOVED_SPTE_LO && (hi === 0 || (hi | 0) === HI_BIT63);
export const isMmioSpte = (lo: number): boolean => (lo & MMIO_MASK) === MMIO_VALUE;
export const isExecutable = (lo: number): boolean => (lo & BIT_X) !== 0;
export const isWritable = (lo: number): boolean => (lo & BIT_W) !== 0;

/** spte_to_pfn(): bits 12..51. */
export function sptePfn(lo: number, hi: number): number {
  return (hi & HI_PFN_MASK) * 0x100000 + ((lo & LO_PFN_MASK) >>> 12);
}

// PFNs are below 2^40: `&` keeps their low bits and truncates the exact quotient, no float `%`.
function pfnLo(pfn: number): number {
  return (pfn & 0xfffff) << 12;
}
function pfnHi(pfn: number): number {
  return (pfn / 0x100000) & HI_PFN_MASK;
}

/**
 * make_nonleaf_spte(child_pt, ad_disabled = false): present | PA | R W X | Accessed, plus the high
 * bits of shadow_present_mask (`presentHi`: bit 63 from 6.10).
 */
export function makeNonLeafSpte(childPfn: number, presentHi: number, out: Spte): Spte {
  out.lo = BIT_PRESENT | BIT_R | BIT_W | BIT_X | BIT_ACCESSED | pfnLo(childPfn);
  out.hi = pfnHi(childPfn) | presentHi;
  return out;
}

/** What make_spte() is told beyond the PFN and level. */
export interface LeafRules {
  nxHugePages: boolean;
  hostWritable: boolean;
  /** High bits of shadow_present_mask. */
  presentHi: number;
  /** 6.13+: Dirty is set for every writable leaf; before, an already-writable old SPTE skips it. */
  dirtyOverWritable: boolean;
}

/**
 * make_spte() for a TDP fault: ACC_ALL, not a prefetch. X is withheld from a huge leaf while the NX
 * huge page mitigation is on; a writable leaf is made Dirty, except that before 6.13 an old SPTE
 * that was already writable takes the early exit that skips Dirty (`oldLo` is that old SPTE).
 */
export function makeLeafSpte(
  pfn: number,
  level: number,
  oldLo: number,
  rules: LeafRules,
  out: Spte,
): Spte {
  let lo = BIT_PRESENT | BIT_ACCESSED | BIT_R | MT_MASK_WB;
  let hi = pfnHi(pfn) | rules.presentHi;
  if (!(level > 1 && rules.nxHugePages)) lo |= BIT_X;
  if (level > 1) lo |= BIT_LARGE;
  if (rules.hostWritable) {
    hi |= HI_HOST_WRITABLE | HI_MMU_WRITABLE;
    lo |= BIT_W;
    if (rules.dirtyOverWritable || !isWritable(oldLo)) lo |= BIT_DIRTY;
  }
  out.lo = lo | pfnLo(pfn);
  out.hi = hi;
  return out;
}

/**
 * make_huge_page_split_spte(): the huge SPTE plus the child's offset; at 4K bit 7 goes and, with the
 * NX mitigation on, the child becomes executable again (the mitigation does not apply to 4K).
 */
export function makeSplitSpte(
  hugeLo: number,
  hugeHi: number,
  hugeLevel: number,
  index: number,
  nxHugePages: boolean,
  out: Spte,
): Spte {
  const childLevel = hugeLevel - 1;
  const pfn = sptePfn(hugeLo, hugeHi) + index * 512 ** (childLevel - 1);
  let lo = (hugeLo & ~LO_PFN_MASK) | pfnLo(pfn);
  const hi = (hugeHi & ~HI_PFN_MASK) | pfnHi(pfn);
  if (childLevel === 1) {
    lo &= ~BIT_LARGE;
    if (nxHugePages) lo |= BIT_X;
  }
  out.lo = lo;
  out.hi = hi;
  return out;
}

/**
 * make_mmio_spte(): W+X without R (an EPT misconfiguration), the GPA in the address bits and the
 * memslot generation split over bits 3..10 and 52..62. Not shadow-present.
 */
export function makeMmioSpte(gfn: number, generation: number, out: Spte): Spte {
  const gen = generation & 0x7ffff;
  out.lo = MMIO_VALUE | ((gen & 0xff) << 3) | pfnLo(gfn);
  out.hi = pfnHi(gfn) | ((gen >>> 8) << 20);
  return out;
}

export function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function fromBig(v: bigint): Spte {
  return { lo: Number(v & 0xffffffffn) | 0, hi: Number((v >> 32n) & 0xffffffffn) | 0 };
}

/** One word for what an entry is: the categories the UI colours by. */
export type SpteKind = 'none' | 'removed' | 'mmio' | 'table' | 'leaf';
export function spteKind(lo: number, hi: number, level: number): SpteKind {
  if (isShadowPresent(lo)) return isLastSpte(lo, level) ? 'leaf' : 'table';
  if (isRemovedSpte(lo, hi)) return 'removed';
  if (isMmioSpte(lo)) return 'mmio';
  return 'none';
}

export interface SpteBit {
  bits: string;
  name: string;
  value: string;
}

/** The SPTE decoded field by field with the kernel's names (the UI's inspector reads this). */
export function decodeSpte(lo: number, hi: number, level: number): SpteBit[] {
  const b = (v: number, bit: number) => String((v >>> bit) & 1);
  const kind = spteKind(lo, hi, level);
  const fields: SpteBit[] = [
    { bits: '0', name: 'R (shadow_user_mask)', value: b(lo, 0) },
    { bits: '1', name: 'W (PT_WRITABLE_MASK)', value: b(lo, 1) },
    { bits: '2', name: 'X (shadow_x_mask)', value: b(lo, 2) },
    { bits: '3-5', name: 'EPT memory type', value: String((lo >>> 3) & 7) },
    { bits: '6', name: 'IPAT', value: b(lo, 6) },
    { bits: '7', name: 'large (PT_PAGE_SIZE_MASK)', value: b(lo, 7) },
    { bits: '8', name: 'Accessed (shadow_accessed_mask)', value: b(lo, 8) },
    { bits: '9', name: 'Dirty (shadow_dirty_mask)', value: b(lo, 9) },
    { bits: '11', name: 'SPTE_MMU_PRESENT_MASK', value: b(lo, 11) },
    {
      bits: '12-51',
      name: kind === 'table' ? 'PFN of child table' : kind === 'mmio' ? 'GFN (MMIO)' : 'PFN',
      value: '0x' + sptePfn(lo, hi).toString(16),
    },
    { bits: '52-53', name: 'SPTE_TDP_AD_MASK', value: String((hi >>> 20) & 3) },
    { bits: '57', name: 'EPT_SPTE_HOST_WRITABLE', value: b(hi, 25) },
    { bits: '58', name: 'EPT_SPTE_MMU_WRITABLE', value: b(hi, 26) },
    { bits: '63', name: 'suppress #VE', value: b(hi, 31) },
  ];
  return fields;
}
