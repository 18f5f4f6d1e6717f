// The invariants a kernel developer expects of the paging structure between operations.
import { pagesPerHpage, SPTE_ENT_PER_PAGE } from './geometry.ts';
import { spIdFromPfn, type Kvm, type Sp } from './kvm.ts';
import { isLastSpte, isRemovedSpte, isShadowPresent, sptePfn } from './spte.ts';

/**
 * Every violated invariant, as a sentence; empty when the model is sound. Between statements every
 * table is either reachable from a root or freed. `midRace` checks the concurrent forms, which hold
 * at every scheduling point of a race whose actors are still running: a table whose parent SPTE was
 * just changed is still being torn down (its leaves still count in the stats, its children and an
 * NX-listed sp are reached through it), a frozen SPTE in a live table belongs to a running actor,
 * and call_rcu() waits for the readers' sections to end.
 */
export function checkInvariants(kvm: Kvm, midRace = false): string[] {
  const bad: string[] = [];
  const seen = new Map<number, string>();
  const pages = [0, 0, 0, 0];

  const visit = (sp: Sp, where: string, live: boolean) => {
    const prev = seen.get(sp.id);
    if (prev !== undefined) {
      bad.push(`sp ${sp.id} is reachable from ${prev} and from ${where}`);
      return;
    }
    seen.set(sp.id, where);
    if (sp.freed || sp.rcuPending) bad.push(`sp ${sp.id} is reachable from ${where} but freed`);
    if (!sp.linked && live) {
      bad.push(`sp ${sp.id} is reachable from ${where} but not on tdp_mmu_pages`);
    }
    if (sp.gfn % pagesPerHpage(sp.level + 1) !== 0) {
      bad.push(`sp ${sp.id} gfn 0x${sp.gfn.toString(16)} is not aligned to its span`);
    }
    for (let i = 0; i < SPTE_ENT_PER_PAGE; i++) {
      const lo = sp.spt[2 * i] ?? 0;
      const hi = sp.spt[2 * i + 1] ?? 0;
      const at = `sp ${sp.id}[${i}]`;
      if (live && !midRace && isRemovedSpte(lo, hi))
        bad.push(`${at} is REMOVED_SPTE in a live table`);
      if (!isShadowPresent(lo)) continue;
      if (isLastSpte(lo, sp.level)) {
        if (sp.level > 3) bad.push(`${at} is a leaf at level ${sp.level}`);
        else pages[sp.level]! += 1;
        // A leaf maps what gfn_to_pfn() gives for the first GFN it covers.
        const gfn = sp.gfn + i * pagesPerHpage(sp.level);
        const slot = kvm.slotFor(gfn);
        const want = slot ? kvm.gfnToPfn(slot, gfn) : null;
        if (want !== sptePfn(lo, hi)) {
          bad.push(
            `${at} maps pfn 0x${sptePfn(lo, hi).toString(16)} but gfn_to_pfn(0x${gfn.toString(16)}) is ${want === null ? 'no memslot' : `0x${want.toString(16)}`}`,
          );
        }
        continue;
      }
      const child = kvm.sps[spIdFromPfn(sptePfn(lo, hi))];
      if (!child) {
        bad.push(`${at} points to no shadow page`);
        continue;
      }
      if (child.parent !== sp || child.parentIndex !== i) {
        bad.push(`${at} points to sp ${child.id}, whose ptep does not point back`);
      }
      if (child.level !== sp.level - 1)
        bad.push(`${at} points to sp ${child.id} at the wrong level`);
      if (child.rootId !== sp.rootId) bad.push(`sp ${child.id} hangs from another root's table`);
      if (child.gfn !== sp.gfn + i * pagesPerHpage(sp.level)) {
        bad.push(`sp ${child.id} gfn does not match the SPTE that points to it`);
      }
      visit(child, at, live);
    }
  };

  for (const root of kvm.roots) {
    if (!root.isRoot || root.parent) bad.push(`sp ${root.id} on tdp_mmu_roots is not a root`);
    visit(root, `root list`, true);
  }
  // Detached tables whose teardown is under way (between statements there are none).
  for (const sp of kvm.sps) {
    if (sp.detached && !sp.freed && !sp.rcuPending && !seen.has(sp.id)) {
      visit(sp, 'its teardown', false);
    }
  }
  kvm.vcpuRoots.forEach((r, v) => {
    if (r && !kvm.roots.includes(r)) bad.push(`vCPU ${v}'s root sp ${r.id} is not on the list`);
  });

  for (const sp of kvm.sps) {
    if (sp.linked && !seen.has(sp.id)) bad.push(`sp ${sp.id} is on tdp_mmu_pages but unreachable`);
    if (sp.rcuPending && !midRace) bad.push(`sp ${sp.id} is still waiting for an RCU grace period`);
  }

  const stats = kvm.stats();
  const recount = { pages_4k: pages[1], pages_2m: pages[2], pages_1g: pages[3] };
  for (const [name, n] of Object.entries(recount)) {
    const have = stats[name as keyof typeof recount];
    if (have !== n) bad.push(`${name} is ${have} but ${n} leaves are present`);
  }

  const accounted = kvm.sps.filter((s) => s.nxDisallowed);
  if (accounted.length !== kvm.nxList.size || accounted.some((s) => !kvm.nxList.has(s))) {
    bad.push('the NX list does not hold exactly the lpage_disallowed tables');
  }
  if (kvm.nxLpageSplits !== kvm.nxList.size) {
    bad.push(`nx_lpage_splits is ${kvm.nxLpageSplits} but the NX list holds ${kvm.nxList.size}`);
  }
  let prevSeq = -Infinity;
  for (const sp of kvm.nxList) {
    if (sp.nxSeq < prevSeq) bad.push('the NX list is not in FIFO order');
    prevSeq = sp.nxSeq;
  }
  for (const sp of kvm.nxList) {
    if (!seen.has(sp.id)) bad.push(`NX-accounted sp ${sp.id} is not linked into a root`);
    // 6.x: tracked => nx_huge_page_disallowed (the flag may also be set on untracked tables).
    if (kvm.profile.adjustNeedsNxChild && !sp.hugeDisallowed) {
      bad.push(`sp ${sp.id} is on the NX list without nx_huge_page_disallowed`);
    }
  }
  return bad;
}
