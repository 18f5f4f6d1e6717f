import { describe, expect, it } from 'vitest';
import { SimHarness } from '../harness.ts';

const MAPPED = `memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=exec
access gpa=0x100200000`;

describe('roots: invalidation, the window, and zapping invalidated roots', () => {
  it('invalidate_roots only marks roots and takes a reference; nothing is zapped', () => {
    const h = new SimHarness().run(MAPPED);
    const before = h.counters().spte_writes;
    h.run(
      'invalidate_roots\nexpect roots=1 invalid_roots=1 pages_4k=1 pages_2m=1 nx_lpage_splits=1',
    );
    expect(h.counters().spte_writes).toBe(before);
    expect(h.sim.kvm.roots[0]).toMatchObject({ invalid: true, rootCount: 2 });
  });

  it('the next guest entry drops the invalid root and loads a new one; its faults build a second tree', () => {
    const h = new SimHarness().run(`${MAPPED}\ninvalidate_roots\naccess gpa=0x100000000`);
    const [fresh, old] = h.sim.kvm.roots;
    expect(fresh).toMatchObject({ invalid: false, rootCount: 1 });
    expect(old).toMatchObject({ invalid: true, rootCount: 1 });
    expect(h.sim.kvm.vcpuRoots).toEqual([fresh]);
    // Stats count leaves in every root: the old tree's 4K + 2M plus the new root's 2M.
    expect(h.stats()).toEqual({ pages_4k: 1, pages_2m: 2, pages_1g: 0, nx_lpage_splits: 1 });
  });

  it('zap_invalidated_roots zaps in two passes under the read lock, puts the reference, and frees the root', () => {
    const h = new SimHarness().run(`${MAPPED}\ninvalidate_roots\naccess gpa=0x100000000`);
    const m = h.mark;
    h.run(
      'zap_invalidated_roots\nexpect roots=1 invalid_roots=0 pages_4k=0 pages_2m=1 nx_lpage_splits=0',
    );
    const ev = h.events(m);
    const freed = ev.filter((e) => e.type === 'spFreed').map((e) => e.type === 'spFreed' && e.sp);
    expect(freed.sort()).toEqual([0, 1, 2, 3]);
    // Shared-mode teardown exchanges all 512 entries of each removed table (L3, L2, L1).
    const removed = ev.filter((e) => e.type === 'spteChanged' && e.new === 0x5a0n);
    expect(removed.length).toBe(3 * 512);
    expect(ev.some((e) => e.type === 'tlbFlush')).toBe(false);
  });

  it('an invalid root the vCPU has not dropped yet stays listed until its last reference goes', () => {
    const h = new SimHarness().run(`${MAPPED}\ninvalidate_roots\nzap_invalidated_roots`);
    expect(h.sim.kvm.roots[0]).toMatchObject({ invalid: true, rootCount: 1 });
    h.run('access gpa=0x100000000\nexpect roots=1 invalid_roots=0');
    expect(h.sim.kvm.sps[0]?.freed).toBe(true);
  });

  it('a second invalidation skips roots that are already invalid', () => {
    const h = new SimHarness().run(`${MAPPED}\ninvalidate_roots\ninvalidate_roots`);
    expect(h.sim.kvm.roots[0]?.rootCount).toBe(2);
  });

  it('flipping nx_huge_pages at run time fast-zaps the VM: roots invalidated and zapped', () => {
    const h = new SimHarness().run(`${MAPPED}\nvm nx_huge_pages=off`);
    expect(h.stats()).toEqual({ pages_4k: 0, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 0 });
    h.run('access gpa=0x100000000 type=exec\nexpect pages_2m=1 roots=1');
  });
});
