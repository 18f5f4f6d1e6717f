import { describe, expect, it } from 'vitest';
import { SimHarness } from '../harness.ts';

const SPLIT = `memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=exec
access gpa=0x100001000
access gpa=0x100200000`;

describe('kvm_zap_gfn_range', () => {
  it('leafs (5.18 kvm_tdp_mmu_zap_leafs): zaps present leaves, keeps every table, one ranged flush', () => {
    const h = new SimHarness().run(SPLIT);
    const before = h.counters();
    h.run('zap_gfn_range start=0x100000 end=0x100400 mode=leafs');
    h.run('expect pages_4k=0 pages_2m=0 nx_lpage_splits=1 tables=3');
    const after = h.counters();
    expect(after.tlb_flushes_ranged - before.tlb_flushes_ranged).toBe(1);
    expect(after.sp_freed).toBe(0);
  });

  it('subtrees (5.16 zap_gfn_range): frees a table wholly inside the range and flushes it in the handler', () => {
    const h = new SimHarness().run(SPLIT);
    const before = h.counters();
    h.run('zap_gfn_range start=0x100000 end=0x100200 mode=subtrees');
    h.run('expect pages_4k=0 pages_2m=1 nx_lpage_splits=0 tables=2 sp_freed=1');
    // One ranged flush from handle_removed_tdp_mmu_page, one from kvm_zap_gfn_range.
    expect(h.counters().tlb_flushes_ranged - before.tlb_flushes_ranged).toBe(2);
  });

  it('a huge leaf only partly inside the range is zapped whole', () => {
    const h = new SimHarness().run(
      `${SPLIT}\nzap_gfn_range start=0x100300 end=0x100301\nexpect pages_2m=0 pages_4k=2`,
    );
    expect(h.sim.spteAt(0x100200, 2)).toBe(0n);
  });

  it('a table partly inside the range is walked into rather than freed', () => {
    new SimHarness().run(
      `${SPLIT}\nzap_gfn_range start=0x100001 end=0x100400 mode=subtrees\nexpect pages_4k=1 pages_2m=0 tables=3`,
    );
  });

  it('a whole-address-space subtrees zap stops at the root level and frees everything below', () => {
    const h = new SimHarness().run(`${SPLIT}\nzap_gfn_range start=0 end=0x400000000 mode=subtrees`);
    h.run('expect pages_4k=0 pages_2m=0 nx_lpage_splits=0 tables=0 roots=1');
    // min_level = root level: one visit per L4 entry below host MAXPHYADDR (2^46 / 512 GiB = 128).
    const steps = h.events().filter((e) => e.type === 'iterStep' && e.level === 4);
    expect(steps.length).toBeGreaterThanOrEqual(128);
  });

  it('refuses an empty or out-of-range range and changes nothing', () => {
    const h = new SimHarness().run(SPLIT);
    const n = h.mark;
    expect(() => h.sim.zapGfnRange(0x200, 0x100, 'leafs')).toThrow(/must be above start/);
    expect(() => h.sim.zapGfnRange(0, 2 ** 40, 'leafs')).toThrow(/at most 0x400000000/);
    expect(h.mark).toBe(n);
  });
});
