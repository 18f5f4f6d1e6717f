// Zapping a GFN range: the 5.16 zap_gfn_range() that also frees subtrees, and the leaf-only zap of
// 5.18 and later.
import { SC_HANDLED } from '../event-log.ts';
import { pagesPerHpage, PG_LEVEL_4K } from '../geometry.ts';
import { handleChangedSpteNow } from '../handle-changed-spte.ts';
import type { Kvm, Sp } from '../kvm.ts';
import type { ZapMode } from '../names.ts';
import { drain } from '../pause.ts';
import { withZapPath, type KernelProfile } from '../profile.ts';
import { isLastSpte, isShadowPresent } from '../spte.ts';
import { TdpIter } from '../tdp-iter.ts';
import { tdpMmuZapSpteAtomic } from './map.ts';
import { kvmTdpMmuGetRoot, kvmTdpMmuPutRoot, tdpMmuMaxGfnHost } from './roots.ts';

/** tdp_mmu_set_spte(iter, non-present) under the write lock: a plain store, then the bookkeeping. */
function zapSpteExclusive(kvm: Kvm, p: KernelProfile, it: TdpIter): void {
  const np = kvm.profile.nonPresentHi;
  kvm.writeSpte(it.sp, it.index, 0, np, SC_HANDLED);
  handleChangedSpteNow(kvm, p, it.sp, it.index, it.oldLo, it.oldHi, 0, np, false);
}

/**
 * mirrors zap_gfn_range() (5.16, never yielding here): every present leaf that overlaps the range,
 * and every subtree wholly inside it; a whole-address-space zap stops at the root level. Exclusive
 * zaps store and ask for a flush; shared ones (zapping invalidated roots) use the atomic zap, which
 * flushes each SPTE's range itself.
 */
export function zapGfnRange516(
  kvm: Kvm,
  p: KernelProfile,
  root: Sp,
  start: number,
  end: number,
  flush: boolean,
  shared = false,
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
    if (shared) {
      drain(tdpMmuZapSpteAtomic(kvm, p, it));
    } else {
      zapSpteExclusive(kvm, p, it);
      flush = true;
    }
  }
  return flush;
}

/** zap_gfn_range(root, 0, -1ull, shared) as 5.16's kvm_tdp_mmu_zap_invalidated_roots() runs it. */
export function tdpMmuZapAllShared516(kvm: Kvm, p: KernelProfile, root: Sp): void {
  zapGfnRange516(kvm, p, root, 0, tdpMmuMaxGfnHost(kvm), false, true);
}

/**
 * The yield-safe root iterator (for_each_tdp_mmu_root_yield_safe): a reference is taken on each root
 * before its walk and dropped after. `onlyValid` skips invalidated roots.
 */
export function forEachRootYieldSafe(
  kvm: Kvm,
  p: KernelProfile,
  onlyValid: boolean,
  fn: (root: Sp) => void,
): void {
  for (const root of [...kvm.roots]) {
    if (onlyValid && root.invalid) continue;
    if (!kvmTdpMmuGetRoot(kvm, root)) continue;
    fn(root);
    kvmTdpMmuPutRoot(kvm, p, root, kvm.lockMode === 'read');
  }
}

/** mirrors __kvm_tdp_mmu_zap_gfn_range() (5.16): zap_gfn_range() on every valid root. */
export function kvmTdpMmuZapGfnRange516(
  kvm: Kvm,
  p: KernelProfile,
  start: number,
  end: number,
  flush: boolean,
): boolean {
  forEachRootYieldSafe(kvm, p, true, (root) => {
    flush = zapGfnRange516(kvm, p, root, start, end, flush);
  });
  return flush;
}

/**
 * mirrors tdp_mmu_zap_leafs(): present leaves only; no table is ever freed. 6.x asks for no flush
 * for what it zapped in an invalid root.
 */
function tdpMmuZapLeafs(
  kvm: Kvm,
  p: KernelProfile,
  root: Sp,
  start: number,
  end: number,
  flush: boolean,
): boolean {
  const stop = Math.min(end, tdpMmuMaxGfnHost(kvm));
  const it = new TdpIter(kvm);
  for (it.start(root, PG_LEVEL_4K, start); it.valid && it.gfn < stop; it.next()) {
    it.visit();
    if (!isShadowPresent(it.oldLo) || !isLastSpte(it.oldLo, it.level)) continue;
    zapSpteExclusive(kvm, p, it);
    if (!(p.zapLeafsValidOnly && root.invalid)) flush = true;
  }
  return flush;
}

/**
 * mirrors kvm_tdp_mmu_zap_leafs(): 5.18 walks every root of the address space, invalid ones
 * included; 6.x only the valid ones.
 */
export function kvmTdpMmuZapLeafs(
  kvm: Kvm,
  p: KernelProfile,
  start: number,
  end: number,
  flush: boolean,
): boolean {
  forEachRootYieldSafe(kvm, p, p.zapLeafsValidOnly, (root) => {
    flush = tdpMmuZapLeafs(kvm, p, root, start, end, flush);
  });
  return flush;
}

/** mirrors kvm_zap_gfn_range(): zap, then one ranged flush if anything was zapped. */
export function kvmZapGfnRange(
  kvm: Kvm,
  p: KernelProfile,
  start: number,
  end: number,
  mode: ZapMode,
): boolean {
  const q = withZapPath(p, mode);
  const flush =
    mode === 'subtrees'
      ? kvmTdpMmuZapGfnRange516(kvm, q, start, end, false)
      : kvmTdpMmuZapLeafs(kvm, q, start, end, false);
  if (flush) kvm.flushTlbs(start, end - start);
  return flush;
}
