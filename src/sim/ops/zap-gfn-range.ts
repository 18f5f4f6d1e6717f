// Zapping a GFN range: the 5.16 zap_gfn_range() that also frees subtrees, and the 5.18 leaf-only zap.
import { SC_HANDLED } from '../event-log.ts';
import { pagesPerHpage, PG_LEVEL_4K } from '../geometry.ts';
import { handleChangedSpte } from '../handle-changed-spte.ts';
import type { Kvm, Sp } from '../kvm.ts';
import type { ZapMode } from '../names.ts';
import { isLastSpte, isShadowPresent } from '../spte.ts';
import { TdpIter } from '../tdp-iter.ts';
import { kvmTdpMmuGetRoot, kvmTdpMmuPutRoot, tdpMmuMaxGfnHost } from './roots.ts';

/** tdp_mmu_set_spte(iter, 0) under the write lock: a plain store, then the bookkeeping. */
function zapSpteExclusive(kvm: Kvm, it: TdpIter): void {
  kvm.writeSpte(it.sp, it.index, 0, 0, SC_HANDLED);
  handleChangedSpte(kvm, it.sp, it.index, it.oldLo, it.oldHi, 0, 0, false);
}

/**
 * mirrors zap_gfn_range() (5.16, exclusive, never yielding here): every present leaf that overlaps
 * the range, and every subtree wholly inside it; a whole-address-space zap stops at the root level.
 */
export function zapGfnRange516(
  kvm: Kvm,
  root: Sp,
  start: number,
  end: number,
  flush: boolean,
): boolean {
  const maxGfnHost = tdpMmuMaxGfnHost(kvm);
  const zapAll = start === 0 && end >= maxGfnHost;
  const minLevel = zapAll ? root.level : PG_LEVEL_4K;
  const stop = Math.min(end, maxGfnHost);
  const it = new TdpIter(kvm);
  for (it.start(root, minLevel, start); it.valid && it.gfn < stop; it.next()) {
    it.visit();
    if (!isShadowPresent(it.oldLo)) continue;
    const outside = it.gfn < start || it.gfn + pagesPerHpage(it.level) > stop;
    if (!zapAll && outside && !isLastSpte(it.oldLo, it.level)) continue;
    zapSpteExclusive(kvm, it);
    flush = true;
  }
  return flush;
}

/**
 * The yield-safe root iterator (for_each_tdp_mmu_root_yield_safe): a reference is taken on each root
 * before its walk and dropped after. `onlyValid` skips invalidated roots.
 */
export function forEachRootYieldSafe(kvm: Kvm, onlyValid: boolean, fn: (root: Sp) => void): void {
  for (const root of [...kvm.roots]) {
    if (onlyValid && root.invalid) continue;
    if (!kvmTdpMmuGetRoot(kvm, root)) continue;
    fn(root);
    kvmTdpMmuPutRoot(kvm, root);
  }
}

/** mirrors __kvm_tdp_mmu_zap_gfn_range() (5.16): zap_gfn_range() on every valid root. */
export function kvmTdpMmuZapGfnRange516(
  kvm: Kvm,
  start: number,
  end: number,
  flush: boolean,
): boolean {
  forEachRootYieldSafe(kvm, true, (root) => {
    flush = zapGfnRange516(kvm, root, start, end, flush);
  });
  return flush;
}

/** mirrors tdp_mmu_zap_leafs() (5.18): present leaves only; no table is ever freed. */
function tdpMmuZapLeafs(kvm: Kvm, root: Sp, start: number, end: number, flush: boolean): boolean {
  const stop = Math.min(end, tdpMmuMaxGfnHost(kvm));
  const it = new TdpIter(kvm);
  for (it.start(root, PG_LEVEL_4K, start); it.valid && it.gfn < stop; it.next()) {
    it.visit();
    if (!isShadowPresent(it.oldLo) || !isLastSpte(it.oldLo, it.level)) continue;
    zapSpteExclusive(kvm, it);
    flush = true;
  }
  return flush;
}

/** mirrors kvm_tdp_mmu_zap_leafs() (5.18): every root of the address space, invalid ones included. */
export function kvmTdpMmuZapLeafs(kvm: Kvm, start: number, end: number, flush: boolean): boolean {
  forEachRootYieldSafe(kvm, false, (root) => {
    flush = tdpMmuZapLeafs(kvm, root, start, end, flush);
  });
  return flush;
}

/** mirrors kvm_zap_gfn_range(): zap, then one ranged flush if anything was zapped. */
export function kvmZapGfnRange(kvm: Kvm, start: number, end: number, mode: ZapMode): boolean {
  kvm.era = mode === 'subtrees' ? 'v5.16' : 'v5.18';
  const flush =
    mode === 'subtrees'
      ? kvmTdpMmuZapGfnRange516(kvm, start, end, false)
      : kvmTdpMmuZapLeafs(kvm, start, end, false);
  if (flush) kvm.flushTlbs(start, end - start);
  return flush;
}
