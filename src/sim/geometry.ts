// Paging geometry: 512 entries per table, 9 GFN bits per level (GFNs are JS numbers: < 2^53).

export const SPTE_ENT_PER_PAGE = 512;
export const PG_LEVEL_4K = 1;
export const PG_LEVEL_1G = 3;
/** KVM_MAX_HUGEPAGE_LEVEL: leaves exist at L1..L3 only. */
export const KVM_MAX_HUGEPAGE_LEVEL = PG_LEVEL_1G;

const PAGES = [0, 1, 512, 512 ** 2, 512 ** 3, 512 ** 4, 512 ** 5];

/** KVM_PAGES_PER_HPAGE(level): GFNs covered by one SPTE at `level`. */
export function pagesPerHpage(level: number): number {
  const n = PAGES[level];
  if (n === undefined || level < 1) throw new RangeError(`no paging level ${level}`);
  return n;
}

/**
 * Index of `gfn` in a table whose SPTEs are at `level` (SHADOW_PT_INDEX). The quotient by a power
 * of two is exact and `& 511` truncates it: integer work for any GFN below 2^53, no float `%`.
 */
export function sptIndex(gfn: number, level: number): number {
  return (gfn / pagesPerHpage(level)) & (SPTE_ENT_PER_PAGE - 1);
}

/** round_gfn_for_level(): the first GFN mapped by the level-`level` SPTE covering `gfn`. */
export function roundGfnForLevel(gfn: number, level: number): number {
  const n = pagesPerHpage(level);
  // Below 2^31 pages per SPTE the offset is the low bits, which `&` keeps for any GFN < 2^53.
  return n <= 0x40000000 ? gfn - (gfn & (n - 1)) : gfn - (gfn % n);
}

export function levelName(level: number): string {
  return level === 1 ? '4K' : level === 2 ? '2M' : level === 3 ? '1G' : `L${level}`;
}

export function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}
